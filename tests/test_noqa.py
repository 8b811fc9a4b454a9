"""`# noqa` silences exactly what it names, on its own line, and only as a comment.

Issue 12's mutant: `# noqa: OP102` silencing every rule on the line survived because noqa was only
tested positively. Each case here is a line with findings of more than one rule, or a directive
that must not count.
"""

from __future__ import annotations

import pytest

from outplace.engine import check_source, fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

HEAD = "import torch\n\n\ndef f(x: torch.Tensor):\n    h = torch.sigmoid(x)\n    g = torch.tanh(x)\n"
LINE = 7  # the line each case's statement lands on


def codes_on_line(statement: str) -> list[str]:
    source = HEAD + f"    {statement}\n    return h, g\n"
    return sorted(f.code for f in check_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True)) if f.line == LINE)


BOTH = "h.mul_(2); g *= 2"  # OP102 and OP101 on one line


@pytest.mark.parametrize("comment,left", [
    ("", ["OP101", "OP102"]),
    ("  # noqa", []),
    ("  # NOQA", []),
    ("  # noqa: OP102", ["OP101"]),
    ("  # noqa: OP101", ["OP102"]),
    ("  # noqa:OP101,OP102", []),
    ("  # noqa: OP101 OP102", []),
    ("  # noqa: op102", ["OP101"]),
    ("  # noqa: OP10", []),  # a prefix, like ruff
    ("  # noqa: OP1011", ["OP101", "OP102"]),  # a longer code is not a prefix of OP101
    ("  # noqa: OP103", ["OP101", "OP102"]),
    ("  # noqa: E501", ["OP101", "OP102"]),  # another linter's code
    ("  # type: ignore  # noqa: OP101", ["OP102"]),
])
def test_noqa_silences_only_the_codes_it_names(comment: str, left: list[str]) -> None:
    assert codes_on_line(BOTH + comment) == left


def test_noqa_inside_a_string_is_not_a_directive() -> None:
    assert codes_on_line('g *= 2; print("# noqa")') == ["OP101"]
    assert codes_on_line("g *= 2; s = '# noqa: OP101'") == ["OP101"]


def test_noqa_on_another_line_does_not_reach_this_one() -> None:
    source = HEAD + "    # noqa\n    g *= 2  # noqa: OP102\n    h *= 3\n    return h, g\n"
    assert [(f.line, f.code) for f in check_source(source, Settings(hazards=HAZARDS))] == [(8, "OP101"), (9, "OP101")]


def test_a_statement_spanning_lines_is_silenced_on_its_first_line() -> None:
    source = HEAD + "    g *= (2 +  # noqa: OP101\n          1)\n    h *= (2 +\n          1)  # noqa: OP101\n    return h, g\n"
    assert [(f.line, f.code) for f in check_source(source, Settings(hazards=HAZARDS))] == [(9, "OP101")]


def test_silenced_findings_are_not_fixed() -> None:
    source = HEAD + "    " + BOTH + "  # noqa: OP102\n    return h, g\n"
    out = fix_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True)).output
    assert "h.mul_(2); g = g * 2  # noqa: OP102" in out
