"""The data every part of outplace passes around: findings, fixes and edits.

Data flows one way: a rule's analysis yields `Finding`s (with a `Fix` when a rewrite exists);
the engine turns fixes into `Edit`s on the source text; front ends (CLI, editor, harness) only
read these objects.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Applicability(str, enum.Enum):
    """How sure we are that a fix changes nothing observable (ruff's terms)."""

    SAFE = "safe"  # nothing else can observe the change: applied by default
    UNSAFE = "unsafe"  # another reference may see a difference: needs --unsafe-fixes

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


@dataclass(frozen=True)
class Edit:
    """Replace `source[start:end]` (character offsets) with `content`."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class Fix:
    applicability: Applicability
    # Why the fix is unsafe ("parameter", "view of `x`", ...); empty when safe.
    reasons: tuple[str, ...] = ()
    # Filled in by the engine when the rewrite is materialised (lazily: `check` never needs it).
    edit: Edit | None = None

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE


# What a write does to autograd, most serious first: "breaks" (backward fails, or the write itself
# raises), "inplace" (a tensor of the graph that nothing saved: harmless today, a hazard tomorrow),
# "nograd" (a tensor outside autograd: the write cannot affect a gradient; for code that wants no
# in-place writes at all, e.g. before functionalizing it).
HAZARDS = ("breaks", "inplace", "nograd")


@dataclass(frozen=True)
class Finding:
    code: str  # rule code, e.g. "OP101"
    message: str
    line: int  # 1-based
    col: int  # 1-based, in characters
    end_line: int
    end_col: int
    fix: Fix | None = None
    # Opaque rewrite plan for the rule's codemod; None when there is no fix.
    plan: object | None = field(default=None, compare=False, repr=False)
    # What the write does to autograd: "breaks" (backward fails, or the write raises), "inplace"
    # (a graph tensor nothing saved yet: harmless today), and why, in words.
    hazard: str = "breaks"
    why: str = ""

    @property
    def fixable(self) -> bool:
        return self.fix is not None
