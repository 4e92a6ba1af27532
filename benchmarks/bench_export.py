"""Export every registered model to ONNX and tabulate size, time and the measured difference.

Each model is exported by name, as ``cnnzoo export NAME`` does (random weights from seed 0,
rescaled to keep activations alive), checked with the full ONNX checker and verified with
onnxruntime on batches 1 and 3. One small export runs first and is not reported, so the table
does not charge the first model for importing the exporter::

    python benchmarks/bench_export.py                  # every model (minutes: VGG is big)
    python benchmarks/bench_export.py "resnet*" lenet5 # a selection (fnmatch patterns)

It prints a markdown table: file size, the time of the whole ``export_onnx`` call (export,
checker, onnxruntime verification), the largest ``|ORT - torch|``, the tolerance it had to meet
(``1e-4 x max|torch|``) and their ratio.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's cnnzoo

import torch  # noqa: E402

import cnnzoo  # noqa: E402
from cnnzoo.export import export_onnx  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patterns", nargs="*", help="model names or patterns (default: all)")
    args = parser.parse_args()
    names = (
        sorted(
            {n for p in args.patterns for n in cnnzoo.list_models(p)},
            key=cnnzoo.list_models().index,
        )
        if args.patterns
        else cnnzoo.list_models()
    )
    print(
        f"cnnzoo {cnnzoo.__version__}, torch {torch.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()}, {torch.get_num_threads()} threads",
        file=sys.stderr,
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        export_onnx("lenet5", Path(tmp) / "warmup.onnx")  # imports and registry, not reported
        for name in names:
            path = Path(tmp) / f"{name}.onnx"
            report = export_onnx(name, path)
            rows.append(
                (
                    name,
                    f"{cnnzoo.model_info(name).num_params:,}",
                    f"{report.file_size / 1024**2:.1f} MiB",
                    f"{report.seconds:.1f}",
                    f"{report.max_abs_diff:.1e}",
                    f"{report.tolerance:.1e}",
                    f"{report.max_abs_diff / report.tolerance:.3f}",
                )
            )
            path.unlink()
            print(f"{name}: done in {report.seconds:.1f} s", file=sys.stderr, flush=True)
    header = (
        "model",
        "parameters",
        "file",
        "time (s)",
        "max abs diff",
        "tolerance",
        "diff / tolerance",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(":---" if i == 0 else "---:" for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
