"""A student's network, imported and read in a child process with a time limit.

A submission is untrusted and may be slow: it may not import, lack the class, raise in its
constructor, or never return from ``forward``. The child process (``python -m
cnnzoo.check.student REQUEST RESULT``) imports the file, builds the class, optionally loads
weights into it, reads its structure (:func:`~cnnzoo.check.structure.read_structure`) and
writes it as JSON: only plain data crosses back, never an object of the student's. What the
student's code prints goes to a file of its own (file descriptors 1 and 2 are redirected), so it
never mixes into cnnzoo's output; the report keeps it as ``printed``.

Each failure comes back as one line naming the file and what failed
(:class:`~cnnzoo.errors.StudentModelError`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import StudentModelError

__all__ = ["DEFAULT_TIMEOUT", "parse_target", "run_student"]

#: Seconds a submission gets to import, build and run once (importing torch included).
DEFAULT_TIMEOUT = 60.0
_PRINTED_LIMIT = 4000


def parse_target(target: str) -> tuple[str, str]:
    """``path/to/file.py:Class`` or ``package.module:Class`` -> (module or file, class)."""
    where, sep, cls = target.rpartition(":")
    if not sep or not where or not cls or not cls.isidentifier():
        raise StudentModelError(
            f"--model {target!r}: give FILE.py:Class or package.module:Class "
            "(for example classify.py:emotionNet)"
        )
    return where, cls


def run_student(
    target: str,
    *,
    input_size: Sequence[int],
    model_args: Mapping[str, Any] | None = None,
    weights: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[dict[str, Any], str]:
    """Read ``target``'s structure in a child process: (the structure as a dict, what it printed).

    Raises:
        StudentModelError: it does not import, has no such class, its constructor raises, the
            weights do not fit it, or it does not finish within ``timeout`` seconds.
    """
    where, cls = parse_target(target)
    if where.endswith(".py") and not Path(where).is_file():
        what = "is a directory" if Path(where).is_dir() else "does not exist"
        raise StudentModelError(f"{where}: the file {what}")
    with tempfile.TemporaryDirectory(prefix="cnnzoo-check-") as tmp:
        request = Path(tmp, "request.json")
        result = Path(tmp, "result.json")
        stage = Path(tmp, "stage")
        printed = Path(tmp, "printed.txt")
        request.write_text(
            json.dumps(
                {
                    "where": where,
                    "class": cls,
                    "args": dict(model_args or {}),
                    "input_size": list(input_size),
                    "weights": weights,
                    "stage": str(stage),
                    "printed": str(printed),
                }
            )
        )
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (root, os.getcwd(), env.get("PYTHONPATH", "")) if p
        )
        env.setdefault("OMP_NUM_THREADS", "1")
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "cnnzoo.check.student", str(request), str(result)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=timeout,
                env=env,
                cwd=os.getcwd(),
            )
        except subprocess.TimeoutExpired:
            step = stage.read_text() if stage.exists() else "import"
            doing = {
                "import": "importing it",
                "construct": f"building {cls}",
                "weights": "loading the weights",
                "forward": f"{cls}'s forward pass",
            }.get(step, step)
            raise StudentModelError(
                f"{where}: {doing} did not finish within {timeout:g} s (stopped)"
            ) from None
        said = _read(printed)
        if not result.exists():
            err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            last = err[-1] if err else f"exit code {proc.returncode}"
            raise StudentModelError(f"{where}: the check's child process failed: {last}")
        data = json.loads(result.read_text())
    if not data["ok"]:
        raise StudentModelError(data["error"])
    return data["structure"], said


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    text = path.read_text("utf-8", "replace")
    if len(text) > _PRINTED_LIMIT:
        text = text[:_PRINTED_LIMIT] + f"\n... ({len(text) - _PRINTED_LIMIT} more characters)"
    return text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


# --- the child ---------------------------------------------------------------------------------


def _child(request_path: str, result_path: str) -> int:  # pragma: no cover - runs in the child
    req = json.loads(Path(request_path).read_text())
    where, cls = req["where"], req["class"]
    stage_file = Path(req["stage"])

    def stage(name: str) -> None:
        stage_file.write_text(name)

    def done(payload: dict[str, Any]) -> int:
        tmp = Path(result_path + ".part")
        tmp.write_text(json.dumps(payload))
        tmp.replace(result_path)
        return 0

    def fail(message: str) -> int:
        return done({"ok": False, "error": message})

    # The student's prints (Python's and C's) go to a file, never to cnnzoo's output.
    out = os.open(req["printed"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.stderr = sys.stdout
    stage("import")
    import importlib
    import importlib.util

    try:
        if where.endswith(".py"):
            path = Path(where).resolve()
            sys.path.insert(0, str(path.parent))
            spec = importlib.util.spec_from_file_location(f"_student_{path.stem}", path)
            if spec is None or spec.loader is None:
                return fail(f"{where}: not a Python file that can be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(where)
    except SystemExit as exc:
        return fail(f"{where} does not import: it calls exit({exc.code})")
    except BaseException as exc:
        return fail(f"{where} does not import: {_first_line(exc)}")
    import torch

    torch.set_num_threads(1)
    target = getattr(module, cls, None)
    if target is None:
        import inspect

        classes = [
            n
            for n, v in vars(module).items()
            if inspect.isclass(v)
            and issubclass(v, torch.nn.Module)
            and v.__module__ == module.__name__
        ]
        import difflib

        close = difflib.get_close_matches(cls, classes, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        found = f"it defines {', '.join(classes)}" if classes else "it defines no nn.Module"
        return fail(f"{where} has no class {cls!r}{hint} ({found})")
    if not (isinstance(target, type) and issubclass(target, torch.nn.Module)):
        return fail(f"{where}: {cls} is not a torch.nn.Module subclass")
    stage("construct")
    args = req["args"]
    try:
        net = target(**args)
    except TypeError as exc:
        if "required positional argument" in str(exc) and not args:
            import inspect

            try:
                params = [p for p in inspect.signature(target).parameters.values()
                          if p.default is inspect.Parameter.empty and p.kind not in
                          (p.VAR_POSITIONAL, p.VAR_KEYWORD)]  # fmt: skip
            except (TypeError, ValueError):
                params = []
            if [p.name for p in params] == ["printtoggle"]:
                try:
                    net = target(printtoggle=False)  # the lab template's only argument
                except BaseException as exc2:
                    return fail(f"{where}: {cls}(printtoggle=False) raises {_first_line(exc2)}")
            else:
                names = ", ".join(p.name for p in params)
                return fail(
                    f"{where}: {cls}() needs arguments ({names}); give them with "
                    f"--model-args '{{\"{params[0].name if params else 'x'}\": ...}}'"
                )
        else:
            return fail(f"{where}: {cls}(**{args!r}) raises {_first_line(exc)}")
    except BaseException as exc:
        return fail(f"{where}: {cls}(**{args!r}) raises {_first_line(exc)}")
    if req.get("weights"):
        stage("weights")
        from ..checkpoint import apply_state_dict, read_checkpoint

        try:
            sd = read_checkpoint(req["weights"]).state_dict
            apply_state_dict(net, sd, source=req["weights"])
        except Exception as exc:
            return fail(" ".join(str(exc).split()))
    stage("forward")
    from .structure import read_structure

    try:
        structure = read_structure(net, req["input_size"])
    except BaseException as exc:
        return fail(f"{where}: reading {cls}'s forward pass failed: {_first_line(exc)}")
    return done({"ok": True, "structure": structure.to_dict()})


if __name__ == "__main__":  # pragma: no cover - the child process
    sys.exit(_child(sys.argv[1], sys.argv[2]))
