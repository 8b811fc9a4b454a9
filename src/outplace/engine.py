"""The engine: source text in, findings and fixed source text out. No I/O here.

    check_source(text, settings)  -> list[Finding]     stdlib ast only: cheap
    fix_source(text, settings)    -> FixResult         libcst only on the regions that change
    fix_edit(text, finding)       -> Edit              one finding's fix as a minimal text edit
    fix_selected(text, findings)  -> (text, applied)   exactly the given findings' fixes

Front ends (CLI, editor server, harness, diagnose) call these and nothing deeper.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field, replace

from outplace.findings import Edit, Finding
from outplace.settings import Settings
from outplace.source import char_col, dominant_newline, split_lines
from outplace.suppression import Noqa, UnusedNoqa

# A file that never mentions torch holds no tensor we can recognise: skip it before parsing.
_PREFILTER = re.compile(r"torch|Tensor")


# Fix passes per file; real code converges in one or two.
MAX_FIX_PASSES = 8


class ParseError(Exception):
    """The source is not valid Python. `str()` is one line: `line:col: message`."""


@dataclass
class FixResult:
    output: str  # the fixed source (== input when nothing applied)
    applied: list[Finding] = field(default_factory=list)  # fixes that landed in `output`
    held_back: list[Finding] = field(default_factory=list)  # unsafe fixes not applied (no --unsafe-fixes)
    remaining: list[Finding] = field(default_factory=list)  # findings left in `output` (positions in `output`)
    hidden: int = 0  # `inplace` findings the hazard selection left out
    unused_noqa: list[UnusedNoqa] = field(default_factory=list)  # in `output`

    @property
    def changed(self) -> bool:
        return self.output is not None and bool(self.applied)


def parse(source: str) -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our business
            return ast.parse(source)
    except SyntaxError as e:
        raise ParseError(f"{e.lineno or 0}:{(e.offset or 0)}: syntax error: {e.msg}") from None
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        raise ParseError(f"1:1: cannot parse: {e}") from None


@dataclass
class Checked:
    """What one analysis found: the findings reported, how many `inplace` findings the hazard
    selection hid (what the summary says it hid), and the `noqa` codes of ours that suppressed nothing."""

    findings: list[Finding]
    hidden: int = 0
    unused_noqa: list[UnusedNoqa] = field(default_factory=list)


def _analyse(source: str, settings: Settings, tree: ast.Module | None = None, path: str | None = None,
             project=None, facts=None) -> tuple[Checked, ast.Module | None]:
    """The findings of the selected rules and hazard levels, not suppressed by a `noqa`. `facts`:
    runtime facts (`outplace.runtime_facts.FactsSet`); else those of `settings.facts`, if any."""
    noqa = Noqa(source)
    if noqa.file_all:
        return Checked([]), tree
    if not _PREFILTER.search(source):
        return Checked([], 0, noqa.unused([], settings.enabled)), None
    tree = tree or parse(source)
    from outplace.analysis import Analysis, candidate_lines  # deferred: skipped files never load them
    from outplace.codemods import RULES
    from outplace.optable import load_optable

    ops = load_optable()
    interest = candidate_lines(source, ops)
    if not interest:
        return Checked([], 0, noqa.unused([], settings.enabled)), tree
    an = Analysis(tree, lambda: split_lines(source), settings, ops, interest, project, path,
                  _file_facts(source, settings, path, facts), text=source)
    everything: list[Finding] = []
    found: list[Finding] = []
    left_out = 0
    try:
        for rule in RULES:
            if settings.enabled(rule.code):
                for f in rule.findings(an):
                    everything.append(f)
                    if noqa.suppresses(f):
                        continue
                    if f.hazard in settings.hazards:
                        found.append(f)
                    elif f.hazard == "inplace" and f.hazard not in settings.ignore:  # (not a per-file ignore)
                        left_out += 1
    finally:
        an.close()
    found.sort(key=lambda f: (f.line, f.col, f.code))
    return Checked(_one_fix_per_statement(found), left_out, noqa.unused(everything, settings.enabled)), tree


def _file_facts(source: str, settings: Settings, path: str | None, facts):
    """What a run saw in this very text (`outplace trace`, `outplace diagnose`), or None."""
    if facts is None and settings.facts:
        from outplace.runtime_facts import load_cached

        facts = load_cached(settings.facts)
    if facts is None or not path:
        return None
    return facts.for_text(path, source)


def _one_fix_per_statement(found: list[Finding]) -> list[Finding]:
    """Fixes that touch the same statement must compose; otherwise none of them is offered.

    Pure call edits (no rebinding) compose; anything that restructures the statement does not.
    Dropping all of them (not just the later ones) keeps `fix` idempotent: a second run sees the
    same statement and makes the same decision.
    """
    by_stmt: dict[tuple[int, int], list[int]] = {}
    for i, f in enumerate(found):
        if f.plan is not None:
            by_stmt.setdefault(f.plan.stmt, []).append(i)  # type: ignore[attr-defined]
    out = list(found)
    for idxs in by_stmt.values():
        if len(idxs) < 2:
            continue
        plans = [found[i].plan for i in idxs]
        if all(getattr(p, "edits", None) and getattr(p, "rebind", "x") is None for p in plans):
            continue
        for i in idxs:
            out[i] = replace(found[i], fix=None, plan=None)
    return out


def check_source(source: str, settings: Settings = Settings(), *, path: str = "<string>",
                 project=None, facts=None) -> list[Finding]:
    """`project`: the run's ProjectIndex (other files' classes and functions); None: this file alone.
    `facts`: runtime facts (a `runtime_facts.FactsSet`; default: `settings.facts`, if any)."""
    return check_source_counted(source, settings, path=path, project=project, facts=facts)[0]


def check_source_counted(source: str, settings: Settings = Settings(), *, path: str = "<string>",
                         project=None, facts=None) -> tuple[list[Finding], int]:
    """`check_source`, and how many findings of a hazard level not selected were left out."""
    checked = check_source_full(source, settings, path=path, project=project, facts=facts)
    return checked.findings, checked.hidden


def check_source_full(source: str, settings: Settings = Settings(), *, path: str = "<string>",
                      project=None, facts=None) -> Checked:
    """`check_source`, with the hidden count and the unused `noqa` codes."""
    if project is not None:
        project.begin_file()
    return _analyse(source, settings, path=path, project=project, facts=facts)[0]


def fix_source(source: str, settings: Settings = Settings(), *, path: str = "<string>",
               project=None, facts=None) -> FixResult:
    """Apply fixes until none applies (a rewrite can reveal what a tensor is: `torch.relu_(h)` ->
    `h = torch.relu(h)` binds `h`), so the output is a fixed point: fixing it again changes nothing."""
    applied: list[Finding] = []
    current, tree = source, None
    if project is not None:
        project.begin_file()
    for _ in range(MAX_FIX_PASSES):
        checked, tree = _analyse(current, settings, tree, path, project, facts)
        findings = checked.findings
        chosen = [(i, f) for i, f in enumerate(findings)
                  if f.fix is not None and (f.fix.is_safe or settings.unsafe_fixes)]
        held_back = [f for f in findings if f.fix is not None and not f.fix.is_safe and not settings.unsafe_fixes]
        if not chosen or tree is None:
            return FixResult(current, applied, held_back, findings, checked.hidden, checked.unused_noqa)
        chosen = _first_clone_per_name(chosen, tree)
        new, landed = _apply(current, tree, chosen)
        tree = None  # the old tree is not needed any more: free it before the new text is parsed
        new_tree = _verified(new, current) if landed else None
        if new_tree is None:
            return FixResult(current, applied, held_back, findings, checked.hidden, checked.unused_noqa)
        applied += [findings[i] for i in sorted(landed)]
        current, tree = new, new_tree
    checked, _ = _analyse(current, settings, None, path, project, facts)
    held_back = [f for f in checked.findings if f.fix is not None and not f.fix.is_safe and not settings.unsafe_fixes]
    return FixResult(current, applied, held_back, checked.findings, checked.hidden, checked.unused_noqa)


def _first_clone_per_name(chosen: list, tree: ast.Module) -> list:
    """Of the `x = x.clone()` insertions for one name in one function, the first only: the writes
    after it go into that copy, and the next pass judges them again (TSAN's four quadrant writes
    into `out` need one copy before the first, not one before each)."""
    from outplace.plans import ClonePlan

    scopes = sorted(((n.lineno, n.end_lineno or n.lineno, n) for n in ast.walk(tree)
                     if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))), key=lambda t: t[:2])
    seen: set = set()
    kept = []
    for i, f in sorted(chosen, key=lambda pair: (pair[1].line, pair[1].col)):
        plan = f.plan
        if isinstance(plan, ClonePlan):
            line = plan.stmt[0]
            inner = max((s for s in scopes if s[0] <= line <= s[1]), key=lambda s: s[0], default=None)
            key = (plan.target, id(inner[2]) if inner else None)
            if key in seen:
                continue
            seen.add(key)
        kept.append((i, f))
    return sorted(kept, key=lambda pair: pair[0])


def fix_selected(source: str, findings: list[Finding]) -> tuple[str, list[Finding]]:
    """Apply exactly these findings' fixes (from `check_source` on `source`), whatever their safety:
    the caller chose them (diagnose fixes the culprit lines only). Returns the new source and the
    findings whose fixes landed; the source is unchanged when none did or the result would not compile."""
    chosen = [(i, f) for i, f in enumerate(findings) if f.plan is not None]
    if not chosen:
        return source, []
    new, landed, _ = _rewrite(source, parse(source), chosen)
    return new, [findings[i] for i in sorted(landed)]


def fix_edit(source: str, finding: Finding, tree: ast.Module | None = None) -> Edit | None:
    """The minimal text edit that applies `finding`'s fix alone (for JSON output and editor quick
    fixes). Pass `tree` (the source's parse) when asking about several findings of one file."""
    if finding.plan is None:
        return None
    new, landed, _ = _rewrite(source, tree or parse(source), [(0, finding)])
    if not landed:
        return None
    start = 0
    limit = min(len(source), len(new))
    while start < limit and source[start] == new[start]:
        start += 1
    end_old, end_new = len(source), len(new)
    while end_old > start and end_new > start and source[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # Widen to whole lines (minus the indentation they share) so the edit reads as code.
    while start > 0 and source[start - 1] not in "\r\n":
        start -= 1
    while end_old < len(source) and source[end_old] not in "\r\n":
        end_old += 1
        end_new += 1
    while start < end_old and source[start] in " \t" and new[start] == source[start]:
        start += 1
    return Edit(start, end_old, new[start:end_new])


def _rewrite(source: str, tree: ast.Module, chosen: list[tuple[int, Finding]]
             ) -> tuple[str, set[int], ast.Module | None]:
    """Apply the chosen findings' plans; returns the new source, the indices that landed, and the
    new source's tree (parsed to check it; the next pass reuses it)."""
    new, landed = _apply(source, tree, chosen)
    new_tree = _verified(new, source) if landed else None
    if new_tree is None:
        return source, set(), tree
    return new, landed, new_tree


def _apply(source: str, tree: ast.Module, chosen: list[tuple[int, Finding]]) -> tuple[str, set[int]]:
    """The chosen findings' plans applied to `source` (not checked yet), and the indices that landed."""
    from outplace.rewrite import rewrite_source  # libcst: loaded only when something is rewritten

    stmts = _statements_by_start(tree, split_lines(source))
    triples = []
    for i, f in chosen:
        stmt = stmts.get(f.plan.stmt)  # type: ignore[union-attr]
        if stmt is not None:
            triples.append((i, f.plan, stmt))
    new, landed = rewrite_source(source, tree, triples, dominant_newline(source))
    if not landed or new == source:
        return source, set()
    return new, landed


def _verified(new: str, source: str) -> ast.Module | None:
    """`new`'s tree when it compiles (or `source` did not either); None otherwise: never hand back
    code that does not compile. Compiled before it is parsed, so the two never hold memory at once."""
    if not _compiles(new) and _compiles(source):
        return None  # e.g. a repeated keyword argument
    try:
        return parse(new)
    except ParseError:
        return None


def _compiles(source: str) -> bool:
    """Full compilation catches what parsing accepts (`f(dtype=a, dtype=b)`, misplaced `return`)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<outplace>", "exec", dont_inherit=True)
        return True
    except (SyntaxError, ValueError):
        return False


def _statements_by_start(tree: ast.Module, lines: list[str]) -> dict[tuple[int, int], ast.stmt]:
    from outplace.rewrite import iter_statements

    out = {}
    for node, _ in iter_statements(tree):
        text = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
        out[(node.lineno, char_col(text, node.col_offset))] = node
    return out
