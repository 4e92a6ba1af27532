"""Judging an alignment like a teacher: the first difference with its cause, then what follows.

For every aligned pair the layer's own settings (kernel, stride, padding, channels, features)
are compared first: a difference there is a *cause*, written in the course's formula. A
different output shape, or an input size that only differs because an earlier layer's output
did, is a *consequence* and says where it comes from. A forward pass that fails is diagnosed at
the layer where it fails ("fc1 takes 6400 inputs; the flatten before it gives 256 x 4 x 4 =
4096"). Activations, Dropout and BatchNorm only give notes: they change training, not shapes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from .align import Pair, as_linear
from .formula import params_text, shape_text, size_text
from .structure import STRUCTURAL, Layer, Structure

__all__ = ["Diagnosis", "Difference", "LayerRow", "diagnose"]


@dataclass(frozen=True)
class Difference:
    """One difference: the student's layer, what differs, the reference's and the student's
    values, and why (the formula); ``consequence`` when it follows from an earlier one."""

    layer: str
    field: str
    expected: Any
    got: Any
    cause: str
    consequence: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "field": self.field,
            "expected": self.expected,
            "got": self.got,
            "cause": self.cause,
            "consequence": self.consequence,
        }


@dataclass(frozen=True)
class LayerRow:
    """One aligned pair as the report's table shows it."""

    layer: str | None
    reference: str | None
    type: str
    output: list[int] | None
    expected: list[int] | None
    params: int
    #: match, differs, missing, extra, note, not reached, order (ok, activation and pool swapped)
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Diagnosis:
    differences: tuple[Difference, ...]
    notes: tuple[str, ...]
    rows: tuple[LayerRow, ...]


