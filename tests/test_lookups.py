"""The instant look-ups: shipped cards equal to the registry, answers without torch, plugins.

``cnnzoo list``, ``cnnzoo info``, ``cnnzoo check --list`` and every ``--help``/``--version``
answer from shipped data while the model modules are not imported. These tests prove the data
is what the registry generates, that every answer is the registry's (the same names, cards,
errors and CLI output, in a fresh process each way), that none of them imports torch, and that
models registered at run time or by a plugin still show.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import pytest

import cnnzoo
from cnnzoo import _cards, _generated, _plugins, registry
from cnnzoo.cli import COMMANDS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ["torch", "torchvision", "torchinfo", "onnx", "numpy"]


def _env(*paths: Path | str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), str(ROOT)])
    env.pop("CNNZOO_DEBUG", None)
    return env


# --- the shipped data is generated from the registry ------------------------------------------


def _card_differences(shipped: str, rendered: str) -> list[str]:
    old = json.loads(shipped)["models"] if shipped else {}
    new = json.loads(rendered)["models"]
    out = [f"{n}: {'missing from' if n in new else 'not in the code, only in'} the file"
           for n in sorted(set(old) ^ set(new))]  # fmt: skip
    for n in sorted(set(old) & set(new)):
        out += [f"{n}.{k}: file {old[n].get(k)!r}, code {v!r}"
                for k, v in new[n].items() if old[n].get(k) != v]  # fmt: skip
    return out


@pytest.fixture(scope="module")
def rendered():
    """Every generated file's text as the live code renders it (the cards: every model
    measured with torchinfo), once for the module."""
    return {path: _generated.render(path) for path in _generated.GENERATED}


@pytest.mark.parametrize("path", list(_generated.GENERATED))
def test_generated_files_are_what_the_code_renders(path, rendered):
    """Fails on any difference between a shipped generated file and what the code renders
    now: run ``python -m cnnzoo._stats --write``."""
    target = ROOT / "cnnzoo" / path
    shipped = target.read_text(encoding="utf-8") if target.is_file() else ""
    rendered = rendered[path]
    if path == _cards.PATH and shipped != rendered:
        differences = _card_differences(shipped, rendered)
        pytest.fail(f"{path} is stale (python -m cnnzoo._stats --write): {differences[:10]}")
    assert shipped == rendered, f"{path} is stale: run python -m cnnzoo._stats --write"


def test_generated_files_are_package_data():
    """A non-editable install carries every generated file (pyproject's package-data)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cnnzoo"]
    for path in _generated.GENERATED:
        assert any(fnmatch(path, p) for p in patterns), (path, patterns)


def test_every_file_in_measured_is_generated():
    """``cnnzoo/measured/`` holds generated files only, each with its entry in GENERATED (a
    left-over or hand-written file there would be shipped without anything checking it)."""
    measured = ROOT / "cnnzoo" / "measured"
    files = sorted(
        p.relative_to(ROOT / "cnnzoo").as_posix() for p in measured.rglob("*") if p.is_file()
    )
    assert files == sorted(p for p in _generated.GENERATED if p.startswith("measured/"))


def test_generator_command_checks_and_writes(tmp_path, rendered, monkeypatch, capsys):
    """``--write`` writes what the code renders, and ``--check`` then names no file; a file
    that differs is named, and its command given."""
    monkeypatch.setattr(_generated, "render", rendered.__getitem__)
    written = _generated.write_all(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == list(_generated.GENERATED)
    assert _generated.stale(tmp_path) == []
    for path in _generated.GENERATED:
        assert (tmp_path / path).read_text(encoding="utf-8") == rendered[path]
    (tmp_path / _cards.PATH).write_text("{}", encoding="utf-8")
    assert _generated.stale(tmp_path) == [_cards.PATH]
    assert _generated.main(["--check"], tmp_path) == 1
    assert "python -m cnnzoo._stats --write" in capsys.readouterr().err
    assert _generated.main(["--bogus"]) == 2


def test_shipped_cards_hold_every_builtin_model_and_field():
    catalog = _cards.shipped()
    assert catalog is not None
    assert list(catalog.cards) == registry.builtin_names()
    for name, card in catalog.cards.items():
        assert card == cnnzoo.model_info(name)  # the live card (this process imported models)


def test_a_stale_file_is_not_used():
    """A file that lacks a card field, has one too many or is damaged is ignored: the
    look-ups then import the models and answer from the registry."""
    text = (ROOT / "cnnzoo" / _cards.PATH).read_text(encoding="utf-8")
    assert _cards.parse(text) is not None
    raw = json.loads(text)
    no_field = json.loads(text)
    no_field["fields"].remove("options")
    for card in no_field["models"].values():
        del card["options"]
    assert _cards.parse(json.dumps(no_field)) is None
    one_card_short = json.loads(text)
    del next(iter(one_card_short["models"].values()))["mult_adds"]
    assert _cards.parse(json.dumps(one_card_short)) is None
    extra = json.loads(text)
    extra["fields"].append("weights")
    assert _cards.parse(json.dumps(extra)) is None
    renamed = dict(raw, models={"other": next(iter(raw["models"].values()))})
    assert _cards.parse(json.dumps(renamed)) is None
    assert _cards.parse(text[:-200]) is None
    assert _cards.parse("[]") is None


def test_card_round_trip_keeps_types():
    for name in registry.builtin_names():
        card = cnnzoo.model_info(name)
        back = _cards.decode(json.loads(json.dumps(_cards.encode(card))))
        assert back == card
        assert type(back.input_size) is tuple and all(type(v) is int for v in back.input_size)
        if back.mean is not None:
            assert all(type(v) is float for v in back.mean)
        assert back.source is None or type(back.source) is cnnzoo.Source


# --- the same answers, shipped and live, and no torch ---------------------------------------


def _misspellings(name: str) -> list[str]:
    out = [name.upper(), name.replace("_", "-"), f"{name}_", f"-{name.title()}"]
    out += [name[:-1], name[1:], name + "x", name[:2] + name[3:]]
    if len(name) > 3:
        out.append(name[:2] + name[3] + name[2] + name[4:])  # two letters swapped
    out.append("".join(chr(ord(c) + 1) if c.isdigit() and c != "9" else c for c in name))
    return out


def _questions() -> dict[str, object]:
    cards = [cnnzoo.model_info(n) for n in registry.builtin_names()]
    spellings = [s for c in cards for n in (c.name, *c.aliases) for s in (n, *_misspellings(n))]
    spellings += ["resnet81", "vgg61", "completely-unrelated", "", " ", "le net5", "RESNET-1-8"]
    patterns = [
        [["*"], {}],
        [["resnet1*"], {}],
        [[["lenet*", "mlp"]], {}],
        [["vgg*"], {"exclude": "*_bn"}],
        [["VGG16*"], {}],
        [[], {"family": "Emotion"}],
        [[], {"family": "googlenet", "exclude": ["*torchvision"]}],
        [["nothing*"], {}],
    ]
    cli = [["list"], ["list", "--format", "json"], ["list", "resnet*", "--exclude", "resnet1*"]]
    cli += [["list", "--family", "vgg"], ["list", "--family", "vgx"], ["list", "nothing*"]]
    cli += [["info", c.name] for c in cards]
    cli += [["info", c.name, "--format", "json"] for c in cards]
    cli += [["info", "SI100-FaceNet"], ["info", "resnet81"], ["info", "vgg61", "--format", "json"]]
    cli += [["check", "--list"], ["--help"], ["--version"], []]
    cli += [[command, "--help"] for command in COMMANDS]
    cli += [[command, "--version"] for command in COMMANDS]
    return {"spellings": spellings, "patterns": patterns, "cli": cli}


@pytest.fixture(scope="module")
def answers():
    """The probe's answers in a fresh process each way: from the shipped cards and live."""
    questions = json.dumps(_questions())
    out = {}
    for mode in ("shipped", "live"):
        res = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "_lookups_probe.py"), mode],
            input=questions,
            capture_output=True,
            text=True,
            env=_env(),
            timeout=300,
        )
        assert res.returncode == 0, res.stderr
        out[mode] = json.loads(res.stdout)
    return out


