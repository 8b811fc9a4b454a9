"""Judgements of analysis/ that the mutation run (scripts/mutation.py, group `analysis`) found no test
deciding: each test states a behaviour of `check` on a small program, and names the planted bug it
catches (tests/README.md, "Mutation testing").

Some behaviours depend on the order of a set of objects, which changes from run to run (object ids,
string hashes): those tests repeat the shape in many functions, so a bug that drops whatever follows
one object in that order shows on some of them in every run.
"""

from __future__ import annotations

import textwrap

from outplace.engine import check_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

EVERYTHING = Settings(unsafe_fixes=True, clone=True, hazards=HAZARDS)
CALLER = "\n\ndef _train():\n    x = torch.randn(3, requires_grad=True)\n    return {calls}\n"


def _check(code: str, settings: Settings = EVERYTHING, **kwargs) -> dict[int, object]:
    """Findings by line (one per line in these programs)."""
    found = {}
    for f in check_source(textwrap.dedent(code), settings, **kwargs):
        assert f.line not in found, (f, found[f.line])
        found[f.line] = f
    return found


def _line(code: str, marker: str) -> int:
    """The line that ends with `marker` (a comment) or holds it (anything else)."""
    return next(i for i, text in enumerate(textwrap.dedent(code).splitlines(), 1)
                if (text.endswith(marker) if marker.startswith("#") else marker in text))


def _verdict(f) -> tuple[str, str]:
    return f.hazard, "none" if f.fix is None else f.fix.applicability.value


def _text(f) -> str:
    return " ".join([f.why, *(f.fix.reasons if f.fix else ())])


# ---- what saves what ------------------------------------------------------------------------------------


def test_a_with_item_s_events_name_its_line() -> None:
    """An op in a `with` item is where the message says it is (flow.py `_step`: a `with` item has no
    line of its own; its context expression has)."""
    code = textwrap.dedent("""
        import contextlib
        import torch

        def f(x):
            with contextlib.nullcontext(y := torch.sigmoid(x)):
                y *= 2  # <-
            return y
        """) + CALLER.format(calls="f(x)")
    f = _check(code)[_line(code, "# <-")]
    assert f.hazard == "breaks"
    assert f"saved by `torch.sigmoid` as its result (line {_line(code, 'with contextlib')})" in f.why, f.why
