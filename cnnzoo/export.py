"""ONNX export that is checked before it is handed over.

[`export_onnx`][cnnzoo.export.export_onnx] exports a model with torch's dynamo exporter, names
every node after the module it comes from, strips the exporter's stack traces (they hold
absolute local paths), writes the model card into ``metadata_props``, runs the full ONNX
checker, and compares onnxruntime's output with PyTorch's on random batches. Only then does the
file appear at its path: a failed export or check leaves nothing there, and an existing file
untouched.

Why the weights of a model exported by name are rescaled: a randomly initialised AlexNet
outputs mostly its final bias (|logit| about 0.03, of which about 8% depends on the input),
and a random GoogLeNet logits of about 1e-11, so comparing two runtimes on them says little
about the layers before the last. When
``export_onnx`` builds the model itself without a checkpoint, the weights are random anyway;
it draws them from a fixed seed and rescales each convolution and linear layer (one pass,
LSUV-style) so that its output has unit standard deviation on a fixed random batch. The file
then holds those weights, the check compares logits that depend on every layer, and the same
command writes the same weights every time. A checkpoint, or a model object you pass, is
exported exactly as it is; when its outputs hardly depend on the input, a rescaled copy is
exported and verified as well (and thrown away), so the translation of every layer is checked
all the same.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import (
    CheckpointError,
    ExportError,
    InvalidArgumentError,
    OptionalDependencyError,
    UnknownModelError,
    VerificationError,
)

__all__ = [
    "INPUT_NAME",
    "METADATA_KEYS",
    "OUTPUT_NAME",
    "REL_TOLERANCE",
    "ExportReport",
    "NetronServer",
    "VerifyResult",
    "export_onnx",
    "serve_netron",
    "verify_onnx",
]

#: Name of the graph's input.
INPUT_NAME = "input"
#: Name of the graph's output (a classifier's logits; the inception block's feature map too).
OUTPUT_NAME = "logits"
#: ``max|ORT - torch| <= REL_TOLERANCE * max|torch|`` on every verified batch.
REL_TOLERANCE = 1e-4
#: The ``metadata_props`` keys cnnzoo writes (a key is left out when its value is unknown).
METADATA_KEYS = (
    "cnnzoo_version",
    "model",
    "family",
    "description",
    "input_size",
    "num_classes",
    "class_labels",
    "mean",
    "std",
    "source",
    "weights",
)

#: A protobuf cannot exceed 2 GiB; above this many bytes of weights, they go to ``PATH.data``.
_EXTERNAL_DATA_BYTES = 2 * 1024**3 - 64 * 1024**2
#: Node metadata the exporter writes that is dropped: stack traces (absolute local paths) and
#: the FX node text (internal names, no use in a viewer).
_DROPPED_NODE_METADATA = ("pkg.torch.onnx.stack_trace", "pkg.torch.onnx.fx_node")
_SEED = 0
#: Below this ``output_spread`` the part of the output that depends on the input is under 100
#: times the tolerance: the comparison says little about the layers before the last.
_DEAD_SPREAD = 100 * REL_TOLERANCE


@dataclass(frozen=True)
class VerifyResult:
    """onnxruntime's output compared with PyTorch's.

    Attributes:
        max_abs_diff: the largest ``|ORT - torch|`` over every verified batch.
        tolerance: the absolute tolerance that applied (``REL_TOLERANCE * max|torch|``, on the
            batch where that is smallest).
        rel_tolerance: the relative tolerance.
        batches: the batch sizes compared.
        output_spread: how much the outputs differ between samples, relative to their size
            (``max|y_i - y_0| / max|y|``); near 0 means the outputs hardly depend on the input
            (dead activations), and the comparison then says little about the layers before
            the last. ``None`` when
            only batch 1 was compared.
    """

    max_abs_diff: float
    tolerance: float
    rel_tolerance: float
    batches: tuple[int, ...]
    output_spread: float | None


@dataclass(frozen=True)
class ExportReport:
    """What [`export_onnx`][cnnzoo.export.export_onnx] wrote, and how it was checked.

    Attributes:
        path: the file written.
        file_size: its size in bytes (with its ``.data`` file, if the weights are external).
        opset: the ONNX operator set of the file.
        model: the model's name.
        weights: where the weights come from (random, a checkpoint file name, a given model).
        input_name: the graph's input name.
        input_shape: its shape; ``"batch"`` where the batch size is dynamic.
        output_name: the graph's output name.
        output_shape: its shape.
        max_abs_diff: the largest ``|ORT - torch|`` seen, or ``None`` when not verified.
        rel_tolerance: the relative tolerance of the check.
        tolerance: the absolute tolerance that applied, or ``None`` when not verified.
        verified_batches: the batch sizes compared (empty when not verified).
        output_spread: see [`VerifyResult`][cnnzoo.export.VerifyResult]; ``None`` when not
            verified.
        seconds: wall time of the whole export.
        external_data: the name of the weights file beside ``path``, or ``None``.
        live_copy_diff: when the model's outputs hardly depended on the input (an untrained
            AlexNet passed as an object), the translation was also verified on a rescaled copy
            of its weights; this is that check's largest ``|ORT - torch|``. ``None`` otherwise.
    """

    path: Path
    file_size: int
    opset: int
    model: str
    weights: str
    input_name: str
    input_shape: tuple[int | str, ...]
    output_name: str
    output_shape: tuple[int | str, ...]
    max_abs_diff: float | None
    rel_tolerance: float
    tolerance: float | None
    verified_batches: tuple[int, ...]
    output_spread: float | None
    seconds: float
    external_data: str | None = None
    live_copy_diff: float | None = None

    @property
    def verified(self) -> bool:
        """Whether onnxruntime's output was compared with PyTorch's."""
        return bool(self.verified_batches)

    def lines(self) -> list[str]:
        """A few lines for a terminal."""
        size = _human_size(self.file_size)
        shape_in = "x".join(str(d) for d in self.input_shape)
        shape_out = "x".join(str(d) for d in self.output_shape)
        out = [
            f"wrote {self.path} ({size}, ONNX opset {self.opset}, {self.seconds:.1f} s)",
            f"model: {self.model}, weights: {self.weights}",
            f"input {self.input_name!r} {shape_in} -> output {self.output_name!r} {shape_out}",
        ]
        if self.external_data:
            out.append(f"weights stored beside it in {self.external_data}")
        if self.verified:
            batches = ", ".join(str(b) for b in self.verified_batches)
            out.append(
                f"verified with onnxruntime on batch {batches}: max |ORT - torch| = "
                f"{self.max_abs_diff:.2e} <= {self.tolerance:.2e} "
                f"({self.rel_tolerance:g} x max |torch|), same argmax"
            )
            if self.live_copy_diff is not None:
                out.append(
                    "the outputs hardly depend on the input (dead activations), so the export "
                    "was also verified on a rescaled copy of the weights: max |ORT - torch| = "
                    f"{self.live_copy_diff:.2e}"
                )
        else:
            out.append("not verified with onnxruntime (--no-verify; verify=False in Python)")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _human_size(n: int) -> str:
    if n >= 1024**2:
        return f"{n / 1024**2:.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} B"


# --- what is exported -------------------------------------------------------------------------


@dataclass
class _Subject:
    """The model to export and everything the file says about it."""

    model: nn.Module
    name: str
    weights: str
    input_size: tuple[int, int, int]
    metadata: dict[str, str] = field(default_factory=dict)
    is_classifier: bool = True


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _check_input_size(input_size: Sequence[int] | None) -> tuple[int, int, int] | None:
    if input_size is None:
        return None
    size = tuple(input_size)
    if len(size) != 3 or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in size
    ):
        raise InvalidArgumentError(
            f"input_size must be (C, H, W), three positive integers, got {input_size!r}"
        )
    return (int(size[0]), int(size[1]), int(size[2]))


def _card_metadata(
    name: str, input_size: tuple[int, int, int], num_classes: int | None, extra: dict[str, Any]
) -> dict[str, str]:
    from ._version import __version__
    from .preprocess import Preprocess, preprocess_for
    from .registry import model_info

    card = model_info(name)
    meta = {
        "cnnzoo_version": __version__,
        "model": card.name,
        "family": card.family,
        "description": card.description,
        "input_size": _json(list(input_size)),
    }
    if num_classes is not None:
        meta["num_classes"] = str(num_classes)
    labels = extra.get("labels")
    if labels is None and num_classes is not None:
        labels = card.labels_for(num_classes)
    if labels is not None:
        meta["class_labels"] = _json([str(v) for v in labels])
    pre = None
    if isinstance(extra.get("preprocess"), dict):
        pre = Preprocess.from_dict(extra["preprocess"])
    elif card.mean is not None and card.std is not None:
        pre = preprocess_for(card.name, input_size)
    if pre is not None and pre.channels == input_size[0]:
        meta["mean"] = _json(list(pre.mean))
        meta["std"] = _json(list(pre.std))
    if card.source is not None:
        meta["source"] = str(card.source)
    return meta


def _rescale_alive(model: nn.Module, input_size: tuple[int, int, int]) -> None:
    """Scale every Conv/Linear so its output has unit std on a fixed batch (one forward pass).

    BatchNorm layers are left as they are: giving a deep ResNet's BatchNorm layers trained-like
    statistics made onnxruntime and PyTorch differ by 1.3-2x the tolerance at ResNet-101 (see
    the export guide); the folding of BatchNorm is checked by a test with set statistics.

    ``conv(x; W/s, b/s) == conv(x; W, b) / s``, so dividing a layer's output by ``s`` in a
    forward hook gives the next layers exactly what the rescaled weights will give them.
    """
    gen = torch.Generator().manual_seed(_SEED)
    x = torch.randn(2, *input_size, generator=gen)

    def hook(module: Any, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        s = float(output.std())
        if not (s > 1e-12 and s < float("inf")):
            return output
        module.weight.mul_(1.0 / s)
        if module.bias is not None:
            module.bias.mul_(1.0 / s)
        return output / s

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear, nn.Conv1d, nn.Conv3d))
    ]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()


def _subject(
    model_or_name: nn.Module | str,
    input_size: tuple[int, int, int] | None,
    checkpoint: str | PathLike[str] | None,
    model_kwargs: dict[str, Any],
) -> _Subject:
    from .checkpoint import apply_state_dict, read_checkpoint
    from .registry import create, model_info, resolve_name

    ckpt = read_checkpoint(checkpoint) if checkpoint is not None else None
    extra: dict[str, Any] = dict(ckpt.extra) if ckpt is not None else {}

    if isinstance(model_or_name, str):
        name = resolve_name(model_or_name)
        card = model_info(name)
        kwargs = dict(model_kwargs)
        if ckpt is not None:
            if ckpt.model is not None and resolve_name(ckpt.model) != name:
                raise CheckpointError(
                    f"checkpoint {str(checkpoint)!r} holds a {ckpt.model!r} model, not "
                    f"{name!r}; export it as {ckpt.model!r}"
                )
            kwargs = {**ckpt.model_kwargs, **kwargs}
        if input_size is None and isinstance(extra.get("preprocess"), dict):
            pre = extra["preprocess"]
            input_size = _check_input_size((int(pre["channels"]), *map(int, pre["size"])))
        if input_size is not None and input_size[0] != card.input_size[0]:
            kwargs.setdefault("in_chans", input_size[0])
        if ckpt is None:
            # Random weights: a fixed seed, so the same command writes the same file.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(_SEED)
                model = create(name, **kwargs)
        else:
            model = create(name, **kwargs)
            apply_state_dict(model, ckpt.state_dict, source=str(checkpoint))
        model.eval()
        if input_size is None:
            c, h, w = card.input_size
            input_size = (int(kwargs.get("in_chans", c)), int(h), int(w))
        if ckpt is None:
            _rescale_alive(model, input_size)
            weights = "random (seed 0, rescaled to keep activations alive)"
        else:
            weights = Path(checkpoint).name  # type: ignore[arg-type]
        num_classes = getattr(model, "num_classes", None) if card.is_classifier else None
        meta = _card_metadata(name, input_size, num_classes, extra)
        meta["weights"] = weights
        return _Subject(model, name, weights, input_size, meta, card.is_classifier)

    if not isinstance(model_or_name, nn.Module):
        raise InvalidArgumentError(
            f"export_onnx takes a model name or an nn.Module, got {type(model_or_name).__name__}"
        )
    if model_kwargs:
        raise InvalidArgumentError(
            f"model keyword arguments ({', '.join(sorted(model_kwargs))}) apply only when "
            "export_onnx builds the model from its name"
        )
    # A copy: the caller's model keeps its mode and weights.
    model = copy.deepcopy(model_or_name).eval()
    published = getattr(model_or_name, "pretrained", None)
    weights = (
        f"{published['torchvision']} ({published['file_name']})"
        if isinstance(published, dict) and "torchvision" in published
        else "given model"
    )
    if ckpt is not None:
        apply_state_dict(model, ckpt.state_dict, source=str(checkpoint))
        weights = Path(checkpoint).name  # type: ignore[arg-type]
    given: str | None = getattr(model, "model_name", None)
    registered: str | None = None
    if given is not None:
        try:
            registered = resolve_name(given)
        except UnknownModelError:
            registered = None
    size = input_size
    if size is None:
        default = getattr(model, "default_input_size", None)
        if default is None and registered is not None:
            default = model_info(registered).input_size
        if default is None:
            raise InvalidArgumentError(
                f"cannot tell the input size of a {type(model).__name__}; pass input_size=(C, H, W)"
            )
        size = _check_input_size(default) or (0, 0, 0)
    num_classes = getattr(model, "num_classes", None)
    if registered is not None:
        name = registered
        meta = _card_metadata(name, size, num_classes, extra)
        is_classifier = model_info(name).is_classifier
    else:
        from ._version import __version__

        name = given or type(model).__name__
        meta = {
            "cnnzoo_version": __version__,
            "model": name,
            "family": "custom",
            "input_size": _json(list(size)),
        }
        if num_classes is not None:
            meta["num_classes"] = str(num_classes)
        if extra.get("labels") is not None:
            meta["class_labels"] = _json([str(v) for v in extra["labels"]])
        is_classifier = num_classes is not None
    meta["weights"] = weights
    return _Subject(model, name, weights, size, meta, is_classifier)


# --- the exporter -----------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's progress messages and warnings: library code never prints."""
    names = ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript", "onnx_ir")
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _max_opset() -> int:
    import onnx.defs

    return int(onnx.defs.onnx_opset_version())


