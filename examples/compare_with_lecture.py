"""Compare a model's torchinfo summary with the lecture's table, row by row.

Document 004 prints VGG16's layers as a table: name, output shape (H x W x C) and parameters.
cnnzoo ships that table as data (``cnnzoo/specs/vgg16_004.toml``). This script does by hand what
``cnnzoo check vgg16`` does for you: it builds the model's summary, walks the lecture's rows,
finds each row's layer in the summary and compares the figures. Then it asks ``cnnzoo.check``,
which also knows *why* a figure differs.

    python examples/compare_with_lecture.py             # VGG16 (built on `meta`: no weights)
    python examples/compare_with_lecture.py --table resnet18_004
    python examples/compare_with_lecture.py --quick     # the same; it already takes a second
"""

from __future__ import annotations

import argparse

import cnnzoo
from cnnzoo.spec import list_specs, load_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The layer tables that print a parameter count per row.
    tables = [
        t
        for t in list_specs()
        if any(r.module and "params" in r.printed for r in load_spec(t).rows)
    ]
    parser.add_argument("--table", default="vgg16_004", choices=tables)
    parser.add_argument("--quick", action="store_true", help="accepted for uniformity")
    args = parser.parse_args()

    spec = load_spec(args.table)
    print(f"{spec.title}  ({spec.source.document}, {spec.source.section})")
    print(f"model: {spec.model}\n")

    # The summary as data: one SummaryRow per layer, by its dotted name (features.0, ...).
    # Built from a name, cnnzoo runs the model on `meta`: shapes only, no 553 MB of weights.
    summary = cnnzoo.summary(spec.model, depth=10)
    layers = {row.name: row for row in summary.rows}

    print(f"{'row':6} {'layer':10} {'module':14} {'lecture params':>15} {'model params':>13}")
    for row in spec.rows:
        printed = row.printed.get("params")
        if row.module is None or printed is None:
            continue  # the input row, or a row with no parameter column
        layer = layers[row.module]
        flag = "" if layer.params == printed else "   <-- differs"
        print(f"{row.id:6} {row.layer:10} {row.module:14} {printed:>15,} {layer.params:>13,}{flag}")
    printed_total = next((t.printed for t in spec.totals if t.quantity == "params"), None)
    shown = f"{printed_total:,}" if isinstance(printed_total, int) else str(printed_total or "")
    print(f"{'total':6} {'':10} {'':14} {shown:>15} {summary.totals.params:>13,}")

    # cnnzoo.check does the same walk for every column (shapes too), translates counting
    # conventions, and explains each difference with its recorded cause.
    report = cnnzoo.check(args.table)
    print(f"\ncnnzoo.check: {'all differences explained' if report.ok else 'UNEXPLAINED'}")
    for table in report.tables:
        for erratum in table.errata:
            print(
                f"  {erratum.id} {erratum.field}: printed {erratum.printed!r}, "
                f"true {erratum.true!r}\n     {erratum.cause}"
            )


if __name__ == "__main__":
    main()
