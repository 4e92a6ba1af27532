"""Training speed: the labs' loop against ``cnnzoo train``'s fast path, side by side.

LeNet-5 on MNIST-shaped data (random 28x28 grey images, 10 classes, written as MNIST's idx
files). The lab-style side is what the course labs run: ``torchvision.datasets.MNIST`` with
``transforms.Resize((32, 32))``, ``ToTensor()`` and ``Normalize`` applied through PIL to every
image on every step, fed by a ``DataLoader`` (``shuffle=True``, no worker processes), with the
labs' loop (``zero_grad``, forward, loss, backward, step, ``loss.item()``). The cnnzoo side
decodes the files once with ``cnnzoo.load_data`` (timed separately) and runs
``cnnzoo.train`` for one epoch; its images/s is the training loop's, as the lab's is.

The two sides alternate (lab, cnnzoo, cnnzoo, lab, ...) so that a change in the machine's load
affects both; the medians and their ratio are printed::

    python benchmarks/bench_train.py                      # 20,000 images, 3 rounds, batch 256
    python benchmarks/bench_train.py --images 60000 --rounds 5
    python benchmarks/bench_train.py --threads 1          # torch.set_num_threads(1)
    python benchmarks/bench_train.py --channels-last off  # the fast path without channels_last

Goal (issue 5): cnnzoo at least 5x the lab's images/s. The ceiling on the development machine
is about 67,000 images/s (170 GFLOP/s GEMM peak, about 2.5 MFLOP per LeNet-5 training image).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

import cnnzoo  # noqa: E402


def write_mnist(root: Path, n: int, seed: int = 0) -> None:
    """Random MNIST-shaped idx files in torchvision's layout (``root/MNIST/raw``)."""
    g = torch.Generator().manual_seed(seed)
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", n), ("t10k", max(1, n // 6))):
        images = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=g)
        labels = torch.randint(0, 10, (count,), dtype=torch.uint8, generator=g)
        with open(raw / f"{prefix}-images-idx3-ubyte", "wb") as f:
            f.write(struct.pack(">IIII", 2051, count, 28, 28) + images.numpy().tobytes())
        with open(raw / f"{prefix}-labels-idx1-ubyte", "wb") as f:
            f.write(struct.pack(">II", 2049, count) + labels.numpy().tobytes())


def lab_epoch(root: Path, batch_size: int, seed: int) -> float:
    """One epoch of the labs' loop; returns images/s."""
    from torchvision import datasets, transforms

    pre = cnnzoo.model_info("lenet5")
    transform = transforms.Compose(
        [
            transforms.Resize((32, 32)),
            transforms.ToTensor(),
            transforms.Normalize(pre.mean, pre.std),
        ]
    )
    dataset = datasets.MNIST(str(root), train=True, transform=transform, download=False)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    torch.manual_seed(seed)
    model = cnnzoo.create("lenet5")
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    start = time.perf_counter()
    running_loss, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        optimizer.zero_grad()
        outputs = model(images)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item() * len(labels)
        correct += (outputs.argmax(1) == labels).sum().item()
        seen += len(labels)
    return seen / (time.perf_counter() - start)


def cnnzoo_epoch(data, batch_size: int, seed: int, channels_last: bool | None) -> float:
    """One epoch of ``cnnzoo.train`` on already decoded data; returns its images/s."""
    from cnnzoo.training import train

    with tempfile.TemporaryDirectory() as out:
        result = train(
            "lenet5",
            data,
            epochs=1,
            batch_size=batch_size,
            lr=0.01,
            val_split=0.0,
            seed=seed,
            device="cpu",
            out=Path(out) / "run",
            plots=False,
            channels_last=channels_last,
        )
    return float(result.history[0]["images_per_s"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--channels-last", choices=("auto", "on", "off"), default="auto")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    channels_last = {"auto": None, "on": True, "off": False}[args.channels_last]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_mnist(root, args.images)
        from cnnzoo.data import load_data
        from cnnzoo.preprocess import preprocess_for

        t0 = time.perf_counter()
        data = load_data(f"mnist:{root}", preprocess_for("lenet5"))
        decode = time.perf_counter() - t0
        lab, fast = [], []
        for r in range(args.rounds):
            order = ("lab", "cnnzoo") if r % 2 == 0 else ("cnnzoo", "lab")
            for side in order:
                if side == "lab":
                    lab.append(lab_epoch(root, args.batch_size, seed=r))
                else:
                    fast.append(cnnzoo_epoch(data, args.batch_size, r, channels_last))
            print(f"round {r + 1}: lab {lab[-1]:,.0f} img/s, cnnzoo {fast[-1]:,.0f} img/s")

    lab_m, fast_m = statistics.median(lab), statistics.median(fast)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print()
    print(
        f"machine: {os.cpu_count()} CPUs ({platform.machine()}, {platform.processor() or '?'}), "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"load average {load:.1f}"
    )
    print(
        f"LeNet-5, {args.images:,} MNIST-shaped images, batch {args.batch_size}, 1 epoch, "
        f"{args.rounds} interleaved rounds, medians:"
    )
    print(f"  lab-style loop (PIL transforms per image, DataLoader): {lab_m:>9,.0f} images/s")
    print(f"  cnnzoo train fast path:                                {fast_m:>9,.0f} images/s")
    print(f"  ratio: {fast_m / lab_m:.2f}x (goal 5x)")
    print(f"  cnnzoo decoded the {args.images:,} images once in {decode:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