def _torch_export(
    model: nn.Module,
    input_size: tuple[int, int, int],
    opset: int | None,
    dynamic_batch: bool,
    external_data: bool,
) -> Any:
    example = torch.randn(2 if dynamic_batch else 1, *input_size)
    dynamic_shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    try:
        with _quiet():
            program = torch.onnx.export(
                model,
                (example,),
                None,  # the ModelProto is cleaned before anything is written
                dynamo=True,
                external_data=external_data,
                verbose=False,
                optimize=True,  # folds BatchNorm into the convolutions; keeps weight names
                opset_version=opset,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_shapes=dynamic_shapes,
                report=False,
            )
    except Exception as exc:
        first = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ExportError(
            f"torch {torch.__version__} could not export {getattr(model, 'model_name', '')} "
            f"to ONNX: {first}"
        ) from exc
    return program


def _module_of_node(node: Any, initializers: set[str]) -> str:
    """The dotted module name a node comes from ('' when the model's own forward)."""
    if node.op_type in ("Conv", "Gemm", "MatMul", "ConvTranspose", "BatchNormalization"):
        # After BatchNorm folding the Conv carries the BN's scope; its weight keeps the conv's.
        for inp in node.input[1:]:
            if inp in initializers and inp.endswith(".weight"):
                return inp[: -len(".weight")]
    scopes = None
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = json.loads(prop.value.replace("'", '"'))
            except ValueError:
                scopes = None
    if scopes and len(scopes) >= 2:
        return str(scopes[-2])
    return ""


