"""Property-based tests of the parsers that read outside data, with generated malformed input.

For each parser, the only exception allowed out is cnnzoo's own named error for it (a
``DataError``, ``CheckpointError`` or ``SpecError``, all ``cnnzoo.errors.CnnzooError``); where a
slow, obviously right reference exists (a FER2013 pixels field), the fast parser must agree with
it exactly. Example counts are modest so the suite stays fast.
"""

from __future__ import annotations

import json
import math
import pickle
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomllib
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cnnzoo
from cnnzoo.checkpoint import CHECKPOINT_FORMAT, read_checkpoint
from cnnzoo.data import _parse_pixel_rows, load_data
from cnnzoo.errors import CheckpointError, CnnzooError, DataError, SpecError
from cnnzoo.preprocess import Preprocess, preprocess_for

from ._digits import write_cifar10, write_idx

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GREY32 = Preprocess(size=(32, 32), channels=1, mean=(0.5,), std=(0.5,))

# ---------------------------------------------------------------------------------------------
# FER2013 rows

#: Characters a mangled pixels field may hold: digits, ASCII and Unicode blanks, junk.
_CHARS = st.sampled_from(list("0123456789  \t,.-+\u00a0\u2009\u3000\u00e9\x0b\x85\u2028\ufeffx"))
_GOOD = ["7"] * 2304


@st.composite
def pixel_fields(draw: st.DrawFn) -> str:
    """A valid 2304-value field with a few tokens and separators replaced by odd text."""
    tokens = list(_GOOD)
    seps = [" "] * 2303
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, 2303))
        tokens[i] = draw(st.text(_CHARS, min_size=0, max_size=4))
    for _ in range(draw(st.integers(0, 3))):
        seps[draw(st.integers(0, 2302))] = draw(st.text(_CHARS, min_size=1, max_size=2))
    drop = draw(st.integers(0, 2))
    text = "".join(t + s for t, s in zip(tokens, [*seps, ""], strict=True))
    return " ".join(text.split(" ")[: len(text.split(" ")) - drop]) if drop else text


def _reference(field: str) -> list[int] | None:
    """The values of a pixels field, or None: blanks (Unicode ones too, but no line breaks)
    separate exactly 2304 ASCII integers 0..255."""
    if any(c in "\x85\u2028\u2029" for c in field):
        return None
    tokens = field.split()
    if len(tokens) != 2304:
        return None
    if not all(t.isascii() and t.isdigit() and int(t) <= 255 for t in tokens):
        return None
    return [int(t) for t in tokens]


@SETTINGS
@given(st.lists(pixel_fields(), min_size=1, max_size=4))
def test_fer_pixel_parser_agrees_with_the_reference(fields: list[str]) -> None:
    fields = [f.replace("\n", " ").replace("\r", " ") for f in fields]
    values, ok = _parse_pixel_rows(fields)
    expected = [_reference(f) for f in fields]
    assert ok.tolist() == [e is not None for e in expected]
    assert values.tolist() == [e for e in expected if e is not None]


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["0", "3", "6", "7", "-1", "x", " 2", "", "3\u00a0"]),
            pixel_fields(),
            st.sampled_from(["Training", "PublicTest", "PrivateTest", "Validation", ""]),
        ),
        min_size=0,
        max_size=5,
    ),
    st.booleans(),
)
def test_fer_csv_gives_splits_or_a_data_error(
    rows: list[tuple[str, str, str]], strict: bool
) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "fer.csv"
        lines = ["emotion,pixels,Usage"] + [",".join(r) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        try:
            splits = load_data(f"fer2013:{path}", GREY32, strict=strict)
        except DataError:
            return
        assert splits.train.images.shape[1:] == (1, 32, 32)
        assert len(splits.train.labels.unique()) >= 2


# ---------------------------------------------------------------------------------------------
# idx headers (MNIST)


@SETTINGS
@given(
    st.sampled_from(
        [
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ]
    ),
    st.binary(min_size=0, max_size=4),
    st.lists(st.integers(0, 2**32 - 1), max_size=4),
    st.integers(0, 200),
)
def test_idx_headers_give_splits_or_a_data_error(
    name: str, magic: bytes, dims: list[int], payload: int
) -> None:
    with tempfile.TemporaryDirectory() as d:
        raw = Path(d) / "MNIST" / "raw"
        images = np.arange(6 * 28 * 28, dtype=np.uint8).reshape(6, 28, 28)
        labels = np.array([0, 1, 0, 1, 0, 1], dtype=np.uint8)
        for prefix in ("train", "t10k"):
            write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
            write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        header = magic + struct.pack(f">{len(dims)}I", *dims)
        (raw / name).write_bytes(header + bytes(payload))
        try:
            splits = load_data(f"mnist:{d}", GREY32)
        except DataError:
            return
        assert len(splits.train) == len(splits.train.labels)


# ---------------------------------------------------------------------------------------------
# CIFAR pickles

_LABEL = st.one_of(
    st.integers(-3, 12), st.integers(), st.none(), st.text(max_size=3), st.booleans(), st.floats()
)
_DATA = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.integers(),
    st.lists(st.integers(-1, 300), max_size=5),
    st.tuples(st.integers(0, 5), st.sampled_from([3072, 3071, 1]), st.sampled_from(
        ["uint8", "int64", "float32", "int8"])).map(
        lambda t: np.ones((t[0], t[1]), dtype=t[2]) * (200 if t[2] != "int8" else -1)),
)  # fmt: skip


