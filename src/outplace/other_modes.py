"""What the other fix modes would do with a file's findings: adoption on a big repository.

    other_mode_fixes(text, findings, settings, path=..., project=...) -> [(finding, flags)]

`flags` is what the fix needs: "--unsafe-fixes" (an unsafe fix held back), "--clone" (a finding with
no fix now that `x = x.clone()` before the write would fix), or "--clone --unsafe-fixes". The clone
case analyses the text once more with `clone` on, so it is asked only for files that have a finding
without a fix. `project` may be a function that makes the project index: it is called only then.
"""

from __future__ import annotations

from dataclasses import replace

from outplace.findings import Finding
from outplace.settings import Settings

UNSAFE, CLONE, BOTH = "--unsafe-fixes", "--clone", "--clone --unsafe-fixes"


def other_mode_fixes(text: str, findings: list[Finding], settings: Settings, *, path: str = "<string>",
                     project=None) -> list[tuple[Finding, str]]:
    out = []
    if not settings.unsafe_fixes:
        out += [(f, UNSAFE) for f in findings if f.fix is not None and not f.fix.is_safe]
    unfixed = {(f.line, f.col, f.code) for f in findings if f.fix is None}
    if settings.clone or not unfixed:
        return out
    from outplace.engine import check_source

    if callable(project):
        project = project()
    for f in check_source(text, replace(settings, clone=True), path=path, project=project):
        if (f.line, f.col, f.code) in unfixed and f.fix is not None:
            out.append((f, CLONE if f.fix.is_safe or settings.unsafe_fixes else BOTH))
    out.sort(key=lambda pair: (pair[0].line, pair[0].col, pair[0].code))
    return out
