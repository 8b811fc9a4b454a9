"""Culprit lines to engine fixes: the proposed diff for each culprit, and `--fix` (those lines only).

The engine is asked for every finding of the culprit's file (`check_source`); the findings whose span
overlaps the culprit's span (the write's instruction, or the constructor call of an ``inplace=True``
module) are that culprit's fix, and only those are rewritten, through `outplace.engine.fix_selected`.
Nothing else in the file changes.

Fixes follow the engine's safety: `--fix` applies the safe ones, `--unsafe-fixes` the unsafe ones too.
`clone` (default on here) allows the ``x = x.clone()``-before-the-write fixes: the runtime has shown that
backward needs the old value, which is exactly what the clone keeps.
"""

from __future__ import annotations

import os
import sysconfig
from dataclasses import dataclass, field

from outplace.diagnose.report import FIXABLE_KINDS, NO_GRAD_ADVICE, UNFIXABLE_ADVICE, Culprit, Diagnosis, display
from outplace.engine import ParseError, check_source, fix_selected
from outplace.findings import HAZARDS, Finding
from outplace.settings import Settings


@dataclass
class CulpritFix:
    findings: list[Finding]
    diff: str  # unified diff of this culprit's fix alone
    safe: bool
    reasons: tuple[str, ...] = ()
    applied: bool = False


@dataclass
class FilePlan:
    path: str
    source: object  # outplace.source.SourceFile (a notebook's script, for a notebook)
    culprits: list[Culprit] = field(default_factory=list)
    notebook: object = None  # outplace.notebook.Notebook


def editable(path: str | None) -> bool:
    """A file of the user's project: it exists, and is not in site-packages or the standard library."""
    if not path or path.startswith("<") or not os.path.isfile(path):
        return False
    real = os.path.realpath(path)
    parts = real.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib"):
        base = paths.get(key)
        if base and real.startswith(os.path.realpath(base) + os.sep):
            return False
    return True


