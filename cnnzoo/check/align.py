"""Lining two structures up: the reference's layers against the student's, by order and kind.

Names play no part. The layers that shape the maps (conv, pool, linear, flatten) are aligned
one by one, as an edit distance over their kinds: a missing pool or an extra conv is a gap, so
the layers after it still find their partners. The others (activations, Dropout, BatchNorm) are
aligned within each block, between one conv or linear and the next: conv -> LeakyReLU -> pool
and conv -> pool -> LeakyReLU are the same block.

A conv whose kernel covers its whole input map (LeNet-5's C5: ``Conv2d(16, 120, 5)`` on the
16x5x5 map, output 120x1x1) is a fully connected layer written as a conv: it lines up with a
reference Linear of ``C*K*K`` inputs, and the flatten that follows it with the reference's
flatten before the Linear (and the other way round).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .structure import STRUCTURAL, Layer, Structure

__all__ = ["Pair", "align", "as_linear"]

_GAP = 1.0
_NEVER = 1e9


@dataclass(frozen=True)
class Pair:
    """A reference layer and the student's layer lined up with it (None: no partner)."""

    ref: Layer | None
    got: Layer | None


def as_linear(la: Layer | None) -> tuple[int, int] | None:
    """(in_features, out_features) of a conv whose kernel covers its whole input map (it
    computes what a Linear on the flattened map computes); None for any other layer."""
    if la is None or la.kind != "conv" or not la.input or len(la.input) < 2:
        return None
    a = la.attrs
    spatial = list(la.input[1:])
    flat = (
        la.input[0] == a.get("in_channels")
        and a.get("groups", 1) == 1
        and list(a.get("kernel", [])) == spatial
        and a.get("padding") == [0] * len(spatial)
        and all(d == 1 for d in a.get("dilation", [1]))
    )
    if not flat:
        return None
    n_in = a["in_channels"]
    for k in spatial:
        n_in *= k
    return n_in, a["out_channels"]


def _fc_order(layers: Sequence[Layer]) -> list[Layer]:
    """The structural layers with each flatten moved before the run of conv-as-Linear layers
    just before it: conv(16, 120, 5) -> flatten reads as flatten -> Linear(400, 120)."""
    out = list(layers)
    for i in range(len(out)):
        if out[i].kind != "flatten":
            continue
        j = i
        while j > 0 and as_linear(out[j - 1]) is not None:
            j -= 1
        if j < i:
            out.insert(j, out.pop(i))
    return out


def _cost(a: Layer, b: Layer) -> float:
    if {a.kind, b.kind} == {"conv", "linear"}:
        conv, lin = (a, b) if a.kind == "conv" else (b, a)
        eq = as_linear(conv)
        if eq is None:
            return _NEVER
        la = lin.attrs
        return 0.05 + 0.1 * ((eq[0] != la["in_features"]) + (eq[1] != la["out_features"]))
    if a.kind != b.kind:
        return _NEVER
    if a.kind in ("pool", "act", "norm") and a.type != b.type:
        return 0.4  # a max pool for an avg pool, ReLU for LeakyReLU: still the same place
    # Among layers of one kind, the one with the same settings is the better partner (ties
    # between two Linear layers when one is missing), yet any of them beats a gap.
    keys = ("in_channels", "out_channels", "kernel", "stride", "padding", "in_features",
            "out_features")  # fmt: skip
    return 0.1 * sum(1 for k in keys if a.attrs.get(k) != b.attrs.get(k))


def _edit(ref: Sequence[Layer], got: Sequence[Layer]) -> list[Pair]:
    n, m = len(ref), len(got)
    d = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][0] = i * _GAP
    for j in range(1, m + 1):
        d[0][j] = j * _GAP
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(
                d[i - 1][j - 1] + _cost(ref[i - 1], got[j - 1]),
                d[i - 1][j] + _GAP,
                d[i][j - 1] + _GAP,
            )
    pairs: list[Pair] = []
    i, j = n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + _cost(ref[i - 1], got[j - 1]):
            pairs.append(Pair(ref[i - 1], got[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + _GAP:
            pairs.append(Pair(ref[i - 1], None))
            i -= 1
        else:
            pairs.append(Pair(None, got[j - 1]))
            j -= 1
    return pairs[::-1]


def _blocks(layers: Sequence[Layer], anchors: dict[int, int]) -> dict[int, list[Layer]]:
    """The non-structural layers by block: the aligned position of the conv or linear before
    them (-1 before the first)."""
    out: dict[int, list[Layer]] = {}
    block = -1
    for la in layers:
        if la.kind in ("conv", "linear") and la.index in anchors:
            block = anchors[la.index]
        elif la.kind not in STRUCTURAL and la.kind != "noop":
            out.setdefault(block, []).append(la)
    return out


def align(ref: Structure, got: Structure) -> list[Pair]:
    """Every layer of both structures, paired, in the student's order (a reference layer with
    no partner sits where the reference has it)."""
    main = _edit(_fc_order(ref.structural()), _fc_order(got.structural()))
    ref_anchor: dict[int, int] = {}
    got_anchor: dict[int, int] = {}
    for k, p in enumerate(main):
        if p.ref is not None and p.ref.kind in ("conv", "linear"):
            ref_anchor[p.ref.index] = k
        if p.got is not None and p.got.kind in ("conv", "linear"):
            got_anchor[p.got.index] = k
    ref_soft = _blocks(ref.layers, ref_anchor)
    got_soft = _blocks(got.layers, got_anchor)
    soft: list[Pair] = []
    for block in sorted(set(ref_soft) | set(got_soft)):
        soft += _edit(ref_soft.get(block, []), got_soft.get(block, []))
    pairs = main + soft
    # Order: the student's execution order; a reference-only layer after the pair holding the
    # reference layer just before it.
    pos_of_ref: dict[int, float] = {}
    for p in pairs:
        if p.ref is not None and p.got is not None:
            pos_of_ref[p.ref.index] = p.got.index

    def key(p: Pair) -> tuple[float, int]:
        if p.got is not None:
            return (p.got.index, 0)
        assert p.ref is not None
        before = [pos for idx, pos in pos_of_ref.items() if idx < p.ref.index]
        return ((max(before) if before else -1) + 0.5, p.ref.index)

    return sorted(pairs, key=key)
