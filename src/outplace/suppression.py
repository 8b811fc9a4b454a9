"""`noqa` comments: which findings they suppress, and which of their codes suppress nothing.

    y *= 2  # noqa               every finding on this line
    y *= 2  # noqa: OP101        findings of these codes (or prefixes) on this line
    # outplace: noqa             on a line of its own: the whole file (a notebook: every cell)
    # outplace: noqa: OP106      on a line of its own: these codes in the whole file

    Noqa(source)                     the directives of one text
      .suppresses(finding)        -> bool
      .unused(findings, enabled)  -> list[UnusedNoqa]   codes of ours that matched no finding
    add_noqa(source, findings)    -> (new source, lines that could not take a comment)

A line's `# noqa` suppresses findings that start on that line. `unused` counts a finding of any
hazard level (one hidden by the hazard selection was still suppressed), and only judges codes of
rules that ran (an `OP` code that is selected), so a `# noqa: E501` for another tool is never
reported. Only real comments count: a `# noqa` inside a string is not a directive.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Callable, Iterable

from outplace.findings import Finding
from outplace.source import split_lines

LINE_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.IGNORECASE)
FILE_NOQA = re.compile(r"[ \t]*#[ \t]*outplace[ \t]*:[ \t]*noqa"
                       r"(?:[ \t]*:[ \t]*(?P<codes>[A-Za-z]+[0-9]*(?:[ \t,]+[A-Za-z]+[0-9]*)*))?[ \t]*\Z")
_OURS = re.compile(r"OP[0-9]{0,3}\Z")
_MENTIONS_NOQA = re.compile("noqa", re.IGNORECASE)  # a cheap test before any directive is parsed


def _codes(text: str | None) -> tuple[str, ...]:
    return tuple(c.upper() for c in re.split(r"[\s,]+", text or "") if c)


@dataclass(frozen=True)
class UnusedNoqa:
    line: int  # 1-based
    col: int  # 1-based column of the `#`
    code: str
    file_level: bool = False

    def message(self) -> str:
        where = "this file" if self.file_level else "this line"
        return f"unused noqa code {self.code}: no {self.code} finding on {where}"


class Noqa:
    def __init__(self, source: str) -> None:
        self.source = source
        self.file_all = False
        self.file_codes: list[tuple[int, int, str]] = []  # (line, col, code)
        self._lines: list[str] | None = None
        self.mentioned = _MENTIONS_NOQA.search(source) is not None
        if "noqa" not in source or "outplace" not in source:
            return
        for line, text in enumerate(self.lines, 1):
            m = FILE_NOQA.match(text.rstrip("\r\n")) if "noqa" in text else None
            if m is None:
                continue
            codes = _codes(m.group("codes"))
            if not codes:
                self.file_all = True
            self.file_codes += [(line, text.index("#") + 1, c) for c in codes]

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.source)
        return self._lines

    def suppresses(self, f: Finding) -> bool:
        if self.file_all or any(f.code.startswith(c) for _, _, c in self.file_codes):
            return True
        if not self.mentioned or f.line > len(self.lines):
            return False
        m = line_directive(self.lines[f.line - 1])
        if m is None:
            return False
        codes = _codes(m.group("codes"))
        return not codes or any(f.code.startswith(c) for c in codes)

    def unused(self, findings: Iterable[Finding], enabled: Callable[[str], bool]) -> list[UnusedNoqa]:
        """Codes of ours (`OP...`, of a rule that ran) in `noqa` comments that match none of
        `findings` (every finding the rules made, before suppression and hazard selection)."""
        if not self.mentioned:
            return []
        findings = list(findings)
        candidates: list[UnusedNoqa] = []
        for line, col, code in self.file_codes:
            if _OURS.match(code) and _ran(code, enabled) and not any(f.code.startswith(code) for f in findings):
                candidates.append(UnusedNoqa(line, col, code, True))
        by_line: dict[int, list[Finding]] = {}
        for f in findings:
            by_line.setdefault(f.line, []).append(f)
        for i, text in enumerate(self.lines, 1):
            if _MENTIONS_NOQA.search(text) is None:
                continue
            m = line_directive(text)
            if m is None:
                continue
            for code in _codes(m.group("codes")):
                if _OURS.match(code) and _ran(code, enabled) and not any(f.code.startswith(code)
                                                                        for f in by_line.get(i, ())):
                    candidates.append(UnusedNoqa(i, m.start() + 1, code))
        if not candidates:
            return []
        comments = _comment_lines(self.source)  # only real comments: never a "# noqa" inside a string
        return [u for u in candidates if comments is None or u.line in comments]


def line_directive(line: str) -> re.Match | None:
    """The `# noqa` directive in the line's comment (positions in `line`); one inside a string
    literal does not count."""
    if LINE_NOQA.search(line) is None:
        return None
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return LINE_NOQA.search(line, token.start[1])
    except (tokenize.TokenError, SyntaxError):  # the line continues a string: no token stream alone
        return LINE_NOQA.search(line)
    return None


def _ran(code: str, enabled: Callable[[str], bool]) -> bool:
    """Some rule whose code starts with `code` (a code or a prefix) is enabled."""
    from outplace.codemods import RULES

    return any(r.code.startswith(code) and enabled(r.code) for r in RULES)


def _comment_lines(source: str) -> set[int] | None:
    """The lines that hold a comment token (None when the text does not tokenize)."""
    try:
        return {t.start[0] for t in tokenize.generate_tokens(io.StringIO(source).readline)
                if t.type == tokenize.COMMENT}
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None


# ---- adding noqa comments --------------------------------------------------------------------------------------

def add_noqa(source: str, findings: Iterable[Finding]) -> tuple[str, list[int]]:
    """`source` with `# noqa: CODE` on each finding's line (codes added to a `# noqa: ...` already
    there), and the lines that cannot take a comment (they end inside a string, or continue with a
    backslash): those are left alone. Every other byte stays as it was."""
    wanted: dict[int, list[str]] = {}
    for f in findings:
        codes = wanted.setdefault(f.line, [])
        if f.code not in codes:
            codes.append(f.code)
    if not wanted:
        return source, []
    open_lines = _lines_without_room(source)
    lines = split_lines(source)
    skipped = []
    for line, codes in sorted(wanted.items()):
        if line > len(lines) or line in open_lines:
            skipped.append(line)
            continue
        text = lines[line - 1]
        body = text.rstrip("\r\n")
        end = text[len(body):]
        m = line_directive(body)
        if m is not None and m.group("codes"):
            present = _codes(m.group("codes"))
            extra = [c for c in codes if not any(c.startswith(p) for p in present)]
            body = body[:m.end("codes")] + "".join(f", {c}" for c in extra) + body[m.end("codes"):]
        elif m is None:
            body = body.rstrip(" \t") + "  # noqa: " + ", ".join(codes) if body.strip() else body
        lines[line - 1] = body + end
    return "".join(lines), skipped


def _lines_without_room(source: str) -> set[int]:
    """Lines whose end is not a place for a comment: inside a string that spans lines, or after a
    backslash continuation."""
    out: set[int] = set()
    try:
        for t in tokenize.generate_tokens(io.StringIO(source).readline):
            if t.start[0] < t.end[0] and t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
                out.update(range(t.start[0], t.end[0]))
    except (tokenize.TokenError, SyntaxError, ValueError):
        return set(range(1, len(split_lines(source)) + 1))
    for i, text in enumerate(split_lines(source), 1):
        if text.rstrip("\r\n").endswith("\\"):
            out.add(i)
    return out
