"""``cnnzoo list`` and ``cnnzoo info``, and the CLI's error conventions."""

from __future__ import annotations

import json

import cnnzoo

from .conftest import run_cnnzoo


def test_list_table():
    res = run_cnnzoo(["list"])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:5] == ["name", "family", "input", "params", "mult-adds"]
    names = [line.split()[0] for line in lines[2:]]
    assert names == cnnzoo.list_models()
    vgg16 = next(line for line in lines if line.startswith("vgg16 "))
    assert "138,357,544" in vgg16 and "15.48 G" in vgg16 and "3x224x224" in vgg16


def test_list_pattern_and_json():
    res = run_cnnzoo(
        ["list", "resnet*", "--exclude", "resnet1*", "--family", "resnet", "--format", "json"]
    )
    rows = json.loads(res.stdout)
    assert [r["name"] for r in rows] == ["resnet34", "resnet50"]
    assert rows[0]["num_params"] == 21_797_672


def test_info():
    res = run_cnnzoo(["info", "SI100FaceNet"])
    assert res.returncode == 0
    assert "emotionnet" in res.stdout and "happy, neutral, sad" in res.stdout
    assert "1,665,667" in res.stdout and "74,511,363" in res.stdout
    card = json.loads(run_cnnzoo(["info", "vgg16", "--format", "json"]).stdout)
    assert card["num_params"] == 138_357_544 and card["input_size"] == [3, 224, 224]


def test_unknown_model_is_one_line_exit_1():
    res = run_cnnzoo(["info", "resnet81"])
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0
    assert "did you mean 'resnet18'" in res.stderr and "Traceback" not in res.stderr


def test_usage_errors_exit_2():
    assert run_cnnzoo([]).returncode == 2
    res = run_cnnzoo(["list", "--bogus"])
    assert res.returncode == 2 and "unrecognized arguments: --bogus" in res.stderr
    assert run_cnnzoo(["frobnicate"]).returncode == 2
    assert run_cnnzoo(["info"]).returncode == 2


def test_no_match_exit_1():
    res = run_cnnzoo(["list", "nothing*"])
    assert res.returncode == 1 and "no model matches" in res.stderr
