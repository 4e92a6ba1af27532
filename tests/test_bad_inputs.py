"""A corpus of bad inputs swept through the CLI: each gets its own clear line and a non-zero exit.

Every case runs in-process through ``cnnzoo.cli.main`` (torch is imported once for all of them),
a few in real subprocesses as a user runs them. A case fails when the command

- exits 0 (a bad input must never give an answer),
- reaches the catch-all (its line ends with "set CNNZOO_DEBUG=1 for the traceback"),
- prints an exception class name (``TypeError``, ``DecompressionBombError``), a raw errno
  (``[Errno 21]``) or a traceback,
- or prints more than its one line (after argparse's usage block for a usage error).
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnzoo
from cnnzoo.checkpoint import CHECKPOINT_FORMAT, save_checkpoint
from cnnzoo.cli import main
from cnnzoo.preprocess import preprocess_for

from ._digits import write_cifar10, write_digits_folder, write_fer_csv, write_idx

CLASS_NAME = re.compile(r"\b[A-Z]\w*(Error|Exception|Interrupt)\b")
ERRNO = re.compile(r"\[Errno \d+\]|Errno \d+")


def _ckpt(path: Path, **fields) -> Path:
    model = cnnzoo.create("lenet5", num_classes=10)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "model": "lenet5",
        "model_kwargs": {"num_classes": 10},
        "state_dict": model.state_dict(),
        "labels": [str(i) for i in range(10)],
        "preprocess": preprocess_for("lenet5").to_dict(),
        **fields,
    }
    torch.save(payload, path)
    return path


def _cifar(root: Path, labels) -> Path:
    write_cifar10(root)
    with open(root / "cifar-10-batches-py" / "data_batch_1", "wb") as f:
        data = np.zeros((4, 3072), dtype=np.uint8)
        pickle.dump({"data": data, "labels": labels}, f)
    return root


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good and bad files side by side, as a student's folder has them."""
    from PIL import Image

    d = tmp_path_factory.mktemp("lab")
    model = cnnzoo.create("lenet5", num_classes=10)
    good = save_checkpoint(
        d / "good.pth",
        model,
        model_name="lenet5",
        model_kwargs={"num_classes": 10},
        labels=[str(i) for i in range(10)],
        preprocess=preprocess_for("lenet5").to_dict(),
    )
    (d / "damaged.pth").write_bytes(b"PK\x03\x04 not really a zip")
    (d / "truncated.pth").write_bytes(good.read_bytes()[:3000])
    (d / "empty.pth").write_bytes(b"")
    torch.save(model, d / "pickled_model.pth")  # the whole module, not its state_dict
    torch.save({"w": np.zeros(3)}, d / "numpy.pth")
    _ckpt(d / "newer.pth", format="cnnzoo.checkpoint/7")
    _ckpt(d / "kwargs_type.pth", model_kwargs={"num_classes": "ten"})
    _ckpt(d / "kwargs_list.pth", model_kwargs=[1, 2])
    _ckpt(d / "preprocess_type.pth", preprocess={"size": "big", "channels": 1, "mean": [0],
                                                 "std": [1]})  # fmt: skip
    _ckpt(d / "preprocess_str.pth", preprocess={"size": [32, 32], "channels": 1,
                                                "mean": ["a"], "std": [1]})  # fmt: skip
    _ckpt(d / "state_values.pth", state_dict={"conv1.weight": [1.0, 2.0]})
    _ckpt(d / "labels_type.pth", labels=7)
    _ckpt(d / "model_type.pth", model=5)
    _ckpt(d / "epoch_type.pth", epoch="three")
    save_checkpoint(d / "other_model.pth", cnnzoo.create("alexnet", num_classes=3,
                    device="meta").to_empty(device="cpu"), model_name="alexnet",
                    model_kwargs={"num_classes": 3})  # fmt: skip
    nan_model = cnnzoo.create("lenet5", num_classes=10)
    with torch.no_grad():
        nan_model.fc1.weight.fill_(float("inf"))
    save_checkpoint(d / "inf.pth", nan_model, model_name="lenet5",
                    model_kwargs={"num_classes": 10})  # fmt: skip

    Image.fromarray(np.full((64, 64), 200, np.uint8)).save(d / "digit.png")
    (d / "notes.png").write_text("not an image")
    (d / "zero.png").write_bytes(b"")
    (d / "adir.png").mkdir()

    write_digits_folder(d / "digits", n_per_class=3)
    one = d / "one_class" / "train" / "3"
    one.mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(one / "a.png")
    (d / "empty_dir").mkdir()
    write_fer_csv(d / "fer.csv", n=10)
    one_emotion = (d / "fer.csv").read_text().splitlines()
    rows = [one_emotion[0]] + ["3," + r.split(",", 1)[1] for r in one_emotion[1:]]
    (d / "fer_one.csv").write_text("\n".join(rows) + "\n")
    (d / "fer_bad.csv").write_text("emotion,pixels,Usage\n3,1 2 3,Training\n9,x,Training\n")
    (d / "fer_empty.csv").write_text("")
    (d / "fer_binary.csv").write_bytes(b"\xff\xfe\x00\x01" * 50)
    _cifar(d / "cifar_none", None)
    _cifar(d / "cifar_str", ["cat", "dog", "cat", "dog"])
    _cifar(d / "cifar_huge", [2**70, 0, 1, 2])
    _cifar(d / "cifar_neg", [-1, 0, 1, 2])
    write_cifar10(d / "cifar_list")
    with open(d / "cifar_list" / "cifar-10-batches-py" / "test_batch", "wb") as f:
        pickle.dump([1, 2, 3], f)
    write_cifar10(d / "cifar_meta")
    with open(d / "cifar_meta" / "cifar-10-batches-py" / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [1, 2]}, f)
    raw = d / "mnist" / "MNIST" / "raw"
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        write_idx(raw / name, np.zeros((4, 28, 28), np.uint8))
    for name in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        write_idx(raw / name, np.zeros(4, np.uint8))
    (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x0d\x03" + b"\x00" * 64)
    (d / "afile").write_text("x")
    (d / "dangling").symlink_to(d / "nowhere")
    (d / "run_with_notes").mkdir()
    (d / "run_with_notes" / "history.json").write_text("[]\n")
    return d


#: (id, argv with {lab} for the lab folder). Every one must fail with one clear line.
CASES: list[tuple[str, str]] = [
    # names
    ("unknown model", "info lenet6"),
    ("unknown model export", "export vgg17 -o {lab}/x.onnx"),
    ("unknown model train", "train alexnett --data folder:{lab}/digits"),
    ("unknown family", "list --family vggs"),
    ("unknown family json", "list --family vggs --format json"),
    ("no model matches", "list 'zzz*'"),
    ("unknown table", "check vgg99"),
    # checkpoints
    ("missing checkpoint", "predict {lab}/missing.pth {lab}/digit.png"),
    ("checkpoint is a directory", "predict {lab}/empty_dir {lab}/digit.png"),
    ("damaged checkpoint", "predict {lab}/damaged.pth {lab}/digit.png"),
    ("truncated checkpoint", "predict {lab}/truncated.pth {lab}/digit.png"),
    ("empty checkpoint", "evaluate {lab}/empty.pth --data folder:{lab}/digits"),
    ("pickled model", "predict {lab}/pickled_model.pth {lab}/digit.png"),
    ("numpy in checkpoint", "predict {lab}/numpy.pth {lab}/digit.png --model lenet5"),
    ("newer format", "predict {lab}/newer.pth {lab}/digit.png --model lenet5"),
    ("newer format export", "export lenet5 --checkpoint {lab}/newer.pth -o {lab}/n.onnx"),
    ("kwargs of wrong type", "predict {lab}/kwargs_type.pth {lab}/digit.png"),
    ("kwargs not a dict", "evaluate {lab}/kwargs_list.pth --data folder:{lab}/digits"),
    ("preprocess of wrong type", "predict {lab}/preprocess_type.pth {lab}/digit.png"),
    ("preprocess with a string", "predict {lab}/preprocess_str.pth {lab}/digit.png"),
    ("state_dict values", "predict {lab}/state_values.pth {lab}/digit.png"),
    ("labels of wrong type", "predict {lab}/labels_type.pth {lab}/digit.png"),
    ("model of wrong type", "explain {lab}/model_type.pth {lab}/digit.png --out {lab}"),
    (
        "epoch of wrong type",
        "train lenet5 --data folder:{lab}/digits --resume {lab}/epoch_type.pth",
    ),
    ("checkpoint of another model", "predict {lab}/other_model.pth {lab}/digit.png --model lenet5"),
    ("inf weights export", "export lenet5 --checkpoint {lab}/inf.pth -o {lab}/inf.onnx"),
    ("resume a state_dict", "train lenet5 --data folder:{lab}/digits --resume {lab}/good.pth"),
    # images
    ("missing image", "predict {lab}/good.pth {lab}/nothing.png"),
    ("text as image", "predict {lab}/good.pth {lab}/notes.png"),
    ("empty image", "predict {lab}/good.pth {lab}/zero.png"),
    ("directory as image", "predict {lab}/good.pth {lab}/adir.png"),
    ("topk beyond classes", "predict {lab}/good.pth {lab}/digit.png --topk 11"),
    ("checkpoint as image", "predict {lab}/good.pth {lab}/good.pth"),
    ("explain unknown layer", "explain {lab}/good.pth {lab}/digit.png --layer conv9 --out {lab}"),
    ("explain missing out", "explain {lab}/good.pth {lab}/digit.png --out {lab}/nowhere"),
    # data
    ("no data format", "train lenet5 --data {lab}/digits"),
    ("unknown data format", "train lenet5 --data floder:{lab}/digits"),
    ("missing folder", "train lenet5 --data folder:{lab}/nowhere"),
    ("empty folder", "train lenet5 --data folder:{lab}/empty_dir"),
    ("one class folder", "train lenet5 --data folder:{lab}/one_class"),
    ("fer2013 one emotion", "train fer_cnn --data fer2013:{lab}/fer_one.csv"),
    ("fer2013 bad rows", "train fer_cnn --data fer2013:{lab}/fer_bad.csv"),
    ("fer2013 strict", "train fer_cnn --data fer2013:{lab}/fer_bad.csv --strict"),
    ("fer2013 empty", "evaluate {lab}/good.pth --data fer2013:{lab}/fer_empty.csv"),
    ("fer2013 binary", "train fer_cnn --data fer2013:{lab}/fer_binary.csv"),
    ("cifar labels None", "train lenet5 --data cifar10:{lab}/cifar_none"),
    ("cifar labels strings", "train lenet5 --data cifar10:{lab}/cifar_str"),
    ("cifar labels huge", "train lenet5 --data cifar10:{lab}/cifar_huge"),
    ("cifar labels negative", "train lenet5 --data cifar10:{lab}/cifar_neg"),
    ("cifar batch a list", "train lenet5 --data cifar10:{lab}/cifar_list"),
    ("cifar meta", "train lenet5 --data cifar10:{lab}/cifar_meta"),
    ("cifar missing", "train lenet5 --data cifar10:{lab}/empty_dir"),
    ("idx wrong magic", "train lenet5 --data mnist:{lab}/mnist"),
    ("evaluate labels mismatch", "evaluate {lab}/other_model.pth --data folder:{lab}/digits"),
    # paths
    ("out is a file", "train lenet5 --data folder:{lab}/digits --out {lab}/afile"),
    ("out is a dangling link", "train lenet5 --data folder:{lab}/digits --out {lab}/dangling"),
    (
        "out holds the user's files",
        "train lenet5 --data folder:{lab}/digits --out {lab}/run_with_notes",
    ),
    ("export to a directory", "export lenet5 -o {lab}/empty_dir"),
    ("export into a missing folder", "export lenet5 -o {lab}/nowhere/x.onnx"),
    # usage errors (exit 2)
    ("lr inf", "train lenet5 --data folder:{lab}/digits --lr inf"),
    ("weight decay nan", "train lenet5 --data folder:{lab}/digits --weight-decay nan"),
    ("val split 1", "train lenet5 --data folder:{lab}/digits --val-split 1.0"),
    ("epochs 0", "train lenet5 --data folder:{lab}/digits --epochs 0"),
    ("seed beyond 64 bits", "train lenet5 --data folder:{lab}/digits --seed 99999999999999999999"),
    ("seed negative", "train lenet5 --data folder:{lab}/digits --seed -1"),
    ("device cpu:7", "train lenet5 --data folder:{lab}/digits --device cpu:7"),
    ("device cpu:abc", "evaluate {lab}/good.pth --data folder:{lab}/digits --device cpu:abc"),
    ("device cuda here", "evaluate {lab}/good.pth --data folder:{lab}/digits --device cuda"),
    ("batch size 0", "evaluate {lab}/good.pth --data folder:{lab}/digits --batch-size 0"),
    ("batch size -5", "evaluate {lab}/good.pth --data folder:{lab}/digits --batch-size -5"),
    ("port 70000", "export lenet5 --netron --port 70000"),
    ("opset out of range", "export lenet5 --opset 999 -o {lab}/o.onnx"),
    ("input size zero", "export lenet5 --input-size 1 0 32 -o {lab}/o.onnx"),
    ("num classes zero", "export lenet5 --num-classes 0"),
]


def _split(argv: str, lab: Path) -> list[str]:
    import shlex

    return shlex.split(argv.format(lab=lab))


def _check_output(case: str, code: int, out: str, err: str) -> None:
    assert code != 0, f"{case}: exit 0 for a bad input\n{out}"
    assert "CNNZOO_DEBUG" not in err, f"{case}: reached the catch-all: {err}"
    assert "Traceback" not in err, f"{case}: a traceback: {err}"
    assert not CLASS_NAME.search(err), f"{case}: an exception class name: {err}"
    assert not ERRNO.search(err), f"{case}: a raw errno: {err}"
    assert "weights_only" not in err, f"{case}: PyTorch's advice to load unsafely: {err}"
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if code == 2:  # argparse's usage block, then one line
        lines = [line for line in lines if not line.startswith(("usage:", " "))]
    assert len(lines) == 1, f"{case}: expected one line, got:\n{err}"


@pytest.fixture
def small_pil_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    # A 64x64 image is then over twice the limit, which Pillow refuses as a decompression bomb.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)


@pytest.mark.parametrize(("case", "argv"), CASES, ids=[c for c, _ in CASES])
def test_bad_input_gets_one_clear_line(
    case: str, argv: str, lab: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)  # a default output (NAME.onnx, runs/...) lands here
    try:
        code = main(_split(argv, lab))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    _check_output(case, code, out, err)
    # Nothing half-written: no temporary and no new run left in the lab or here.
    hidden = [p for p in (*lab.rglob(".*"), *tmp_path.rglob(".*")) if "cnnzoo-" in p.name]
    assert not hidden, f"{case}: left {hidden}"
    assert not list(tmp_path.iterdir()), f"{case}: wrote {list(tmp_path.iterdir())}"


def test_decompression_bomb(lab: Path, capsys, small_pil_limit) -> None:
    code = main(["predict", str(lab / "good.pth"), str(lab / "digit.png")])
    _, err = capsys.readouterr()
    _check_output("decompression bomb", code, "", err)
    assert "too large" in err


def test_newer_checkpoint_is_named_as_such(lab: Path, capsys) -> None:
    code = main(["predict", str(lab / "newer.pth"), str(lab / "digit.png"), "--model", "lenet5"])
    _, err = capsys.readouterr()
    assert code == 1 and "written by a newer cnnzoo" in err


@pytest.mark.parametrize(
    "argv",
    [
        "predict {lab}/pickled_model.pth {lab}/digit.png",
        "train lenet5 --data cifar10:{lab}/cifar_str",
        "train lenet5 --data folder:{lab}/digits --seed 99999999999999999999",
    ],
)
def test_bad_inputs_in_a_real_process(argv: str, lab: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cnnzoo", *_split(argv, lab)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    _check_output(argv, proc.returncode, proc.stdout, proc.stderr)


def test_the_corpus_is_broad() -> None:
    # Without this, an emptied list would make the sweep above no test at all.
    assert len(CASES) >= 60
    assert len({c for c, _ in CASES}) == len(CASES)