def test_lookups_import_none_of_torch_torchvision_torchinfo_onnx_numpy(answers):
    """After every look-up (the API's and the CLI's, every command's --help and --version,
    check --list) the process has imported no heavy module, nor the model modules."""
    assert answers["shipped"]["imported"] == []
    assert "cnnzoo.models" in answers["live"]["imported"]  # the probe's live side is live


@pytest.mark.parametrize("what", ["names", "families", "resolve", "info", "input_size", "list"])
def test_shipped_answers_equal_the_registry(answers, what):
    shipped, live = answers["shipped"][what], answers["live"][what]
    if isinstance(live, dict):
        assert sorted(shipped) == sorted(live)
        differ = [k for k in live if shipped[k] != live[k]]
        assert not differ, [(k, shipped[k], live[k]) for k in differ[:5]]
    assert shipped == live


def test_shipped_cli_output_equals_the_registry(answers):
    questions = _questions()["cli"]
    shipped, live = answers["shipped"]["cli"], answers["live"]["cli"]
    assert len(shipped) == len(live) == len(questions)
    for argv, one, other in zip(questions, shipped, live, strict=True):
        assert one == other, argv


def test_resolution_answers_are_the_documented_ones(answers):
    """The probe's answers are right, not only equal (a sample)."""
    resolve = answers["shipped"]["resolve"]
    assert resolve["RESNET-1-8"] == {"ok": "resnet18"}
    assert resolve["SI100FACENET"] == {"ok": "emotionnet"}
    assert "did you mean 'resnet18'" in resolve["resnet81"]["error"]
    assert resolve["completely-unrelated"]["error"].startswith("UnknownModelError")
    assert sum("error" in r for r in resolve.values()) > 50  # misspellings were asked
    cli = dict(zip(map(tuple, _questions()["cli"]), answers["shipped"]["cli"], strict=True))
    assert cli[("info", "resnet81")]["rc"] == 1
    assert cli[("list", "--family", "vgx")]["stderr"].startswith("no family 'vgx'; the families")
    assert cli[("train", "--version")]["stdout"] == f"cnnzoo {cnnzoo.__version__}\n"
    assert "vgg16_004" in cli[("check", "--list")]["stdout"]
    assert cli[("info", "vgg16")]["stdout"].count("138,357,544") == 1