def _fx_name(node: Any) -> str:
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = json.loads(prop.value.replace("'", '"'))
            except ValueError:
                break
            if scopes:
                return str(scopes[-1])
    return node.op_type


def _name_nodes(graph: Any, leaves: set[str]) -> None:
    """Name every node after its module: ``features.0``, ``layer1.0.conv1``, ``layer1.0/add``.

    A node from a leaf module (a Conv2d, a ReLU) takes the module's name; an operation in a
    container's own ``forward`` (a residual ``add``, the inception ``cat``) is named
    ``container/operation``, and one in the model's ``forward`` just ``operation``. A module
    called more than once (ResNet's shared ReLU) names its later nodes ``name/2``, ``name/3``.
    """
    initializers = {t.name for t in graph.initializer}
    used: dict[str, int] = {}
    for node in graph.node:
        module = _module_of_node(node, initializers)
        op = re.sub(r"_\d+$", "", _fx_name(node)) or node.op_type
        if module and module in leaves:
            base = module
        elif module:
            base = f"{module}/{op}"
        else:
            base = op
        count = used.get(base, 0) + 1
        used[base] = count
        node.name = base if count == 1 else f"{base}/{count}"
    names = [n.name for n in graph.node]
    if len(set(names)) != len(names):  # "a/2" given by the model itself: fall back to numbers
        for i, node in enumerate(graph.node):
            node.name = f"{node.name}#{i}"


