"""`outplace fix --interactive`: review the fixes hunk by hunk, like `git add -p`.

    review_file(shown_path, old, new, applied, input_stream, output) -> str

shows each hunk of the change from `old` to `new` (the engine's fixed text) with the rule codes and
the safety of the fixes in it, asks `Apply this fix [y,n,a,d,q,?]?`, and returns `old` with
exactly the accepted hunks applied. `q` (or the end of the input) raises `Quit`, which carries the
text with the hunks accepted before it in `Quit.text`. Answers are read one line at a time from
`input_stream`, so tests and scripts can pipe them in (`printf 'y\\nn\\n' | outplace fix -i`).

A hunk is one statement's fix: the changed line blocks that belong to one finding's statement are
reviewed (and applied) together, so no answer can leave half a rewrite behind.
"""

from __future__ import annotations

import ast
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Optional, Sequence

from outplace.findings import Finding
from outplace.lsp.convert import change_blocks, split_keep

CONTEXT = 3
HELP = """y - apply this fix
n - do not apply this fix
a - apply this fix and all later fixes in the file
d - do not apply this fix or any later fix in the file
q - quit; do not apply this fix or any later one (fixes accepted so far in this file are kept)
? - print help
"""


class Quit(Exception):
    """The user answered `q` (or the input ended). `text`: the file with the hunks accepted before."""

    def __init__(self, text: Optional[str] = None) -> None:
        super().__init__("review stopped")
        self.text = text


@dataclass
class Hunk:
    blocks: list[tuple[int, int, int, int]] = field(default_factory=list)  # (i1, i2, j1, j2), 0-based
    findings: list[Finding] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return all(f.fix is None or f.fix.is_safe for f in self.findings)


# ---- hunks ---------------------------------------------------------------------------------------------

def _statement_spans(old: str, findings: Sequence[Finding]) -> list[tuple[int, int]]:
    """Each finding's statement as 1-based (first, last) lines of `old`: what its fix may rewrite."""
    by_start: dict[tuple[int, int], ast.stmt] = {}
    try:
        tree = ast.parse(old)
    except (SyntaxError, ValueError, RecursionError):
        tree = None
    lines = split_keep(old)
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.stmt):
                text = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
                col = node.col_offset if text.isascii() else \
                    len(text.encode("utf-8")[: node.col_offset].decode("utf-8", "replace"))
                by_start[(node.lineno, col)] = node
    spans = []
    for f in findings:
        stmt = by_start.get(getattr(f.plan, "stmt", None)) if f.plan is not None else None
        if stmt is None:
            spans.append((f.line, max(f.line, f.end_line)))
            continue
        first = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
        body = getattr(stmt, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.AST):
            last = max(stmt.lineno, body[0].lineno - 1)  # a compound statement: its header only
        else:
            last = stmt.end_lineno or stmt.lineno
        spans.append((first, max(last, f.line)))
    return spans


def _touches(block: tuple[int, int, int, int], span: tuple[int, int]) -> bool:
    i1, i2 = block[0], block[1]
    first, last = span
    if i1 == i2:  # an insertion before 1-based line i1 + 1: it belongs to the statement there or just above
        return first <= i1 + 1 <= last or last == i1
    return i1 + 1 <= last and first <= i2


def _split_block(old: str, a: list[str], b: list[str], block: tuple[int, int, int, int],
                 findings: Sequence[Finding]) -> list[tuple[int, int, int, int]]:
    """Cut a block where fixes of adjacent statements ran together (`out=` on two lines, then a
    one-line fix) into one block per fix, using each fix made alone. Unchanged when the fixes made
    alone do not add up to the block (two fixes in one statement, say)."""
    from outplace.engine import fix_edit

    i1, i2, j1, j2 = block
    singles = []
    for f in findings:
        try:
            edit = fix_edit(old, f)
        except Exception:  # noqa: BLE001 - a refinement only
            return [block]
        if edit is None:
            return [block]
        alone = split_keep(old[:edit.start] + edit.content + old[edit.end:])
        parts = change_blocks(a, alone)
        if len(parts) != 1:
            return [block]
        p1, p2, q1, q2 = parts[0]
        singles.append((p1, p2, alone[q1:q2]))
    singles.sort(key=lambda s: s[0])
    out = []
    pos_a, pos_b = i1, j1
    for p1, p2, lines in singles:
        if p1 < pos_a or p2 > i2:
            return [block]
        gap = p1 - pos_a
        if a[pos_a:p1] != b[pos_b:pos_b + gap]:
            return [block]
        pos_b += gap
        if b[pos_b:pos_b + len(lines)] != lines:
            return [block]
        out.append((p1, p2, pos_b, pos_b + len(lines)))
        pos_a, pos_b = p2, pos_b + len(lines)
    if a[pos_a:i2] != b[pos_b:j2]:
        return [block]
    return out


