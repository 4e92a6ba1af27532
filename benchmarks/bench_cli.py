"""How long the ``cnnzoo`` commands take, against ``python -c "import torch, torchinfo"``.

Every command is a fresh interpreter, as a user runs it. The commands run interleaved (each
round runs all of them, in a rotating order) so that a machine busy for a while slows all of
them alike, and the medians are compared::

    python benchmarks/bench_cli.py            # 9 rounds
    python benchmarks/bench_cli.py --rounds 15 --check   # exit 1 if a goal is missed

Goals (issue 3): ``cnnzoo summary vgg16`` within 1.3x the baseline; ``cnnzoo list``,
``cnnzoo info vgg16`` and ``cnnzoo --help`` within 1.1x. None of them may import torchvision.
It runs this checkout's cnnzoo (``python -m cnnzoo`` with the repository on PYTHONPATH).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "import torch, torchinfo"
#: name -> (arguments after the interpreter, goal as a multiple of the baseline or None)
COMMANDS: dict[str, tuple[list[str], float | None]] = {
    "baseline": (["-c", BASELINE], None),
    "summary vgg16": (["-m", "cnnzoo", "summary", "vgg16"], 1.3),
    "list": (["-m", "cnnzoo", "list"], 1.1),
    "info vgg16": (["-m", "cnnzoo", "info", "vgg16"], 1.1),
    "--help": (["-m", "cnnzoo", "--help"], 1.1),
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def run_once(args: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    res = subprocess.run(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    elapsed = time.perf_counter() - start
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {res.stderr.decode()[-500:]}")
    return elapsed


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    args = parser.parse_args()
    env = _env()
    names = list(COMMANDS)
    for name in names:  # warm the file cache; not timed
        run_once(COMMANDS[name][0], env)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name].append(run_once(COMMANDS[name][0], env))
    base = statistics.median(times["baseline"])
    print(f"python {sys.version.split()[0]}, {args.rounds} interleaved rounds, medians")
    print(f"{'command':<16} {'median s':>9} {'min s':>7} {'ratio':>6} {'goal':>6}  torchvision")
    missed = []
    for name in names:
        med = statistics.median(times[name])
        goal = COMMANDS[name][1]
        tv = (
            ""
            if name == "baseline"
            else ("IMPORTED" if "torchvision" in imports(COMMANDS[name][0], env) else "no")
        )
        ratio = med / base
        ok = goal is None or ratio <= goal
        if not ok or tv == "IMPORTED":
            missed.append(name)
        goal_text = f"{goal:.1f}x" if goal else "-"
        print(
            f"{name:<16} {med:>9.3f} {min(times[name]):>7.3f} {ratio:>5.2f}x {goal_text:>6}  {tv}"
            + ("" if ok else "  (goal missed)")
        )
    if args.check and missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