_PATH_RE = re.compile(r'File "|(?:^|[\s\'"(])(?:/[^/\s]+){2,}|[A-Za-z]:\\')


def _strip_local(model_proto: Any) -> None:
    """Drop stack traces and anything else that names a local path from the file."""
    graphs = [model_proto.graph]
    nodes = list(model_proto.graph.node)
    for fn in model_proto.functions:
        nodes.extend(fn.node)
    for node in nodes:
        _strip_props(node, lambda key: key in _DROPPED_NODE_METADATA)
    for graph in graphs:
        # ExportedProgram's signature and range constraints: torch internals, no use in a viewer.
        _strip_props(graph, lambda key: key.startswith("pkg.torch.export"))


def _strip_props(item: Any, drop: Callable[[str], bool]) -> None:
    """Remove from a node's or graph's ``metadata_props`` the keys ``drop`` names and every value
    holding a local path; clear a ``doc_string`` holding one."""
    keep = [
        (p.key, p.value)
        for p in item.metadata_props
        if not drop(p.key) and not _PATH_RE.search(p.value)
    ]
    del item.metadata_props[:]
    for key, value in keep:
        prop = item.metadata_props.add()
        prop.key, prop.value = key, value
    if _PATH_RE.search(item.doc_string):
        item.doc_string = ""


