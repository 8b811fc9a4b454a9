"""The engine: source text in, findings and fixed source text out. No I/O here.

    check_source(text, settings)  -> list[Finding]           (stdlib ast only: cheap)
    fix_source(text, settings)    -> FixResult               (libcst only on the regions that change)

Front ends (CLI, editor server, harness, diagnose) call these two functions and nothing deeper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from outplace.findings import Finding
from outplace.settings import Settings


@dataclass
class FixResult:
    output: str  # the fixed source (== input when nothing applied)
    applied: list[Finding] = field(default_factory=list)  # fixes that landed in `output`
    held_back: list[Finding] = field(default_factory=list)  # unsafe fixes not applied (no --unsafe-fixes)
    remaining: list[Finding] = field(default_factory=list)  # findings left in `output` (incl. unfixable)

    @property
    def changed(self) -> bool:
        return bool(self.applied)


def check_source(source: str, settings: Settings = Settings(), *, path: str = "<string>") -> list[Finding]:
    raise NotImplementedError


def fix_source(source: str, settings: Settings = Settings(), *, path: str = "<string>") -> FixResult:
    raise NotImplementedError
