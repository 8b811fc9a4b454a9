"""What every rule is: a code, its documentation, and a detector over the shared analysis that
yields findings with rewrite plans. (`commands.py` wraps each rule as a `libcst.codemod` command.)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import ClassVar, Iterator

from outplace.analysis import Analysis, Target
from outplace.findings import Applicability, Finding, Fix
from outplace.plans import Plan


@dataclass(frozen=True)
class RuleDoc:
    what: str
    why: str
    example: str
    use_instead: str
    fix_safety: str


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    doc: ClassVar[RuleDoc]

    def findings(self, an: Analysis) -> Iterator[Finding]:
        raise NotImplementedError

    # ---- helpers shared by the rules ----------------------------------------------------------------
    def finding(self, an: Analysis, node: ast.AST, message: str, plan: Plan | None = None,
                reasons: tuple[str, ...] | list[str] = (), target: Target | None = None) -> Finding:
        """A finding at `node`; its fix is safe when there is no reason against it."""
        line, col, end_line, end_col = an.span(node)
        if target is not None and not target.rebindable:
            plan = None  # e.g. an nn.Parameter attribute: no out-of-place form can replace it
        fix = None
        if plan is not None:
            reasons = tuple(dict.fromkeys(reasons))
            fix = Fix(Applicability.UNSAFE if reasons else Applicability.SAFE, reasons)
        return Finding(self.code, message, line, col + 1, end_line, end_col + 1, fix, plan)