def _char_col(line_text: str, byte_col: int) -> int:
    try:
        return len(line_text.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
    except Exception:
        return byte_col


def _span(site: dict, lines: list[str]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The site's span as ((line, col), (end_line, end_col)), 0-based character columns, end exclusive."""
    if site.get("col") is None or site.get("end_line") is None or site.get("end_col") is None:
        return None
    line, end_line = site["line"], site["end_line"]
    if not (1 <= line <= len(lines) and 1 <= end_line <= len(lines)):
        return None
    return (line, _char_col(lines[line - 1], site["col"])), (end_line, _char_col(lines[end_line - 1], site["end_col"]))


def matching_findings(findings: list[Finding], site: dict, source: str) -> list[Finding]:
    """The findings at the culprit's site: overlapping its span, else on its line."""
    lines = source.splitlines()
    span = _span(site, lines)
    out = []
    for f in findings:
        if span is not None:
            start, end = (f.line, f.col - 1), (f.end_line, f.end_col - 1)
            if start < span[1] and span[0] < end:
                out.append(f)
        elif f.line <= site["line"] <= f.end_line:
            out.append(f)
    if span is not None and not out:  # a span the rules describe differently: fall back to the line
        out = [f for f in findings if f.line <= site["line"] <= f.end_line]
    return out


def _diff(old: str, new: str, path: str, notebook=None) -> str:
    """The change as a unified diff; for a notebook, one per cell that changes (`path:cell N`)."""
    import difflib

    shown = display(path)
    pairs = [(old, new, shown)] if notebook is None else [
        (a, b, f"{shown}:cell {n}") for n, (a, b) in sorted(notebook.cell_texts(new).items())]
    lines = []
    for a, b, name in pairs:
        for line in difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                         f"a/{name}", f"b/{name}", n=1):
            lines.append(line if line.endswith("\n") else line + "\n")
    return "".join(lines)


def _settings(path: str, clone: bool) -> Settings:
    from outplace.config import ConfigError, find_project_root, load_settings

    # The run showed this write breaks backward: whatever the static hazard level says, it is fixed.
    try:
        return load_settings(find_project_root([path]), unsafe_fixes=True, clone=clone, hazards=HAZARDS)
    except (ConfigError, OSError):
        return Settings(unsafe_fixes=True, clone=clone, hazards=HAZARDS)


def propose(diagnosis: Diagnosis, *, clone: bool = True) -> dict[str, FilePlan]:
    """Attach a `CulpritFix` (or a note saying why there is none) to every culprit; one plan per file."""
    from outplace.runner import read_code
    from outplace.source import SourceError

    plans: dict[str, FilePlan] = {}
    for c in diagnosis.culprits:
        if c.kind not in FIXABLE_KINDS:
            c.note = UNFIXABLE_ADVICE.get(c.kind)
            continue
        if c.at is None:
            c.note = "no source line to fix."
            continue
        path = c.file
        if not editable(path):
            c.note = f"no fix proposed: {display(path)} is not part of your project (a library or generated code)."
            continue
        plan = plans.get(path)
        if plan is None:
            try:
                src, notebook = read_code(path)  # a notebook: its script, whose lines the program ran
                plan = plans[path] = FilePlan(path, src, notebook=notebook)
            except SourceError as exc:
                c.note = f"no fix proposed: {exc}"
                continue
        text = plan.source.text
        try:
            findings = check_source(text, _settings(path, clone), path=path)
        except ParseError as exc:
            c.note = f"no fix proposed: {display(path)}:{exc}"
            continue
        here = matching_findings(findings, c.at, text)
        fixable = [f for f in here if f.fix is not None and f.plan is not None]
        if not fixable:
            certain = next((f.why.split("No fix: ", 1)[1] for f in here if "No fix: " in f.why), None)
            if here and certain:
                codes = ", ".join(sorted({f.code for f in here}))
                c.note = f"{codes} flags this write, but no rewrite of it keeps the program's meaning: {certain}."
            elif here:
                codes = ", ".join(sorted({f.code for f in here}))
                c.note = (f"{codes} flags this write, but has no automatic fix here"
                          + (f": {NO_GRAD_ADVICE}." if not c.grad_enabled else
                             "; write it out of place, or `.clone()` the tensor before writing."))
            elif not c.grad_enabled:
                c.note = f"no automatic fix (an intentional update under torch.no_grad()?): {NO_GRAD_ADVICE}."
            else:
                c.note = ("no automatic fix: outplace's rules do not recognise this write; write it out of place "
                          "(`y = y.add(1)` instead of `y.add_(1)`), or `.clone()` the tensor before writing.")
            continue
        new, landed = fix_selected(text, fixable)
        if not landed:
            c.note = "the engine could not apply the fix here without changing more than this line."
            continue
        reasons = tuple(r for f in landed if not f.fix.is_safe for r in f.fix.reasons)
        try:
            diff = _diff(text, new, path, plan.notebook)
        except SourceError as exc:
            c.note = f"no fix proposed: {exc}"
            continue
        c.fix = CulpritFix(landed, diff, all(f.fix.is_safe for f in landed), reasons)
        plan.culprits.append(c)
    return {p: plan for p, plan in plans.items() if plan.culprits}


def apply(plans: dict[str, FilePlan], *, unsafe_fixes: bool = False, write: bool = True) -> list[tuple[str, str]]:
    """Apply the chosen culprits' fixes, file by file (safe ones; unsafe too with `unsafe_fixes`).

    Returns (path, new_text) for each file changed; marks each applied `CulpritFix`. Raises
    outplace.source.SourceError when a file cannot be written (or changed on disk meanwhile).
    """
    from outplace.runner import write_code

    changed = []
    for path, plan in plans.items():
        chosen = [c for c in plan.culprits if c.fix is not None and (c.fix.safe or unsafe_fixes)]
        if not chosen:
            continue
        findings: list[Finding] = []
        for c in chosen:
            findings.extend(f for f in c.fix.findings if f not in findings)
        # Fixes come from `check_source` of the same text; re-run it so indexes and plans agree.
        text = plan.source.text
        new, landed = fix_selected(text, findings)
        if not landed or new == text:
            continue
        for c in chosen:
            c.fix.applied = all(f in landed for f in c.fix.findings)
        if write:
            write_code(plan.source, plan.notebook, new)
        changed.append((path, new))
    return changed
