"""What every rule is: a code, its documentation, a detector over the shared analysis, and a real
`libcst.codemod` command that applies its safe fixes (so `python -m libcst.tool codemod` runs it).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import ClassVar, Iterator

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand

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


class RuleCommand(VisitorBasedCodemodCommand):
    """Base of the per-rule libcst commands: analyse the module, apply this rule's fixes.

    Usage: `python -m libcst.tool codemod op101_augmented_assign.AugmentedAssignCommand src/`
    (with `.libcst.codemod.yaml` listing `outplace.codemods`), add `--unsafe-fixes` for unsafe ones.
    """

    rule: ClassVar[type[Rule]]

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False, clone: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes
        self.clone = clone

    @staticmethod
    def add_args(arg_parser) -> None:  # libcst.tool passes these through to __init__
        arg_parser.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
        arg_parser.add_argument("--clone", action="store_true", help="allow clone-before-write fixes")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        from outplace.engine import fix_source  # the engine drives the region rewrite
        from outplace.settings import Settings

        settings = Settings(select=(self.rule.code,), unsafe_fixes=self.unsafe_fixes, clone=self.clone)
        result = fix_source(tree.code, settings, path=self.context.filename or "<codemod>")
        if not result.changed:
            raise SkipFile("nothing to fix")
        return cst.parse_module(result.output)
