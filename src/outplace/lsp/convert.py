"""Character offsets <-> LSP positions, and text changes <-> LSP edits. No pygls here.

LSP lines end at "\\n", "\\r\\n" or "\\r" only (not at "\\x0c", "\\x85" or "\\u2028", where
`str.splitlines` would split: form feeds do occur in Python source). A position's `character`
counts code units of the negotiated encoding: UTF-16 by default (an astral character such as
"😀" is two), UTF-8 (bytes) or UTF-32 (code points, which is what Python indexes by).

    LineIndex(text)                       the line starts of one text, built once
      .position(offset, encoding)      -> (line, character)         0-based, clamped
      .offset(line, character, enc)    -> int                       clamped like the spec says
    apply_change(text, index, range, new_text, encoding) -> str     one didChange event
    change_blocks(a_lines, b_lines)    -> list[(i1, i2, j1, j2)]    where two line lists differ
    line_edits(old, new)               -> list[(start, end, text)]  the changed line blocks
"""

from __future__ import annotations

import bisect
import re

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
_EOL = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str) -> int:
    """How many code units of `encoding` `text` takes."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def chars_for_units(text: str, count: int, encoding: str) -> int:
    """How many characters of `text` make up its first `count` code units (clamped to `len(text)`).

    A count that falls inside a character (half a surrogate pair, a byte inside a UTF-8 sequence)
    ends after that character: the position then covers it rather than splitting it.
    """
    if count <= 0:
        return 0
    if encoding == UTF32 or text.isascii():
        return min(count, len(text))
    used = 0
    for i, c in enumerate(text):
        if used >= count:
            return i
        o = ord(c)
        if encoding == UTF8:
            used += 1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4
        else:
            used += 2 if o > 0xFFFF else 1
    return len(text)


class LineIndex:
    """Where each line of one text starts, for conversions in both directions."""

    __slots__ = ("text", "starts", "_ends")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        self._ends: list[int] = []  # offset of each line's end of content (before its line break)
        for m in _EOL.finditer(text):
            self._ends.append(m.start())
            self.starts.append(m.end())
        self._ends.append(len(text))

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset) - 1

    def line_text(self, line: int) -> str:
        """The content of 0-based `line`, without its line break."""
        return self.text[self.starts[line]:self._ends[line]]

    def position(self, offset: int, encoding: str = UTF16) -> tuple[int, int]:
        """The 0-based (line, character) of character `offset` (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        start = self.starts[line]
        # An offset inside a "\r\n" pair (possible only for a caller's mistake) stays on the line's end.
        col_end = min(offset, self._ends[line])
        return line, units(self.text[start:col_end], encoding)

    def offset(self, line: int, character: int, encoding: str = UTF16) -> int:
        """The character offset of an LSP position; a line past the end means the end of the text,
        a character past the line's end means the line's end (the spec's rule)."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self._ends[line]
        return start + chars_for_units(self.text[start:end], character, encoding)

    def position_of_line_col(self, line: int, col: int, encoding: str = UTF16) -> tuple[int, int]:
        """A 1-based line and 1-based character column (the engine's) as a 0-based LSP position."""
        if line < 1:
            return 0, 0
        if line > len(self.starts):
            return self.position(len(self.text), encoding)
        text = self.line_text(line - 1)
        return line - 1, units(text[: max(0, col - 1)], encoding)


def apply_change(text: str, index: LineIndex | None, start: tuple[int, int] | None,
                 end: tuple[int, int] | None, new_text: str, encoding: str) -> str:
    """The text after one content change; `start`/`end` None means the whole document."""
    if start is None or end is None:
        return new_text
    index = index if index is not None and index.text is text else LineIndex(text)
    a = index.offset(start[0], start[1], encoding)
    b = index.offset(end[0], end[1], encoding)
    if b < a:
        a, b = b, a
    return text[:a] + new_text + text[b:]


def split_keep(text: str) -> list[str]:
    """Lines as LSP and Python number them, each with its line break."""
    return _EOL_KEEP.findall(text)


def change_blocks(a: list[str], b: list[str], anchor: int = 2, reach: int = 400) -> list[tuple[int, int, int, int]]:
    """The blocks where line lists `a` and `b` differ, as (i1, i2, j1, j2): `a[i1:i2]` became `b[j1:j2]`.

    Made for a fixer's output, where a few statements change here and there: walk both lists and,
    at each difference, take the nearest point where `anchor` lines agree again (or both lists end).
    Linear for such changes, whatever the file repeats (difflib slows to minutes on a file of many
    identical blocks). Any answer is correct -- copying the equal runs and replacing the blocks
    rebuilds `b` exactly -- the search only decides how small the blocks are. Past `reach` lines
    without agreement, the rest is one block.
    """
    n, m = len(a), len(b)
    head = 0
    while head < n and head < m and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < n - head and tail < m - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    n_end, m_end = n - tail, m - tail

    def agree(p: int, q: int) -> bool:
        k = 0
        while k < anchor:
            if p + k >= n_end or q + k >= m_end:
                return p + k >= n_end and q + k >= m_end  # both run out together: the tail agrees
            if a[p + k] != b[q + k]:
                return False
            k += 1
        return True

    blocks = []
    i, j = head, head
    while i < n_end or j < m_end:
        if i < n_end and j < m_end and a[i] == b[j]:
            i += 1
            j += 1
            continue
        found = None
        for d in range(1, reach + 1):
            for di in range(d + 1):
                p, q = i + di, j + d - di
                if p <= n_end and q <= m_end and agree(p, q):
                    found = (p, q)
                    break
            if found or (i + d > n_end and j + d > m_end):
                break
        p, q = found or (n_end, m_end)
        blocks.append((i, p, j, q))
        i, j = p, q
    return blocks


def line_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """`new` as character-offset replacements of whole lines of `old`, one per changed block.

    Small edits keep the editor's cursor, marks and folds where they were, unlike replacing the
    whole document.
    """
    if old == new:
        return []
    a, b = split_keep(old), split_keep(new)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    return [(starts[i1], starts[i2], "".join(b[j1:j2])) for i1, i2, j1, j2 in change_blocks(a, b)]


_EOL_KEEP = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