def _one(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and value and all(v == value[0] for v in value):
        return value[0]
    return value


def _describe(la: Layer) -> str:
    a = la.attrs
    if la.kind == "pool":
        if a.get("adaptive"):
            return f"an adaptive {a['op']} pool"
        return f"a {a['op']} pool of kernel {_one(a['kernel'])}, stride {_one(a['stride'])}"
    if la.kind == "conv":
        return f"a {_one(a['kernel'])}x{_one(a['kernel'])} conv with {a['out_channels']} filters"
    if la.kind == "linear":
        return f"a Linear({a['in_features']}, {a['out_features']})"
    if la.kind == "flatten":
        return "a flatten"
    return la.type


_SETTINGS = {
    "conv": ("out_channels", "kernel", "stride", "padding", "dilation", "groups"),
    "pool": ("op", "kernel", "stride", "padding", "dilation", "ceil_mode", "output_size"),
    "linear": ("out_features",),
    "flatten": (),
}
_FIELD_WORDS = {
    "out_channels": "filters",
    "out_features": "outputs",
    "op": "pooling",
    "ceil_mode": "ceil_mode",
}


class _Judge:
    def __init__(self, ref: Structure, got: Structure, doc: str) -> None:
        self.ref, self.got, self.doc = ref, got, doc
        self.diffs: list[Difference] = []
        self.notes: list[str] = []
        self.rows: list[LayerRow] = []
        self.first: Difference | None = None
        self.crash_layer = got.crash.layer if got.crash else None

    def add(self, d: Difference) -> None:
        if not d.consequence and self.first is None:
            self.first = d
        self.diffs.append(d)

    def origin(self) -> str:
        if self.first is None:
            return "the layers before"
        if self.first.field == "layer":
            if self.first.got is None:
                return f"the {self.first.expected} missing after {self.first.layer}"
            return f"the extra {self.first.layer}"
        word = _FIELD_WORDS.get(self.first.field, self.first.field)
        if " " in self.first.layer:
            return f"the {word} of {self.first.layer}"
        return f"{self.first.layer}'s {word}"

    # --- pairs ---

    def pair(self, r: Layer, g: Layer) -> str:
        if r.kind != g.kind:
            return self.pair_fc(r, g)
        a, b = r.attrs, g.attrs
        verdict = "match"
        reached = g.output is not None or g.index == self.crash_layer
        own: list[Difference] = []
        for f in _SETTINGS[r.kind]:
            if f not in a or f not in b:
                continue  # an avg pool has no dilation
            ev, gv = a.get(f), b.get(f)
            if _one(ev) == _one(gv):
                continue
            own.append(Difference(g.label, f, _one(ev), _one(gv), self.cause_text(r, g, f)))
        for d in own:
            self.add(d)
        if own:
            verdict = "differs"
        if g.index == self.crash_layer:
            self.crash(r, g)
            return "differs"
        if not reached:
            return "not reached" if not own else verdict
        # what the layer takes: channels or features (a consequence, or the crash above)
        for f in ("in_channels", "in_features"):
            if f in a and a[f] != b.get(f):
                unit = "channels" if f == "in_channels" else "inputs"
                text = (
                    f"{g.label} takes {b.get(f):,} {unit} where {self.doc} has {a[f]:,}, to fit "
                    f"what it gets (follows from {self.origin()})"
                )
                self.add(Difference(g.label, f, a[f], b.get(f), text, consequence=True))
                verdict = "differs"
        if r.output is not None and g.output is not None and r.output != g.output:
            how = size_text(g)
            text = (
                f"{g.label} gives {shape_text(g.output)} where {self.doc} has "
                f"{shape_text(r.output)}" + (f": {how}" if how else "")
            )
            if own:
                pass  # the cause above already shows this output in its formula
            elif self.first is not None or r.input != g.input:
                self.add(
                    Difference(g.label, "output", r.output, g.output,
                               f"{text} (follows from {self.origin()})",
                               consequence=True)
                )  # fmt: skip
            else:
                self.add(Difference(g.label, "output", r.output, g.output, text))
            verdict = "differs"
        return verdict

    def pair_fc(self, r: Layer, g: Layer) -> str:
        """A Linear against a conv whose kernel covers its whole input map (LeNet-5's C5):
        the same map; their inputs and outputs are compared as features."""
        conv = g if g.kind == "conv" else r
        eq = as_linear(conv)
        assert eq is not None
        if g.kind == "conv":
            (g_in, g_out), r_in, r_out = eq, r.attrs["in_features"], r.attrs["out_features"]
        else:
            (r_in, r_out), g_in, g_out = eq, g.attrs["in_features"], g.attrs["out_features"]
        kern = conv.attrs["kernel"]
        k = str(kern[0]) if len(set(kern)) == 1 else str(tuple(kern))
        cin = conv.attrs["in_channels"]
        conv_text = f"Conv2d({cin}, {conv.attrs['out_channels']}, {k})"
        map_text = shape_text(conv.input)
        if g.index == self.crash_layer:
            self.crash(r, g)
            return "differs"
        verdict = "match"
        if g_out != r_out:
            f = "out_channels" if g.kind == "conv" else "out_features"
            unit = "filters" if g.kind == "conv" else "outputs"
            ours, theirs = params_text(g), params_text(r)
            head = f"{g.label}: {g_out:,} {unit} where {self.doc} has {r_out:,}"
            if ours and theirs:
                head += f": {ours} parameters, expected {theirs}"
            self.add(Difference(g.label, f, r_out, g_out, head))
            verdict = "differs"
        if g_in != r_in:
            text = (
                f"{g.label} takes {g_in:,} inputs where {self.doc} has {r_in:,}, to fit what it "
                f"gets (follows from {self.origin()})"
            )
            f = "in_channels" if g.kind == "conv" else "in_features"
            self.add(Difference(g.label, f, r_in, g_in, text, consequence=True))
            verdict = "differs"
        same = "the same map and the same parameters" if g.params == r.params else "the same map"
        if g.kind == "conv":
            self.notes.append(
                f"{g.label}: {conv_text} on the {map_text} map covers the whole map (output "
                f"{shape_text(g.output)}): a fully connected layer written as a conv, {same} as "
                f"{self.doc}'s Linear({r_in:,}, {r_out:,})"
            )
        else:
            self.notes.append(
                f"{g.label}: Linear({g_in:,}, {g_out:,}) where {self.doc} has {conv_text} on the "
                f"{map_text} map, which covers the whole map: {same}, a fully connected layer "
                "either way"
            )
        return verdict

    def flatten_moved(self, r: Layer, g: Layer, got_partner: dict[int, Layer]) -> list[int] | None:
        """What a flatten that sits on the other side of a conv-as-Linear should give at the
        student's position; None when it is where the reference has it."""
        gb, rb = self.before(g), self.before_ref(r)
        if gb is not None and as_linear(gb) is not None and gb.index in got_partner:
            partner = got_partner[gb.index]
            if partner.kind == "linear":
                return partner.output
        if rb is not None and as_linear(rb) is not None and rb.input:
            return [_prod(rb.input)]
        return None

    def before_ref(self, r: Layer) -> Layer | None:
        prev = [la for la in self.ref.layers if la.index < r.index and la.kind in STRUCTURAL]
        return prev[-1] if prev else None

    def cause_text(self, r: Layer, g: Layer, f: str) -> str:
        ev, gv = _one(r.attrs.get(f)), _one(g.attrs.get(f))
        word = _FIELD_WORDS.get(f, f)
        head = f"{g.label}: {word} {gv} where {self.doc} has {ev}"
        if f == "op":
            head = f"{g.label}: an {gv} pool where {self.doc} has a {ev} pool"
            how = size_text(g)
            return f"{head} (the same size: {how})" if how and g.output == r.output else head
        if f in ("out_channels", "out_features"):
            ours, theirs = params_text(g), params_text(r)
            if ours and theirs:
                return f"{head}: {ours} parameters, expected {theirs}"
            return head
        if g.input is not None:
            ours, theirs = size_text(g), size_text(r, g.input)
            if ours and theirs:
                return f"{head}: {ours}, expected {theirs}"
        return head

    def crash(self, r: Layer | None, g: Layer) -> None:
        text, field, expected, got = self.crash_text(g)
        consequence = self.first is not None
        if consequence:
            text += f" (follows from {self.origin()})"
        self.add(Difference(g.label, field, expected, got, text, consequence=consequence))

    def crash_text(self, g: Layer) -> tuple[str, str, Any, Any]:
        error = self.got.crash.error if self.got.crash else "it fails"
        ins = g.input
        before = self.before(g)
        a = g.attrs
        if g.kind == "linear" and ins is not None:
            n = ins[-1] if ins else 0
            if len(ins) == 1:
                if before is not None and before.kind == "flatten" and before.input:
                    src = (
                        f"the flatten before it gives {' x '.join(map(str, before.input))} = {n:,}"
                    )
                else:
                    src = f"it gets {n:,}"
                return (f"{g.label} takes {a['in_features']:,} inputs; {src}", "in_features", n,
                        a["in_features"])  # fmt: skip
            return (
                f"{g.label} takes {a['in_features']:,} inputs; it gets a "
                f"{' x '.join(map(str, ins))} map that was never flattened (torch.flatten(x, 1) "
                "before it)",
                "in_features", _prod(ins), a["in_features"],
            )  # fmt: skip
        if g.kind == "conv" and ins is not None:
            if ins and ins[0] != a["in_channels"]:
                src = "the input" if before is None else before.label
                return (
                    f"{g.label} takes {_n(a['in_channels'], 'channel')}; {src} gives {ins[0]} "
                    f"({shape_text(ins, ' x ')})", "in_channels", ins[0], a["in_channels"],
                )  # fmt: skip
            k = a["kernel"]
            return (f"{g.label}'s {k[0]}x{k[-1]} kernel does not fit its {shape_text(ins[1:])} "
                    f"input", "kernel", None, k)  # fmt: skip
        if g.kind == "flatten" and ins is not None:
            asked = [int(v) for v in re.findall(r"-?\d+", g.text.split("(", 1)[-1]) if int(v) > 0]
            if asked and _prod(asked) != _prod(ins):
                return (
                    f"{g.label}: {g.text} asks for {_prod(asked):,} values per image; the "
                    f"{' x '.join(map(str, ins))} map before it has {_prod(ins):,}; "
                    "x.view(x.size(0), -1) or torch.flatten(x, 1) takes whatever size comes",
                    "output", _prod(asked), _prod(ins),
                )  # fmt: skip
            return (
                f"{g.label} cannot reshape the {' x '.join(map(str, ins))} map "
                f"({_prod(ins):,} values per image) as written: {error}; x.view(x.size(0), -1) "
                "or torch.flatten(x, 1) takes whatever size comes",
                "output", None, _prod(ins),
            )  # fmt: skip
        if g.kind == "pool" and ins is not None:
            return (f"{g.label}'s window does not fit its {shape_text(ins)} input ({error})",
                    "kernel", None, a.get("kernel"))  # fmt: skip
        where = f"its input of shape {shape_text(ins)}" if ins else "its input"
        return f"{g.label} fails on {where}: {error}", "forward", "runs", error

    def before(self, g: Layer) -> Layer | None:
        prev = [la for la in self.got.layers if la.index < g.index and la.kind in STRUCTURAL]
        return prev[-1] if prev else None

    def missing(self, r: Layer, after: str) -> None:
        how = size_text(r)
        text = f"missing {_describe(r)} after {after}: {self.doc} has one here"
        if how:
            text += f": {how}"
        self.add(Difference(after, "layer", r.type, None, text))

    def extra(self, g: Layer) -> None:
        how = size_text(g)
        text = f"{g.label}: {_describe(g)} that {self.doc} does not have"
        if how:
            text += f": {how}"
        self.add(Difference(g.label, "layer", None, g.type, text))

    def soft(self, r: Layer | None, g: Layer | None, after: str, last_linear: int | None) -> str:
        if r is not None and g is not None:
            if r.type != g.type:
                self.notes.append(f"{g.label}: {g.type} where {self.doc} has {r.type}")
                return "note"
            slopes = r.attrs.get("negative_slope"), g.attrs.get("negative_slope")
            if slopes[0] != slopes[1]:
                self.notes.append(
                    f"{g.label}: negative_slope {slopes[1]} where {self.doc} has {slopes[0]}"
                )
                return "note"
            p_ref, p_got = r.attrs.get("p"), g.attrs.get("p")
            if p_ref != p_got:
                self.notes.append(f"{g.label}: Dropout p={p_got} where {self.doc} has p={p_ref}")
                return "note"
            return "match"
        if g is not None:
            output = last_linear is not None and g.index > last_linear
            if g.kind == "act" and output:
                self.notes.append(
                    f"{g.label}: {g.type} on the output; {self.doc} has none (CrossEntropyLoss "
                    "expects raw scores)"
                )
            elif g.kind == "softmax" and output:
                self.notes.append(
                    f"{g.label}: {g.type} on the output; {self.doc} has none (CrossEntropyLoss "
                    "applies log-softmax itself; train on the raw scores)"
                )
            elif g.kind == "dropout":
                p = g.attrs.get("p")
                self.notes.append(
                    f"{g.label}: an extra Dropout(p={p}) after {after}; {self.doc} has none "
                    "(it changes training, not the shapes)"
                )
            else:
                extra = f", {g.params:,} parameters" if g.params else ""
                self.notes.append(
                    f"{g.label}: an extra {g.type} after {after}; {self.doc} has none{extra}"
                )
            return "note"
        assert r is not None
        if r.kind == "dropout":
            self.notes.append(f"no Dropout after {after}, where {self.doc} has {r.text or r.type}")
        else:
            self.notes.append(f"no {r.type} after {after}, where {self.doc} has {r.text or r.type}")
        return "note"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' * (count != 1)}"


def _prod(values: list[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


_MONOTONIC = ("ReLU", "LeakyReLU", "ReLU6", "ELU", "SELU", "CELU", "Sigmoid", "Tanh", "Softplus",
              "Hardtanh")  # fmt: skip


def _with_ones(shape: list[int] | None, like: list[int] | None) -> list[int] | None:
    """A Linear's output shaped as the conv-as-Linear's (120 -> 120x1x1)."""
    if shape is None or like is None or len(like) <= len(shape):
        return shape
    return [*shape, *([1] * (len(like) - len(shape)))]


def diagnose(ref: Structure, got: Structure, pairs: list[Pair], doc: str) -> Diagnosis:
    """The differences (first first), the notes and the table rows of an alignment."""
    j = _Judge(ref, got, doc)
    linears = [la.index for la in got.layers if la.kind == "linear"]
    last_linear = linears[-1] if linears else None
    got_partner: dict[int, Layer] = {}
    ref_partner: dict[int, Layer] = {}
    for p in pairs:
        if p.ref is not None and p.got is not None and p.ref.kind in STRUCTURAL:
            got_partner[p.got.index] = p.ref
            ref_partner[p.ref.index] = p.got
    after = "the input"
    crash_seen = False
    #: (the student's layer, the structural layer it swapped with, before/after) per block
    swapped: list[tuple[Layer, Layer, str]] = []
    for p in pairs:
        r, g = p.ref, p.got
        verdict = "match"
        expected = r.output if r else None
        structural = (r or g).kind in STRUCTURAL  # type: ignore[union-attr]
        if r is not None and g is not None and structural:
            moved = j.flatten_moved(r, g, got_partner) if r.kind == "flatten" else None
            if moved is not None:
                r = replace(r, input=g.input, output=moved)
                expected = moved
            elif r.kind != g.kind and g.kind == "conv":
                expected = _with_ones(r.output, g.output)
            elif r.kind != g.kind and r.output is not None:
                expected = [_prod(r.output)]
            verdict = j.pair(r, g)
        elif structural and r is not None:
            if crash_seen and got.method == "hooks":
                verdict = "not reached"  # hooks see nothing after the crash
            else:
                j.missing(r, after)
                verdict = "missing"
        elif structural and g is not None:
            if g.index == j.crash_layer:
                j.crash(None, g)
            elif g.kind == "pool" and g.input is not None and g.input == g.output:
                j.notes.append(
                    f"{g.label}: an extra {g.type} that {doc} does not have; it keeps the "
                    f"{shape_text(g.output)} map as it is"
                )
            else:
                j.extra(g)
            verdict = "extra"
        elif crash_seen:
            verdict = "not reached"  # no notes about activations the pass never got to
        else:
            verdict = j.soft(r, g, after, last_linear)
            if r is not None and g is not None:
                gb, rb = j.before(g), j.before_ref(r)
                pr = got_partner.get(gb.index) if gb is not None else None
                gp = ref_partner.get(rb.index) if rb is not None else None
                if pr is not None:
                    # The shape at the student's position (the layer is shape-preserving).
                    expected = _with_ones(pr.output, gb.output) if gb else pr.output
                if pr is not None and gp is not None and gp.index > g.index:
                    swapped.append((g, gp, "before"))
                elif pr is not None and rb is not None and pr.index > r.index and gb:
                    swapped.append((g, gb, "after"))
                if swapped and swapped[-1][0] is g and verdict == "match":
                    verdict = "order"
        if g is not None and g.index == j.crash_layer:
            crash_seen = True
        elif g is not None and g.output is None and verdict == "match":
            verdict = "not reached"
        if g is not None and structural:
            after = g.label
        j.rows.append(
            LayerRow(
                layer=g.label if g else None,
                reference=(r.module or r.name) if r else None,
                type=(g or r).type,  # type: ignore[union-attr]
                output=g.output if g else None,
                expected=expected,
                params=g.params if g and g.call_number == 1 else 0,
                verdict=verdict,
            )
        )
    _order_notes(j, swapped)
    if got.crash is not None and not crash_seen:
        where = f" after {after}" if after != "the input" else ""
        j.add(Difference(after, "forward", "runs", got.crash.error,
                         f"the forward pass fails{where}: {got.crash.error}",
                         consequence=j.first is not None))  # fmt: skip
    _padding_note(j)
    for path, text, n in got.unused:
        j.notes.append(f"{path} ({text}, {n:,} parameters) is defined but never called in forward")
    if j.diffs and got.total_params == ref.total_params:
        j.notes.append(
            f"the parameter count is {got.total_params:,}, the same as {doc}'s, although the "
            "maps differ: the parameter count alone does not prove a network right"
        )
    elif not j.diffs and got.total_params != ref.total_params:
        j.notes.append(
            f"{got.total_params:,} parameters where {doc} has {ref.total_params:,} "
            f"({got.total_params - ref.total_params:+,})"
        )
    if not j.diffs and ref.output and got.output and ref.output != got.output:
        j.add(Difference("(output)", "output", ref.output, got.output,
                         f"the network returns {shape_text(got.output)} per image where {doc} "
                         f"returns {shape_text(ref.output)}"))  # fmt: skip
    return Diagnosis(tuple(j.diffs), tuple(j.notes), tuple(j.rows))


def _order_notes(j: _Judge, swapped: list[tuple[Layer, Layer, str]]) -> None:
    """One note per kind of swap: an activation before the pool where the document has it
    after (or the other way round)."""
    groups: dict[tuple[str, str, str, str], list[str]] = {}
    for g, other, where in swapped:
        what = _describe(other) if other.kind != "pool" else f"the {other.attrs.get('op')} pool"
        groups.setdefault((g.type, what, where, other.attrs.get("op", "")), []).append(g.label)
    for (typ, what, where, op), labels in groups.items():
        theirs = "after" if where == "before" else "before"
        head = f"{', '.join(labels)}: {typ} {where} {what}, where {j.doc} has it {theirs}"
        if op == "max" and typ in _MONOTONIC:
            j.notes.append(
                f"{head}; the order differs from the document but computes the same ({typ} is "
                "monotonic, so it commutes with a max pool); the expected shape shown is the "
                "one at your position"
            )
        else:
            j.notes.append(
                f"{head}; the shapes are the same, the values are not ({typ} and {what} do not "
                "commute); the expected shape shown is the one at your position"
            )


def _padding_note(j: _Judge) -> None:
    """A first conv padded by P where the document has 0 is the network for an input 2P
    smaller (LeNet-5 with padding=2 is the classic 28x28 MNIST version): say so."""
    d = j.first
    convs = [la for la in j.got.layers if la.kind == "conv"]
    refs = [la for la in j.ref.layers if la.kind == "conv"]
    if d is None or d.field != "padding" or not convs or not refs or d.layer != convs[0].label:
        return
    p, ref_p = d.got, d.expected
    if not isinstance(p, int) or ref_p != 0 or p <= 0:
        return
    size = j.got.input_size
    smaller = "x".join(str(v - 2 * p) for v in size[1:])
    j.notes.append(
        f"{d.layer}'s padding={p} makes this the network for {smaller} inputs (the classic MNIST "
        f"LeNet-5 pads 28x28 this way): there its maps are the ones {j.doc} has at "
        f"{'x'.join(map(str, size[1:]))}, where the padding does what the resize does; checked "
        f"at the {'x'.join(map(str, size))} input the document asks for, it differs"
    )