def _shape(value_info: Any) -> tuple[int | str, ...]:
    dims = value_info.type.tensor_type.shape.dim
    return tuple(d.dim_param if d.dim_param else int(d.dim_value) for d in dims)


def _opset_of(model_proto: Any) -> int:
    for imp in model_proto.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return int(imp.version)
    return -1


# --- verification -----------------------------------------------------------------------------


def verify_onnx(
    path: str | PathLike[str],
    model: nn.Module,
    *,
    input_size: Sequence[int],
    batches: Sequence[int] = (1, 3),
    rel_tolerance: float = REL_TOLERANCE,
    seed: int = _SEED,
) -> VerifyResult:
    """Compare onnxruntime (CPU) on ``path`` with ``model`` on random batches.

    Passes when, on every batch, ``max|ORT - torch| <= rel_tolerance * max|torch|`` and every
    sample's argmax agrees (a different argmax is accepted only where PyTorch's two values lie
    within the tolerance of each other, a tie).

    Args:
        path: the ONNX file.
        model: the PyTorch model it should match (put in eval mode for the comparison).
        input_size: one sample's shape, (C, H, W).
        batches: the batch sizes to compare on.
        rel_tolerance: the relative tolerance.
        seed: the seed of the random inputs.

    Returns:
        The largest difference and the tolerance that applied.

    Raises:
        VerificationError: the outputs differ beyond the tolerance, or their argmax differs.
        ExportError: onnxruntime cannot load or run the file.
    """
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = min(4, os.cpu_count() or 1)
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        first = " ".join(str(exc).split())[:300]
        raise ExportError(f"onnxruntime {ort.__version__} cannot load the file: {first}") from exc
    input_name = session.get_inputs()[0].name
    gen = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    worst, tolerance, spread = 0.0, float("inf"), float("inf")
    try:
        for b in batches:
            x = torch.randn(b, *input_size, generator=gen)
            with torch.no_grad():
                expected = model(x).detach().float().reshape(b, -1).numpy()
            try:
                got = session.run(None, {input_name: x.numpy()})[0].reshape(b, -1)
            except Exception as exc:
                first = " ".join(str(exc).split())[:300]
                raise ExportError(f"onnxruntime cannot run the file on batch {b}: {first}") from exc
            if got.shape != expected.shape:
                raise VerificationError(
                    f"onnxruntime's output has shape {got.shape}, PyTorch's {expected.shape} "
                    f"(batch {b})"
                )
            scale = float(np.abs(expected).max())
            tol = rel_tolerance * scale
            diff = float(np.abs(got - expected).max())
            if not np.isfinite(diff) or diff > tol:
                raise VerificationError(
                    f"onnxruntime's output differs from PyTorch's on batch {b}: max |ORT - torch| "
                    f"= {diff:.3g} > tolerance {tol:.3g} ({rel_tolerance:g} x max |torch| "
                    f"{scale:.3g}); the file does not compute what the model does"
                )
            for i, (g, e) in enumerate(zip(got, expected, strict=True)):
                j, k = int(g.argmax()), int(e.argmax())
                if j != k and e[k] - e[j] > tol:
                    raise VerificationError(
                        f"onnxruntime's argmax differs from PyTorch's on batch {b}, sample {i}: "
                        f"{j} versus {k} (max |ORT - torch| = {diff:.3g}, tolerance {tol:.3g})"
                    )
            worst = max(worst, diff)
            tolerance = min(tolerance, tol)
            if b > 1:
                spread = min(spread, float(np.abs(expected - expected[0]).max()) / (scale or 1.0))
    finally:
        model.train(was_training)
    return VerifyResult(
        max_abs_diff=worst,
        tolerance=tolerance,
        rel_tolerance=rel_tolerance,
        batches=tuple(batches),
        output_spread=spread if spread != float("inf") else None,
    )


