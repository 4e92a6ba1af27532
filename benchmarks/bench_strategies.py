"""Training strategies measured from the CLI, the whole pipeline as a student runs it.

1. LeNet-5 on scikit-learn's real handwritten digits (written as an ImageFolder tree with a
   fifth held out as ``test/``): the constant-lr default against ``--schedule cosine
   --label-smoothing 0.1``, the same optimizer, learning rate and epochs, for several seeds.
   Both best validation accuracy (20% held out of train/, which chooses ``best.pth``) and the
   test accuracy of that epoch are reported, with their means over the seeds.
2. ``--amp`` on the CPU: one training step of LeNet-5 (batch 128) and resnet20 (batch 64) in
   float32 and under bfloat16 autocast, interleaved, medians (``--amp-only`` runs just this).
3. ``resnet20`` on CIFAR-shaped data (random 32x32 colour images in CIFAR-10's pickle layout),
   one epoch with the CIFAR recipe (``--augment crop-flip``, SGD with Nesterov momentum, weight
   decay 1e-4, a cosine schedule): seconds and images/s on this machine.

::

    python benchmarks/bench_strategies.py                 # 3 seeds, 10 epochs, 5,000 CIFAR images
    python benchmarks/bench_strategies.py --seeds 5 --epochs 15 --cifar-images 10000
    python benchmarks/bench_strategies.py --device cuda   # where a GPU is lent

Every run goes through ``python -m cnnzoo train`` in a fresh process (OMP_NUM_THREADS as given),
and the table comes from ``cnnzoo runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cnnzoo(*args: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "cnnzoo", *args], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise SystemExit(f"cnnzoo {' '.join(args)} failed:\n{proc.stderr}")
    return proc.stdout


def amp_on_cpu(threads: int, rounds: int = 5) -> None:
    """float32 against bfloat16 autocast, one SGD step, on the CPU."""
    import statistics

    import torch

    import cnnzoo
    from cnnzoo.training.device import cpu_has_fast_bfloat16

    torch.set_num_threads(threads)
    capability = torch.backends.cpu.get_cpu_capability()
    print(f"\n--amp on the CPU (capability {capability}, fast bfloat16: "
          f"{cpu_has_fast_bfloat16()}), one training step, medians of {rounds}:")  # fmt: skip
    for name, shape in (("lenet5", (128, 1, 32, 32)), ("resnet20", (64, 3, 32, 32))):
        model = cnnzoo.create(name)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        x, y = torch.randn(*shape), torch.randint(0, 10, (shape[0],))

        def step(amp: bool, model=model, opt=opt, x=x, y=y) -> None:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

        for amp in (False, True, False, True):  # warm up both
            step(amp)
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(rounds):
            for amp in (False, True):
                t0 = time.perf_counter()
                for _ in range(3):
                    step(amp)
                times[amp].append((time.perf_counter() - t0) / 3)
        f32, bf16 = statistics.median(times[False]), statistics.median(times[True])
        print(f"  {name:9} batch {shape[0]:3}: float32 {f32 * 1e3:6.1f} ms, bfloat16 autocast "
              f"{bf16 * 1e3:6.1f} ms, {bf16 / f32:.2f}x the time")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cifar-images", type=int, default=5000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--skip-digits", action="store_true")
    ap.add_argument("--amp-only", action="store_true")
    args = ap.parse_args()

    from tests._digits import write_cifar10, write_digits_folder

    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": str(args.threads)}
    import torch

    print(
        f"machine: {os.cpu_count()} CPUs ({platform.machine()}), torch {torch.__version__}, "
        f"OMP_NUM_THREADS={args.threads}, load average {os.getloadavg()[0]:.1f}, "
        f"device {args.device}"
    )
    amp_on_cpu(args.threads)
    if args.amp_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        if not args.skip_digits:
            data = write_digits_folder(t / "digits", size=32)
            base = ["--data", f"folder:{data}", "--epochs", str(args.epochs), "--optimizer",
                    "adam", "--lr", "0.003", "--device", args.device, "--no-plots"]  # fmt: skip
            variants = {"constant": [], "cosine-ls": ["--schedule", "cosine",
                                                      "--label-smoothing", "0.1"]}  # fmt: skip
            for seed in range(args.seeds):  # interleaved: the load changes both alike
                for name, extra in variants.items():
                    out = t / "runs" / f"{name}-seed{seed}"
                    cnnzoo("train", "lenet5", *base, *extra, "--seed", str(seed), "--out",
                           str(out), env=env)  # fmt: skip
            print(f"\nLeNet-5 on the digits, {args.epochs} epochs, adam lr 0.003, "
                  f"{args.seeds} seeds:\n")  # fmt: skip
            print(cnnzoo("runs", str(t / "runs" / "*"), "--format", "markdown", "--no-figure",
                         env=env))  # fmt: skip
            table = json.loads(cnnzoo("runs", str(t / "runs" / "*"), "--format", "json",
                                      "--no-figure", env=env))  # fmt: skip
            for name in variants:
                rows = [r for r in table["runs"] if r["name"].startswith(name + "-")]
                val = sum(r["best_val_acc"] for r in rows) / len(rows)
                test = sum(r["test_acc"] for r in rows) / len(rows)
                print(f"{name:>10}: mean best val_acc {val:.4f}, mean test_acc {test:.4f} "
                      f"over {len(rows)} seeds")  # fmt: skip

        n = args.cifar_images
        write_cifar10(t / "cifar", n_per_batch=n // 5)
        recipe = ["--data", f"cifar10:{t / 'cifar'}", "--epochs", "1", "--batch-size", "128",
                  "--lr", "0.1", "--momentum", "0.9", "--nesterov", "--weight-decay", "1e-4",
                  "--schedule", "cosine", "--augment", "crop-flip", "--device", args.device,
                  "--no-plots"]  # fmt: skip
        t0 = time.perf_counter()
        cnnzoo("train", "resnet20", *recipe, "--out", str(t / "cifar-run"), env=env)
        wall = time.perf_counter() - t0
        (rec,) = json.loads((t / "cifar-run" / "history.json").read_text())
        print(
            f"\nresnet20, CIFAR recipe, 1 epoch over {round(n * 0.8):,} training images "
            f"(20% of {n:,} held out), batch 128: epoch {rec['seconds']:.1f} s "
            f"(training {rec['images_per_s']:,.0f} images/s; the whole command {wall:.1f} s); "
            f"a CIFAR-10 epoch (40,000 of its 50,000 training images, 20% held out) at that "
            f"speed: "
            f"{40_000 / rec['images_per_s']:.0f} s of training"
        )


if __name__ == "__main__":
    main()
