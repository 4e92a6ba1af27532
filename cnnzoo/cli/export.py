"""``cnnzoo export NAME``: a checked ONNX file, optionally opened in Netron.

Exit codes: 0 written (and, with ``--netron``, the viewer stopped with Ctrl-C); 1 nothing
written (one line on stderr says why), or ``--netron`` without the ``netron`` package: the file
is written and reported, then one line says how to install the viewer; 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
import time

from ._args import add_weights_arguments, port_number, positive_int

__all__ = ["add_export_arguments", "run_export"]


def add_export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="model name or alias (see `cnnzoo list`)")
    p.add_argument(
        "-o", "--output", metavar="PATH", help="the .onnx file to write (default: NAME.onnx)"
    )
    p.add_argument(
        "--checkpoint",
        metavar="CKPT",
        help="weights to export: a cnnzoo checkpoint or a state_dict (cnnzoo's or torchvision's)",
    )
    add_weights_arguments(p, "export")
    p.add_argument("--num-classes", type=positive_int, metavar="K", help="number of classes")
    p.add_argument(
        "--input-size",
        nargs=3,
        type=positive_int,
        metavar=("C", "H", "W"),
        help="one sample's shape (default: the model's own)",
    )
    p.add_argument(
        "--opset", type=positive_int, metavar="N", help="ONNX opset (default: the exporter's)"
    )
    p.add_argument(
        "--static-batch", action="store_true", help="fix the batch size at 1 (default: dynamic)"
    )
    p.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the onnxruntime comparison (the ONNX checker still runs)",
    )
    p.add_argument(
        "--netron",
        action="store_true",
        help="then serve the file in Netron on 127.0.0.1 until Ctrl-C (needs cnnzoo[netron])",
    )
    p.add_argument(
        "--port",
        type=port_number,
        default=None,
        help="Netron's port (default: 8080, or a free one)",
    )


def run_export(args: argparse.Namespace) -> int:
    from ..errors import OptionalDependencyError
    from ..export import export_onnx, serve_netron
    from ..registry import resolve_name

    name = resolve_name(args.name)
    path = args.output or f"{name}.onnx"
    kwargs = {}
    if args.num_classes is not None:
        kwargs["num_classes"] = args.num_classes
    subject, checkpoint = _published(args, name, kwargs)
    report = export_onnx(
        subject,
        path,
        input_size=tuple(args.input_size) if args.input_size else None,
        checkpoint=checkpoint,
        opset=args.opset,
        dynamic_batch=not args.static_batch,
        verify=not args.no_verify,
        **(kwargs if isinstance(subject, str) else {}),
    )
    for line in report.lines():
        sys.stdout.write(line + "\n")
    if not args.netron:
        return 0
    try:
        server = serve_netron(report.path, port=args.port)
    except OptionalDependencyError as exc:
        sys.stderr.write(f"cnnzoo export: {exc}\n")
        return 1
    sys.stdout.write(f"Netron is serving {report.path} at {server.url} (Ctrl-C to stop)\n")
    sys.stdout.flush()
    try:
        while server.alive:
            time.sleep(0.2)
    except KeyboardInterrupt:
        sys.stdout.write("stopped Netron\n")
    finally:
        server.stop()
    return 0


def _published(args: argparse.Namespace, name: str, kwargs: dict) -> tuple[object, object]:
    """(the model or its name, the checkpoint) with --pretrained / --weights NAME|PATH."""
    if not args.pretrained and args.weights is None:
        return name, args.checkpoint
    from ..errors import InvalidArgumentError
    from ..pretrained import is_weights_name
    from ..registry import create

    if args.checkpoint is not None:
        raise InvalidArgumentError("give --checkpoint or --pretrained/--weights, not both")
    if args.weights is not None and not is_weights_name(name, args.weights):
        if args.pretrained:
            raise InvalidArgumentError("give --pretrained or --weights PATH, not both")
        return name, args.weights
    model = create(name, weights=args.weights or "DEFAULT", **kwargs)
    if model.pretrained["new_head"]:
        sys.stdout.write(
            f"note: {name}: backbone from {model.pretrained['torchvision']}, new head\n"
        )
    return model, None