def _verify_live_copy(
    model: nn.Module,
    input_size: tuple[int, int, int],
    opset: int | None,
    dynamic_batch: bool,
    tmpdir: Path,
    batches: Sequence[int],
) -> float:
    """Export and verify a rescaled copy of ``model``: the same graph, with live activations.

    A model whose outputs hardly depend on its input (an untrained AlexNet outputs its final
    bias) passes any comparison; the copy checks the translation of every layer before the
    last. The copy's file is thrown away; the graph is the same, only the numbers differ.
    """
    import onnx

    live = copy.deepcopy(model).eval()
    _rescale_alive(live, input_size)
    program = _torch_export(live, input_size, opset, dynamic_batch, False)
    path = tmpdir / "live-copy.onnx"
    onnx.save_model(program.model_proto, str(path))
    del program
    try:
        return verify_onnx(path, live, input_size=input_size, batches=batches).max_abs_diff
    except VerificationError as exc:
        raise VerificationError(
            f"the model's outputs hardly depend on its input, so the export was also checked on "
            f"a rescaled copy of its weights, and that failed: {exc}"
        ) from exc
    finally:
        path.unlink(missing_ok=True)


# --- the public entry point -------------------------------------------------------------------


def _check_finite_weights(model: nn.Module, weights: str) -> None:
    """Refuse weights that hold NaN or inf: no file can compute what such a model does."""
    bad = [
        (name, int((~torch.isfinite(t)).sum()), t.numel())
        for name, t in model.state_dict().items()
        if t.is_floating_point() and not bool(torch.isfinite(t).all())
    ]
    if bad:
        name, n, total = bad[0]
        more = f" (and {len(bad) - 1} more tensor(s))" if len(bad) > 1 else ""
        raise ExportError(
            f"the weights ({weights}) hold NaN or infinite values: {n} of {total} in {name}"
            f"{more}; the training that wrote them diverged, so retrain with a smaller --lr"
        )


def _check_target(path: Path) -> None:
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise ExportError(f"{str(path)!r} is a directory; give a file name such as model.onnx")
    if not directory.is_dir():
        raise FileNotFoundError(f"directory {str(directory)!r} does not exist; create it first")
    if not os.access(directory, os.W_OK):
        raise PermissionError(f"directory {str(directory)!r} is not writable")


