"""Looking at what a trained model does: predictions, saliency maps and feature maps.

These are the last questions of the course labs (document 003's FER report, questions 4 and 5):
[`predict`][cnnzoo.inspect.predict] gives each image's most likely labels with their softmax
probabilities; [`explain`][cnnzoo.inspect.explain] draws a saliency map (Simonyan et al.,
2014: the gradient of the predicted class score with respect to the input pixels) and the
feature maps of one layer, as PNG files.

Both read any cnnzoo checkpoint (the ``best.pth`` that ``cnnzoo train`` writes carries the
model name, its options, the class labels and the preprocessing) or a bare state_dict, for
which the model name must be given; the labels and preprocessing then come from the card.
"""

from __future__ import annotations

import difflib
import io
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .errors import InvalidArgumentError
from .trained import load_trained

__all__ = [
    "MAX_FEATURE_MAPS",
    "ExplainResult",
    "Prediction",
    "default_layer",
    "explain",
    "feature_grid",
    "load_trained",
    "predict",
    "saliency_map",
]

#: The most channels drawn in a feature-map grid (an 8 x 8 grid).
MAX_FEATURE_MAPS = 64
#: Images per forward pass in [`predict`][cnnzoo.inspect.predict].
_BATCH = 64

PathType = str | PathLike[str]


