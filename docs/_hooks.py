"""mkdocs hook: the pages' tables and figures, generated from the registry at build time.

A page calls a macro as ``{{ name(arguments) }}`` (Python literals as arguments); the hook
replaces it with Markdown before the page is rendered. Nothing a macro prints is typed by hand,
so a page cannot drift from the code:

- ``model_card("lenet5")``: the model's card (source, input, classes, exact size and cost).
- ``layer_table("lenet5", depth=3, collapsed=False)``: torchinfo's per-layer rows, with a total
  that the build checks against the card; ``collapsed=True`` folds a long table.
- ``family_table("vgg")``: one row per model of the families named.
- ``params("vgg16")``, ``mult_adds("vgg16")``, ``params_diff("a", "b")``,
  ``bn_running_stats("fer_cnn")``: single figures for the prose.
- ``cli_reference()``: every command of ``cnnzoo`` with its arguments, from the parser.
- ``check_output("examples/check/classify.py:emotionNet", "emotionnet", ok=True)``: what
  ``cnnzoo check`` prints for a student's file (the build fails on another verdict);
  ``steps_output("emotionnet")``: ``cnnzoo summary NAME --steps``.

The build fails (``PluginError``) on an unknown macro, on a table whose totals differ from the
card, on a card whose heading does not carry the model's name as its id (the family tables link
there), and when a built-in model has no card on any page, so a new model cannot go
undocumented.
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

# Document the checkout being built, not whichever cnnzoo the environment has installed.
_ROOT = Path(__file__).resolve().parent.parent
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import cnnzoo  # noqa: E402
from cnnzoo.registry import get_builder  # noqa: E402

_MACRO = re.compile(r"\{\{\s*([a-z_]+)\((.*?)\)\s*\}\}")

#: Model -> page that holds its card, filled while pages render.
_CARDS: dict[str, str] = {}


def _builtin_models() -> list[str]:
    return [n for n in cnnzoo.list_models() if get_builder(n).__module__.startswith("cnnzoo.")]


def _shape(size: Any) -> str:
    return " × ".join(str(int(v)) for v in size)


def _human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return str(int(n))


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    align = ["---:" if i in right else "---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- figures -----------------------------------------------------------------------------


def params(name: str, *, plain: bool = False) -> str:
    n = cnnzoo.model_info(name).num_params
    return str(n) if plain else f"{n:,}"


def mult_adds(name: str, *, plain: bool = False) -> str:
    n = cnnzoo.model_info(name).mult_adds
    return str(n) if plain else f"{n:,}"


def params_diff(a: str, b: str) -> str:
    """``a``'s parameters minus ``b``'s, as a plain number (the sign goes in the prose)."""
    diff = cnnzoo.model_info(a).num_params - cnnzoo.model_info(b).num_params
    return f"{abs(diff):,}"


def bn_running_stats(name: str) -> str:
    """Elements of the BatchNorm running mean and variance: buffers in PyTorch, non-trainable
    parameters in a Keras summary."""
    model = cnnzoo.create(name, device="meta")
    total = sum(
        b.numel()
        for key, b in model.named_buffers()
        if key.endswith(("running_mean", "running_var"))
    )
    return f"{total:,}"


def params_plus_bn_running_stats(name: str) -> str:
    """What a Keras ``model.summary()`` would print as the total of ``name``."""
    total = cnnzoo.model_info(name).num_params + int(bn_running_stats(name).replace(",", ""))
    return f"{total:,}"


# --- model cards ---------------------------------------------------------------------------


def _input_range(name: str) -> str | None:
    model = cnnzoo.create(name, device="meta")
    spec = getattr(model, "input_spec", None)
    if spec is None:
        return None
    if spec.max_size is None:
        unit = "pixel" if spec.min_size == 1 else "pixels"
        return f"any height and width of at least {spec.min_size} {unit}"
    if spec.max_size == spec.min_size:
        return f"exactly {spec.min_size} × {spec.min_size} pixels"
    return f"{spec.min_size} to {spec.max_size} pixels a side"


def _options(name: str) -> str:
    sig = inspect.signature(get_builder(name))
    return ", ".join(
        f"`{p.name}={p.default!r}`" for p in sig.parameters.values() if p.default is not p.empty
    )


def model_card(name: str, *, page: str) -> str:
    card = cnnzoo.model_info(name)
    if card.name != name:
        raise PluginError(f"model_card({name!r}): use the canonical name {card.name!r}")
    if name in _CARDS:
        raise PluginError(f"model {name!r} has a card on both {_CARDS[name]} and {page}")
    _CARDS[name] = page
    src = card.source
    rows: list[tuple[str, str]] = [("Description", card.description)]
    if src is not None:
        rows.append(("Source", f"[{src.citation}]({src.url})" if src.url else src.citation))
        if src.document:
            rows.append(("Course document", src.document))
    rows.append(("Create", f'`cnnzoo.create("{name}")`'))
    if card.aliases:
        rows.append(("Aliases", ", ".join(f"`{a}`" for a in card.aliases)))
    rows.append(("Options", _options(name)))
    rows.append(("Input", f"{_shape(card.input_size)} (C × H × W)"))
    accepted = _input_range(name)
    if accepted:
        rows.append(("Accepts", accepted))
    rows.append(("Output", _shape(card.output_size)))
    if card.num_classes is None:
        rows.append(("Classes", "none: a building block, not a classifier"))
    else:
        labels = f": {', '.join(card.class_labels)}" if card.class_labels else ""
        rows.append(("Classes", f"{card.num_classes}{labels}"))
    for n, labels in card.known_labels:
        if n != card.num_classes:
            rows.append((f"Labels for {n} classes", ", ".join(labels)))
    if card.mean is not None:
        rows.append(("Normalisation", f"mean {card.mean}, std {card.std}"))
    rows.append(("Parameters", f"**{card.num_params:,}**"))
    rows.append(("Mult-adds", f"**{card.mult_adds:,}** ({_human(card.mult_adds)}, batch 1)"))
    return _table(["", f"`{name}`"], [list(r) for r in rows])


def family_table(*families: str) -> str:
    rows = []
    for family in families:
        names = cnnzoo.list_models(family=family)
        if not names:
            raise PluginError(f"family_table: no model in family {family!r}")
        for n in names:
            c = cnnzoo.model_info(n)
            rows.append(
                [
                    f"[`{n}`](#{n})",
                    _shape(c.input_size),
                    f"{c.num_params:,}",
                    _human(c.mult_adds),
                    c.description,
                ]
            )
    return _table(["model", "input", "params", "mult-adds", "description"], rows, right={2, 3})


# --- layer tables --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    path: str
    type: str
    geometry: str
    output: str
    params: int | None  # None: counted in the rows below


def _geometry(module: Any) -> str:
    """Kernel / stride / padding of a conv or pool layer, as the course tables give them."""
    k = getattr(module, "kernel_size", None)
    if k is None:
        return ""

    def one(v: Any) -> str:
        if isinstance(v, (tuple, list)):
            return "×".join(map(str, v)) if len(set(v)) > 1 else str(v[0])
        return str(v)

    kernel = one(k)
    kernel = f"{kernel}×{kernel}" if "×" not in kernel else kernel
    stride = one(getattr(module, "stride", 1) or kernel)
    return f"{kernel} / {stride} / {one(getattr(module, 'padding', 0))}"


@functools.cache
def _layer_rows(name: str, depth: int) -> tuple[tuple[_Row, ...], int, int, tuple[int, ...]]:
    # NOTE: built on the meta device: shapes without weights, the whole zoo in seconds where
    # real (even uninitialised) CPU tensors took a minute. The totals are checked against the
    # card, which cnnzoo measured on CPU.
    import torch
    import torchinfo

    card = cnnzoo.model_info(name)
    model = cnnzoo.create(name, device="meta").eval()
    with torch.no_grad():
        stats = torchinfo.summary(
            model, input_size=(1, *card.input_size), depth=depth, verbose=0, device="meta"
        )
    rows = []
    for info in stats.summary_list:
        if not 1 <= info.depth <= depth:
            continue
        parts, node = [], info
        while node is not None and node.depth >= 1:
            parts.append(node.var_name)
            node = node.parent_info
        if info.is_recursive:
            count: int | None = 0  # a module run twice: its parameters are counted once
        elif info.depth == depth or info.is_leaf_layer:
            count = info.num_params
        else:
            count = info.leftover_params() or None
        out = info.output_size[1:] if info.output_size else []
        rows.append(
            _Row(".".join(reversed(parts)), info.class_name, _geometry(info.module), _shape(out),
                 count)
        )  # fmt: skip
    out_size = tuple(stats.summary_list[0].output_size[1:])
    return tuple(rows), int(stats.total_params), int(stats.total_mult_adds), out_size


def layer_table(name: str, depth: int = 3, *, collapsed: bool = False) -> str:
    card = cnnzoo.model_info(name)
    rows, total, macs, out_size = _layer_rows(name, depth)
    shown = sum(r.params or 0 for r in rows)
    problems = []
    if total != card.num_params or shown != card.num_params:
        problems.append(f"params: card {card.num_params:,}, torchinfo {total:,}, rows {shown:,}")
    if macs != card.mult_adds:
        problems.append(f"mult-adds: card {card.mult_adds:,}, torchinfo {macs:,}")
    if out_size != card.output_size:
        problems.append(f"output: card {card.output_size}, torchinfo {out_size}")
    if problems:
        raise PluginError(f"layer_table({name!r}) disagrees with the card: {'; '.join(problems)}")
    body = [["input", "", "", _shape(card.input_size), ""]]
    for r in rows:
        count = "—" if r.params is None else (f"{r.params:,}" if r.params else "0")
        body.append([f"`{r.path}`", r.type, r.geometry, r.output, count])
    body.append(["**total**", "", "", f"**{_shape(out_size)}**", f"**{total:,}**"])
    table = _table(
        ["layer", "type", "kernel / stride / pad", "output (C × H × W)", "params"],
        body,
        right={4},
    )
    note = (
        "Rows are torchinfo's, in the order the forward pass runs them, batch 1, "
        f"to depth {depth}. A row marked — has its parameters counted in the rows below it; "
        "the column adds up to the total."
    )
    text = f"{table}\n\n{note}"
    if not collapsed:
        return text
    # A folded block for the long tables, so a family page stays readable.
    inner = "\n".join(f"    {line}" if line else "" for line in text.splitlines())
    return f'??? info "Layer table of `{name}` ({len(rows)} rows, depth {depth})"\n\n{inner}'


# --- CLI reference -------------------------------------------------------------------------


def _subparser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise PluginError("cnnzoo.cli.build_parser has no sub-commands")


def _argument_row(parser: argparse.ArgumentParser, action: argparse.Action) -> list[str]:
    # argparse's own spelling of the argument, as `--help` prints it ("--format {table,json}").
    flag = parser._get_formatter()._format_action_invocation(action)
    if not action.option_strings and action.nargs in ("*", "+"):
        flag += " ..."
    details = []
    if action.default not in (None, argparse.SUPPRESS, False, []) and action.nargs != 0:
        default = action.default
        if isinstance(default, list):
            default = " ".join(map(str, default))
        details.append(f"default `{default}`")
    if action.nargs == "*":
        details.append("any number")
    elif action.nargs == "+":
        details.append("one or more")
    if isinstance(action, argparse._AppendAction):
        details.append("may be repeated")
    return [f"`{flag}`", action.help or "", "; ".join(details)]


def cli_reference() -> str:
    from cnnzoo.cli import COMMANDS, build_parser

    sections = []
    for command, (_, help_text) in COMMANDS.items():
        sub = _subparser(build_parser(command), command)
        sub.formatter_class = functools.partial(argparse.HelpFormatter, width=96)
        rows = [
            _argument_row(sub, a) for a in sub._actions if not isinstance(a, argparse._HelpAction)
        ]
        parts = [
            f"## `cnnzoo {command}`",
            help_text[0].upper() + help_text[1:] + ".",
            f"```text\n{sub.format_usage().strip()}\n```",
        ]
        if rows:
            parts.append(_table(["argument", "meaning", "values"], rows))
        sections.append("\n\n".join(parts))
    return "\n\n".join(sections)


# --- errata --------------------------------------------------------------------------------


def _figure(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return " × ".join(_figure(v) for v in value)
    return str(value)


def _where(rows: tuple[str, ...], field: str) -> str:
    if not rows or rows == ("total",):
        return f"total, {field}"
    return f"row{'s' if len(rows) > 1 else ''} {', '.join(rows)}: {field}"


@functools.cache
def _check_report() -> Any:
    return cnnzoo.check()


def errata() -> str:
    """Every erratum of every shipped table, as ``cnnzoo check`` confirms it now.

    The build fails when a table no longer reconciles or an erratum is no longer observed, so the
    page can only show mistakes the models still demonstrate.
    """
    report = _check_report()
    if not report.ok:
        raise PluginError("cnnzoo check fails: " + "; ".join(report.failures))
    sections = []
    for table in report.tables:
        heading = f"### {table.title} {{#{table.id}}}"
        where = f"`{table.id}` · {table.source}"
        if not table.errata:
            sections.append(f"{heading}\n\n{where}\n\nEvery printed figure matches the model.")
            continue
        rows = []
        for e in table.errata:
            if e.confirmed is False:
                raise PluginError(f"{table.id} {e.id}: the erratum is no longer observed")
            status = {True: "confirmed", None: "not checkable"}[e.confirmed]
            cause = e.cause
            for also in e.also:
                note = f" ({also.note})" if also.note else ""
                cause += f" — `{also.model}` measures {also.measured:,}{note}"
            rows.append(
                [e.id, _where(e.rows, e.field), _figure(e.printed), _figure(e.true), status, cause]
            )
        sections.append(
            "\n\n".join(
                [
                    heading,
                    where,
                    _table(["", "where", "printed", "true", "by the model", "cause"], rows),
                ]
            )
        )
    return "\n\n".join(sections)


# --- a student's network ---------------------------------------------------------------


def check_output(target: str, reference: str, *, ok: bool, tables: bool = False) -> str:
    """What ``cnnzoo check REFERENCE --model TARGET`` prints, run while the site builds.

    ``ok`` is the verdict the page promises; the build fails when the check gives another.
    """
    report = cnnzoo.check(reference, model=target)
    if report.ok is not ok:
        raise PluginError(
            f"cnnzoo check {reference} --model {target}: the page says ok={ok}, the check says "
            f"{report.ok} ({report.first_difference})"
        )
    text = str(report) if tables else str(report.student)
    return f"```text\n$ cnnzoo check {reference} --model {target}\n{text}\n```"


def steps_output(name: str) -> str:
    """What ``cnnzoo summary NAME --steps`` prints."""
    from cnnzoo._stats import build_for_shapes
    from cnnzoo.check.steps import render_steps
    from cnnzoo.check.structure import read_structure

    model = build_for_shapes(name)
    structure = read_structure(model, tuple(model.default_input_size))
    text = render_steps(structure, name)
    return f"```text\n$ cnnzoo summary {name} --steps\n{text}\n```"


# --- mkdocs events -------------------------------------------------------------------------

_MACROS: dict[str, Callable[..., str]] = {
    "bn_running_stats": bn_running_stats,
    "check_output": check_output,
    "steps_output": steps_output,
    "cli_reference": cli_reference,
    "errata": errata,
    "family_table": family_table,
    "layer_table": layer_table,
    "model_card": model_card,
    "mult_adds": mult_adds,
    "params": params,
    "params_diff": params_diff,
    "params_plus_bn_running_stats": params_plus_bn_running_stats,
}


def _call(match: re.Match[str], page: str) -> str:
    name, arguments = match.group(1), match.group(2)
    if name not in _MACROS:
        raise PluginError(f"{page}: unknown macro {name!r}; known: {', '.join(sorted(_MACROS))}")
    try:
        call = ast.parse(f"f({arguments})", mode="eval").body
        if not isinstance(call, ast.Call):
            raise ValueError("not a call")
        args = [ast.literal_eval(a) for a in call.args]
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
    except (SyntaxError, ValueError) as exc:
        raise PluginError(f"{page}: bad arguments in {match.group(0)!r}: {exc}") from exc
    if name == "model_card":
        kwargs["page"] = page
    try:
        return _MACROS[name](*args, **kwargs)
    except cnnzoo.CnnzooError as exc:
        raise PluginError(f"{page}: {match.group(0)}: {exc}") from exc


def on_pre_build(config: Any) -> None:
    _CARDS.clear()


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    src = page.file.src_uri
    return _MACRO.sub(lambda m: _call(m, src), markdown)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    # family_table links to #name: each card must sit under a heading with exactly that id
    # (a page title with the same text would take the id first; give the title another one).
    src = page.file.src_uri
    for name in (n for n, p in _CARDS.items() if p == src):
        if not re.search(rf'<h[2-4] id="{re.escape(name)}"', html):
            raise PluginError(
                f"{src}: the card of {name!r} needs a heading with id {name!r} "
                f"(write '## {name}', and give any other heading with that text another id)"
            )
    return html


def on_env(env: Any, config: Any, files: Any) -> Any:
    # Runs after every page's Markdown has been read, before any HTML is written.
    missing = [n for n in _builtin_models() if n not in _CARDS]
    if missing:
        raise PluginError(
            "these registered models have no model_card on any page: "
            + ", ".join(missing)
            + " (add them to the family page under docs/models/)"
        )
    return env
