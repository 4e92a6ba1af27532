"""How long decoding a dataset takes: ``cnnzoo.load_data`` against the labs' per-image PIL path.

Writes fake MNIST-shaped idx files (60,000 train and 10,000 test images of 28x28, random
pixels) in a temporary folder, then times, interleaved round by round:

- ``load_data``: ``cnnzoo.load_data("mnist:DIR", preprocess_for("lenet5"))``: both splits read
  by torchvision and resized 28 -> 32 as whole uint8 batches, as ``cnnzoo train`` does once;
- ``lab``: the labs' ``transforms.Compose([Resize((32, 32)), ToTensor()])`` applied image by
  image through ``torchvision.datasets.MNIST.__getitem__``, as their loop does on every step
  of every epoch (timed on ``--lab-images`` images and reported per image).

::

    python benchmarks/bench_decode.py              # 5 rounds
    python benchmarks/bench_decode.py --rounds 9 --lab-images 5000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

N_TRAIN, N_TEST = 60_000, 10_000


def write_fake_mnist(root: Path) -> None:
    from tests._digits import write_mnist_raw

    rng = np.random.default_rng(0)
    write_mnist_raw(
        root,
        (
            rng.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, N_TRAIN).astype(np.uint8),
        ),
        (
            rng.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, N_TEST).astype(np.uint8),
        ),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lab-images", type=int, default=3000)
    args = parser.parse_args(argv)

    import torch
    import torchvision
    from torchvision import datasets, transforms

    import cnnzoo
    from cnnzoo.preprocess import preprocess_for

    preprocess = preprocess_for("lenet5")
    ours: list[float] = []
    ours_cpu: list[float] = []
    lab: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_fake_mnist(root)
        lab_set = datasets.MNIST(
            str(root),
            train=True,
            transform=transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()]),
        )
        for _ in range(args.rounds):
            start, cpu = time.perf_counter(), time.process_time()
            splits = cnnzoo.load_data(f"mnist:{root}", preprocess)
            ours.append(time.perf_counter() - start)
            ours_cpu.append(time.process_time() - cpu)
            assert splits.train.images.shape == (N_TRAIN, 1, 32, 32)
            start = time.perf_counter()
            for i in range(args.lab_images):
                lab_set[i]
            lab.append((time.perf_counter() - start) / args.lab_images)

    n = N_TRAIN + N_TEST
    ours_per_image = statistics.median(ours) / n
    lab_per_image = statistics.median(lab)
    print(
        f"torch {torch.__version__}, torchvision {torchvision.__version__}, "
        f"{torch.get_num_threads()} threads, {args.rounds} interleaved rounds (medians)"
    )
    print(
        f"load_data, {n:,} images 28x28 -> 1x32x32 uint8: {statistics.median(ours):.2f} s "
        f"(CPU {statistics.median(ours_cpu):.2f} s; spread {min(ours):.2f}-{max(ours):.2f} s), "
        f"{ours_per_image * 1e6:.1f} us per image"
    )
    print(
        f"lab-style PIL Resize + ToTensor: {lab_per_image * 1e6:.1f} us per image, "
        f"{lab_per_image * N_TRAIN:.1f} s per epoch of {N_TRAIN:,} images"
    )
    print(f"ratio: {lab_per_image / ours_per_image:.0f}x less time per image, paid once")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
