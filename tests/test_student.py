"""A student's own network checked against the lecture: ``cnnzoo.check(NAME, model=...)``,
``cnnzoo check NAME --model FILE:Class``, ``cnnzoo.testing.assert_matches``, ``summary --steps``.

The networks are real student-style files in ``tests/students/``. Most tests load them in this
process (``model=net``), which is the same check as the child process's without its start-up;
the child process itself (imports, time limits, prints, globs) has tests of its own.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from importlib import resources
from pathlib import Path

import pytest
import torch

import cnnzoo
from cnnzoo.errors import CheckpointError, StudentModelError
from cnnzoo.testing import assert_matches

from ._jsonschema import validate
from .test_summary import cli

STUDENTS = Path(__file__).parent / "students"


def load(name: str, cls: str = "emotionNet", **kwargs):
    spec = importlib.util.spec_from_file_location(f"student_{name}", STUDENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, cls)(**kwargs)


def schema() -> dict:
    text = resources.files("cnnzoo").joinpath("schemas", "check.schema.json").read_text()
    return json.loads(text)


@pytest.mark.parametrize(
    ("name", "cls", "kwargs", "reference"),
    [
        ("emotion_ok_own_names", "emotionNet", {"printtoggle": True}, "emotionnet"),
        ("emotion_ok_sequential", "EmotionNet", {}, "emotionnet"),  # 7 classes
        ("emotion_ok_functional", "emotionNet", {"printtoggle": False}, "emotionnet_000"),
        ("control_flow", "emotionNet", {}, "emotionnet"),  # torch.fx fails: hooks
        ("lenet_004_functional", "Net", {}, "lenet5"),
        ("lenet_004_sequential", "Net", {}, "lenet5_004"),
    ],
)
def test_correct_networks_written_the_usual_ways_match(name, cls, kwargs, reference, capsys):
    net = load(name, cls, **kwargs)
    capsys.readouterr()  # what the constructor printed in this test
    report = cnnzoo.check(reference, model=net)
    assert report.ok, (report.differences, report.failures)
    assert report.differences == [] and report.student.ok
    assert all(t.ok for t in report.tables)
    assert capsys.readouterr().out == ""  # the student's prints are kept, not printed
    text = str(report)
    assert "result: OK, the network matches" in text


def test_the_7_class_bonus_is_read_from_the_last_layer():
    report = cnnzoo.check("emotionnet", model=load("emotion_ok_sequential", "EmotionNet"))
    assert report.student.num_classes == 7 and report.student.reference_params == 1_665_927
    assert any("for 3 classes; with 7 it is not checked row by row" in n for n in report.notes)


def test_the_input_is_the_model_cards_3x48x48_not_the_tables_48x48():
    report = cnnzoo.check("emotionnet_000", model=load("emotion_ok_own_names"))
    assert report.student.input_size == (3, 48, 48) and report.ok
    assert report.tables[0].input_size == (3, 48, 48)


def test_a_reused_pool_and_functional_calls_are_each_a_layer():
    report = cnnzoo.check("emotionnet", model=load("emotion_ok_own_names"))
    layers = [r.layer for r in report.student.rows]
    assert layers[:3] == ["c1", "pool", "act"] and "pool (call 3)" in layers
    assert "x.view after act (call 3)" in layers or any(x.startswith("x.view") for x in layers)
    functional = cnnzoo.check("emotionnet", model=load("emotion_ok_functional", printtoggle=0))
    assert "F.max_pool2d after conv2" in [r.layer for r in functional.student.rows]
    assert functional.student.method == "torch.fx"
    hooks = cnnzoo.check("emotionnet", model=load("control_flow"))
    assert hooks.student.method == "hooks" and "torch.fx cannot trace" in hooks.student.method_note
    assert "F.max_pool2d after conv3" in [r.layer for r in hooks.student.rows]


MISTAKES = [
    # file, the student's layer of the first difference, field, expected, got, words of the cause
    ("emotion_wrong_padding", "conv2", "padding", 0, 1,
     "conv2: padding 1 where Figure 2 has 0: (24 + 2*1 - 3)/1 + 1 = 24, "
     "expected (24 - 3)/1 + 1 = 22"),
    ("emotion_pool_stride", "F.max_pool2d after conv1", "stride", 2, 1,
     "stride 1 where Figure 2 has 2: (48 - 2)/1 + 1 = 47, expected (48 - 2)/2 + 1 = 24"),
    ("emotion_missing_pool", "conv2", "layer", "MaxPool2d", None,
     "missing a max pool of kernel 2, stride 2 after conv2: Figure 2 has one here: "
     "(22 - 2)/2 + 1 = 11"),
    ("emotion_wrong_channels", "conv2", "out_channels", 128, 64,
     "conv2: filters 64 where Figure 2 has 128: 3*3*64*64 + 64 = 36,928 parameters"),
    ("emotion_wrong_kernel", "conv3", "kernel", 4, 3,
     "conv3: kernel 3 where Figure 2 has 4: (11 - 3)/1 + 1 = 9, expected (11 - 4)/1 + 1 = 8"),
    ("emotion_crash_fc1", "fc1", "in_features", 4096, 6400,
     "fc1 takes 6,400 inputs; the flatten before it gives 256 x 4 x 4 = 4,096"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "layer", "field", "expected", "got", "cause"), MISTAKES)
def test_each_mistake_is_the_first_difference_with_its_cause(
    name, layer, field, expected, got, cause
):
    report = cnnzoo.check("emotionnet", model=load(name))
    assert not report.ok
    first = report.differences[0]
    assert (first.layer, first.field, first.expected, first.got) == (layer, field, expected, got)
    assert cause in first.cause and not first.consequence
    assert report.first_difference == first.cause
    # every later difference follows from the first
    assert all(d.consequence for d in report.differences[1:]), report.differences
    with pytest.raises(AssertionError) as info:
        assert_matches(load(name), "emotionnet")
    assert str(info.value).splitlines()[0] == first.cause


def test_consequences_follow_the_first_difference_in_order():
    report = cnnzoo.check("emotionnet", model=load("emotion_wrong_padding"))
    rest = [(d.layer, d.field, d.got) for d in report.differences[1:]]
    assert rest == [("pool (call 2)", "output", [128, 12, 12]), ("conv3", "output", [256, 9, 9])]
    assert all("follows from conv2's padding" in d.cause for d in report.differences[1:])
    # rounding down in pool3 hides the mistake from the parameter count
    assert report.student.params == report.student.reference_params == 1_665_667
    assert any("the parameter count alone does not prove a network right" in n
               for n in report.notes)  # fmt: skip
    # the document's table, on the same alignment, names the row
    assert any("row conv2" in f and "pad" in f for f in report.failures)


def test_relu_dropout_and_an_output_activation_are_notes_not_failures():
    report = cnnzoo.check("emotionnet", model=load("emotion_relu_dropout"))
    assert report.ok, report.differences
    notes = "\n".join(report.notes)
    assert "ReLU where Figure 2 has LeakyReLU" in notes
    assert "an extra Dropout(p=0.5) after fc1" in notes
    assert "on the output; Figure 2 has none" in notes


def test_a_crash_is_a_diagnosis_never_a_traceback(capsys):
    report = cnnzoo.check("emotionnet", model=load("emotion_crash_fc1"))
    text = str(report)
    assert "Traceback" not in text and "not reached" in text
    assert "mat1 and mat2" not in report.first_difference


def test_a_missing_input_channel_crashes_at_conv1_with_the_channels_named():
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 64, 3, padding=1), torch.nn.MaxPool2d(2))
    report = cnnzoo.check("emotionnet", model=net)
    assert report.differences[0].cause.startswith("0 takes 1 channel; the input gives 3")


def test_weights_only_are_checked_by_shapes_in_order(tmp_path):
    good = tmp_path / "face_expression.pth"
    torch.save(load("emotion_ok_own_names").state_dict(), good)
    report = cnnzoo.check("emotionnet", weights=good)
    assert report.ok and report.student.method == "weights"
    assert any("cannot show padding, stride or pooling" in n for n in report.notes)
    # a wrong padding has the same weights: only the code shows it
    torch.save(load("emotion_wrong_padding").state_dict(), good)
    assert cnnzoo.check("emotionnet", weights=good).ok
    bad = tmp_path / "wrong_channels.pth"
    torch.save(load("emotion_wrong_channels").state_dict(), bad)
    report = cnnzoo.check("emotionnet", weights=bad)
    first = report.differences[0]
    assert (first.layer, first.field, first.expected, first.got) == (
        "conv2", "shape", [128, 64, 3, 3], [64, 64, 3, 3],
    )  # fmt: skip
    assert "a 3x3 conv from 64 to 64 channels" in first.cause
    # a cnnzoo checkpoint works the same way
    from cnnzoo.checkpoint import save_checkpoint

    ck = tmp_path / "ck.pt"
    save_checkpoint(
        ck,
        cnnzoo.create("emotionnet", num_classes=7),
        model_name="emotionnet",
        model_kwargs={"num_classes": 7},
    )
    report = cnnzoo.check("emotionnet", weights=ck)
    assert report.ok and report.student.num_classes == 7
    with pytest.raises(CheckpointError):
        cnnzoo.check("emotionnet", weights=tmp_path / "missing.pth")


def test_a_module_with_its_weights_and_weights_that_do_not_fit(tmp_path):
    path = tmp_path / "face_expression.pth"
    torch.save(load("emotion_ok_own_names").state_dict(), path)
    assert cnnzoo.check("emotionnet", model=load("emotion_ok_own_names"), weights=path).ok
    with pytest.raises(CheckpointError, match="does not fit emotionNet"):
        cnnzoo.check("emotionnet", model=load("emotion_wrong_channels"), weights=path)


def test_a_teachers_own_table_file_as_the_reference(tmp_path):
    from .test_check import _docs_example

    table = _docs_example(tmp_path)  # docs/reference/tables.md's LeNet-5 lecture table
    report = cnnzoo.check(str(table), model=load("lenet_004_sequential", "Net"))
    assert report.ok, (report.differences, report.failures)
    assert report.student.document == "slide 12" and report.tables[0].id == "my_lecture"
    net = load("lenet_004_functional", "Net")
    net.conv1 = torch.nn.Conv2d(1, 6, 5, padding=1)
    report = cnnzoo.check(str(table), model=net)
    assert report.first_difference.startswith("conv1: padding 1 where slide 12 has 0")
    assert any("row C1" in f for f in report.failures)


def test_json_follows_its_schema():
    for net in (load("emotion_wrong_padding"), load("emotion_ok_own_names")):
        doc = json.loads(cnnzoo.check("emotionnet", model=net).to_json())
        assert validate(doc, schema()) == []
        assert set(doc["differences"][0]) if doc["differences"] else True
    doc = json.loads(cnnzoo.check("emotionnet", model=load("emotion_wrong_padding")).to_json())
    assert doc["ok"] is False and doc["differences"][0]["layer"] == "conv2"
    assert {"layer", "field", "expected", "got", "cause"} <= set(doc["differences"][0])
    assert validate({**doc, "differences": [{"layer": "conv2"}]}, schema())


def test_summary_steps_give_every_number_of_the_exercise(capsys):
    code, out, err = cli(["summary", "emotionnet", "--steps"], capsys)
    assert code == 0, err
    for line in [
        "(48 + 2*1 - 3)/1 + 1 = 48", "3*3*3*64 + 64 = 1,792", "(48 - 2)/2 + 1 = 24",
        "(24 - 3)/1 + 1 = 22", "(22 - 2)/2 + 1 = 11", "(11 - 4)/1 + 1 = 8", "(8 - 2)/2 + 1 = 4",
        "256 x 4 x 4 = 4,096", "4096*256 + 256 = 1,048,832", "64*3 + 3 = 195",
        "total parameters: 1,665,667",
    ]:  # fmt: skip
        assert line in out, line
    code, out, _ = cli(["summary", "lenet5", "--steps", "--format", "json"], capsys)
    doc = json.loads(out)
    assert [s["size"] for s in doc["steps"] if s["type"] == "Conv2d"] == [
        "(32 - 5)/1 + 1 = 28", "(14 - 5)/1 + 1 = 10",
    ]  # fmt: skip


def test_floor_in_the_formula_where_it_does_not_divide():
    from cnnzoo.check.formula import output_size

    assert output_size(7, 3, 2) == ("(7 - 3)/2 + 1 = 3", 3)
    assert output_size(8, 3, 2) == ("floor((8 - 3)/2) + 1 = 3", 3)
    assert output_size(8, 3, 2, ceil=True) == ("ceil((8 - 3)/2) + 1 = 4", 4)
    assert output_size(224, 7, 2, 3) == ("floor((224 + 2*3 - 7)/2) + 1 = 112", 112)


# --- the child process ----------------------------------------------------------------------


@pytest.mark.slow
def test_cli_gradebook_one_broken_submission_never_stops_the_others(tmp_path, capsys):
    for i, name in enumerate(["emotion_ok_own_names", "broken_import", "emotion_wrong_padding"]):
        folder = tmp_path / "submissions" / f"student{i}"
        folder.mkdir(parents=True)
        (folder / "classify.py").write_text((STUDENTS / f"{name}.py").read_text())
    pattern = f"{tmp_path}/submissions/*/classify.py:emotionNet"
    code, out, err = cli(["check", "emotionnet", "--model", pattern, "--format", "csv"], capsys)
    assert code == 1
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["ok"] for r in rows] == ["true", "false", "false"]
    assert rows[0]["file"].endswith("student0/classify.py") and rows[0]["first_difference"] == ""
    assert "does not import: RuntimeError: the dataset folder" in rows[1]["first_difference"]
    assert rows[2]["first_difference"].startswith("conv2: padding 1 where Figure 2 has 0")
    assert "built emotionNet" not in out + err  # the student's prints stay out


def test_cli_json_stays_valid_while_the_student_prints(capsys):
    # package.module:Class, imported from the working directory (the repository root here)
    target = "tests.students.emotion_ok_own_names:emotionNet"
    code, out, err = cli(
        ["check", "emotionnet", "--model", target, "--model-args", '{"printtoggle": true}',
         "--format", "json"], capsys,
    )  # fmt: skip
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ok"] is True and validate(doc, schema()) == []
    assert "built emotionNet" in doc["student"]["printed"]
    assert "flattened" in doc["student"]["printed"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "sleeps_forever",
            "sleeps_forever.py: emotionNet's forward pass did not finish within 8 s",
        ),
        ("broken_import", "broken_import.py does not import: RuntimeError: the dataset folder"),
        ("raises_in_init", "emotionNet(printtoggle=False) raises TypeError: Conv2d.__init__()"),
    ],
)
def test_child_process_failures_are_one_line_exit_1(name, message, capsys):
    target = f"{STUDENTS}/{name}.py:emotionNet"
    code, out, err = cli(["check", "emotionnet", "--model", target, "--timeout", "8"], capsys)
    assert code == 1 and out == "" and message in err and "Traceback" not in err
    assert err.count("\n") == 1
    with pytest.raises(StudentModelError, match=message.split(":")[-1].strip()[:20]):
        cnnzoo.check("emotionnet", model=target, timeout=8)


@pytest.mark.slow
def test_summary_steps_of_a_students_file(capsys):
    target = f"{STUDENTS}/lenet_004_sequential.py:Net"
    code, out, err = cli(["summary", "--model", target, "--input-size", "1", "32", "32",
                          "--steps"], capsys)  # fmt: skip
    assert code == 0, err
    assert "conv_pool1.0" in out and "(32 - 5)/1 + 1 = 28" in out and "16 x 5 x 5 = 400" in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["check", "emotionnet", "--model", "classify.py"], 1, "give FILE.py:Class"),
        (["check", "emotionnet", "--model", "nowhere.py:Net"], 1,
         "nowhere.py: the file does not exist"),
        (["check", "--model", "x.py:Net"], 2, "need exactly one NAME"),
        (["check", "emotionnet", "--model", "x.py:Net", "--model-args", "{"], 2,
         "--model-args is not JSON"),
        (["check", "emotionnet", "--model", "nowhere/*/c.py:Net"], 2, "no file matches"),
        (["check", "vgg16", "--format", "csv"], 2, "--format csv is the gradebook"),
        (["summary", "--model", "x.py:Net"], 2, "--model goes with --steps"),
    ],
)  # fmt: skip
def test_cli_usage_and_input_errors(args, code, message, capsys):
    rc, _, err = cli(args, capsys)
    assert rc == code and message in err and "Traceback" not in err


@pytest.mark.slow
def test_cli_weights_are_loaded_into_the_students_file(tmp_path, capsys):
    target = f"{STUDENTS}/emotion_ok_own_names.py:emotionNet"
    good = tmp_path / "face_expression.pth"
    torch.save(load("emotion_ok_own_names").state_dict(), good)
    code, out, err = cli(["check", "emotionnet", "--model", target, "--weights", str(good)], capsys)
    assert code == 0, err
    bad = tmp_path / "other.pth"
    torch.save(load("emotion_wrong_channels").state_dict(), bad)
    code, out, err = cli(["check", "emotionnet", "--model", target, "--weights", str(bad)], capsys)
    assert code == 1 and out == ""
    assert "does not fit emotionNet" in err and err.count("\n") == 1


# --- second round: conv as Linear, after a crash, activation/pool order, more usual ways -------


@pytest.mark.parametrize(
    ("name", "cls", "kwargs", "reference"),
    [
        ("lenet_c5_as_conv", "LeNet", {}, "lenet5_004"),  # document 004's text: C5 is a conv
        ("lenet_all_conv", "LeNet", {}, "lenet5"),  # 1x1 convs on 1x1 maps for F6 and the output
        ("lenet_ok_view_log_softmax", "LeNet", {}, "lenet5_004"),
        ("lenet_bn_dropout_softmax", "LeNet", {}, "lenet5"),
        ("emotion_ok_ordereddict_view", "emotionNet", {}, "emotionnet_000"),
        ("emotion_ok_modulelist", "emotionNet", {}, "emotionnet_000"),
        ("emotion_num_classes_softmax", "emotionNet", {"num_classes": 7}, "emotionnet"),
        ("lenet_3x3_num_flat_features", "Net", {}, "lenet5_3x3_001"),  # hooks; the sizes row
    ],
)
def test_more_correct_networks_match(name, cls, kwargs, reference):
    report = cnnzoo.check(reference, model=load(name, cls, **kwargs))
    assert report.ok, (report.first_difference, report.failures)
    assert all(r.verdict not in ("missing", "extra", "differs") for r in report.student.rows)


def test_a_conv_over_the_whole_map_is_the_linear_it_computes():
    report = cnnzoo.check("lenet5_004", model=load("lenet_c5_as_conv", "LeNet"))
    row = next(r for r in report.student.rows if r.layer == "net.6")
    assert (row.verdict, row.expected, row.reference) == ("match", [120, 1, 1], "fc1")
    assert any("Conv2d(16, 120, 5) on the 16x5x5 map" in n and "Linear(400, 120)" in n
               for n in report.notes)  # fmt: skip
    (table,) = report.tables
    assert table.ok and next(r for r in table.rows if r.id == "fc1").module == "net.6"
    # ... and its parameters are still compared: 100 filters is the first difference
    wrong = cnnzoo.check("lenet5", model=load("lenet_c5_conv_100_filters", "LeNet"))
    d = wrong.differences[0]
    assert (d.layer, d.field, d.expected, d.got) == ("net.6", "out_channels", 120, 100)
    assert "5*5*16*100 + 100 = 40,100 parameters, expected 400*120 + 120 = 48,120" in d.cause
    assert [x.consequence for x in wrong.differences[1:]] == [True, True]


def test_layers_after_a_crash_are_not_reached_never_missing():
    report = cnnzoo.check("emotionnet", model=load("emotion_gray_functional_crash"))
    assert len(report.differences) == 1
    assert report.differences[0].cause == "conv1 takes 1 channel; the input gives 3 (3 x 48 x 48)"
    verdicts = [r.verdict for r in report.student.rows]
    assert verdicts[0] == "differs" and set(verdicts[1:]) == {"not reached"}
    pools = [r for r in report.student.rows if r.type == "MaxPool2d"]
    assert len(pools) == 3 and all(r.layer.startswith("F.max_pool2d") for r in pools)
    # hooks (torch.fx fails on the `if`): what they never saw is not reached, the classes are
    # the last Linear's (3, not fc1's 256), and no layer is "never called"
    hooks = cnnzoo.check("emotionnet", model=load("emotion_if_shape_pool_stride"))
    assert hooks.student.method == "hooks" and hooks.student.num_classes == 3
    assert hooks.differences[0].layer == "F.max_pool2d after conv2"
    assert hooks.differences[0].field == "stride"
    tail = [r for r in hooks.student.rows if r.layer is None]
    assert tail and {r.verdict for r in tail} == {"not reached"}
    assert not any("never called" in n for n in hooks.notes)


def test_activation_before_the_pool_shows_the_shape_at_the_students_position():
    report = cnnzoo.check("emotionnet", model=load("emotion_act_before_pool_padding"))
    act = report.student.rows[1]
    assert (act.layer, act.verdict) == ("F.leaky_relu after conv1", "order")
    assert act.expected == act.output == [64, 48, 48]
    assert any("computes the same" in n and "max pool" in n for n in report.notes)
    assert report.differences[0].layer == "conv2" and report.differences[0].field == "padding"
    assert "ok (order)" in str(report)


@pytest.mark.parametrize(
    ("name", "cls", "reference", "layer", "field", "cause"),
    [
        ("lenet_mnist_28_padding2", "LeNet", "lenet5", "conv1", "padding",
         "(32 + 2*2 - 5)/1 + 1 = 32, expected (32 - 5)/1 + 1 = 28"),
        ("lenet_view_wrong_size", "LeNet", "lenet5", "x.view after conv2", "output",
         "x.view(-1, 256) asks for 256 values per image; the 16 x 5 x 5 map before it has 400"),
        ("emotion_residual_add", "emotionNet", "emotionnet", "skip", "layer",
         "a 3x3 conv with 64 filters that Figure 2 does not have"),
        ("emotion_cat_branches", "emotionNet", "emotionnet", "a", "layer",
         "a 3x3 conv with 32 filters that Figure 2 does not have"),
    ],
)  # fmt: skip
def test_more_mistakes_first_difference(name, cls, reference, layer, field, cause):
    report = cnnzoo.check(reference, model=load(name, cls))
    d = report.differences[0]
    assert (d.layer, d.field) == (layer, field) and cause in d.cause, d.cause
    if name == "lenet_mnist_28_padding2":
        assert any("network for 28x28 inputs" in n for n in report.notes)


def test_a_constructor_argument_without_default_asks_for_model_args(capsys):
    path = f"{STUDENTS / 'emotion_num_classes_softmax.py'}:emotionNet"
    code, _, err = cli(["check", "emotionnet", "--model", path], capsys)
    assert code == 1 and "needs arguments (num_classes)" in err and "--model-args" in err
