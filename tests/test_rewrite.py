"""Every fix `check` advertises is one `fix` applies: one-line bodies, CR-only line endings, form
feeds; and the rewriter's work grows linearly with the file."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from outplace.engine import check_source, fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
HEAD = "import torch\n\n\ndef f(x: torch.Tensor, c: bool):\n    y = torch.sigmoid(x)\n"

# (input body, expected body) under HEAD; every input has exactly the safe fixes shown.
ONE_LINERS = {
    "if": ("    if c: y *= 2\n", "    if c: y = y * 2\n"),
    "for": ("    for i in range(3): y *= 2\n", "    for i in range(3): y = y * 2\n"),
    "while": ("    while c: y.mul_(2)\n", "    while c: y = y.mul(2)\n"),
    "with": ("    with torch.enable_grad(): y *= 2\n", "    with torch.enable_grad(): y = y * 2\n"),
    "else": ("    if c:\n        pass\n    else: y *= 2\n", "    if c:\n        pass\n    else: y = y * 2\n"),
    "elif": ("    if c:\n        pass\n    elif x is None: y *= 2\n",
             "    if c:\n        pass\n    elif x is None: y = y * 2\n"),
    "try-except": ("    try: y *= 2\n    except ValueError: y *= 3\n",
                   "    try: y = y * 2\n    except ValueError: y = y * 3\n"),
    "two statements": ("    if c: y *= 2; y.mul_(3)\n", "    if c: y = y * 2; y = y.mul(3)\n"),
    "multi-line header": ("    if (c and\n            c): y.mul_(\n        3)\n",
                          "    if (c and\n            c): y = y.mul(\n        3)\n"),
    "form feed line": ("\x0c\n    y *= 2\n", "\x0c\n    y = y * 2\n"),
    "form feed before": ("\x0c    y *= 2\n", "\x0c    y = y * 2\n"),
    "form feed inside indentation": ("  \x0c    y.mul_(2)\n", "  \x0c    y = y.mul(2)\n"),
    "form feed before else": ("    if c:\n        pass\n\x0c    else: y *= 2\n",
                              "    if c:\n        pass\n\x0c    else: y = y * 2\n"),
}


@pytest.mark.parametrize("name", ONE_LINERS)
def test_advertised_fix_applies(name: str) -> None:
    before, after = ONE_LINERS[name]
    source, expected = HEAD + before + "    return y\n", HEAD + after + "    return y\n"
    advertised = [f for f in check_source(source, Settings(hazards=HAZARDS)) if f.fix is not None and f.fix.is_safe]
    assert advertised, "the case must advertise a safe fix"
    result = fix_source(source, Settings(hazards=HAZARDS))
    assert result.output == expected
    assert len(result.applied) == len(advertised) and result.remaining == []


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
@pytest.mark.parametrize("name", ["if", "else", "form feed before", "two statements"])
def test_line_endings_are_kept(name: str, newline: str) -> None:
    before, after = ONE_LINERS[name]
    source = (HEAD + before + "    return y\n").replace("\n", newline)
    assert fix_source(source, Settings(hazards=HAZARDS)).output == (HEAD + after + "    return y\n").replace("\n", newline)


@pytest.mark.parametrize("source, expected", [
    ("import torch\nx = torch.zeros(3).exp()\n\x0cx *= 2\n", "import torch\nx = torch.zeros(3).exp()\n\x0cx = x * 2\n"),
    ("import torch\rx = torch.zeros(3).exp()\rx *= 2\r", "import torch\rx = torch.zeros(3).exp()\rx = x * 2\r"),
    ("import torch\nx = torch.zeros(3).exp()\nif x is not None: x *= 2\n",
     "import torch\nx = torch.zeros(3).exp()\nif x is not None: x = x * 2\n"),
], ids=["form feed at module level", "CR at the end of the file", "module-level one-liner"])
def test_module_level(source: str, expected: str) -> None:
    assert fix_source(source, Settings(hazards=HAZARDS)).output == expected


def test_clone_before_write_in_a_one_line_body_stays_on_the_line() -> None:
    source = HEAD + "    if c: y[0] = 1\n    return y\n"
    out = fix_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True, clone=True)).output
    assert out == HEAD + "    if c: y = y.clone(); y[0] = 1\n    return y\n"


def _fix_cases() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("OP*/*.py")
                  if not p.name.endswith(".fixed.py") and not p.name.startswith("clean_"))


def _settings(path: Path) -> Settings:
    mode = path.name.split("_", 1)[0]
    return Settings(hazards=HAZARDS, unsafe_fixes=mode != "safe", clone=mode == "clone")


@pytest.mark.parametrize("path", _fix_cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_fixes_the_same_with_cr_endings_and_form_feeds(path: Path) -> None:
    """The rule fixtures, rewritten with CR-only line endings, and again with a form feed before
    every statement: the same fixes land, and no form feed is lost."""
    source, expected = path.read_text(), path.with_suffix(".fixed.py").read_text()
    settings = _settings(path)
    assert fix_source(source.replace("\n", "\r"), settings).output == expected.replace("\n", "\r")

    lines = source.splitlines(keepends=True)
    starts = {node.lineno for node in ast.walk(ast.parse(source)) if isinstance(node, ast.stmt)}
    fed = "".join("\x0c" + line if i in starts else line for i, line in enumerate(lines, 1))
    result = fix_source(fed, settings)
    assert result.output.count("\x0c") == fed.count("\x0c")
    assert result.output.replace("\x0c", "") == expected
    assert len(result.applied) == len(fix_source(source, settings).applied)


class _Counting(list):
    """A list that counts how often it is walked."""

    walks = 0

    def __iter__(self):
        self.walks += 1
        return super().__iter__()


def test_rewrite_walks_the_plans_a_fixed_number_of_times() -> None:
    """The rewriter visits each plan and each statement a bounded number of times, however many
    regions a file has: no loop over all plans per region or per statement (counted, not timed)."""
    from outplace.engine import _analyse, _statements_by_start
    from outplace.rewrite import StatementIndex, rewrite_source
    from outplace.source import split_lines

    block = "\n\ndef f{i}(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n    return y\n"
    for n in (50, 400):
        source = "import torch\n" + "".join(block.format(i=i) for i in range(n))
        checked, tree = _analyse(source, Settings(hazards=HAZARDS))
        findings = checked.findings
        stmts = _statements_by_start(tree, split_lines(source))
        plans = _Counting((i, f.plan, stmts[f.plan.stmt]) for i, f in enumerate(findings))
        new, landed = rewrite_source(source, tree, plans)
        assert len(landed) == n and new.count("y = y * 2") == n
        assert plans.walks <= 4, plans.walks
        spans = _Counting((s.lineno, s.end_lineno) for _, _, s in plans)
        StatementIndex(tree, spans)
        assert spans.walks <= 2, spans.walks


def test_no_fix_is_advertised_that_does_not_apply_on_the_fixtures() -> None:
    """Over every fixture: each safe fix `check` offers is applied by `fix` (or the run converges on
    a rewrite that took it along), so `fix` never leaves a `[*]` safe finding behind."""
    for path in _fix_cases():
        settings = _settings(path)
        result = fix_source(path.read_text(), settings)
        left = [f for f in result.remaining if f.fix is not None and (f.fix.is_safe or settings.unsafe_fixes)]
        assert not left, (path, [(f.line, f.code) for f in left])


def test_messages_name_the_line_and_column_of_the_statement() -> None:
    # The one-line-body positions the fixer keys plans by: the statement's own column, in characters.
    source = HEAD + "    if c: y *= 2  # é\n    return y\n"
    [f] = check_source(source, Settings(hazards=HAZARDS))
    assert (f.line, f.col) == (6, 11)
    assert re.search(r"y = y \* 2", fix_source(source, Settings(hazards=HAZARDS)).output)