@dataclass(frozen=True)
class Prediction:
    """One image's prediction.

    Attributes:
        path: the image file.
        topk: the ``k`` most likely classes as (label, probability), most likely first.
        indices: the class indices of ``topk``, in the same order.
        probabilities: the softmax probability of every class, in class order (sums to 1).
    """

    path: str
    topk: tuple[tuple[str, float], ...]
    indices: tuple[int, ...]
    probabilities: tuple[float, ...] = field(repr=False)

    @property
    def label(self) -> str:
        """The most likely label."""
        return self.topk[0][0]

    @property
    def probability(self) -> float:
        """The probability of the most likely label."""
        return self.topk[0][1]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the image and its top-k labels, indices and probabilities."""
        return {
            "image": self.path,
            "predictions": [
                {"label": label, "index": index, "probability": prob}
                for (label, prob), index in zip(self.topk, self.indices, strict=True)
            ],
        }


@dataclass(frozen=True)
class ExplainResult:
    """What [`explain`][cnnzoo.inspect.explain] computed and wrote.

    Attributes:
        path: the image file.
        label: the predicted label (the class whose score the saliency map explains).
        index: its class index.
        probability: its softmax probability.
        saliency: (H, W) at the model's input size, in [0, 1]: the largest absolute gradient
            over the channels, divided by its maximum.
        layer: the module name whose output ``features`` holds; ``None`` for a model
            without convolutions when no layer was named.
        features: that module's output for the image, (C, h, w), on the CPU; or ``None``.
        files: the PNG files written (saliency first, then feature maps); empty when nothing was
            saved.
    """

    path: str
    label: str
    index: int
    probability: float
    saliency: torch.Tensor = field(repr=False)
    layer: str | None
    features: torch.Tensor | None = field(repr=False)
    files: tuple[Path, ...] = ()
    #: The image as the model sees it, uint8 (C, H, W), for the figures.
    image: torch.Tensor | None = field(default=None, repr=False)

    def figures(self) -> tuple[Any, Any]:
        """The two pictures the PNG files show, as matplotlib Figures: the image beside its
        saliency map, and the feature maps of ``layer`` (``None`` without a layer).

        A notebook shows a Figure inline; ``fig.savefig(path)`` writes it. They are drawn on
        matplotlib's Agg canvas: no window opens, pyplot's state is left alone.
        """
        if self.image is None:
            raise InvalidArgumentError("this result holds no image to draw; explain() it again")
        title = f"{self.label} ({self.probability:.1%})"
        saliency = saliency_figure(self.image, self.saliency, title)
        features = None
        if self.features is not None and self.layer is not None:
            features = features_figure(self.features, f"{self.layer} of {Path(self.path).name}")
        return saliency, features


# --------------------------------------------------------------------------------------------
# Loading: [`load_trained`][cnnzoo.inspect.load_trained] is cnnzoo.trained's, the one policy that
# evaluate shares (bare state_dicts, labels of the wrong length, missing labels).


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


# --------------------------------------------------------------------------------------------
# Predict


def predict(
    checkpoint: PathType | None,
    images: Sequence[PathType],
    *,
    topk: int = 1,
    model: str | None = None,
    device: Any = "cpu",
    weights: str | None = None,
) -> list[Prediction]:
    """Label each image with the checkpoint's model: top-k labels and softmax probabilities.

    Every image is prepared as the model was trained (the checkpoint's size, channels and
    normalisation) and classified in batches; a missing file fails before anything runs.

    Args:
        checkpoint: a cnnzoo checkpoint, or a bare state_dict with ``model`` given; ``None``
            for published weights.
        images: image files (anything PIL reads).
        topk: how many labels to give per image, most likely first.
        model: the model name, for a bare state_dict or published weights.
        device: where to run.
        weights: published weights of ``model`` (``"DEFAULT"``, ``"IMAGENET1K_V1"``): the
            ImageNet categories and the weights' own preprocessing.

    Returns:
        One [`Prediction`][cnnzoo.inspect.Prediction] per image, in order.

    Raises:
        InvalidArgumentError: no images, an unreadable image, or ``topk`` out of 1..classes.
        FileNotFoundError: an image does not exist.
        CheckpointError: see [`load_trained`][cnnzoo.inspect.load_trained].
    """
    paths = [str(p) for p in images]
    if not paths:
        raise InvalidArgumentError("no images given; pass one or more image files")
    if isinstance(topk, bool) or not isinstance(topk, int) or topk < 1:
        raise InvalidArgumentError(f"topk must be a positive integer, got {topk!r}")
    net, labels, preprocess = load_trained(checkpoint, model=model, device=device, weights=weights)
    if topk > len(labels):
        raise InvalidArgumentError(
            f"topk {topk} is more than the model's {len(labels)} classes; "
            f"use --topk {len(labels)} or less"
        )
    for path in paths:  # a missing file fails before anything runs
        if not Path(path).is_file():
            what = "is a directory, not an image file" if Path(path).is_dir() else "does not exist"
            raise FileNotFoundError(f"image {path!r} {what}")
    dev = _device_of(net)
    probs = []
    with torch.inference_mode():
        # Decoded batch by batch, so a long list of large images never sits in memory at once.
        for start in range(0, len(paths), _BATCH):
            batch = torch.stack([preprocess.load_image(p) for p in paths[start : start + _BATCH]])
            logits = net(batch.to(dev))
            probs.append(torch.softmax(logits.float(), dim=1).cpu())
    all_probs = torch.cat(probs)
    values, indices = all_probs.topk(topk, dim=1)
    return [
        Prediction(
            path=path,
            topk=tuple(
                (labels[i], float(v)) for v, i in zip(vs.tolist(), ix.tolist(), strict=True)
            ),
            indices=tuple(int(i) for i in ix.tolist()),
            probabilities=tuple(float(v) for v in row.tolist()),
        )
        for path, vs, ix, row in zip(paths, values, indices, all_probs, strict=True)
    ]


# --------------------------------------------------------------------------------------------
# Explain


def _conv_names(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def default_layer(model: nn.Module) -> str:
    """The last convolution of ``model`` in module order: the layer whose filters the FER
    report's question 5 draws (``conv2`` of LeNet-5, ``layer4.1.conv2`` of ResNet-18).

    Raises:
        InvalidArgumentError: the model has no convolution (the MLP); name a layer instead.
    """
    convs = _conv_names(model)
    if not convs:
        raise InvalidArgumentError(
            f"{getattr(model, 'model_name', type(model).__name__)} has no convolution, so no "
            "feature maps to draw"
        )
    return convs[-1]


def _find_layer(model: nn.Module, layer: str) -> nn.Module:
    modules = dict(model.named_modules())
    if layer in modules and layer:
        return modules[layer]
    names = [n for n in modules if n]
    close = difflib.get_close_matches(layer, names, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
    name = getattr(model, "model_name", None)
    see = (
        f"`cnnzoo summary {name} --depth 9 --format markdown`" if name else "model.named_modules()"
    )
    raise InvalidArgumentError(
        f"the model has no layer {layer!r}; {hint}see every layer name with {see} "
        f"(names as in model.named_modules(), e.g. {names[0]!r})"
    )


def saliency_map(model: nn.Module, x: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """Simonyan et al. (2014)'s saliency of one prepared image.

    Args:
        model: a classifier in eval mode.
        x: the normalised image, (C, H, W).
        target: the class to explain; the predicted one when ``None``.

    Returns:
        (H, W): max over channels of ``|d score_target / d x|``, divided by its maximum, so in
        [0, 1] (all zeros where the score does not depend on the input).
    """
    return _saliency(model, x, target)[0]


def _saliency(
    model: nn.Module, x: torch.Tensor, target: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(saliency (H, W), logits (K,)) from one forward and one backward pass."""
    x = x.detach().clone().unsqueeze(0).requires_grad_(True)
    logits = model(x)
    index = int(logits[0].argmax()) if target is None else int(target)
    (grad,) = torch.autograd.grad(logits[0, index], x)
    sal = grad[0].abs().amax(dim=0)
    peak = sal.max()
    return (sal / peak if peak > 0 else sal).detach(), logits[0].detach()


