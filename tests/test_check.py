"""``cnnzoo.check`` and ``cnnzoo check``: the documents' tables reconciled with the models."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.check import CheckReport
from cnnzoo.errors import SpecError, UnknownModelError
from cnnzoo.spec import list_specs, load_spec

from ._jsonschema import validate
from .test_summary import cli, golden

SPECS = list_specs()
SPEC_DIR = Path(str(resources.files("cnnzoo").joinpath("specs")))


@pytest.fixture(scope="module")
def full_report() -> CheckReport:
    return cnnzoo.check()


def schema() -> dict:
    return json.loads(
        resources.files("cnnzoo").joinpath("schemas", "check.schema.json").read_text()
    )


def test_every_document_table_is_shipped():
    assert SPECS == [
        "alexnet_004", "emotionnet_000", "fer_cnn_003", "inception3a_paper", "lenet5_004",
        "lenet5_3x3_001", "mlp_002", "resnet18_004", "resnet_cifar_paper", "summary_004",
        "vgg16_004",
    ]  # fmt: skip
    for sid in SPECS:
        spec = load_spec(sid)
        assert spec.source.document and spec.source.section and spec.source.figure
        for name in spec.model_names():
            assert cnnzoo.registry.resolve_name(name) == name, (sid, name)


def test_every_shipped_table_checks_clean(full_report):
    assert [t.id for t in full_report.tables] == SPECS
    for t in full_report.tables:
        assert t.ok, (t.id, t.failures)
        for e in t.errata:
            assert e.confirmed is (True if e.checked else None), (t.id, e.id)
        assert all(r.verdict != "mismatch" for r in (*t.rows, *t.totals))
    assert full_report.ok and full_report.failures == []


def _erratum(report: CheckReport, table: str, printed) -> cnnzoo.check.ErratumReport:
    t = next(t for t in report.tables if t.id == table)
    return next(e for e in t.errata if e.printed == printed)


def test_the_known_errata_are_all_found(full_report):
    """The mistakes of the reference notes, each observed with its printed and true value."""
    r = full_report
    e = _erratum(r, "vgg16_004", 65_664)
    assert (e.rows, e.field, e.true) == (("pool2",), "params", 0) and "2*2*128*128" in e.cause
    assert _erratum(r, "vgg16_004", 138_423_208).true == 138_357_544
    assert _erratum(r, "vgg16_004", "conv3064").true == "conv3-64"
    e = _erratum(r, "resnet18_004", 11_511_784)
    assert e.true == 11_689_512
    assert all(n in e.cause for n in ("172,032", "9,600", "3,904"))
    assert _erratum(r, "resnet18_004", (227, 227, 3)).true == (224, 224, 3)
    assert _erratum(r, "resnet18_004", 0.5).rows == ("maxpool", "6", "10", "14")
    assert _erratum(r, "alexnet_004", "62,3").true == 62_378_344
    e = _erratum(r, "fer_cnn_003", 319_975)
    assert e.true == 318_055 and "moving mean and variance" in e.cause
    e = _erratum(r, "summary_004", "19.6B")
    assert "VGG-19" in e.cause and [(a.model, a.matches_printed) for a in e.also] == [
        ("vgg19", True)
    ]
    assert "mixes units" in _erratum(r, "summary_004", "1.5B").cause
    e = _erratum(r, "summary_004", "60.3M")
    assert [(a.model, a.convention, a.measured) for a in e.also] == [
        ("resnet152", "conv_bias", 60_268_520)
    ]
    assert _erratum(r, "summary_004", "11B").true == 11_513_779_048
    assert _erratum(r, "lenet5_3x3_001", (5,)).true == (6,)


def test_counting_conventions_are_shown_not_hidden(full_report):
    fer = next(t for t in full_report.tables if t.id == "fer_cnn_003")
    bn = next(c for r in fer.rows if r.id == "bn0" for c in r.cells if c.field == "params")
    assert (bn.printed, bn.model, bn.as_table, bn.verdict) == (128, 64, 128, "match")
    total = fer.totals[0].cells[0]
    assert (total.model, total.as_table, total.erratum) == (318_055, 319_975, "E1")
    resnet = next(t for t in full_report.tables if t.id == "resnet18_004")
    conv = next(c for r in resnet.rows if r.id == "2" for c in r.cells if c.field == "params")
    assert (conv.printed, conv.model, conv.as_table) == (36_928, 36_864, 36_928)
    assert "conv bias" in conv.note
    text = str(resnet)
    assert "36,928 (= 36,864 +64)" in text
    assert "in no row: 172,032 in 3 Conv2d layers (layer2.0.downsample.0" in text
    assert "in no row: 9,600 in 20 BatchNorm2d layers" in text


def test_cli_check_all_prints_every_erratum_with_its_cause(capsys):
    code, out, err = cli(["check", "--all"], capsys)
    assert code == 0, err
    for sid in SPECS:
        for e in load_spec(sid).errata:
            assert " ".join(e.cause.split()) in " ".join(out.split()), (sid, e.id)
    assert out.rstrip().endswith("11 tables checked: all reconciled")


@pytest.mark.parametrize("table", ["vgg16", "resnet18"])
def test_cli_check_golden(table, update_golden, capsys):
    code, out, err = cli(["check", table], capsys)
    assert code == 0, err
    golden(f"check_{table}.txt", out, update_golden)


def test_check_by_model_name_includes_its_rows_of_the_summary_table():
    report = cnnzoo.check("vgg16")
    assert [t.id for t in report.tables] == ["vgg16_004", "summary_004"]
    summary = next(t for t in report.tables if t.id == "summary_004")
    assert summary.selected_rows == ("VGGNet",) and [r.id for r in summary.rows] == ["VGGNet"]
    assert [e.id for e in summary.errata] == ["E2"]
    assert [t.id for t in cnnzoo.check("LeNet").tables] == ["lenet5_004"]  # an alias
    assert [t.id for t in cnnzoo.check("vgg19").tables] == ["summary_004"]
    assert [t.id for t in cnnzoo.check("inception3a_paper").tables] == ["inception3a_paper"]


def test_json_follows_its_schema(full_report):
    doc = json.loads(full_report.to_json())
    assert validate(doc, schema()) == []
    assert doc["ok"] is True and len(doc["tables"]) == len(SPECS)
    broken = [
        {**doc, "ok": "yes"},
        {**doc, "tables": [{**doc["tables"][0], "kind": "other"}]},
        {k: v for k, v in doc.items() if k != "failures"},
    ]
    for bad in broken:
        assert validate(bad, schema())


# --- mutations: a table or a model changed by one must fail, naming the row ----------------


def mutate(tmp_path: Path, table: str, row: str, old: str, new: str) -> Path:
    """A copy of a shipped table with ``old`` replaced by ``new`` in the line of ``row``."""
    lines = (SPEC_DIR / f"{table}.toml").read_text().splitlines(keepends=True)
    marker = f'id = "{row}"'
    hits = [i for i, line in enumerate(lines) if marker in line and old in line]
    assert len(hits) == 1, (table, row, old)
    lines[hits[0]] = lines[hits[0]].replace(old, new, 1)
    path = tmp_path / f"{table}_mutated.toml"
    path.write_text("".join(lines))
    return path


def failing_rows(report: CheckReport) -> set[str]:
    """The ids of the rows the failures name ("row ID (LAYER): ...")."""
    ids = {r.id for t in report.tables for r in (*t.rows, *t.totals)}
    marks = ("row {} (", "row {}:", "row {},")
    return {i for i in ids for f in report.failures if any(m.format(i) in f for m in marks)}


MUTATIONS = [
    # table, row, old text, new text, the row the failure must name
    ("vgg16_004", "4", "params = 147584", "params = 147585", "4"),
    ("vgg16_004", "pool3", "output = [28, 28, 256]", "output = [28, 28, 257]", "pool3"),
    ("vgg16_004", "1", "kernel = [3, 3]", "kernel = [3, 4]", "1"),
    ("resnet18_004", "7", "params = 147584", "params = 147585", "7"),
    ("resnet18_004", "18", "channels = [512, 1000]", "channels = [512, 1001]", "18"),
    ("alexnet_004", "conv2", "params = 614656", "params = 614657", "conv2"),
    ("fer_cnn_003", "bn4", "params = 1024", "params = 1025", "bn4"),
    ("fer_cnn_003", "total", "printed = 319975", "printed = 319976", "total"),
    ("lenet5_004", "fc1", "in_features=400", "in_features=401", "fc1"),
    ("lenet5_3x3_001", "params[0]", "shape = [6, 1, 3, 3]", "shape = [6, 1, 3, 4]", "params[0]"),
    ("mlp_002", "linear2", "channels = [512, 512]", "channels = [512, 513]", "linear2"),
    ("emotionnet_000", "conv3", "out_channels = 256", "out_channels = 257", "conv3"),
    ("inception3a_paper", "#5x5", "kernel = [5, 5]", "kernel = [4, 4]", "#5x5"),
    ("summary_004", "AlexNet", 'params = "62M"', 'params = "63M"', "AlexNet"),
]


@pytest.mark.parametrize(("table", "row", "old", "new", "named"), MUTATIONS)
def test_a_table_changed_by_one_fails_naming_the_row(tmp_path, table, row, old, new, named):
    report = cnnzoo.check(str(mutate(tmp_path, table, row, old, new)))
    assert not report.ok
    assert named in failing_rows(report), report.failures


def _every_number_mutation() -> list[tuple[str, str, str, str]]:
    """(table, row, old, new) for every printed parameter count and output size of every layer
    table, each changed by one."""
    cases = []
    for sid in SPECS:
        spec = load_spec(sid)
        if spec.kind != "layers":
            continue
        for row in spec.rows:
            params = row.printed.get("params")
            if isinstance(params, int):
                cases.append((sid, row.id, f"params = {params}", f"params = {params + 1}"))
            output = row.printed.get("output")
            if output is not None:
                old = f"output = [{', '.join(map(str, output))}]"
                new = f"output = [{', '.join(map(str, (*output[:-1], output[-1] + 1)))}]"
                cases.append((sid, row.id, old, new))
    return cases


@pytest.mark.slow
@pytest.mark.parametrize(("table", "row", "old", "new"), _every_number_mutation())
def test_every_printed_number_changed_by_one_fails(tmp_path, table, row, old, new):
    report = cnnzoo.check(str(mutate(tmp_path, table, row, old, new)))
    assert not report.ok and row in failing_rows(report), report.failures


def test_a_changed_erratum_no_longer_explains_the_difference(tmp_path):
    text = (SPEC_DIR / "vgg16_004.toml").read_text()
    path = tmp_path / "vgg16_wrong_erratum.toml"
    path.write_text(text.replace("printed = 65664\ntrue = 0", "printed = 65664\ntrue = 1"))
    report = cnnzoo.check(str(path))
    assert not report.ok
    assert any("row pool2 (maxpool): params" in f for f in report.failures), report.failures
    assert any("erratum E1" in f and "no longer holds" in f for f in report.failures)
    # an erratum whose document value is gone (the row corrected) fails as stale
    path.write_text(text.replace("params = 65664", "params = 0"))
    report = cnnzoo.check(str(path))
    assert [f for f in report.failures if "erratum E1" in f], report.failures


def test_cli_mutated_table_exits_1_naming_the_row(tmp_path, capsys):
    path = mutate(tmp_path, "vgg16_004", "4", "params = 147584", "params = 147585")
    code, out, err = cli(["check", str(path)], capsys)
    assert code == 1
    assert "row 4 (conv3-128): params: the document prints 147,585, the model has 147,584" in err
    assert "result: FAILED" in out and err.count("\n") == 1
    code, out, err = cli(["check", str(path), "--format", "json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["ok"] is False and validate(doc, schema()) == []
    first = doc["differences"][0]
    assert (first["layer"], first["field"], first["expected"], first["got"]) == (
        "features.7", "params", 147_585, 147_584,
    )  # fmt: skip
    assert first["cause"].startswith("vgg16_004_mutated: row 4 (conv3-128): params")


def test_a_model_changed_by_one_channel_fails(monkeypatch):
    from cnnzoo.models import vgg

    cfg = list(vgg.CFGS["D"])
    cfg[1] = 65  # the second conv3-64 gets 65 filters
    monkeypatch.setitem(vgg.CFGS, "D", cfg)
    report = cnnzoo.check("vgg16_004")
    assert not report.ok
    assert {"2", "3", "pool1"} <= failing_rows(report), report.failures
    assert any("row 2 (conv3064): params" in f for f in report.failures)
    # the total differs too, and E2 (printed 138,423,208, true 138,357,544) no longer holds
    assert any("erratum E2" in f for f in report.failures)


def test_your_own_model_against_a_lecture_table():
    class Net(torch.nn.Module):  # document 004's LeNet, with 7 filters in conv1
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 7, 5)
            self.pool1 = torch.nn.MaxPool2d(2, 2)
            self.conv2 = torch.nn.Conv2d(7, 16, 5)
            self.pool2 = torch.nn.MaxPool2d(2, 2)
            self.fc1 = torch.nn.Linear(400, 120)
            self.fc2 = torch.nn.Linear(120, 84)
            self.fc3 = torch.nn.Linear(84, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.pool2(self.conv2(self.pool1(self.conv1(x))))
            return self.fc3(self.fc2(self.fc1(torch.flatten(x, 1))))

    report = cnnzoo.check("lenet5_004", model=Net())
    assert {"conv1", "conv2", "params[0]", "params[1]"} <= failing_rows(report), report.failures
    assert "pool1" in failing_rows(report)  # 14x14x7 where the text says 14x14x6
    good = cnnzoo.check("lenet5_004", model=cnnzoo.create("lenet5"))
    assert good.ok, good.failures


def test_rows_line_up_by_order_and_kind_not_by_name():
    """The rows follow the alignment: torch.flatten in forward lines up with the flatten row
    (before the check package, a missing ``flatten`` module failed here)."""
    model = cnnzoo.create("mlp")
    del model.flatten
    model.forward = lambda x: model.linear_relu_stack(torch.flatten(x, 1))
    report = cnnzoo.check("mlp_002", model=model)
    assert report.ok, (report.failures, report.differences)
    row = next(r for r in report.tables[0].rows if r.id == "flatten")
    assert row.module == "torch.flatten after the input" and row.verdict == "match"


def test_a_model_missing_a_layer_fails_naming_the_row():
    model = cnnzoo.create("mlp")
    model.linear_relu_stack = torch.nn.Sequential(
        torch.nn.Linear(784, 512),
        torch.nn.ReLU(),
        torch.nn.Identity(),
        torch.nn.Identity(),
        torch.nn.Linear(512, 10),
    )
    report = cnnzoo.check("mlp_002", model=model)
    assert any("row linear2" in f and "no layer of MLP lines up" in f for f in report.failures)
    first = report.differences[0]
    assert (first.field, first.expected) == ("layer", "Linear"), first
    assert "missing a Linear(512, 512)" in first.cause


# --- errors ---------------------------------------------------------------------------------


def test_unknown_names():
    with pytest.raises(UnknownModelError, match=r"unknown table or model 'vgg61'.*'vgg16"):
        cnnzoo.check("vgg61")
    with pytest.raises(SpecError, match="no document table describes 'resnet50'"):
        cnnzoo.check("resnet50")
    with pytest.raises(SpecError, match="cannot read table file"):
        cnnzoo.check("/nonexistent/table.toml")
    with pytest.raises(SpecError, match="no table named 'vgg16_999'"):
        load_spec("vgg16_999")
    with pytest.raises(SpecError, match="table of whole registered models"):
        cnnzoo.check("summary_004", model=cnnzoo.create("lenet5"))


BROKEN = [
    # what to replace in vgg16_004.toml, and the message the loader must give
    ('format = "cnnzoo.spec/1"', 'format = "cnnzoo.spec/2"', "format: must be 'cnnzoo.spec/1'"),
    ('kind = "layers"', 'kind = "layer"', "kind: must be one of layers, models"),
    ('convention = "pytorch"', 'convention = "tf"', "convention: must be one of"),
    ('module = "features.0", ', "", "row '1': a layer row needs exactly one of 'module'"),
    ("stride = 1, kernel = [3, 3], channels = [3, 64]", "strides = 1", "unknown key 'strides'"),
    ('rows = ["pool2"]', 'rows = ["pool9"]', "erratum 'E1'.rows: no row 'pool9'"),
    ('field = "params"\nprinted = 65664', 'field = "pad"\nprinted = 65664', "prints no 'pad'"),
    ('id = "pool3"', 'id = "pool2"', "the row id 'pool2' is used twice"),
    ("output = [224, 224, 64], stride", "output = [224, -2, 64], stride", "non-negative integers"),
    ("[source]", "[sauce]", "unknown key 'sauce'"),
    ("title =", "title = = ", "not a valid TOML file"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_a_malformed_table_names_file_and_key(tmp_path, old, new, message):
    text = (SPEC_DIR / "vgg16_004.toml").read_text()
    assert old in text
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert message in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["check"], 2, "give table or model names, or --all"),
        (["check", "vgg16", "--all"], 2, "give table or model names, or --all"),
        (["check", "vgg61"], 1, "unknown table or model 'vgg61'"),
        (["check", "resnet50"], 1, "no document table describes 'resnet50'"),
        (["check", "--format", "yaml"], 2, "invalid choice: 'yaml'"),
    ],
)
def test_cli_errors(args, code, message, capsys):
    rc, out, err = cli(args, capsys)
    assert rc == code and message in err and "Traceback" not in err and out == ""
    assert err.strip().splitlines()[-1].startswith("cnnzoo check: error:")


def test_cli_list(capsys):
    code, out, _ = cli(["check", "--list"], capsys)
    assert code == 0 and [line.split()[0] for line in out.splitlines()] == SPECS


# --- the table format, as the docs describe it ------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs"


def _docs_example(tmp_path: Path) -> Path:
    import re

    text = (DOCS / "reference" / "tables.md").read_text()
    block = re.search(r"```toml\n(.*?)```", text, re.S)
    assert block, "docs/reference/tables.md lost its complete example"
    path = tmp_path / "my_lecture.toml"
    path.write_text(block.group(1))
    return path


def test_the_documented_table_format_example_loads_and_reconciles(tmp_path):
    path = _docs_example(tmp_path)
    spec = load_spec(path)
    assert spec.source.short == "slide 12" and [e.id for e in spec.errata] == ["E1", "E2"]
    report = cnnzoo.check(str(path))
    assert report.ok, report.failures
    assert [e.confirmed for e in report.tables[0].errata] == [True, True]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("kernel = [5, 5], stride = 1", 'kernel = "5", stride = 1',
         "row 'C1'.kernel: must be a list of 2 non-negative integers, got '5'"),
        ('layout = "HWC"', 'layout = "WHC"', "layout: must be one of CHW, HWC, HW; got 'WHC'"),
        ('short = "slide 12"', "short = 12", "source.short: must be a string, got 12"),
        ('quantity = "params"', 'quantity = "weights"',
         "totals[0].quantity: must be one of params, trainable_params, non_trainable_params"),
    ],
)  # fmt: skip
def test_the_documented_format_rejects_each_bad_field(tmp_path, old, new, message):
    path = _docs_example(tmp_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value).startswith(str(path)) and message in str(info.value), info.value


def test_the_guides_net_gives_the_failures_it_shows():
    """docs/guide/check.md's LeNet-5 with 7 filters: the failures printed there, exactly."""
    import re

    text = (DOCS / "guide" / "check.md").read_text()
    section = text[text.index("## Checking your own model against a lecture table") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1).strip().splitlines()
    namespace: dict = {}
    exec(compile(code.replace("print(", "(lambda *a, **k: None)("), "check.md", "exec"), namespace)
    assert namespace["report"].failures == shown
