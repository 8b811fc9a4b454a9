"""Turn results into what people and programs read: finding lines, JSON, unified diffs, summaries."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from outplace.findings import HAZARDS, Finding
from outplace.formats import finding_json, finding_line  # noqa: F401 - their home is formats.py
from outplace.source import split_lines

NO_EOL = "\\ No newline at end of file\n"


def replacement_json(source: str, edit) -> dict | None:
    """An edit as 1-based line / 1-based column positions plus the new text."""
    if edit is None:
        return None
    (sl, sc), (el, ec) = _line_col(source, edit.start), _line_col(source, edit.end)
    return {"line": sl, "col": sc, "end_line": el, "end_col": ec, "content": edit.content}


def _line_col(source: str, offset: int) -> tuple[int, int]:
    line, start = 1, 0
    for text in split_lines(source):
        if start + len(text) > offset:
            break
        start += len(text)
        line += 1
    return line, offset - start + 1


def unified_diff(old: str, new: str, path: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    """A patch `git apply` accepts, as bytes in the file's own encoding (BOM included): a/ b/
    prefixes, lines as git splits them (at "\\n" only; "\\r" is content), no-newline-at-EOF markers.

    Linear in the size of the files (the change blocks come from `change_blocks`, made for a fixer's
    scattered edits; difflib takes minutes on a large file of repeated blocks)."""
    from outplace.lsp.convert import change_blocks
    from outplace.source import encode_text

    a = _GIT_LINE.findall(encode_text(old, encoding, bom, path=path))
    b = _GIT_LINE.findall(encode_text(new, encoding, bom, path=path))
    out: list[bytes] = []
    for hunk in _hunks(change_blocks(a, b)):
        if not out:
            name = path.encode("utf-8", "surrogateescape")
            out += [b"--- a/" + name + b"\n", b"+++ b/" + name + b"\n"]
        first, last = hunk[0], hunk[-1]
        i1 = max(0, first[0] - CONTEXT)
        j1 = first[2] - (first[0] - i1)
        i2 = min(len(a), last[1] + CONTEXT)
        j2 = last[3] + (i2 - last[1])
        out.append(f"@@ -{_range(i1, i2 - i1)} +{_range(j1, j2 - j1)} @@\n".encode())
        pos = i1
        for bi1, bi2, bj1, bj2 in hunk:
            out += [b" " + line for line in a[pos:bi1]]
            out += [b"-" + line for line in a[bi1:bi2]]
            out += [b"+" + line for line in b[bj1:bj2]]
            pos = bi2
        out += [b" " + line for line in a[pos:i2]]
    # A last line without a newline gets git's marker.
    return b"".join(line if line.endswith(b"\n") else line + b"\n" + NO_EOL.encode() for line in out)


CONTEXT = 3
_GIT_LINE = re.compile(rb"[^\n]*\n|[^\n]+\Z")


def _hunks(blocks: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    """Change blocks grouped into hunks: blocks whose context would touch share one (like difflib)."""
    hunks: list[list[tuple[int, int, int, int]]] = []
    for block in blocks:
        if hunks and block[0] - hunks[-1][-1][1] <= 2 * CONTEXT:
            hunks[-1].append(block)
        else:
            hunks.append([block])
    return hunks


def _range(start: int, length: int) -> str:
    """Unified-diff range: 1-based start, length omitted when 1, start-1 when empty (like difflib)."""
    if length == 1:
        return f"{start + 1}"
    return f"{start + 1 if length else start},{length}"


def json_dump(items: list[dict]) -> str:
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


@dataclass
class Summary:
    files: int = 0
    changed: int = 0
    errors: int = 0
    findings: int = 0
    fixed: Counter = field(default_factory=Counter)
    held_back: int = 0
    declined: int = 0  # fixes answered "n" (or left unasked after "q") in an interactive review
    unreadable: int = 0  # paths named on the command line, or directories, that could not be read
    hidden: int = 0  # findings of hazard levels not selected (`inplace` by default)
    more_with_clone: int = 0  # findings without a fix now that --clone would fix (under this unsafe policy)
    more_with_clone_unsafe: int = 0  # ... that --clone would fix with --unsafe-fixes
    unused_noqa: int = 0  # noqa codes of ours that suppressed nothing
    noqa_added: int = 0  # --add-noqa: directives added

    def add(self, findings: Iterable[Finding], applied: Iterable[Finding], held_back: Iterable[Finding],
            changed: bool, hidden: int = 0) -> None:
        self.files += 1
        self.hidden += hidden
        self.changed += int(changed)
        findings = list(findings)
        self.findings += len(findings)
        self.fixed.update(f.code for f in applied)
        self.held_back += len(list(held_back))

    def text(self, mode: str, write: bool, hazards: tuple[str, ...] = ("breaks",)) -> str:
        parts = [f"{self.files} file{'s' * (self.files != 1)} scanned"]
        if mode == "fix":
            verb = "changed" if write else "would change"
            parts.append(f"{self.changed} {verb}")
            total = sum(self.fixed.values())
            if total:
                by_rule = ", ".join(f"{c} {n}" for c, n in sorted(self.fixed.items()))
                parts.append(f"{total} fix{'es' * (total != 1)} {'applied' if write else 'to apply'} ({by_rule})")
            if self.declined:
                parts.append(f"{self.declined} fix{'es' * (self.declined != 1)} declined"
                             + ("; no fix applied" if not total else ""))
            left = self.findings
            if left:
                parts.append(f"{left} finding{'s' * (left != 1)} left")
        else:
            parts.append(f"{self.findings} finding{'s' * (self.findings != 1)}")
        if self.hidden:
            shown = ",".join(h for h in HAZARDS if h in hazards or h == "inplace")
            # "about": shown, a hidden write is judged again with what its callers pass, which can
            # lower it (to `nograd`) or show that a value only maybe a tensor is one (a write this
            # pass did not report: eval40, darts' `_divide_no_nan`); a caller that could raise it to
            # `breaks` is always read.
            parts.append(f"about {self.hidden} inplace finding{'s' * (self.hidden != 1)} hidden "
                         f"(--hazard {shown} shows them)")
        if self.held_back:
            parts.append(f"{self.held_back} unsafe fix{'es' * (self.held_back != 1)} held back "
                         "(use --unsafe-fixes)")
        more = []
        if self.more_with_clone:
            more.append(f"{self.more_with_clone} more fix{'es' * (self.more_with_clone != 1)} with --clone")
        if self.more_with_clone_unsafe:
            more.append(f"{self.more_with_clone_unsafe}{'' if more else ' more'} "
                        f"fix{'es' * (self.more_with_clone_unsafe != 1)} with --clone --unsafe-fixes")
        if more:
            parts.append(", ".join(more) + " (--show-fixes lists them)")
        if self.unused_noqa:
            parts.append(f"{self.unused_noqa} unused noqa code{'s' * (self.unused_noqa != 1)}")
        if self.errors:
            parts.append(f"{self.errors} file{'s' * (self.errors != 1)} could not be processed")
        if self.unreadable:
            parts.append(f"{self.unreadable} path{'s' * (self.unreadable != 1)} could not be read")
        return "; ".join(parts) + "."


def display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix() if path.is_absolute() else path.as_posix()
    except ValueError:
        return path.as_posix()