def split_hunks(old: str, new: str, applied: Sequence[Finding]) -> list[Hunk]:
    a, b = split_keep(old), split_keep(new)
    findings = sorted(applied, key=lambda f: (f.line, f.col))
    spans = _statement_spans(old, findings)
    blocks = []
    for block in change_blocks(a, b):
        i1, i2, j1, j2 = block
        if i2 - i1 == j2 - j1 > 1:
            # Line for line: adjacent one-line fixes. Split them; lines of one statement join again below.
            blocks.extend((i1 + k, i1 + k + 1, j1 + k, j1 + k + 1) for k in range(i2 - i1))
            continue
        touching = [f for f, span in zip(findings, spans) if _touches(block, span)]
        blocks.extend(_split_block(old, a, b, block, touching) if len(touching) > 1 else [block])
    if not blocks:
        return []
    # Connect blocks that share a finding's statement (union-find over block indices).
    parent = list(range(len(blocks)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[int, int] = {}  # finding index -> a block of its hunk
    block_findings: list[list[int]] = [[] for _ in blocks]
    for k, block in enumerate(blocks):
        for fi, span in enumerate(spans):
            if _touches(block, span):
                block_findings[k].append(fi)
                if fi in owner:
                    parent[find(k)] = find(owner[fi])
                else:
                    owner[fi] = k
    # A block no finding explains joins the hunk of the nearest one that does.
    explained = [k for k in range(len(blocks)) if block_findings[k]]
    for k in range(len(blocks)):
        if not block_findings[k] and explained:
            nearest = min(explained, key=lambda e: abs(blocks[e][0] - blocks[k][0]))
            parent[find(k)] = find(nearest)
    # Findings that touched no block (the engine merged or moved them) go with the nearest block.
    for fi, span in enumerate(spans):
        if fi not in owner:
            nearest = min(range(len(blocks)), key=lambda e: abs(blocks[e][0] + 1 - span[0]))
            block_findings[nearest].append(fi)
    groups: dict[int, Hunk] = {}
    for k, block in enumerate(blocks):
        hunk = groups.setdefault(find(k), Hunk())
        hunk.blocks.append(block)
        for fi in block_findings[k]:
            if findings[fi] not in hunk.findings:
                hunk.findings.append(findings[fi])
    hunks = sorted(groups.values(), key=lambda h: h.blocks[0][0])
    for h in hunks:
        h.findings.sort(key=lambda f: (f.line, f.col))
    return hunks


def apply_hunks(old: str, new: str, accepted: Sequence[Hunk]) -> str:
    """`old` with the blocks of the `accepted` hunks replaced by their text in `new`."""
    a, b = split_keep(old), split_keep(new)
    chosen = sorted(block for h in accepted for block in h.blocks)
    out: list[str] = []
    last = 0
    for i1, i2, j1, j2 in chosen:
        out.extend(a[last:i1])
        out.extend(b[j1:j2])
        last = i2
    out.extend(a[last:])
    return "".join(out)


# ---- showing them ----------------------------------------------------------------------------------------

class _Style:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, code: str) -> str:
        if not self.on:
            return text
        end = "\n" if text.endswith("\n") else ""
        return f"\x1b[{code}m{text[: len(text) - len(end)]}\x1b[0m{end}"


def _line(text: str) -> str:
    if text.endswith(("\r\n", "\n", "\r")):
        return text.rstrip("\r\n") + "\n"
    return text + "\n\\ No newline at end of file\n"


def render_hunk(old: str, new: str, hunk: Hunk, style: _Style) -> str:
    """The hunk as unified-diff sections (old line numbers on the left, fixed file's on the right)."""
    a, b = split_keep(old), split_keep(new)
    sections: list[list[tuple[int, int, int, int]]] = []
    for block in sorted(hunk.blocks):
        if sections and block[0] - sections[-1][-1][1] <= 2 * CONTEXT:
            sections[-1].append(block)
        else:
            sections.append([block])
    out = []
    for section in sections:
        start = max(0, section[0][0] - CONTEXT)
        end = min(len(a), section[-1][1] + CONTEXT)
        body, old_len, new_len = [], 0, 0
        pos = start
        for i1, i2, j1, j2 in section:
            for line in a[pos:i1]:
                body.append(" " + _line(line))
            old_len += i1 - pos
            new_len += i1 - pos
            body.extend(style("-" + _line(line), "31") for line in a[i1:i2])
            body.extend(style("+" + _line(line), "32") for line in b[j1:j2])
            old_len += i2 - i1
            new_len += j2 - j1
            pos = i2
        for line in a[pos:end]:
            body.append(" " + _line(line))
        old_len += end - pos
        new_len += end - pos
        first = section[0]
        new_start = start + (first[2] - first[0])
        header = f"@@ -{start + (1 if old_len else 0)},{old_len} +{new_start + (1 if new_len else 0)},{new_len} @@\n"
        out.append(style(header, "36"))
        out.extend(body)
    return "".join(out)


def describe(f: Finding) -> str:
    if f.fix is None or f.fix.is_safe:
        safety = "safe fix"
    else:
        safety = "unsafe fix: " + "; ".join(f.fix.reasons) if f.fix.reasons else "unsafe fix"
    return f"{f.code} [{safety}] line {f.line}: {f.message}"


# ---- the review -------------------------------------------------------------------------------------------

def _ask(input_stream: IO[str], output: IO[str], prompt: str) -> str:
    while True:
        output.write(prompt)
        output.flush()
        answer = input_stream.readline()
        if answer == "":
            output.write("\n")
            return "q"
        answer = answer.strip().lower()
        if answer in ("y", "n", "a", "d", "q"):
            return answer
        output.write(HELP)


def review_file(shown_path: str, old: str, new: str, applied: list[Finding],
                input_stream: IO[str] = sys.stdin, output: IO[str] = sys.stdout,
                accepted: Optional[list[Finding]] = None) -> str:
    """Ask about each hunk of `old` -> `new`; return `old` with exactly the accepted hunks applied.
    `accepted`, when given, receives the findings whose hunks were accepted (also when `Quit` is raised)."""
    hunks = split_hunks(old, new, applied)
    if not hunks:
        return old
    color = hasattr(output, "isatty") and output.isatty() and os.environ.get("NO_COLOR") is None
    style = _Style(bool(color))
    output.write(style(f"--- a/{shown_path}\n", "1") + style(f"+++ b/{shown_path}\n", "1"))
    taken: list[Hunk] = []
    decided: Optional[str] = None  # "a" or "d": the answer for the rest of the file

    def accept(hunk: Hunk) -> None:
        taken.append(hunk)
        if accepted is not None:
            accepted.extend(hunk.findings)

    for k, hunk in enumerate(hunks, 1):
        if decided is not None:
            if decided == "a":
                accept(hunk)
            continue
        output.write(render_hunk(old, new, hunk, style))
        for f in hunk.findings:
            output.write(style(describe(f) + "\n", "33" if hunk.safe else "35"))
        kind = "fix" if hunk.safe else "unsafe fix"
        answer = _ask(input_stream, output, style(f"({k}/{len(hunks)}) Apply this {kind} to {shown_path} "
                                                  "[y,n,a,d,q,?]? ", "1;34"))
        if answer == "q":
            raise Quit(apply_hunks(old, new, taken))
        if answer in ("y", "a"):
            accept(hunk)
        if answer in ("a", "d"):
            decided = answer
    return apply_hunks(old, new, taken)