def _safe_part(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _check_out_dir(out_dir: PathType) -> Path:
    d = Path(out_dir)
    if not d.is_dir():
        what = "is not a directory" if d.exists() else "does not exist"
        raise FileNotFoundError(f"output directory {str(d)!r} {what}; create it first")
    if not os.access(d, os.W_OK):
        raise PermissionError(f"output directory {str(d)!r} is not writable")
    return d


def explain(
    checkpoint: PathType | None,
    image: PathType,
    *,
    layer: str | None = None,
    out_dir: PathType | None = None,
    model: str | None = None,
    save: bool = True,
    device: Any = "cpu",
    weights: str | None = None,
) -> ExplainResult:
    """A saliency map and one layer's feature maps for ``image``, written as PNG files.

    The saliency map is the absolute gradient of the predicted class score (the logit, before
    softmax) with respect to the input pixels, the maximum over the colour channels, scaled to
    [0, 1] (Simonyan, Vedaldi and Zisserman 2014, "Deep Inside Convolutional Networks"). The
    feature maps are the output of module ``layer`` for the image, caught with a forward hook.

    Files, in ``out_dir`` (default: the current directory), named after the image's stem:

    - ``<stem>_saliency.png``: the image as the model sees it beside the saliency heat map,
      titled with the predicted label and its probability;
    - ``<stem>_features_<layer>.png``: a grid of the layer's channels (the first
      ``MAX_FEATURE_MAPS`` = 64).

    Both are written atomically after everything is computed: an error leaves no file behind.

    Args:
        checkpoint: a cnnzoo checkpoint, or a bare state_dict with ``model`` given.
        image: one image file.
        layer: a module name as in ``model.named_modules()`` (``conv1``, ``features.0``,
            ``layer1.0.conv1``); default: the last convolution in module order (the layer
            the report's question 5 draws). A model without convolutions (the MLP) gets no
            feature maps unless a layer is named.
        out_dir: an existing, writable directory.
        model: the model name, for a bare state_dict or published weights.
        save: write the PNG files (``False``: only compute).
        device: where to run.
        weights: published weights of ``model``, as for [`predict`][cnnzoo.inspect.predict].

    Returns:
        An [`ExplainResult`][cnnzoo.inspect.ExplainResult] with the maps and the files written.

    Raises:
        InvalidArgumentError: an unknown layer (with the closest names), a layer that outputs
            no feature maps or is not run, or an unreadable image.
        FileNotFoundError: the image or ``out_dir`` does not exist.
        PermissionError: ``out_dir`` is not writable.
        CheckpointError: see [`load_trained`][cnnzoo.inspect.load_trained].
    """
    directory = _check_out_dir(Path.cwd() if out_dir is None else out_dir) if save else None
    net, labels, preprocess = load_trained(checkpoint, model=model, device=device, weights=weights)
    convs = _conv_names(net)
    # A model without convolutions (document 002's MLP) still has a saliency map.
    layer_name = layer if layer is not None else (convs[-1] if convs else None)
    module = _find_layer(net, layer_name) if layer_name is not None else None
    x = preprocess.load_image(image).to(_device_of(net))

    for p in net.parameters():
        p.requires_grad_(False)  # only the input's gradient is wanted
    caught: list[Any] = []
    handle = (
        # A clone: an in-place ReLU after a conv (VGG, AlexNet, ResNet) would overwrite it.
        module.register_forward_hook(
            lambda _m, _i, out: caught.append(
                out.detach().clone() if isinstance(out, torch.Tensor) else out
            )
        )
        if module is not None
        else None
    )
    try:
        sal, logits = _saliency(net, x, None)
    finally:
        if handle is not None:
            handle.remove()
    features = None
    if layer_name is not None:
        if not caught:
            raise InvalidArgumentError(
                f"layer {layer_name!r} is not run by the model's forward pass; choose another"
            )
        out = caught[0]
        if not isinstance(out, torch.Tensor) or out.dim() != 4:
            shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            such = f" such as {convs[-1]!r}" if convs else ""
            raise InvalidArgumentError(
                f"layer {layer_name!r} outputs {shape}, not feature maps (N, C, H, W); choose "
                f"a convolution, pooling or activation layer{such}"
            )
        features = out[0].cpu()
    sal = sal.cpu()
    probs = torch.softmax(logits.float().cpu(), dim=0)
    index = int(probs.argmax())
    label, probability = labels[index], float(probs[index])

    from PIL import Image

    with Image.open(image) as img:
        shown = preprocess.image_to_uint8(img)
    files: tuple[Path, ...] = ()
    if directory is not None:
        stem = Path(image).stem
        title = f"{label} ({probability:.1%})"
        pngs = [(directory / f"{stem}_saliency.png", _png(saliency_figure(shown, sal, title)))]
        if features is not None and layer_name is not None:
            pngs.append(
                (
                    directory / f"{stem}_features_{_safe_part(layer_name)}.png",
                    _png(features_figure(features, f"{layer_name} of {Path(image).name}")),
                )
            )
        files = _write_all(pngs)
    return ExplainResult(
        path=str(image),
        label=label,
        index=index,
        probability=probability,
        saliency=sal,
        layer=layer_name,
        features=features,
        files=files,
        image=shown,
    )


# --------------------------------------------------------------------------------------------
# Pictures (matplotlib's Agg canvas, no pyplot state)


def _figure(width: float, height: float) -> Any:
    from .display.figure import new_figure

    return new_figure(width, height)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def saliency_figure(shown: torch.Tensor, sal: torch.Tensor, title: str) -> Any:
    """The image (uint8 (C, H, W)) beside its saliency map (H, W), as a matplotlib Figure."""
    fig = _figure(6.4, 3.4)
    # Fixed axes (no layout engine): the picture is the same for every image, and fast.
    left = fig.add_axes((0.02, 0.04, 0.42, 0.78))
    right = fig.add_axes((0.48, 0.04, 0.42, 0.78))
    bar = fig.add_axes((0.92, 0.08, 0.02, 0.70))
    img = shown.permute(1, 2, 0).numpy()
    if img.shape[2] == 1:
        left.imshow(img[:, :, 0], cmap="gray", vmin=0, vmax=255)
    else:
        left.imshow(img)
    left.set_title("input, as the model sees it", fontsize=9)
    heat = right.imshow(sal.numpy(), cmap="hot", vmin=0.0, vmax=1.0)
    right.set_title("saliency: |d score / d pixel|", fontsize=9)
    for ax in (left, right):
        ax.set_axis_off()
    fig.colorbar(heat, cax=bar)
    fig.suptitle(f"predicted: {title}")
    return fig


def feature_grid(features: torch.Tensor, *, limit: int = MAX_FEATURE_MAPS) -> torch.Tensor:
    """The first ``limit`` channels of (C, h, w) tiled into one (rows*(h+1)-1, cols*(w+1)-1)
    image, each channel scaled to [0, 1] on its own, NaN in the one-pixel gaps."""
    shown = min(features.shape[0], limit)
    cols = math.ceil(math.sqrt(shown))
    rows = math.ceil(shown / cols)
    h, w = features.shape[1:]
    grid = torch.full((rows * (h + 1) - 1, cols * (w + 1) - 1), float("nan"))
    for i in range(shown):
        f = features[i].float()
        lo, hi = f.min(), f.max()
        f = (f - lo) / (hi - lo) if hi > lo else torch.zeros_like(f)
        r, c = divmod(i, cols)
        grid[r * (h + 1) : r * (h + 1) + h, c * (w + 1) : c * (w + 1) + w] = f
    return grid


def features_figure(features: torch.Tensor, title: str) -> Any:
    """A layer's output (C, h, w) as a grid of its first channels, as a matplotlib Figure."""
    # One image of tiles, not one axes per channel: 64 axes take seconds to draw.
    import matplotlib

    channels, h, w = features.shape
    shown = min(channels, MAX_FEATURE_MAPS)
    grid = feature_grid(features)
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="white")
    side = 6.4
    aspect = grid.shape[0] / grid.shape[1]
    fig = _figure(side, side * aspect + 0.6)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.96 * side * aspect / (side * aspect + 0.6)))
    ax.imshow(grid.numpy(), cmap=cmap, interpolation="nearest")
    ax.set_axis_off()
    more = f", first {shown} shown" if shown < channels else ""
    fig.suptitle(
        f"{title}: {channels} channels of {h}x{w}{more}\n"
        "(each scaled on its own; row by row from channel 0)",
        fontsize=9,
    )
    return fig


def _write_all(pngs: list[tuple[Path, bytes]]) -> tuple[Path, ...]:
    """Write every file, or none: a failure leaves the earlier files exactly as they were."""
    from ._files import write_all
    from .checkpoint import usual_mode

    items = [(path, lambda tmp, data=data: tmp.write_bytes(data)) for path, data in pngs]
    return tuple(write_all(items, usual_mode()))
