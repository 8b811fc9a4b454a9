"""Culprit lines to engine fixes: the proposed diff for each culprit, and `--fix` (those lines only).

The engine is asked for every finding of the culprit's file (`check_source`), with what the run saw at
each culprit as runtime facts (`runtime_facts`: the written object is a tensor, backward needed it, it
is a parameter...); the findings whose span overlaps the culprit's span (the write's instruction, or
the constructor call of an ``inplace=True`` module) are that culprit's fix, and only those are
rewritten, through `outplace.engine.fix_selected`. Where the rules have no faithful rewrite, the run
shows what the write was for and `repairs` builds it (under ``torch.no_grad()``, through the base
tensor, a clone in the caller...). Nothing else in the file changes.

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
    findings: list[Finding]  # every finding whose plan this fix applies (all files)
    diff: str  # unified diff of this culprit's fix alone
    safe: bool
    reasons: tuple[str, ...] = ()
    applied: bool = False
    edits: dict[str, list[Finding]] = field(default_factory=dict)  # path -> its findings
    kind: str = "rule"  # "rule" (the engine's rules), or the run-based repair (`repairs`: no_grad, base, ...)


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


def runtime_facts(diagnosis: Diagnosis, texts: dict[str, str]):
    """What the run saw at each culprit, as the engine reads facts (`outplace.runtime_facts`): the
    written object was a tensor, saved and needed by backward (or refused by torch), a parameter..."""
    from outplace.runtime_facts import FactsSet, FileFacts, parse_site, site_json, text_digest

    from outplace.source import split_lines

    facts = FactsSet("<the diagnosed run>")
    for c in diagnosis.culprits:
        path = c.file
        if path not in texts or c.kind not in FIXABLE_KINDS:
            continue
        span = _char_span(c.at, split_lines(texts[path]))
        if span is None:
            continue
        saved_by = [{"op": s.forward_op, "line": (s.at or {}).get("line")} for s in c.saves]
        site = site_json(span, targets=[c.target] if c.target else [], op=c.ops[0] if c.ops else None, form=c.form,
                         saved=[bool(c.saves)], broke=[c.kind == "write" and bool(c.saves)], saved_by=saved_by,
                         operands=[c.operands] if c.operands else [], count=c.count,
                         error=c.kind if c.kind in ("leaf", "view") else None)
        if not c.target:
            site["requires_grad"] = "yes"  # the run showed it: a saved tensor backward needed, or torch refused it
        key = os.path.realpath(path)
        entry = facts.files.setdefault(key, FileFacts(path, text_digest(texts[path])))
        entry.sites.append(parse_site(site, path))
    return facts


def _char_span(site: dict, lines: list[str]) -> tuple[int, int, int, int] | None:
    span = _span(site, lines)
    return None if span is None else (span[0][0], span[0][1], span[1][0], span[1][1])


def propose(diagnosis: Diagnosis, *, clone: bool = True) -> dict[str, FilePlan]:
    """Attach a `CulpritFix` (or a note saying why there is none) to every culprit; one plan per file."""
    from outplace.diagnose import repairs
    from outplace.optable import load_optable
    from outplace.runner import read_code
    from outplace.source import SourceError

    plans: dict[str, FilePlan] = {}
    unreadable: dict[str, str] = {}
    sources: dict[str, repairs.Source | None] = {}

    def plan_for(path: str) -> FilePlan | None:
        if path not in plans and path not in unreadable:
            try:
                src, notebook = read_code(path)  # a notebook: its script, whose lines the program ran
                plans[path] = FilePlan(path, src, notebook=notebook)
            except SourceError as exc:
                unreadable[path] = str(exc)
        return plans.get(path)

    def load(path: str | None) -> "repairs.Source | None":
        if not path or not editable(path):
            return None
        if path not in sources:
            plan = plan_for(path)
            try:
                sources[path] = repairs.Source(path, plan.source.text) if plan is not None else None
            except (SyntaxError, ValueError):
                sources[path] = None
        return sources[path]

    texts = {}
    for c in diagnosis.culprits:
        for site in (c.at, c.called_at):
            path = (site or {}).get("file")
            if path and editable(path) and path not in texts and plan_for(path) is not None:
                texts[path] = plans[path].source.text
    facts = runtime_facts(diagnosis, texts)
    ops = load_optable()
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
        plan = plan_for(path)
        if plan is None:
            c.note = f"no fix proposed: {unreadable.get(path, display(path))}"
            continue
        text = plan.source.text
        try:
            findings = check_source(text, _settings(path, clone), path=path, facts=facts)
        except ParseError as exc:
            c.note = f"no fix proposed: {display(path)}:{exc}"
            continue
        here = matching_findings(findings, c.at, text)
        fixable = [f for f in here if f.fix is not None and f.plan is not None]
        src = load(path)
        repair = repairs.gradient_step(c, src) if src is not None else None
        if repair is None and not fixable and src is not None:
            repair = (repairs.no_grad(c, src) or repairs.through_base(c, src) or repairs.clone_in_caller(c, load)
                      or repairs.value_twin(c, src, ops) or repairs.switch_off(c, load))
        if repair is not None:
            _attach(c, repair.edits, repair.kind, plans)
            if c.fix is None:
                c.note = "the run-based rewrite could not be applied here without changing more than its lines."
            continue
        if not fixable:
            c.note = _no_fix_note(c, here)
            continue
        _attach(c, {path: fixable}, "rule", plans)
        if c.fix is None:
            c.note = "the engine could not apply the fix here without changing more than this line."
    return {p: plan for p, plan in plans.items() if plan.culprits}


def _attach(c: Culprit, edits: dict[str, list[Finding]], kind: str, plans: dict[str, FilePlan]) -> None:
    """Try each file's edits; on success the culprit gets its `CulpritFix` and joins those files' plans."""
    from outplace.source import SourceError

    landed_by_file: dict[str, list[Finding]] = {}
    diffs = []
    for path, findings in edits.items():
        plan = plans[path]
        new, landed = fix_selected(plan.source.text, findings)
        if not landed:
            return
        landed_by_file[path] = landed
        try:
            diffs.append(_diff(plan.source.text, new, path, plan.notebook))
        except SourceError:  # a notebook whose cells no longer map onto the new script
            return
    everything = [f for fs in landed_by_file.values() for f in fs]
    reasons = tuple(dict.fromkeys(r for f in everything if not f.fix.is_safe for r in f.fix.reasons))
    c.fix = CulpritFix(everything, "".join(diffs), all(f.fix.is_safe for f in everything), reasons,
                       edits=landed_by_file, kind=kind)
    for path in landed_by_file:
        plans[path].culprits.append(c)


def _no_fix_note(c: Culprit, here: list[Finding]) -> str:
    certain = next((f.why.split("No fix: ", 1)[1] for f in here if "No fix: " in f.why), None)
    codes = ", ".join(sorted({f.code for f in here}))
    if here and certain:
        return f"{codes} flags this write, but no rewrite of it keeps the program's meaning: {certain}."
    if here:
        return (f"{codes} flags this write, but has no automatic fix here"
                + (f": {NO_GRAD_ADVICE}." if not c.grad_enabled else
                   f"; write it out of place, or {_clone_advice(c)}."))
    if not c.grad_enabled:
        return f"no automatic fix (an intentional update under torch.no_grad()?): {NO_GRAD_ADVICE}."
    return ("no automatic fix: outplace's rules do not recognise this write; write it out of place "
            f"(`y = y.add(1)` instead of `y.add_(1)`), or {_clone_advice(c)}.")


def _clone_advice(c: Culprit) -> str:
    """`.clone()` before the write, unless what saved the tensor runs in the write's own statement
    (`b[:, 1] = act(b[:, 0])`): then the clone would be what it saves."""
    write = c.at or {}
    if any(s.at and s.at.get("file") == write.get("file") and s.at.get("line") == write.get("line")
           for s in c.saves):
        return ("compute the right-hand side into a new name first, then `.clone()` the tensor and write "
                "that name into it (a clone before this statement would be what its own op saves)")
    return "`.clone()` the tensor before writing"


def apply(plans: dict[str, FilePlan], *, unsafe_fixes: bool = False, write: bool = True) -> list[tuple[str, str]]:
    """Apply the chosen culprits' fixes, file by file (safe ones; unsafe too with `unsafe_fixes`).

    Returns (path, new_text) for each file changed; marks each applied `CulpritFix`. Raises
    outplace.source.SourceError when a file cannot be written (or changed on disk meanwhile).
    """
    from outplace.runner import write_code

    changed = []
    landed_in: dict[int, set[str]] = {}
    for path, plan in plans.items():
        chosen = [c for c in plan.culprits if c.fix is not None and (c.fix.safe or unsafe_fixes)]
        if not chosen:
            continue
        findings: list[Finding] = []
        for c in chosen:
            findings.extend(f for f in c.fix.edits.get(path, ()) if f not in findings)
        text = plan.source.text
        new, landed = fix_selected(text, findings)
        if not landed or new == text:
            continue
        for c in chosen:
            if all(f in landed for f in c.fix.edits.get(path, ())):
                landed_in.setdefault(id(c), set()).add(path)
        if write:
            write_code(plan.source, plan.notebook, new)
        changed.append((path, new))
    for plan in plans.values():
        for c in plan.culprits:
            if c.fix is not None and id(c) in landed_in:
                c.fix.applied = set(c.fix.edits) <= landed_in[id(c)]
    return changed
