"""cnnzoo.load_data on real (sklearn digits) and generated data written to disk."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnzoo
from cnnzoo import labels
from cnnzoo.data import DataSplits, ImageSet, check_labels, load_data
from cnnzoo.errors import CnnzooError, DataError
from cnnzoo.preprocess import Preprocess, preprocess_for

from ._digits import (
    FER_BAD_KINDS,
    digits_arrays,
    digits_split,
    write_cifar10,
    write_digits_folder,
    write_digits_mnist,
    write_emotion_folder,
    write_fer_csv,
    write_idx,
)


def grey(size: int) -> Preprocess:
    return Preprocess(size=(size, size), channels=1, mean=(0.5,), std=(0.5,))


def rgb(size: int) -> Preprocess:
    return Preprocess(size=(size, size), channels=3, mean=(0.5,) * 3, std=(0.5,) * 3)


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits_folder(tmp_path_factory.mktemp("digits") / "folder")


@pytest.fixture(scope="module")
def digits_splits(digits_folder: Path) -> DataSplits:
    """The whole digits folder read once at 8x8 grey (the tests only read it)."""
    return load_data(f"folder:{digits_folder}", grey(8))


@pytest.fixture(scope="module")
def digits_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_digits_mnist(tmp_path_factory.mktemp("digits") / "mnist")


def folder_order(split_dir: Path) -> list[int]:
    """The digits indices in the order ImageFolder reads them (class, then file name)."""
    return [
        int(p.stem)
        for c in sorted(d.name for d in split_dir.iterdir())
        for p in sorted((split_dir / c).glob("*.png"))
    ]


# ---------------------------------------------------------------------------------------------
# each format loads, and the digits round-trip


def test_folder_digits_round_trip(digits_folder: Path, digits_splits: DataSplits) -> None:
    images, targets = digits_arrays()
    splits = digits_splits
    assert isinstance(splits, DataSplits)
    assert splits.classes == [str(d) for d in range(10)]
    assert splits.skipped == 0
    train_index, test_index = digits_split(len(targets))
    for part, index, name in (
        (splits.train, train_index, "train"),
        (splits.test, test_index, "test"),
    ):
        assert isinstance(part, ImageSet)
        order = folder_order(digits_folder / name)
        assert sorted(order) == sorted(index.tolist())
        assert part.images.dtype == torch.uint8 and part.labels.dtype == torch.int64
        assert part.images.shape == (len(order), 1, 8, 8)
        np.testing.assert_array_equal(part.images[:, 0].numpy(), images[order])
        np.testing.assert_array_equal(part.labels.numpy(), targets[order])
        assert str(digits_folder / name) in part.source
    # the held-out split is held out
    assert not set(folder_order(digits_folder / "train")) & set(
        folder_order(digits_folder / "test")
    )


def test_folder_grey_images_become_three_equal_channels(tmp_path: Path) -> None:
    root = write_digits_folder(tmp_path, n_per_class=5)
    splits = load_data(f"folder:{root}", rgb(8))
    x = splits.train.images
    assert x.shape[1:] == (3, 8, 8)
    assert torch.equal(x[:, 0], x[:, 1]) and torch.equal(x[:, 0], x[:, 2])
    assert x.float().std() > 0


def test_folder_at_model_size_matches_the_written_pngs(tmp_path: Path) -> None:
    root = write_digits_folder(tmp_path, size=32, n_per_class=3)
    images, _ = digits_arrays(32)
    splits = load_data(f"folder:{root}", preprocess_for("lenet5"))
    order = folder_order(root / "train")
    assert splits.train.images.shape == (30, 1, 32, 32)
    np.testing.assert_array_equal(splits.train.images[:, 0].numpy(), images[order])


def test_folder_without_train_dir_is_all_train(tmp_path: Path) -> None:
    write_digits_folder(tmp_path / "tree", n_per_class=2)
    # class folders directly under DIR; a hidden folder (a notebook's checkpoints) is no class
    (tmp_path / "tree" / "train" / ".ipynb_checkpoints").mkdir()
    splits = load_data(f"folder:{tmp_path / 'tree' / 'train'}", grey(8))
    assert splits.test is None
    assert len(splits.train) == 20
    assert splits.classes == [str(d) for d in range(10)]


def test_emotion_folder_is_the_labs_layout_and_learnable(tmp_path: Path) -> None:
    root = write_emotion_folder(tmp_path, n_per_class=12)
    splits = load_data(f"folder:{root}", preprocess_for("emotionnet"))
    assert splits.classes == list(labels.EMOTION3)
    assert splits.train.images.shape[1:] == (3, 48, 48)
    assert splits.test is not None and len(splits.test) == 9
    # learnable: even a nearest-centroid classifier separates the three classes
    x = splits.train.images[:, 0].float().flatten(1)
    centroids = torch.stack([x[splits.train.labels == k].mean(0) for k in range(3)])
    t = splits.test.images[:, 0].float().flatten(1)
    predicted = torch.cdist(t, centroids).argmin(1)
    assert (predicted == splits.test.labels).float().mean() >= 0.9


def test_mnist_digits_round_trip(digits_mnist: Path) -> None:
    images, targets = digits_arrays(28)
    train_index, test_index = digits_split(len(targets))
    splits = load_data(f"mnist:{digits_mnist}", grey(28))
    assert splits.classes == list(labels.MNIST)
    assert splits.test is not None
    for part, index in ((splits.train, train_index), (splits.test, test_index)):
        assert part.images.dtype == torch.uint8 and part.labels.dtype == torch.int64
        np.testing.assert_array_equal(part.images[:, 0].numpy(), images[index])
        np.testing.assert_array_equal(part.labels.numpy(), targets[index])


def test_mnist_resize_to_lenet5_is_the_labs_pil_resize(digits_mnist: Path) -> None:
    from PIL import Image

    images, _ = digits_arrays(28)
    train_index, _ = digits_split(len(images))
    splits = load_data(f"mnist:{digits_mnist}", preprocess_for("lenet5"))
    assert splits.train.images.shape == (len(train_index), 1, 32, 32)
    for k in range(0, len(train_index), 97):
        pil = Image.fromarray(images[train_index[k]]).resize((32, 32), Image.Resampling.BILINEAR)
        np.testing.assert_array_equal(splits.train.images[k, 0].numpy(), np.asarray(pil))


def test_shrinking_colour_images_is_pils_resize_within_one_level(tmp_path: Path) -> None:
    from PIL import Image

    root = write_cifar10(tmp_path, n_per_batch=2)
    splits = load_data(f"cifar10:{root}", rgb(20))
    full = load_data(f"cifar10:{root}", rgb(32))
    for k in range(len(splits.train)):
        image = Image.fromarray(full.train.images[k].permute(1, 2, 0).numpy())
        pil = np.asarray(image.resize((20, 20), Image.Resampling.BILINEAR), dtype=int)
        ours = splits.train.images[k].permute(1, 2, 0).numpy().astype(int)
        assert np.abs(ours - pil).max() <= 1


def test_mnist_takes_the_mnist_and_raw_folders_too(digits_mnist: Path) -> None:
    expected = load_data(f"mnist:{digits_mnist}", grey(28)).train.images
    for path in (digits_mnist / "MNIST", digits_mnist / "MNIST" / "raw"):
        assert torch.equal(load_data(f"mnist:{path}", grey(28)).train.images, expected)


def test_download_goes_through_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision import datasets

    fetched: list[str] = []

    def fake_download(self: datasets.MNIST) -> None:  # what a download leaves behind
        fetched.append(self.raw_folder)
        write_digits_mnist(Path(self.root))

    monkeypatch.setattr(datasets.MNIST, "download", fake_download)
    with pytest.raises(DataError, match="--download"):
        load_data(f"mnist:{tmp_path}", grey(28))
    assert not fetched
    splits = load_data(f"mnist:{tmp_path}", grey(28), download=True)
    assert fetched and len(splits.train) == 1438


def test_fashion_mnist_layout_and_labels(tmp_path: Path) -> None:
    root = write_digits_mnist(tmp_path, folder="FashionMNIST")
    splits = load_data(f"fashion-mnist:{root}", rgb(28))
    assert splits.classes == list(labels.FASHION_MNIST)
    assert splits.train.images.shape[1:] == (3, 28, 28)
    with pytest.raises(DataError, match="MNIST files are not there"):
        load_data(f"mnist:{root}", grey(28))  # FashionMNIST files are not MNIST's


def test_cifar10_python_batches(tmp_path: Path) -> None:
    from PIL import Image

    root = write_cifar10(tmp_path, n_per_batch=4)
    splits = load_data(f"cifar10:{root}", rgb(32))
    assert splits.classes[:2] == ["airplane", "automobile"] and len(splits.classes) == 10
    assert splits.train.images.shape == (20, 3, 32, 32)
    assert splits.test is not None and splits.test.images.shape == (4, 3, 32, 32)
    assert splits.train.labels.tolist() == [k % 10 for k in range(20)]
    import pickle

    with open(root / "cifar-10-batches-py" / "data_batch_1", "rb") as f:
        first = pickle.load(f)["data"].reshape(-1, 3, 32, 32)
    np.testing.assert_array_equal(splits.train.images[:4].numpy(), first)
    # to grey as PIL's convert("L") does, the conversion predict applies to a colour image
    grey_splits = load_data(f"cifar10:{root}", grey(32))
    pil = np.asarray(Image.fromarray(first[0].transpose(1, 2, 0)).convert("L"))
    np.testing.assert_array_equal(grey_splits.train.images[0, 0].numpy(), pil)


def test_fer2013_splits_and_pixels(tmp_path: Path) -> None:
    csv_path = tmp_path / "fer2013.csv"
    info = write_fer_csv(csv_path, n=40)
    splits = load_data(f"fer2013:{csv_path}", grey(48))
    assert splits.classes == list(labels.FER2013)
    assert len(splits.train) == info["Training"] == 28
    assert splits.test is not None
    assert len(splits.test) == info["PublicTest"] + info["PrivateTest"] == 12
    assert "PublicTest 6" in splits.test.source and "PrivateTest 6" in splits.test.source
    assert any("PublicTest" in n and "PrivateTest" in n for n in splits.notes)
    rows = csv_path.read_text().splitlines()[1:]
    first = np.array(rows[0].split(",")[1].split(), dtype=np.uint8).reshape(48, 48)
    np.testing.assert_array_equal(splits.train.images[0, 0].numpy(), first)
    assert splits.train.labels.tolist() == [i % 7 for i in range(28)]
    assert splits.test.labels.tolist() == [i % 7 for i in range(28, 40)]
    three = load_data(f"fer2013:{csv_path}", preprocess_for("emotionnet"))
    assert three.train.images.shape == (28, 3, 48, 48)
    assert torch.equal(three.train.images[:, 2], splits.train.images[:, 0])


def test_fer2013_without_usage_is_all_train(tmp_path: Path) -> None:
    csv_path = tmp_path / "train.csv"
    write_fer_csv(csv_path, n=10, usage=False)
    splits = load_data(f"fer2013:{csv_path}", grey(48))
    assert len(splits.train) == 10 and splits.test is None


def test_data_error_is_exported_and_a_value_error() -> None:
    assert cnnzoo.DataError is DataError
    assert issubclass(DataError, CnnzooError) and issubclass(DataError, ValueError)
    assert cnnzoo.load_data is load_data and cnnzoo.check_labels is check_labels


# ---------------------------------------------------------------------------------------------
# bad data: a clear error naming the file or row


def test_unknown_and_missing_scheme() -> None:
    with pytest.raises(DataError, match=r"did you mean 'mnist'.*folder:DIR.*fer2013:CSV"):
        load_data("minst:/data", grey(28))
    with pytest.raises(DataError, match="folder:/some/dir"):
        load_data("/some/dir", grey(28))
    with pytest.raises(DataError, match="names no path"):
        load_data("folder:", grey(28))


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("folder", "no such directory"),
        ("mnist", r"MNIST/raw.*--download"),
        ("fashion-mnist", r"FashionMNIST/raw.*--download"),
        ("cifar10", r"cifar-10-batches-py.*--download"),
        ("fer2013", "no such file"),
    ],
)
def test_missing_data_names_where_it_was_expected(
    tmp_path: Path, scheme: str, expected: str
) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match=expected) as err:
        load_data(f"{scheme}:{missing}", grey(28))
    assert str(missing) in str(err.value)


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()
    with pytest.raises(DataError, match=f"{re.escape(str(tmp_path / 'train'))} is empty"):
        load_data(f"folder:{tmp_path}", grey(8))


def test_images_without_class_folders(tmp_path: Path) -> None:
    write_digits_folder(tmp_path / "d", n_per_class=1)
    loose = tmp_path / "loose"
    loose.mkdir()
    for p in (tmp_path / "d" / "train").rglob("*.png"):
        p.rename(loose / p.name)
    with pytest.raises(DataError, match="holds images but no class folders"):
        load_data(f"folder:{loose}", grey(8))


def test_single_class(tmp_path: Path) -> None:
    write_emotion_folder(tmp_path, n_per_class=2, size=8)
    import shutil

    shutil.rmtree(tmp_path / "train" / "neutral")
    shutil.rmtree(tmp_path / "train" / "sad")
    with pytest.raises(DataError, match="only one class folder \\('happy'\\)"):
        load_data(f"folder:{tmp_path}", grey(8))


def test_class_folder_without_images(tmp_path: Path) -> None:
    write_emotion_folder(tmp_path, n_per_class=2, size=8)
    for p in (tmp_path / "train" / "sad").iterdir():
        p.unlink()
    (tmp_path / "train" / "sad" / "notes.txt").write_text("not an image")
    with pytest.raises(
        DataError, match=re.escape(str(tmp_path / "train" / "sad")) + " has no images"
    ):
        load_data(f"folder:{tmp_path}", grey(8))


def test_test_split_with_other_classes(tmp_path: Path) -> None:
    write_emotion_folder(tmp_path, n_per_class=4, size=8)
    (tmp_path / "test" / "sad").rename(tmp_path / "test" / "angry")
    with pytest.raises(DataError, match="only in train: sad; only in test: angry"):
        load_data(f"folder:{tmp_path}", grey(8))


def test_unreadable_image_skipped_or_strict(tmp_path: Path) -> None:
    write_emotion_folder(tmp_path, n_per_class=4, size=8)
    bad = tmp_path / "train" / "neutral" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    splits = load_data(f"folder:{tmp_path}", grey(8))
    assert splits.skipped == 1
    assert len(splits.problems) == 1 and str(bad) in splits.problems[0]
    assert len(splits.train) == 9  # 3 classes x 3 train images; the broken one left out
    assert splits.train.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    with pytest.raises(DataError, match=re.escape(str(bad))):
        load_data(f"folder:{tmp_path}", grey(8), strict=True)


def test_all_images_unreadable(tmp_path: Path) -> None:
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        (tmp_path / c / "x.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of its 2 images could be read"):
        load_data(f"folder:{tmp_path}", grey(8))


@pytest.mark.parametrize("kind", FER_BAD_KINDS)
def test_fer2013_malformed_row_skipped_or_strict(tmp_path: Path, kind: str) -> None:
    csv_path = tmp_path / "fer2013.csv"
    info = write_fer_csv(csv_path, n=14, bad=[kind])
    splits = load_data(f"fer2013:{csv_path}", grey(48))
    assert splits.skipped == 1
    assert len(splits.train) + len(splits.test) == 14
    assert f"line {info[kind]}" in splits.problems[0]
    with pytest.raises(DataError, match=f"{re.escape(str(csv_path))}, line {info[kind]}: "):
        load_data(f"fer2013:{csv_path}", grey(48), strict=True)


def test_fer2013_strict_names_the_first_bad_row(tmp_path: Path) -> None:
    csv_path = tmp_path / "fer2013.csv"
    # a pixel problem (found in bulk) before a column problem (found while reading)
    info = write_fer_csv(csv_path, n=7, bad=["count", "columns", "emotion"])
    splits = load_data(f"fer2013:{csv_path}", grey(48))
    assert splits.skipped == 3
    assert [re.search(r"line (\d+)", p).group(1) for p in splits.problems] == [
        str(info[k]) for k in ("count", "columns", "emotion")
    ]
    with pytest.raises(DataError, match=f"line {info['count']}: 2303 pixel values.*2 more"):
        load_data(f"fer2013:{csv_path}", grey(48), strict=True)


def test_fer2013_messages_say_what_is_wrong(tmp_path: Path) -> None:
    csv_path = tmp_path / "fer2013.csv"
    write_fer_csv(csv_path, n=7, bad=list(FER_BAD_KINDS))
    problems = "\n".join(load_data(f"fer2013:{csv_path}", grey(48)).problems)
    for expected in (
        "2 columns, expected 3",
        "2303 pixel values, expected 2304",
        "'12.5' is not an integer",
        "emotion 7 is outside 0..6",
        "256 is outside 0..255",
        "Usage 'Validation'",
    ):
        assert expected in problems


def test_fer2013_without_valid_rows(tmp_path: Path) -> None:
    csv_path = tmp_path / "fer2013.csv"
    write_fer_csv(csv_path, n=0, bad=["count", "emotion"])
    with pytest.raises(DataError, match=r"no valid rows \(2 malformed\)"):
        load_data(f"fer2013:{csv_path}", grey(48))
    only_header = tmp_path / "empty.csv"
    only_header.write_text("emotion,pixels,Usage\n")
    with pytest.raises(DataError, match="no valid rows"):
        load_data(f"fer2013:{only_header}", grey(48))


def test_damaged_idx_file_is_named(tmp_path: Path) -> None:
    root = write_digits_mnist(tmp_path)
    raw = root / "MNIST" / "raw"
    (raw / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    with pytest.raises(DataError, match=f"cannot read the train files in {re.escape(str(raw))}"):
        load_data(f"mnist:{root}", grey(28))


def test_mismatched_idx_counts(tmp_path: Path) -> None:
    root = write_digits_mnist(tmp_path)
    write_idx(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(DataError, match="images but 3 labels"):
        load_data(f"mnist:{root}", grey(28))


def test_label_outside_the_datasets_classes(tmp_path: Path) -> None:
    root = write_digits_mnist(tmp_path)
    labels_file = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    _, targets = digits_arrays()
    _, test_index = digits_split(len(targets))
    bad = targets[test_index].astype(np.uint8)
    bad[5] = 12
    write_idx(labels_file, bad)
    with pytest.raises(DataError, match=r"label 12 of image 5 is outside 0\.\.9"):
        load_data(f"mnist:{root}", grey(28))


def test_gzipped_mnist_files_get_a_hint(tmp_path: Path) -> None:
    import gzip

    root = write_digits_mnist(tmp_path)
    raw = root / "MNIST" / "raw"
    for f in list(raw.iterdir()):
        (raw / f"{f.name}.gz").write_bytes(gzip.compress(f.read_bytes()))
        f.unlink()
    with pytest.raises(DataError, match=r"ubyte\.gz found: decompress them with gunzip"):
        load_data(f"mnist:{root}", grey(28))


def test_check_labels_names_the_label(digits_splits: DataSplits) -> None:
    splits = digits_splits
    check_labels(splits, 10)
    with pytest.raises(DataError, match=r"label 9 \('9'\).*beyond the model's 7 classes"):
        check_labels(splits, 7)


def test_memory_guard(monkeypatch: pytest.MonkeyPatch, digits_mnist: Path) -> None:
    import cnnzoo.data

    monkeypatch.setattr(cnnzoo.data, "_available_memory", lambda: 4 * 2**20)
    with pytest.raises(DataError, match=r"1,438 images at 3x224x224 .*smaller input size"):
        load_data(f"mnist:{digits_mnist}", rgb(224))
    assert load_data(f"mnist:{digits_mnist}", grey(28)).train.images.shape[0] == 1438