def export_onnx(
    model_or_name: nn.Module | str,
    path: str | PathLike[str],
    *,
    input_size: Sequence[int] | None = None,
    checkpoint: str | PathLike[str] | None = None,
    opset: int | None = None,
    dynamic_batch: bool = True,
    verify: bool = True,
    **model_kwargs: Any,
) -> ExportReport:
    """Export a model to ONNX, check it, and write it to ``path`` only if the check passed.

    The file has one input named ``input`` (N, C, H, W) and one output named ``logits``; node
    names are the module names (``features.0``, ``layer1.0.conv1``); ``metadata_props`` hold
    the model card (see [`METADATA_KEYS`][cnnzoo.export.METADATA_KEYS]). The file passes
    ``onnx.checker.check_model(full_check=True)`` and, unless ``verify=False``, onnxruntime
    gives PyTorch's output on random batches of 1 and 3 (1 only with a static batch), within
    ``1e-4 x max|torch|`` and with the same argmax.

    A model exported by name without a checkpoint gets random weights from a fixed seed,
    rescaled so that every layer's output stays alive (see the module's docstring for why);
    a checkpoint or a given model is exported as it is, and if its outputs hardly depend on
    the input, a rescaled copy is verified as well.

    Args:
        model_or_name: a registered model name, or a model (not modified: a copy is exported).
        path: the ``.onnx`` file to write; its directory must exist.
        input_size: one sample's shape (C, H, W); default: the model's own (or the
            checkpoint's preprocessing).
        checkpoint: a weights file: a cnnzoo checkpoint (its model options, labels and
            preprocessing are used) or a plain state_dict, cnnzoo's or torchvision's.
        opset: the ONNX operator set; default: the exporter's.
        dynamic_batch: a dynamic batch dimension (``"batch"``); ``False`` fixes it at 1.
        verify: compare onnxruntime with PyTorch before writing.
        **model_kwargs: options of the model's builder (``num_classes``, ``in_chans``, ...).

    Returns:
        The [`ExportReport`][cnnzoo.export.ExportReport].

    Raises:
        UnknownModelError: the name is not registered.
        CheckpointError: the checkpoint is missing, damaged, or for another model (the message
            names the mismatched keys and shapes).
        FileNotFoundError: the directory of ``path`` does not exist.
        PermissionError: it is not writable.
        ExportError: the exporter cannot produce the file (an opset it does not support, an
            operation it cannot translate) or it fails the ONNX checker.
        VerificationError: onnxruntime's output differs from PyTorch's.
    """
    import onnx

    started = time.perf_counter()
    target = Path(path)
    _check_target(target)
    input_size = _check_input_size(input_size)
    if opset is not None:
        top = _max_opset()
        if isinstance(opset, bool) or not isinstance(opset, int) or not 7 <= opset <= top:
            raise ExportError(
                f"opset {opset!r} is not one the installed onnx {onnx.__version__} knows; "
                f"choose one from 18 to {top}, or leave it out for the exporter's default"
            )
    subject = _subject(model_or_name, input_size, checkpoint, dict(model_kwargs))
    model = subject.model
    _check_finite_weights(model, subject.weights)
    n_bytes = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    external = n_bytes > _EXTERNAL_DATA_BYTES

    directory = target.parent if str(target.parent) else Path(".")
    data_name = f"{target.name}.data" if external else None
    from ._files import sweep_stale, temp_prefix

    sweep_stale(directory, target.name)  # what an export killed with SIGKILL left behind
    with tempfile.TemporaryDirectory(prefix=temp_prefix(target.name), dir=directory) as tmpdir:
        # The temporary files live in the target's directory, so the final rename is atomic.
        program = _torch_export(model, subject.input_size, opset, dynamic_batch, external)
        proto = program.model_proto
        produced = _opset_of(proto)
        if opset is not None and produced != opset:
            raise ExportError(
                f"torch {torch.__version__}'s exporter cannot produce ONNX opset {opset} for "
                f"{subject.name} (it stopped at opset {produced}); choose an opset from 18 to "
                f"{_max_opset()}, or leave it out"
            )
        leaves = {n for n, m in model.named_modules() if n and not any(m.children())}
        _name_nodes(proto.graph, leaves)
        _strip_local(proto)
        proto.graph.name = subject.name
        proto.doc_string = subject.metadata.get("description", subject.name)
        del proto.metadata_props[:]
        for key in METADATA_KEYS:
            if key in subject.metadata:
                prop = proto.metadata_props.add()
                prop.key, prop.value = key, subject.metadata[key]

        in_name, in_shape = proto.graph.input[0].name, _shape(proto.graph.input[0])
        out_name, out_shape = proto.graph.output[0].name, _shape(proto.graph.output[0])
        tmp = Path(tmpdir) / target.name
        if external:
            onnx.save_model(
                proto,
                str(tmp),
                save_as_external_data=True,
                all_tensors_to_one_file=True,
                location=data_name,
            )
        else:
            onnx.save_model(proto, str(tmp))
        del program, proto
        try:
            onnx.checker.check_model(str(tmp), full_check=True)
        except Exception as exc:
            first = " ".join(str(exc).split())[:300]
            raise ExportError(f"the exported file fails the ONNX checker: {first}") from exc

        result = None
        batches = (1, 3) if dynamic_batch else (1,)
        live_diff = None
        if verify:
            result = verify_onnx(tmp, model, input_size=subject.input_size, batches=batches)
            if result.output_spread is not None and result.output_spread < _DEAD_SPREAD:
                live_diff = _verify_live_copy(
                    model, subject.input_size, opset, dynamic_batch, Path(tmpdir), batches
                )

        size = tmp.stat().st_size
        if data_name is not None:
            size += (Path(tmpdir) / data_name).stat().st_size
            os.replace(Path(tmpdir) / data_name, directory / data_name)
        os.replace(tmp, target)

    return ExportReport(
        path=target,
        file_size=size,
        opset=produced,
        model=subject.name,
        weights=subject.weights,
        input_name=in_name,
        input_shape=in_shape,
        output_name=out_name,
        output_shape=out_shape,
        max_abs_diff=result.max_abs_diff if result else None,
        rel_tolerance=REL_TOLERANCE,
        tolerance=result.tolerance if result else None,
        verified_batches=result.batches if result else (),
        output_spread=result.output_spread if result else None,
        seconds=time.perf_counter() - started,
        external_data=data_name,
        live_copy_diff=live_diff,
    )


