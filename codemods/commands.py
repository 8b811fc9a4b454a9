"""Each rule as a real `libcst.codemod` command, for `python -m libcst.tool codemod`:

    python -m libcst.tool codemod commands.AugmentedAssignCommand src/
    python -m libcst.tool codemod commands.InplaceArgumentCommand --unsafe-fixes src/

(`.libcst.codemod.yaml` at the repository root lists `outplace.codemods` as a command module.)
Kept apart from the rules so that `outplace check` never imports libcst.codemod.
"""

from __future__ import annotations

from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand

from .base import Rule
from .op101_augmented_assign import AugmentedAssign
from .op102_inplace_method import InplaceMethod
from .op103_inplace_function import InplaceFunction
from .op104_inplace_argument import InplaceArgument
from .op105_out_argument import OutArgument
from .op106_index_assign import IndexAssign
from .op107_inplace_without_twin import InplaceWithoutTwin


class RuleCommand(VisitorBasedCodemodCommand):
    """Analyse the module and apply one rule's fixes (safe ones unless --unsafe-fixes)."""

    rule: ClassVar[type[Rule]]

    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False, clone: bool = False,
                 hazard: str = "breaks") -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes
        self.clone = clone
        from outplace.findings import HAZARDS

        levels = tuple(h.strip().lower() for h in hazard.split(",") if h.strip())
        self.hazards = HAZARDS if levels == ("all",) else levels

    @staticmethod
    def add_args(arg_parser) -> None:  # libcst.tool passes these through to __init__
        arg_parser.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
        arg_parser.add_argument("--clone", action="store_true", help="allow clone-before-write fixes")
        arg_parser.add_argument("--hazard", default="breaks",
                                help="hazard levels to fix, as `outplace fix --hazard` (default: breaks; all)")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        from outplace.engine import fix_source  # the engine drives the region rewrite
        from outplace.settings import Settings
        from outplace.source import SourceError, read_source

        # The file's own text, decoded as outplace decodes it (libcst's printed tree can differ from
        # the bytes on disk: a BOM, a form feed, a last lone CR), and written back in its encoding.
        encoding, bom, text = tree.encoding, False, tree.code
        if self.context.filename:
            try:
                src = read_source(self.context.filename, digest=False)
                encoding, bom, text = src.encoding, src.bom, src.text
            except SourceError as e:
                raise SkipFile(str(e)) from None
        settings = Settings(select=(self.rule.code,), unsafe_fixes=self.unsafe_fixes, clone=self.clone,
                            hazards=self.hazards)
        result = fix_source(text, settings, path=self.context.filename or "<codemod>")
        if not result.changed:
            raise SkipFile("nothing to fix")
        module = cst.parse_module(result.output)
        if module.code != result.output:  # libcst would not print it back exactly: write nothing
            raise SkipFile("libcst cannot reproduce this file byte for byte; use `outplace fix`")
        # Module.bytes is `code.encode(encoding)`: "utf-8-sig" puts the byte order mark back.
        return module.with_changes(encoding="utf-8-sig" if bom else encoding)


class AugmentedAssignCommand(RuleCommand):
    DESCRIPTION = AugmentedAssign.summary
    rule = AugmentedAssign

class InplaceMethodCommand(RuleCommand):
    DESCRIPTION = InplaceMethod.summary
    rule = InplaceMethod

class InplaceFunctionCommand(RuleCommand):
    DESCRIPTION = InplaceFunction.summary
    rule = InplaceFunction

class InplaceArgumentCommand(RuleCommand):
    DESCRIPTION = InplaceArgument.summary
    rule = InplaceArgument

class OutArgumentCommand(RuleCommand):
    DESCRIPTION = OutArgument.summary
    rule = OutArgument

class IndexAssignCommand(RuleCommand):
    DESCRIPTION = IndexAssign.summary
    rule = IndexAssign

class InplaceWithoutTwinCommand(RuleCommand):
    DESCRIPTION = InplaceWithoutTwin.summary
    rule = InplaceWithoutTwin
