"""The notebook displays: self-contained HTML (no script, escaped text), Markdown, and what a
browser shows of them."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser
from pathlib import Path

import pytest

import cnnzoo
from cnnzoo.display import escape, escape_md
from cnnzoo.training import EvalReport, TrainResult

from ._browser import find_chromium, render

EVIL = "<script>document.body.setAttribute('data-pwned', '1')</script>"


def _evil_card() -> cnnzoo.ModelCard:
    card = cnnzoo.model_info("emotionnet")
    return dataclasses.replace(
        card,
        description=f"my net {EVIL} & <b>bold</b>",
        class_labels=("happy", "<img src=x onerror=alert(1)>", "sad|pipe"),
        source=cnnzoo.Source("a <i>course</i>", url="javascript:alert(1)"),
    )


def _eval_report() -> EvalReport:
    return EvalReport(
        model="lenet5",
        checkpoint="runs/x/best.pth",
        split="test",
        labels=["zero", "one", EVIL],
        num_images=10,
        loss=0.5,
        accuracy=0.7,
        precision=[1.0, 0.5, 0.6],
        recall=[0.75, 0.5, 0.75],
        support=[4, 2, 4],
        confusion=[[3, 1, 0], [0, 1, 1], [0, 1, 3]],
    )


def _train_result(tmp: Path) -> TrainResult:
    history = [
        {"epoch": e, "train_loss": 1.0 / e, "train_acc": 0.5 + e / 10, "val_loss": 1.2 / e,
         "val_acc": 0.4 + e / 10, "seconds": 1.5}
        for e in (1, 2, 3)
    ]  # fmt: skip
    return TrainResult(
        model="emotionnet",
        out=tmp,
        best=tmp / "best.pth",
        last=tmp / "last.pth",
        history=history,
        best_epoch=3,
        labels=["happy", "neutral", EVIL],
        confusion=[[5, 0, 1], [1, 4, 0], [2, 0, 3]],
    )


def _student_net() -> object:
    """emotionNet as a student writes it, with conv2's padding wrong; its class name is
    hostile text."""
    from torch import nn

    def __init__(self) -> None:
        nn.Module.__init__(self)
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1)
        self.conv2 = nn.Conv2d(64, 128, 3, padding=1)  # Figure 2: padding 0
        self.conv3 = nn.Conv2d(128, 256, 4)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.LeakyReLU()
        self.fc1 = nn.Linear(4096, 256)
        self.fc2 = nn.Linear(256, 64)
        self.fc3 = nn.Linear(64, 3)

    def forward(self, x):  # type: ignore[no-untyped-def]
        for conv in (self.conv1, self.conv2, self.conv3):
            x = self.act(self.pool(conv(x)))
        return self.fc3(self.act(self.fc2(self.act(self.fc1(x.flatten(1))))))

    cls = type(EVIL, (nn.Module,), {"__init__": __init__, "forward": forward})
    return cls()


def _runs(tmp: Path) -> object:
    from cnnzoo.runs import RunsComparison, RunSummary

    def run(name: str, lr: float, acc: float) -> RunSummary:
        return RunSummary(
            path=tmp / name, name=name, model="lenet5", options={"lr": lr}, epochs=3,
            best_epoch=2, best_val_acc=acc, best_val_loss=0.3, test_acc=acc - 0.01,
            seconds=12.0, images_per_s=900.0, history=[],
        )  # fmt: skip

    return RunsComparison([run("lenet5-a", 0.1, 0.91), run(EVIL, 0.01, 0.95)], ["lr"])


def _displays(tmp: Path) -> dict[str, object]:
    return {
        "card": _evil_card(),
        "summary": cnnzoo.summary("lenet5"),
        "steps": cnnzoo.summary("emotionnet", steps=True),
        "check": cnnzoo.check("lenet5"),
        "student": cnnzoo.check("emotionnet", model=_student_net()),
        "eval": _eval_report(),
        "train": _train_result(tmp),
        "runs": _runs(tmp),
    }


def test_escape() -> None:
    assert escape(EVIL).startswith("&lt;script&gt;")
    assert escape('a"b') == "a&quot;b"
    assert escape_md("a|b <c> *d*") == r"a\|b &lt;c&gt; \*d\*"
    assert escape_md("two\nlines") == "two lines"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(text)
    return parser.tags


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    for name, obj in _displays(tmp_path).items():
        text = obj._repr_html_()
        tags = _tags(text)
        kinds = {t for t, _ in tags}
        # no script, no page-wide style, no external resource, no event handler
        assert not kinds & {"script", "style", "img", "link", "iframe", "object"}, (name, kinds)
        for tag, attrs in tags:
            assert not {"src", "srcset"} & attrs.keys(), (name, tag)
            assert not any(a.startswith("on") for a in attrs), (name, tag, attrs)
        assert tags[0] == ("div", {"class": "cnnzoo-display", "style": tags[0][1]["style"]})
        assert text.endswith("</div>"), name
    card = _evil_card()._repr_html_()
    assert "&lt;script&gt;" in card and "&lt;b&gt;bold&lt;/b&gt;" in card
    # a javascript: URL is shown as text, never a link; a web address is a link
    assert "a" not in {t for t, _ in _tags(card)}
    web = dataclasses.replace(_evil_card(), source=cnnzoo.Source("x", url="https://e.org/?a=1&b"))
    links = [a for t, a in _tags(web._repr_html_()) if t == "a"]
    assert links == [{"href": "https://e.org/?a=1&b"}]


def test_markdown_is_escaped(tmp_path: Path) -> None:
    md = _evil_card()._repr_markdown_()
    assert "<script" not in md and "&lt;script&gt;" in md
    assert r"sad\|pipe" in md  # the pipe does not split the table cell
    ev = _eval_report()._repr_markdown_()
    assert "<script" not in ev
    # one table row per class in the confusion matrix, with its counts
    assert "| zero | 3 | 1 | 0 |" in ev


def test_plain_text_unchanged() -> None:
    # The terminal's text stays torchinfo's table and the dataclass repr.
    s = cnnzoo.summary("lenet5")
    golden = (Path(__file__).parent / "golden" / "summary_lenet5.txt").read_text()
    assert repr(s) == str(s) and str(s).strip() in golden
    assert repr(cnnzoo.model_info("lenet5")).startswith("ModelCard(name='lenet5'")


def test_summary_html_has_every_row() -> None:
    s = cnnzoo.summary("lenet5")
    text = s._repr_html_()
    assert text.count("<tr>") == len(s.rows) + 1 + 5  # rows, header, the five totals
    assert f"{s.totals.params:,}" in text


def test_in_a_browser(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no chromium on PATH (.ci/run installs Debian's chromium where apt works)")
    shown = render({k: v._repr_html_() for k, v in _displays(tmp_path).items()}, tmp_path, chromium)
    assert shown["__pwned__"] is None  # no user text ran as a script

    card = shown["card"]["text"]
    # rendered text: the script and the markup of the description appear as text, entities
    # decoded, and the table lays out name and value on one line, tab-separated
    assert EVIL in card and "<b>bold</b>" in card
    assert "params\t1,665,667" in card
    assert "labels\thappy, <img src=x onerror=alert(1)>, sad|pipe" in card
    assert "link\tjavascript:alert(1)" in card

    summ = shown["summary"]["text"]
    s = cnnzoo.summary("lenet5")
    for row in s.rows:
        if row.name:
            assert row.name in summ
    assert f"total params\t{s.totals.params:,}" in summ

    ev = shown["eval"]
    lines = ev["text"].splitlines()
    assert "accuracy 0.7000" in ev["text"]
    assert "zero\t3\t1\t0" in lines and f"{EVIL}\t0\t1\t3" in lines
    # the diagonal is green, the biggest mistake red (computed styles, as drawn)
    assert ev["colours"]["3"] == "rgb(220, 245, 227)"
    tr = shown["train"]
    assert "3 (best)" in tr["text"] and tr["colours"]["3 (best)"] == "rgb(220, 245, 227)"
    assert "happy\t5\t0\t1" in tr["text"].splitlines()

    # the dimension walk-through: the formula of each output size, as text
    steps = shown["steps"]["text"].splitlines()
    assert "conv2\tConv2d\t128x22x22\t(24 - 3)/1 + 1 = 22\t3*3*64*128 + 128 = 73,856" in steps

    # a lecture table: every row's verdict coloured, the errata with their causes
    check = shown["check"]
    assert "lenet5_004" in check["text"] and check["colours"]["OK"] == "rgb(220, 245, 227)"
    assert "result: OK, every printed value matches the model" in check["text"]
    lenet = cnnzoo.check("lenet5").tables[0]
    for e in lenet.errata:
        assert e.cause in " ".join(check["text"].split()), e.id

    # a student's network: the first difference marked on its row, in red, with its cause
    student = shown["student"]
    rows = student["text"].splitlines()
    marked = [r for r in rows if r.endswith("◀ first difference")]
    assert marked == ["conv2\tConv2d\t128x24x24\t128x22x22\t73,856\tDIFFERS\t◀ first difference"]
    assert student["colours"]["DIFFERS"] == "rgb(253, 226, 226)"
    assert student["colours"]["◀ first difference"] == "rgb(253, 226, 226)"
    assert "First difference: conv2: padding 1 where Figure 2 has 0" in student["text"]
    assert f"{EVIL} against emotionnet" in student["text"]  # its class name, as text

    # the runs table: the options that differ, the best run green
    runs = shown["runs"]
    assert "options that differ: lr" in runs["text"]
    assert runs["colours"][EVIL] == "rgb(220, 245, 227)"