# --- Netron -----------------------------------------------------------------------------------


@dataclass
class NetronServer:
    """A Netron viewer serving one file on the loopback interface.

    Attributes:
        url: where to point a browser (``http://127.0.0.1:PORT``).
        address: the (host, port) it listens on.
    """

    url: str
    address: tuple[str, int]

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        import netron

        netron.stop(self.address)

    @property
    def alive(self) -> bool:
        """Whether the server still runs."""
        import netron

        return bool(netron.status(self.address))

    def __enter__(self) -> NetronServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_netron(path: str | PathLike[str], *, port: int | None = None) -> NetronServer:
    """Serve ``path`` in Netron's viewer on 127.0.0.1 (never another interface), no browser.

    Args:
        path: the model file.
        port: the port; ``None`` tries 8080, 8081, then a free one; 0 takes any free one.

    Returns:
        The running [`NetronServer`][cnnzoo.export.NetronServer]; call ``stop()`` (or use it
        as a context manager) to end it.

    Raises:
        OptionalDependencyError: the ``netron`` package is not installed.
        FileNotFoundError: ``path`` does not exist.
    """
    try:
        import netron
    except ImportError as exc:
        raise OptionalDependencyError(
            'Netron is not installed; install it with pip install "cnnzoo[netron]" '
            "(or open the file at https://netron.app)"
        ) from exc
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"model file {str(p)!r} does not exist")
    root = logging.getLogger()
    # netron.serve calls logging.basicConfig(level=INFO) when the root logger has no handler,
    # which would make every library's INFO messages print; a NullHandler prevents that.
    guard = logging.NullHandler()
    root.addHandler(guard)
    netron_logger = logging.getLogger("netron")
    level = netron_logger.level
    netron_logger.setLevel(logging.WARNING)
    try:
        host, bound = netron.serve(str(p), None, address=("127.0.0.1", port), browse=False)
    finally:
        root.removeHandler(guard)
        netron_logger.setLevel(level)
    return NetronServer(url=f"http://{host}:{bound}", address=(host, int(bound)))
