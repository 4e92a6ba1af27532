"""``cnnzoo.summary`` and ``cnnzoo summary``: torchinfo's table, as data, built for shapes only."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import torch
import torchinfo

import cnnzoo
from cnnzoo.errors import InputShapeError, InvalidArgumentError, UnknownArgumentError
from cnnzoo.summarize import COLUMNS, Summary

from ._jsonschema import validate
from .conftest import is_big

ALL = cnnzoo.list_models()
GOLDEN = Path(__file__).parent / "golden"


def schema(name: str) -> dict:
    text = resources.files("cnnzoo").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the ``cnnzoo`` command in this process: (exit code, stdout, stderr)."""
    from cnnzoo.cli import main

    capsys.readouterr()
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run pytest with --update-golden to write it"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if the change is intended, rerun with --update-golden"
    )


# Real weights and a real forward pass cost seconds for these; googlenet (LRN, ceil-mode pools,
# concatenation) stays in the fast run for the code paths googlenet_torchvision shares.
IDENTITY_SLOW = {n for n in ALL if is_big(n)} | {"googlenet_torchvision"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in IDENTITY_SLOW else n for n in ALL]
)
def test_shape_only_table_is_identical_to_a_real_model(name):
    """The fast path (meta build, no init, no arithmetic) prints exactly the table of a normally
    built, initialised model run for real."""
    columns = list(COLUMNS)
    fast = cnnzoo.summary(name, depth=10, columns=columns)
    real_model = cnnzoo.create(name).eval()
    size = (1, *real_model.default_input_size)
    real = torchinfo.summary(real_model, input_size=size, col_names=columns, depth=10, verbose=0)
    assert str(fast.stats) == str(real)
    assert fast.totals.params == real.total_params == cnnzoo.model_info(name).num_params
    assert fast.totals.mult_adds == real.total_mult_adds == cnnzoo.model_info(name).mult_adds


# VGG-16 at depth 1 is the interesting case: its classifier never runs as a whole.
ROW_SUM_FAST = {"vgg16", "resnet18"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.slow) if is_big(n) and n not in ROW_SUM_FAST else n
        for n in ALL
    ],
)
def test_rows_add_up_to_the_totals(name):
    for depth in (1, 3):
        s = cnnzoo.summary(name, depth=depth)
        assert sum(r.params for r in s.rows) == s.totals.params, depth
        assert sum(r.mult_adds for r in s.rows) == s.totals.mult_adds, depth
        assert all(r.depth <= depth for r in s.rows)
        assert s.totals.params == s.totals.trainable_params + s.totals.non_trainable_params


def test_summary_object():
    s = cnnzoo.summary("vgg16")
    assert isinstance(s, Summary) and s.model == "vgg16"
    assert s.input_size == (1, 3, 224, 224) and s.columns == (
        "output_size",
        "num_params",
        "mult_adds",
    )
    assert s.totals.params == 138_357_544 and s.totals.mult_adds == 15_483_821_032
    # torchinfo's attributes are still there, and the table is torchinfo's own
    assert s.total_params == 138_357_544 and s.summary_list is s.stats.summary_list
    text = str(s)
    assert text.startswith("=") and "Total params: 138,357,544" in text and repr(s) == text
    assert "Total mult-adds (G): 15.48" in text  # not torchinfo 1.8's "(Units.GIGABYTES)"
    conv = next(r for r in s.rows if r.name == "features.0")
    assert (conv.type, conv.depth, conv.output_shape) == ("Conv2d", 2, (1, 64, 224, 224))
    assert (conv.params, conv.mult_adds, conv.kernel_size, conv.trainable) == (
        1792,
        1792 * 224 * 224,
        (3, 3),
        True,
    )
    assert s.rows[0].name == "" and s.rows[0].type == "VGG"


