"""What every rule is: a code, its documentation, and a detector over the shared analysis that
yields findings with rewrite plans. (`commands.py` wraps each rule as a `libcst.codemod` command.)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import ClassVar, Iterator

from outplace.analysis import Analysis, Judgement
from outplace.findings import Applicability, Finding, Fix
from outplace.plans import Plan

from .inplace_calls import CertainIfReal


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
                reasons: tuple[str, ...] | list[str] = (), judged: Judgement | None = None) -> Finding:
        """A finding at `node`; its fix is safe when there is no reason against it. A write whose
        every rewrite would certainly change behaviour (`judged.certain`) gets no fix at all."""
        line, col, end_line, end_col = an.span(node)
        why = ""
        hazard = "breaks"
        if judged is not None:
            hazard, why = judged.hazard or "inplace", judged.why
            if not judged.certain and judged.info.dtype in ("float", "int", "bool") and \
                    any(isinstance(r, CertainIfReal) for r in reasons):
                judged = replace(judged, certain=(
                    "the operand is complex and the tensor is not: in place the write raises, out of place it "
                    "would silently compute a complex tensor"))
            if judged.certain or not judged.rebindable:
                plan = None
                if judged.certain:
                    why = f"{why}. No fix: {judged.certain}" if why else f"No fix: {judged.certain}"
        fix = None
        if plan is not None:
            reasons = tuple(dict.fromkeys(reasons))
            fix = Fix(Applicability.UNSAFE if reasons else Applicability.SAFE, reasons)
        return Finding(self.code, message, line, col + 1, end_line, end_col + 1, fix, plan, hazard, why)
