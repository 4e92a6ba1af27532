"""How long the ``cnnzoo`` commands take, against ``python -c pass`` and ``import torch``.

Every command is a fresh interpreter, as a user runs it. The commands run interleaved (each
round runs all of them, in a rotating order) so that a machine busy for a while slows all of
them alike, and the medians are compared::

    python benchmarks/bench_cli.py                     # 9 rounds, every command
    python benchmarks/bench_cli.py --lookups           # only the look-ups and their baselines
    python benchmarks/bench_cli.py --rounds 15 --check # exit 1 if a goal is missed

Goals. The look-ups (issue 13: ``cnnzoo list``, ``cnnzoo info vgg16``, ``cnnzoo check --list``,
``cnnzoo --help``) within 0.15x of ``python -c "import torch"`` and at most 0.3 s, importing none
of torch, torchvision, torchinfo, onnx, numpy. ``cnnzoo summary vgg16`` (issue 3) within 1.3x of
``python -c "import torch, torchinfo"``, without torchvision. The script also times, in a fresh
interpreter each round, how long looking for ``cnnzoo.models`` entry points takes (the scan
``cnnzoo list`` makes; with no plugin installed it must stay cheap).
It runs this checkout's cnnzoo (``python -m cnnzoo`` with the repository on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "torchvision", "torchinfo", "onnx", "numpy")


@dataclass(frozen=True)
class Command:
    args: list[str]
    #: the row this one is compared with, and the goal as a multiple of it
    baseline: str | None = None
    ratio: float | None = None
    #: the goal in seconds (median), if any
    seconds: float | None = None
    #: modules it must not import
    forbidden: tuple[str, ...] = ()
    lookup: bool = True


def _lookup(*args: str) -> Command:
    return Command(["-m", "cnnzoo", *args], "import torch", 0.15, 0.3, HEAVY)


COMMANDS: dict[str, Command] = {
    "python -c pass": Command(["-c", "pass"]),
    "import torch": Command(["-c", "import torch"]),
    "list": _lookup("list"),
    "info vgg16": _lookup("info", "vgg16"),
    "check --list": _lookup("check", "--list"),
    "--help": _lookup("--help"),
    "import torch, torchinfo": Command(["-c", "import torch, torchinfo"], lookup=False),
    "summary vgg16": Command(
        ["-m", "cnnzoo", "summary", "vgg16"],
        "import torch, torchinfo",
        1.3,
        None,
        ("torchvision",),
        lookup=False,
    ),
}

#: Prints how long the entry-point scan of ``cnnzoo list`` takes, in seconds.
SCAN = (
    "import time, cnnzoo.registry as r; t = time.perf_counter(); r._load_entry_points(); "
    "print(time.perf_counter() - t)"
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_once(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    res = subprocess.run([sys.executable, *args], env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {res.stderr.decode()[-500:]}")
    return elapsed, res.stdout.decode()


def imports(args: list[str], env: dict[str, str]) -> set[str]:
    """The top-level packages a command imports (from ``python -X importtime``)."""
    res = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    names = set()
    for line in res.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--lookups", action="store_true", help="only the look-ups (issue 13)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    env = _env()
    names = [n for n, c in COMMANDS.items() if c.lookup or not args.lookups]
    load_before = os.getloadavg()
    for name in names:  # warm the file cache; not timed
        run_once(COMMANDS[name].args, env)
    times: dict[str, list[float]] = {n: [] for n in names}
    scans: list[float] = []
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name].append(run_once(COMMANDS[name].args, env)[0])
        scans.append(float(run_once(["-c", SCAN], env)[1]))
    load_after = os.getloadavg()
    medians = {n: statistics.median(t) for n, t in times.items()}

    print(
        f"python {sys.version.split()[0]}, torch {_version('torch')}, {os.cpu_count()} CPUs, "
        f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
        f"{args.rounds} interleaved rounds, medians"
    )
    print(f"{'command':<24} {'median s':>9} {'min s':>7} {'ratio':>13} {'goal':>15}  imports")
    missed = []
    for name in names:
        cmd = COMMANDS[name]
        med = medians[name]
        ratio_text, goal_text, ok = "", "", True
        if cmd.baseline is not None and cmd.ratio is not None:
            ratio = med / medians[cmd.baseline]
            ratio_text = f"{ratio:.3f}x {'torch' if cmd.baseline == 'import torch' else 'base'}"
            goal_text = f"{cmd.ratio}x"
            ok = ratio <= cmd.ratio
        if cmd.seconds is not None:
            goal_text += f", {cmd.seconds} s"
            ok = ok and med <= cmd.seconds
        bad = sorted(imports(cmd.args, env) & set(cmd.forbidden)) if cmd.forbidden else []
        imports_text = (
            ("IMPORTS " + ", ".join(bad)) if bad else ("none of them" * bool(cmd.forbidden))
        )
        if not ok or bad:
            missed.append(name)
        print(
            f"{name:<24} {med:>9.3f} {min(times[name]):>7.3f} {ratio_text:>13} {goal_text:>15}  "
            f"{imports_text}" + ("" if ok else "  (goal missed)")
        )
    dists = sum(1 for _ in metadata.distributions())
    print(
        f"entry-point scan (no cnnzoo.models plugin, {dists} distributions installed): "
        f"median {statistics.median(scans) * 1000:.1f} ms, max {max(scans) * 1000:.1f} ms"
    )
    print(f"'imports' checks {', '.join(HEAVY)} for the look-ups, torchvision for summary")
    if args.check and missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