def test_options_input_batch_classes_channels_depth():
    s = cnnzoo.summary("resnet18", batch_size=4, depth=1, num_classes=10, in_chans=1)
    assert s.input_size == (4, 1, 224, 224) and s.rows[0].output_shape == (4, 10)
    assert max(r.depth for r in s.rows) == 1
    assert cnnzoo.summary("resnet18", (3, 64, 64)).input_size == (1, 3, 64, 64)
    emo = cnnzoo.summary("emotionnet", in_chans=1, columns="kernel_size,trainable")
    assert emo.input_size == (1, 1, 48, 48) and emo.columns == ("kernel_size", "trainable")
    block = cnnzoo.summary("inception_block")
    assert block.input_size == (1, 192, 28, 28) and block.rows[0].output_shape == (1, 256, 28, 28)


def test_a_model_instance_runs_as_it_is():
    model = cnnzoo.create("lenet5")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    s = cnnzoo.summary(model)
    assert s.model == "lenet5" and str(s.stats) == str(cnnzoo.summary("lenet5").stats)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    plain = torch.nn.Sequential(torch.nn.Linear(4, 2))
    assert cnnzoo.summary(plain, (4,)).totals.params == 10


def test_never_prints(capsys):
    cnnzoo.summary("lenet5")
    cnnzoo.summary(cnnzoo.create("mlp"))
    assert capsys.readouterr() == ("", "")


def test_bad_arguments_are_named():
    with pytest.raises(cnnzoo.UnknownModelError, match="did you mean 'resnet18'"):
        cnnzoo.summary("resnet81")
    with pytest.raises(InvalidArgumentError, match=r"unknown column 'output'.*output_size"):
        cnnzoo.summary("lenet5", columns="output,num_params")
    with pytest.raises(InvalidArgumentError, match="columns must be"):
        cnnzoo.summary("lenet5", columns="")
    with pytest.raises(InvalidArgumentError, match="input_size must be"):
        cnnzoo.summary("lenet5", (1, 0, 32))
    with pytest.raises(InvalidArgumentError, match="depth"):
        cnnzoo.summary("lenet5", depth=-1)
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        cnnzoo.summary("lenet5", batch_size=0)
    with pytest.raises(InputShapeError, match=r"lenet5 expects input of shape \(N, 1, 32, 32\)"):
        cnnzoo.summary("lenet5", (1, 28, 28))
    with pytest.raises(InputShapeError, match="3-channel"):
        cnnzoo.summary("vgg16", (1, 224, 224))
    with pytest.raises(UnknownArgumentError, match="in_channels"):
        cnnzoo.summary("inception_block", in_chans=3)
    with pytest.raises(UnknownArgumentError, match="only when the model is given by name"):
        cnnzoo.summary(cnnzoo.create("lenet5"), num_classes=3)
    with pytest.raises(InvalidArgumentError, match="pass input_size"):
        cnnzoo.summary(torch.nn.Linear(3, 2))
    with pytest.raises(InputShapeError, match="cannot run on an input of shape 1x5"):
        cnnzoo.summary(torch.nn.Linear(3, 2), (5,))
    with pytest.raises(InvalidArgumentError, match="unknown summary format 'xml'"):
        cnnzoo.summary("lenet5").render("xml")


def test_json_follows_its_schema():
    for name, kwargs in (("lenet5", {}), ("resnet18", {"depth": 2}), ("fer_cnn", {"depth": 1})):
        doc = json.loads(cnnzoo.summary(name, **kwargs).to_json())
        assert validate(doc, schema("summary")) == [], name
        assert doc["format"] == "cnnzoo.summary/1"
    # and the schema is not vacuous: broken documents fail it
    doc = json.loads(cnnzoo.summary("lenet5").to_json())
    broken = [
        {k: v for k, v in doc.items() if k != "totals"},
        {**doc, "extra": 1},
        {**doc, "rows": [{**doc["rows"][1], "params": -1}]},
        {**doc, "rows": [{**doc["rows"][1], "trainable": "yes"}]},
        {**doc, "columns": ["bogus"]},
    ]
    for bad in broken:
        assert validate(bad, schema("summary")), bad


