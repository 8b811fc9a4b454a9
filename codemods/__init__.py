"""The rewrite rules, one module each; `commands.py` wraps each as a real `libcst.codemod` command:

    python -m libcst.tool codemod commands.AugmentedAssignCommand src/
"""

from __future__ import annotations

from .base import Rule, RuleDoc
from .op101_augmented_assign import AugmentedAssign
from .op102_inplace_method import InplaceMethod
from .op103_inplace_function import InplaceFunction
from .op104_inplace_argument import InplaceArgument
from .op105_out_argument import OutArgument
from .op106_index_assign import IndexAssign
from .op107_inplace_without_twin import InplaceWithoutTwin

RULES: tuple[Rule, ...] = (
    AugmentedAssign(), InplaceMethod(), InplaceFunction(), InplaceArgument(), OutArgument(), IndexAssign(),
    InplaceWithoutTwin(),
)
RULES_BY_CODE = {r.code: r for r in RULES}

__all__ = ["RULES", "RULES_BY_CODE", "Rule", "RuleDoc"]
