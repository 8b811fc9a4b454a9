"""The engine's edits as front ends use them: `fix_edit` (JSON `replacement`, editor quick fixes) is
exactly the one finding's fix, as a whole-line, minimal edit; `FixResult` says what changed and what
was held back; positions survive non-ASCII text before a statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from outplace.engine import check_source, fix_edit, fix_selected, fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(p for d in ("fixtures/rules", "examples") for p in (ROOT / d).rglob("*.py")
                 if not p.name.endswith(".fixed.py"))
EVERYTHING = Settings(hazards=HAZARDS, unsafe_fixes=True, clone=True)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_fix_edit_is_that_fix_alone_on_whole_lines(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    findings = [f for f in check_source(source, EVERYTHING) if f.fix is not None]
    for f in findings:
        edit = fix_edit(source, f)
        expected, landed = fix_selected(source, [f])
        if not landed:
            assert edit is None
            continue
        assert edit is not None
        assert source[:edit.start] + edit.content + source[edit.end:] == expected, f
        # Whole lines, from the indentation on; nothing unchanged at either end.
        line_start = source.rfind("\n", 0, edit.start) + 1
        assert source[line_start:edit.start].strip() == "", (f, source[line_start:edit.start])
        assert edit.end == len(source) or source[edit.end] in "\r\n", f
        old, new = source[edit.start:edit.end], edit.content
        assert old.splitlines()[0] != new.splitlines()[0] and old.splitlines()[-1] != new.splitlines()[-1], (old, new)


def test_an_edit_at_the_start_and_at_the_end_of_the_file() -> None:
    source = "import torch\ny = torch.sigmoid(torch.ones(2))\ny *= 2"  # no newline at the end
    [f] = check_source(source, Settings(hazards=HAZARDS))
    edit = fix_edit(source, f)
    assert (source[edit.start:edit.end], edit.content, edit.end) == ("y *= 2", "y = y * 2", len(source))


def test_non_ascii_text_before_a_statement_on_its_line() -> None:
    source = ("import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n"
              "    s = \"😀é\"; y *= 2\n    return y, s\n")
    result = fix_source(source, Settings(hazards=HAZARDS))
    assert result.output == source.replace("y *= 2", "y = y * 2")
    [f] = check_source(source, Settings(hazards=HAZARDS))
    assert (f.line, f.col) == (6, 15)  # characters, not bytes
    edit = fix_edit(source, f)
    assert source[:edit.start] + edit.content + source[edit.end:] == result.output


UNSAFE_AND_UNFIXABLE = ("import torch\n\n\ndef f(x: torch.Tensor, buf: torch.Tensor):\n"
                        "    y = torch.sigmoid(x)\n    y *= 2\n    buf.narrow(0, 0, 2).copy_(x)\n"
                        "    x.mul_(2)\n    return x, y\n")


def test_fix_result_says_what_changed_and_what_was_held_back() -> None:
    safe = fix_source(UNSAFE_AND_UNFIXABLE, Settings(hazards=HAZARDS))
    assert safe.changed and [f.line for f in safe.applied] == [6]
    assert [f.line for f in safe.held_back] == [8]  # not the finding reported without a fix (line 7)
    assert sorted(f.line for f in safe.remaining) == [7, 8]
    everything = fix_source(UNSAFE_AND_UNFIXABLE, Settings(hazards=HAZARDS, unsafe_fixes=True))
    assert everything.changed and everything.held_back == []
    assert [f.line for f in everything.applied] == [6, 8] and [f.line for f in everything.remaining] == [7]
    clean = fix_source("import torch\n", Settings(hazards=HAZARDS))
    assert not clean.changed and clean.output == "import torch\n"


def test_a_finding_spans_the_code_it_flags() -> None:
    source = ("import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n"
              "    y.add_(\n        1)\n    return y\n")
    spans = [(f.code, f.line, f.col, f.end_line, f.end_col) for f in check_source(source, Settings(hazards=HAZARDS))]
    # 1-based columns; the end is exclusive: `y *= 2` is columns 5 to 10 of line 6.
    assert spans == [("OP101", 6, 5, 6, 11), ("OP102", 7, 5, 8, 11)]


def test_fixes_that_do_not_compose_on_one_statement_are_all_withheld() -> None:
    """Pure call edits on one statement compose (line 7); a rebinding fix with anything else does not,
    and then none of them is offered (lines 10 and 11: two and three fixes), so `fix` stays idempotent."""
    source = ("import torch\n\n\ndef f(x: torch.Tensor, w: torch.Tensor):\n"
              "    h = torch.sigmoid(x)\n    g = torch.tanh(x)\n    s = h.relu_() + g.relu_()\n"
              "    y = torch.exp(x)\n    k = torch.sigmoid(w)\n    y += k.relu_()\n"
              "    y -= torch.sigmoid(w).relu_() + torch.tanh(w).relu_()\n    return s, y\n")
    found = [(f.line, f.code, f.fix is not None) for f in check_source(source, EVERYTHING)]
    assert found == [(7, "OP102", True), (7, "OP102", True), (10, "OP101", False), (10, "OP102", False),
                     (11, "OP101", False), (11, "OP102", False), (11, "OP102", False)]
    out = fix_source(source, EVERYTHING).output
    assert out == source.replace("h.relu_() + g.relu_()", "h.relu() + g.relu()")


def test_a_rebinding_fix_and_a_nested_one_on_one_statement_are_withheld() -> None:
    """`h.mul_(g.relu_())`: the outer fix rebinds `h`, the inner one edits a call inside it."""
    source = ("import torch\n\n\ndef f(x: torch.Tensor):\n    h = torch.sigmoid(x)\n    g = torch.tanh(x)\n"
              "    h.mul_(g.relu_())\n    return h\n")
    assert [(f.col, f.fix) for f in check_source(source, EVERYTHING)] == [(5, None), (12, None)]
    assert fix_source(source, EVERYTHING).output == source