def test_csv_and_markdown():
    s = cnnzoo.summary("lenet5")
    rows = list(csv.DictReader(io.StringIO(s.to_csv())))
    layers = [r for r in rows if r["kind"] == "layer"]
    totals = {r["name"]: r for r in rows if r["kind"] == "total"}
    assert [r["name"] for r in layers][:3] == ["", "conv1", "relu1"]
    assert layers[1]["output_shape"] == "1x6x28x28" and layers[1]["params"] == "156"
    assert sum(int(r["params"]) for r in layers) == int(totals["params"]["params"]) == 61_706
    assert int(totals["mult_adds"]["mult_adds"]) == 423_038
    md = s.to_markdown().splitlines()
    assert md[2] == "| Layer | Type | Output shape | Params | Mult-adds |"
    assert "| `conv1` | Conv2d | 1x6x28x28 | 156 | 122,304 |" in md
    assert md[-1].startswith("Total params: 61,706")


def test_summary_stays_the_function_after_its_module_is_imported():
    # A submodule named like the function would replace it on the package once imported.
    import cnnzoo.summarize

    assert callable(cnnzoo.summary) and cnnzoo.summary.__name__ == "summary"
    # cnnzoo.check is a package (cnnzoo/check/) that checks when called, however it was
    # imported: importing cnnzoo.check.structure must not take the function away.
    import cnnzoo.check.structure

    assert callable(cnnzoo.check) and cnnzoo.check.check.__name__ == "check"
    assert cnnzoo.check("lenet5_004").ok


# --- the command ----------------------------------------------------------------------------


def test_cli_summary_lenet5_golden(update_golden, capsys):
    code, out, err = cli(["summary", "lenet5"], capsys)
    assert code == 0, err
    golden("summary_lenet5.txt", out, update_golden)


def test_cli_formats_and_options_without_torchvision():
    # One interpreter: the JSON of a VGG-16 summary, and what that imported.
    code = (
        "import sys, io, contextlib; from cnnzoo.cli import main; out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    rc = main(['summary', 'vgg16', '--format', 'json', '--depth', '1',"
        " '--num-classes', '10', '--input-size', '3', '64', '64', '--batch-size', '2'])\n"
        "print(rc, 'torchvision' in sys.modules, 'sympy' in sys.modules)\n"
        "sys.stderr.write(out.getvalue())\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.stdout.split() == ["0", "False", "False"], res.stderr
    doc = json.loads(res.stderr)
    assert validate(doc, schema("summary")) == []
    assert doc["input_size"] == [2, 3, 64, 64] and doc["rows"][0]["output_shape"] == [2, 10]


def test_cli_csv_and_markdown(capsys):
    code, out, _ = cli(["summary", "mlp", "--format", "csv", "--columns", "kernel_size"], capsys)
    assert code == 0 and out.startswith("kind,name,type,depth")
    code, out, _ = cli(["summary", "fer_cnn", "--format", "markdown", "--in-chans", "3"], capsys)
    assert code == 0 and "**fer_cnn** — input 1x3x48x48" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["summary", "resnet81"], 1, "did you mean 'resnet18'"),
        (["summary", "vgg16", "--input-size", "3", "10", "10"], 1, "accepts at least 32x32"),
        (["summary", "lenet5", "--columns", "output_size,foo"], 2, "unknown column 'foo'"),
        (["summary", "lenet5", "--input-size", "1", "32"], 2, "expected 3 arguments"),
        (["summary", "lenet5", "--input-size", "1", "0", "32"], 2, "0 is not a positive"),
        (["summary", "lenet5", "--format", "xml"], 2, "invalid choice: 'xml'"),
        (["summary", "inception", "--in-chans", "3"], 1, "Did you mean 'in_channels'"),
    ],
)
def test_cli_errors(args, code, message, capsys):
    rc, out, err = cli(args, capsys)
    assert rc == code
    assert message in err and "Traceback" not in err and out == ""
    # one line for a failure; argparse's usage block and one line for a usage error
    assert err.strip().splitlines()[-1].startswith("cnnzoo summary: error:")
    if code == 1:
        assert err.count("\n") == 1