def test_cnnzoo_list_and_info_in_a_fresh_process_leave_torch_out():
    """The commands as a user types them (``python -m cnnzoo``), each in its own process."""
    check = (
        "import runpy, sys\n"
        "sys.argv = ['cnnzoo', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('cnnzoo', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        f"bad = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    for argv in (["list"], ["info", "vgg16"], ["check", "--list"], ["--help"], ["--version"]):
        res = subprocess.run(
            [sys.executable, "-c", check, *argv], capture_output=True, text=True, env=_env()
        )
        assert res.returncode == 0, (argv, res.stderr)


# --- plugins and run-time registrations still show --------------------------------------------


def _plugin(tmp_path: Path, group: str = "cnnzoo.models") -> Path:
    (tmp_path / "zoo_plugin13.py").write_text(
        textwrap.dedent(
            '''
            import torch
            import cnnzoo

            @cnnzoo.register_model(family="plugin", input_size=(1, 8, 8), num_classes=3)
            def plugin_net(*, num_classes: int = 3, width: int = 4) -> torch.nn.Module:
                """A model from another package."""
                return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, num_classes))
            '''
        )
    )
    dist = tmp_path / "zoo_plugin13-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-plugin13\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{group}]\nzoo = zoo_plugin13\n")
    return tmp_path