@SETTINGS
@given(
    st.one_of(
        st.fixed_dictionaries(
            {"data": _DATA, "labels": st.one_of(st.lists(_LABEL, max_size=6), _LABEL)}
        ),
        st.lists(st.integers(), max_size=3),
        st.none(),
        st.text(max_size=4),
    )
)
def test_cifar_batches_give_splits_or_a_data_error(entry: Any) -> None:
    with tempfile.TemporaryDirectory() as d:
        write_cifar10(d)
        with open(Path(d) / "cifar-10-batches-py" / "data_batch_2", "wb") as f:
            pickle.dump(entry, f)
        try:
            splits = load_data(f"cifar10:{d}", GREY32)
        except DataError:
            return
        assert int(splits.train.labels.min()) >= 0 and int(splits.train.labels.max()) < 10


# ---------------------------------------------------------------------------------------------
# checkpoints' stored fields

_PLAIN = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_FIELDS = ("model", "model_kwargs", "labels", "preprocess", "epoch", "history", "state_dict")


@pytest.fixture(scope="module")
def lenet_payload() -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "model": "lenet5",
        "model_kwargs": {"num_classes": 10},
        "state_dict": cnnzoo.create("lenet5").state_dict(),
        "labels": [str(i) for i in range(10)],
        "preprocess": preprocess_for("lenet5").to_dict(),
        "epoch": 1,
    }


@SETTINGS
@given(
    st.dictionaries(
        st.sampled_from(_FIELDS),
        st.one_of(
            _PLAIN,
            st.just({"num_classes": 3}),
            st.just({"size": [32, 32], "channels": 3, "mean": [0.5], "std": [0.0]}),
            st.just({"conv1.weight": torch.zeros(2)}),
        ),
        max_size=3,
    ),
    st.sampled_from([CHECKPOINT_FORMAT, "cnnzoo.checkpoint/2", "cnnzoo.checkpoint/x", None]),
)
def test_checkpoint_fields_load_or_give_a_checkpoint_error(
    lenet_payload: dict[str, Any], changes: dict[str, Any], fmt: str | None
) -> None:
    from cnnzoo.inspect import load_trained

    payload = {**lenet_payload, **changes}
    if fmt is None:
        payload.pop("format")
    else:
        payload["format"] = fmt
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.pth"
        torch.save(payload, path)
        try:
            read_checkpoint(path)
        except CheckpointError:
            return
        try:
            model, labels, pre = load_trained(path, model="lenet5" if fmt is None else None)
        except CnnzooError:
            return
        assert len(labels) == model.num_classes and pre.channels in (1, 3)


# ---------------------------------------------------------------------------------------------
# TOML tables


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return (
            "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        )
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def _toml(data: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in data.items())


_SPEC = Path(cnnzoo.__file__).parent / "specs" / "lenet5_004.toml"
_TOML_LEAF = st.one_of(
    st.booleans(), st.integers(-5, 10**6), st.floats(), st.text(max_size=8),
    st.lists(st.integers(-2, 40), max_size=4), st.sampled_from(["lenet5", "conv1", "layers"]),
)  # fmt: skip
_TOML_VALUE = st.one_of(
    _TOML_LEAF,
    st.dictionaries(st.sampled_from(["id", "module", "output", "kind"]), _TOML_LEAF, max_size=3),
)


@SETTINGS
@given(st.data())
def test_spec_tables_load_and_check_or_give_a_spec_error(data: st.DataObject) -> None:
    spec = tomllib.loads(_SPEC.read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(["top", "row", "erratum", "drop"]))
        if where == "top":
            spec[data.draw(st.sampled_from([*spec, "extra"]))] = data.draw(_TOML_VALUE)
        elif where == "row" and isinstance(spec.get("rows"), list) and spec["rows"]:
            i = data.draw(st.integers(0, len(spec["rows"]) - 1))
            row = spec["rows"][i]
            if isinstance(row, dict):
                key = data.draw(st.sampled_from([*row, "shape", "count", "params"]))
                row[key] = data.draw(_TOML_VALUE)
            else:
                spec["rows"][i] = data.draw(_TOML_VALUE)
        elif where == "erratum" and isinstance(spec.get("errata"), list) and spec["errata"]:
            e = spec["errata"][0]
            if isinstance(e, dict):
                e[data.draw(st.sampled_from([*e, "extra"]))] = data.draw(_TOML_VALUE)
        elif where == "drop" and spec:
            spec.pop(data.draw(st.sampled_from(sorted(spec))))
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "table.toml"
        path.write_text(_toml(spec), encoding="utf-8")
        try:
            cnnzoo.check(str(path))
        except (SpecError, CnnzooError):
            return


def test_the_toml_writer_round_trips() -> None:
    # The generated tables above are only as good as this writer.
    spec = tomllib.loads(_SPEC.read_text(encoding="utf-8"))
    assert tomllib.loads(_toml(spec)) == spec