def test_entry_point_plugin_shows_in_the_cli(tmp_path):
    """An installed plugin's models are listed with the built-in ones, with measured cards
    (one fresh process runs the three commands, as ``cnnzoo`` would one by one)."""
    code = textwrap.dedent(
        """
        import contextlib, io, json
        from cnnzoo.cli import main
        out = []
        for argv in (["list"], ["info", "Plugin-Net"], ["list", "--family", "plugin",
                     "--format", "json"]):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                out.append([main(argv), buf.getvalue()])
        print(json.dumps(out))
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(_plugin(tmp_path))
    )
    assert res.returncode == 0, res.stderr
    (rc_list, listed), (rc_info, info), (rc_family, family) = json.loads(res.stdout)
    assert rc_list == rc_info == rc_family == 0
    rows = {line.split()[0]: line for line in listed.splitlines()[2:]}
    assert "plugin_net" in rows and "vgg16" in rows
    assert "195" in rows["plugin_net"] and "1x8x8" in rows["plugin_net"]  # measured: 64*3+3
    assert "A model from another package." in info and "num_classes=3, width=4" in info
    assert [r["name"] for r in json.loads(family)] == ["plugin_net"]


def test_entry_point_of_another_group_is_not_loaded(tmp_path):
    """A distribution with other entry points costs the scan nothing: torch stays out."""
    env = _env(_plugin(tmp_path, group="console_scripts"))
    code = "import sys, cnnzoo; cnnzoo.list_models(); print('torch' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


@pytest.fixture
def clean_registry():
    entries, keys = dict(registry._ENTRIES), dict(registry._KEYS)
    loaded = registry._entry_points_loaded
    yield
    registry._ENTRIES.clear()
    registry._ENTRIES.update(entries)
    registry._KEYS.clear()
    registry._KEYS.update(keys)
    registry._entry_points_loaded = loaded


def test_run_time_registration_shows_in_list_and_info(clean_registry, capsys):
    import torch

    from cnnzoo.cli import main

    @cnnzoo.register_model(family="mine", input_size=(1, 4, 4), num_classes=2, aliases=("tn13",))
    def tiny_net13(*, num_classes: int = 2) -> torch.nn.Module:
        """A tiny run-time model."""
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, num_classes))

    assert "tiny_net13" in cnnzoo.list_models() and cnnzoo.list_models(family="mine")
    assert "mine" in cnnzoo.list_families()
    assert main(["list", "tiny*"]) == 0
    assert "A tiny run-time model." in capsys.readouterr().out
    assert main(["info", "TN13"]) == 0
    out = capsys.readouterr().out
    assert "tiny_net13" in out and "34" in out  # 16*2+2 parameters, measured


def test_run_time_registration_before_the_models_finds_builtin_names_taken():
    """Registering first in a fresh process (the built-in modules not yet imported) still
    refuses a built-in name, and then lists both."""
    code = textwrap.dedent(
        """
        import sys
        import cnnzoo
        assert "cnnzoo.models" not in sys.modules
        def vgg16(**_):
            '''Mine.'''
        try:
            cnnzoo.register_model(vgg16, family="mine", input_size=(3, 8, 8))
        except cnnzoo.DuplicateModelError as exc:
            print("refused:", exc)
        cnnzoo.register_model(vgg16, name="my_vgg", family="mine", input_size=(3, 8, 8))
        print(cnnzoo.list_models("*vgg16*"), cnnzoo.list_models(family="mine"))
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert res.returncode == 0, res.stderr
    assert "refused: cannot register 'vgg16'" in res.stdout
    assert "['vgg16', 'vgg16_bn'] ['my_vgg']" in res.stdout


# --- the entry-point pre-scan ---------------------------------------------------------------


def test_prescan_answers(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(sys, "path", [str(empty), str(tmp_path / "missing")])
    assert not _plugins.may_declare("cnnzoo.models")
    plugin = tmp_path / "plugin"
    plugin.mkdir()
    _plugin(plugin)
    monkeypatch.setattr(sys, "path", [str(empty), str(plugin)])
    assert _plugins.may_declare("cnnzoo.models")
    assert not _plugins.may_declare("no.such.group")
    archive = tmp_path / "eggs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x.txt", "")
    monkeypatch.setattr(sys, "path", [str(empty), str(archive)])
    assert _plugins.may_declare("no.such.group")  # a zip: importlib.metadata must look

    class Finder:
        @staticmethod
        def find_distributions(*_args, **_kwargs):
            return iter(())

    monkeypatch.setattr(sys, "path", [str(empty)])
    monkeypatch.setattr(sys, "meta_path", [*sys.meta_path, Finder])
    assert _plugins.may_declare("no.such.group")  # another finder: importlib.metadata decides


def test_prescan_never_misses_what_importlib_metadata_finds():
    from importlib import metadata

    groups = {ep.group for dist in metadata.distributions() for ep in dist.entry_points}
    assert groups  # this environment has entry points (console_scripts at least)
    for group in [*groups, "cnnzoo.models", "no.such.group"]:
        if metadata.entry_points(group=group):
            assert _plugins.may_declare(group), group


# --- a real install ----------------------------------------------------------------------------


@pytest.mark.slow
def test_wheel_install_answers_without_torch(tmp_path):
    """The wheel carries the shipped data: in a bare venv (no torch installed at all), the
    look-ups answer; only create() would need torch."""
    # Built from a copy, so that the build's own files (build/, *.egg-info) stay out of the
    # checkout.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT / "cnnzoo", source / "cnnzoo", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(source)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    (wheel,) = wheels.glob("cnnzoo-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert f"cnnzoo/{_cards.PATH}" in zf.namelist()
    # No PYTHONPATH from here on: the checkout on it would count as cnnzoo already installed.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "-q", str(wheel)],
        check=True, capture_output=True, timeout=600, env=env,
    )  # fmt: skip
    cnnzoo_bin = venv / "bin" / "cnnzoo"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(cnnzoo_bin), *args], capture_output=True, text=True, env=env, cwd=tmp_path
        )

    res = subprocess.run([str(python), "-c", "import torch"], capture_output=True, env=env)
    assert res.returncode != 0  # the venv really has no torch
    listed = run("list")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[2:]] == cnnzoo.list_models()
    info = run("info", "vgg16")
    assert info.returncode == 0 and "138,357,544" in info.stdout, info.stderr
    assert run("check", "--list").returncode == 0
    unknown = run("info", "vgg61")
    assert unknown.returncode == 1 and "did you mean" in unknown.stderr
    assert "'vgg16'" in unknown.stderr
