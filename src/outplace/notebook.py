"""Jupyter notebooks (`.ipynb`) as Python: their code cells read as one script, fixes written back cell by cell.

    read_notebook(path)               -> Notebook    (raises SourceError, one line)
    parse_notebook(source_file)       -> Notebook    (the same, from text already read)
    Notebook.script                   the code cells in order, as one Python text the engine analyses
    Notebook.cells_map                where each code cell's lines sit in `script` (a `CellMap`)
    Notebook.with_script(new_script)  -> str         the notebook's JSON text with the cells that changed
    Notebook.cell_texts(new_script)   -> {cell: (old, new)} the cells that changed
    CellScript.of_cells([(number, source), ...])   the same script from cell texts alone (the editor's)
    script_of(path)                   -> (script, CellMap)   what `verify` and `diagnose` run
    register_script(path)             the script in linecache, its cells for `cell_position` (diagnose)

Cells run in order in one namespace, so they are analysed together: a model defined in cell 2 and
trained in cell 5 is one program. Each code cell is preceded in `script` by a marker comment, so that
a rewritten script splits back into exactly its cells (a fix never touches a comment line). IPython
syntax that is not Python is masked line for line, keeping every line number: line magics
(`%matplotlib inline`), shell escapes (`!pip install x`, `files = !ls`), help (`torch.nn?`); a cell
magic whose body is Python (`%%time`) masks its first line only, any other (`%%bash`) the whole cell.
A masked line reads `pass` (at its indentation), so that it runs as nothing in `verify`/`diagnose`;
writing back restores it byte for byte.

Writing changes only the JSON string values of the cells that changed, in the notebook's own style
(a list of lines or one string, the same indentation and separators, escapes as the file has them,
lines whose text is unchanged kept as they were): outputs, metadata, execution counts, other cells
and every other byte stay as they are. The result is read back and compared with the original before
anything is written. The file itself is replaced with `outplace.source.write_source` (atomic,
compare-and-swap: a notebook saved meanwhile by Jupyter is not overwritten).

Cell numbers are 1-based over all cells (markdown too), as ruff and the editors count them.
"""

from __future__ import annotations

import ast
import bisect
import json
import os
import re
import warnings
from dataclasses import dataclass
from json.decoder import scanstring
from pathlib import Path
from typing import Iterable

from outplace.source import SourceError, SourceFile, read_source

__all__ = ["NOTEBOOK_SUFFIX", "CellMap", "CellScript", "Notebook", "is_notebook", "parse_notebook", "read_notebook",
           "script_of"]

NOTEBOOK_SUFFIX = ".ipynb"
MARKER = "# outplace: cell "
MASK = "pass  # outplace: IPython syntax, not run"
# Cell magics whose body is Python: the first line is masked, the body analysed and run.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "python", "python3"})
_WS = re.compile(r"[ \t\n\r]*")
_IPYTHON_LINE = re.compile(
    r"""^[ \t]*(?:
        [%!?]                                   # %magic, !shell, ?help
      | [\w.\[\], \t]+=[ \t]*[%!]               # x = !ls, t = %timeit -o f()
      | [\w.]+[ \t]*\?\??[ \t]*$                # torch.nn?  torch.nn??
    )""", re.VERBOSE)


def is_notebook(path: str | os.PathLike[str]) -> bool:
    return os.fspath(path).endswith(NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class CellMap:
    """Where each code cell sits in the script: (first script line of its code, cell number), in order."""

    starts: tuple[tuple[int, int], ...] = ()

    def locate(self, line: int) -> tuple[int, int]:
        """(cell number, 1-based line in the cell) of a 1-based script line."""
        i = bisect.bisect_right([s for s, _ in self.starts], line) - 1
        if i < 0:
            return (self.starts[0][1], 1) if self.starts else (1, line)
        first, cell = self.starts[i]
        return cell, line - first + 1

    def script_line(self, cell: int, line: int) -> int | None:
        """The script line of 1-based `line` of cell `cell`; None when that cell is not code."""
        for first, number in self.starts:
            if number == cell:
                return first + line - 1
        return None

    def to_json(self) -> list[list[int]]:
        return [list(s) for s in self.starts]

    @classmethod
    def from_json(cls, data: object) -> "CellMap | None":
        if not isinstance(data, list) or not all(
                isinstance(s, list) and len(s) == 2 and all(type(v) is int and v > 0 for v in s) for s in data):
            return None
        return cls(tuple((s[0], s[1]) for s in data))


@dataclass(frozen=True)
class _RawCell:
    number: int  # 1-based over all cells
    cell_type: str
    source: str  # joined
    span: tuple[int, int]  # the JSON value of "source" in the file's text
    items: tuple[tuple[int, int], ...] | None  # each string of a list-valued source; None: one string


@dataclass(frozen=True)
class _CodeCell:
    number: int
    text: str  # the cell's source as in the notebook
    masked: str  # the same with IPython syntax masked
    body: str  # `masked` as the script holds it (ending in a newline unless empty)
    masks: tuple[tuple[int, str], ...]  # (0-based line in the cell, original line) for each masked line
    first: int  # script line of the cell's first line


@dataclass(frozen=True)
class CellScript:
    """Code cells as one script: each after its marker line, IPython syntax masked."""

    code: tuple[_CodeCell, ...]  # the code cells the script holds, in order
    script: str

    @classmethod
    def of_cells(cls, cells: Iterable[tuple[int, str]]) -> "CellScript":
        """The script of the code cells given as (cell number, source), in order; a cell magic whose
        body is not Python (%%bash, %%html) is left out: it is not code to us."""
        code: list[_CodeCell] = []
        parts: list[str] = []
        line = 1
        for number, source in cells:
            masked, masks = mask_ipython(source)
            if masked is None:
                continue
            parts.append(f"{MARKER}{number}\n")
            body = masked if masked.endswith("\n") or not masked else masked + "\n"
            code.append(_CodeCell(number, source, masked, body, tuple(masks), line + 1))
            parts.append(body)
            line += 1 + body.count("\n")
        return cls(tuple(code), "".join(parts))

    @property
    def cells_map(self) -> CellMap:
        return CellMap(tuple((c.first, c.number) for c in self.code))

    def cell_texts(self, new_script: str) -> dict[int, tuple[str, str]] | None:
        """{cell number: (old text, new text)} for each code cell that `new_script` changes; None when
        the script does not split back into the same cells (a marker was touched)."""
        pieces = _split_script(new_script, len(self.code))
        if pieces is None:
            return None
        out = {}
        for cell, piece in zip(self.code, pieces):
            if piece == cell.body:
                continue
            new = _unmask(piece, cell)
            if not cell.text.endswith("\n") and new.endswith("\n"):
                new = new[:-1]
            if new != cell.text:
                out[cell.number] = (cell.text, new)
        return out


@dataclass(frozen=True)
class Notebook:
    file: SourceFile  # the notebook's JSON text as read (digest: what a write compares against)
    raw_cells: tuple[_RawCell, ...]
    cells: CellScript  # its code cells as one script
    ensure_ascii: bool  # the file holds only ASCII (non-ASCII written as \\u escapes)
    language: str  # the kernel's language ("python" when the notebook does not say)

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def script(self) -> str:
        return self.cells.script

    @property
    def cells_map(self) -> CellMap:
        return self.cells.cells_map

    @property
    def is_python(self) -> bool:
        return self.language.lower() in ("python", "python3", "ipython", "ipython3", "")

    def script_source(self) -> SourceFile:
        """The script as a SourceFile for the engine. Its digest is empty: `write_source` refuses it,
        so the script can never be written over the notebook."""
        f = self.file
        return SourceFile(f.path, self.script, "utf-8", False, "\n", f.mtime_ns, f.size, "")

    # -- back to cells -----------------------------------------------------------------------------------

    def cell_texts(self, new_script: str) -> dict[int, tuple[str, str]]:
        """{cell number: (old text, new text)} for each code cell that `new_script` changes. Raises
        SourceError when the script does not split back into the same cells (a marker was touched)."""
        out = self.cells.cell_texts(new_script)
        if out is None:
            raise SourceError(self.path, "the rewritten cells could not be mapped back onto the notebook; not written")
        return out

    def with_script(self, new_script: str) -> str:
        """The notebook's JSON text with the code cells `new_script` changed, every other byte as read.
        Raises SourceError when the result would not read back as the same notebook with those cells."""
        changed = self.cell_texts(new_script)
        text = self.file.text
        by_number = {c.number: c for c in self.raw_cells}
        for number in sorted(changed, reverse=True):  # from the end: earlier spans stay valid
            raw = by_number[number]
            start, end = raw.span
            text = text[:start] + self._encode_source(raw, changed[number][1]) + text[end:]
        self._check_round_trip(text, {n: new for n, (_, new) in changed.items()})
        return text

    def _encode_source(self, raw: _RawCell, new: str) -> str:
        dump = lambda s: json.dumps(s, ensure_ascii=self.ensure_ascii)  # noqa: E731
        if raw.items is None:
            return dump(new)
        text = self.file.text
        kept: dict[str, str] = {}
        for a, b in raw.items:  # a line whose text is unchanged keeps its exact JSON spelling
            kept.setdefault(json.loads(text[a:b]), text[a:b])
        lines = [kept.get(line) or dump(line) for line in _json_lines(new)]
        start, end = raw.span
        if len(raw.items) >= 2:
            sep = text[raw.items[0][1]:raw.items[1][0]]
        elif raw.items:
            sep = "," + text[start + 1:raw.items[0][0]]
        else:
            sep = ", "
        if not raw.items:
            return "[" + sep.join(lines) + "]"
        opening = text[start + 1:raw.items[0][0]]
        closing = text[raw.items[-1][1]:end - 1]
        return "[" + opening + sep.join(lines) + closing + "]"

    def _check_round_trip(self, new_text: str, sources: dict[int, str]) -> None:
        try:
            before, after = json.loads(self.file.text), json.loads(new_text)
        except ValueError as e:  # pragma: no cover - our own encoding is valid JSON
            raise SourceError(self.path, f"rewriting the cells would break the notebook's JSON ({e}); not written")
        for number, source in sources.items():
            cell = before["cells"][number - 1]
            cell["source"] = source if isinstance(cell["source"], str) else _json_lines(source)
        if before != after:
            raise SourceError(self.path, "rewriting the cells would change more than their code; not written")


# ---- reading -----------------------------------------------------------------------------------------------

def read_notebook(path: str | os.PathLike[str]) -> Notebook:
    """Read a notebook. Raises SourceError (one line) when it cannot be read or is not a notebook."""
    return parse_notebook(read_source(path))


def parse_notebook(file: SourceFile) -> Notebook:
    path, text = file.path, file.text
    nb = _read_with_nbformat(path, text)
    try:
        raw_cells = _scan(text)
    except (ValueError, IndexError) as e:
        raise SourceError(path, f"not a notebook outplace can read: {e}") from None
    nb_cells = nb.get("cells")
    if not isinstance(nb_cells, list) or len(nb_cells) != len(raw_cells) or any(
            _joined(c.get("source")) != r.source for c, r in zip(nb_cells, raw_cells)):
        raise SourceError(path, "not a notebook outplace can read: its cells are ambiguous (a key given twice?)")
    meta = nb.get("metadata") or {}
    language = str(((meta.get("kernelspec") or {}).get("language"))
                   or ((meta.get("language_info") or {}).get("name")) or "python")
    cells = CellScript.of_cells((raw.number, raw.source) for raw in raw_cells if raw.cell_type == "code")
    return Notebook(file, tuple(raw_cells), cells, text.isascii(), language)


def script_of(path: str | os.PathLike[str]) -> tuple[str, CellMap]:
    """The script `verify` and `diagnose` run for a notebook: its code cells in order, IPython syntax
    masked (a masked line runs as `pass`). Raises SourceError."""
    nb = read_notebook(path)
    return nb.script, nb.cells_map


# Notebooks whose script `register_script` put in linecache: absolute path -> CellMap.
_REGISTERED: dict[str, CellMap] = {}


def register_script(path: str | os.PathLike[str]) -> str:
    """Put a notebook's script in `linecache` under the notebook's path (tracebacks, and the lines
    `diagnose` quotes, are then the script's), and remember its cells for `cell_position`. Returns
    the script. Raises SourceError."""
    import linecache

    absolute = os.path.abspath(path)
    script, cells = script_of(absolute)
    linecache.cache[absolute] = (len(script), None, script.splitlines(keepends=True), absolute)
    _REGISTERED[absolute] = cells
    return script


def cell_position(path: str | os.PathLike[str] | None, line: int | None) -> tuple[int, int] | None:
    """(cell, line in the cell) of a line of a registered notebook's script; None for any other file."""
    if path is None or line is None:
        return None
    cells = _REGISTERED.get(os.path.abspath(path))
    return None if cells is None else cells.locate(line)


def _read_with_nbformat(path: Path, text: str):
    """The notebook as nbformat reads it (a dict of its JSON); only format 4 can be written back."""
    try:
        from nbformat import reader
    except ImportError:  # pragma: no cover - nbformat is a dependency
        raise SourceError(path, "reading notebooks needs the 'nbformat' package") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = reader.reads(text)
    except reader.NotJSONError:
        raise SourceError(path, "not a notebook: its content is not JSON") from None
    except Exception as e:  # noqa: BLE001 - nbformat's own errors (no version, unknown version)
        raise SourceError(path, f"not a notebook: {' '.join(str(e).split())[:200]}") from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        raise SourceError(path, f"notebook format {nb.get('nbformat') if isinstance(nb, dict) else '?'} is not "
                                "supported (only 4; `jupyter nbconvert --to notebook` upgrades it)")
    return nb


def _joined(source: object) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return None


_LINES = re.compile(r"[^\n]*\n|[^\n]+\Z")


def _json_lines(text: str) -> list[str]:
    """A cell's text as the list of lines a notebook stores: cut after each "\\n" only (the last line
    may lack one), as Jupyter cuts them."""
    return _LINES.findall(text)


# ---- locating cell sources in the JSON text ---------------------------------------------------------------

def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _expect(text: str, i: int, char: str) -> int:
    if i >= len(text) or text[i] != char:
        raise ValueError(f"expected {char!r} at offset {i}")
    return i + 1


def _members(text: str, i: int, value) -> int:
    """Walk the object at `i`: `value(key, start)` returns where that member's value ends."""
    i = _skip(text, _expect(text, i, "{"))
    if text[i] == "}":
        return i + 1
    while True:
        key, i = scanstring(text, _expect(text, i, '"'))
        i = _skip(text, _expect(text, _skip(text, i), ":"))
        i = _skip(text, value(key, i))
        if text[i] == "}":
            return i + 1
        i = _skip(text, _expect(text, i, ","))


def _elements(text: str, i: int, value) -> int:
    """Walk the array at `i`: `value(start)` returns where that element ends."""
    i = _skip(text, _expect(text, i, "["))
    if text[i] == "]":
        return i + 1
    while True:
        i = _skip(text, value(i))
        if text[i] == "]":
            return i + 1
        i = _skip(text, _expect(text, i, ","))


_DECODER = json.JSONDecoder()


def _value_end(text: str, i: int) -> int:
    return _DECODER.raw_decode(text, i)[1]


def _scan(text: str) -> list[_RawCell]:
    """Each cell's type and the exact span of its "source" value (and of each of its strings)."""
    cells: list[_RawCell] = []

    def cell(i: int) -> int:
        found: dict[str, object] = {}

        def member(key: str, start: int) -> int:
            if key == "cell_type":
                found["type"], end = _DECODER.raw_decode(text, start)
                return end
            if key != "source":
                return _value_end(text, start)
            if key in found:
                raise ValueError(f"cell {len(cells) + 1} gives \"source\" twice")
            items: list[tuple[int, int]] = []

            def item(j: int) -> int:
                end = _value_end(text, j)
                items.append((j, end))
                return end

            end = _elements(text, start, item) if text[start] == "[" else _value_end(text, start)
            value = json.loads(text[start:end])
            found["source"] = (_joined(value), (start, end), tuple(items) if text[start] == "[" else None)
            return end

        end = _members(text, i, member)
        if "source" not in found or found["source"][0] is None:  # type: ignore[index]
            raise ValueError(f"cell {len(cells) + 1} has no source")
        source, span, items = found["source"]  # type: ignore[misc]
        cells.append(_RawCell(len(cells) + 1, str(found.get("type")), source, span, items))
        return end

    def top(key: str, start: int) -> int:
        if key == "cells":
            cells.clear()
            return _elements(text, start, cell)
        return _value_end(text, start)

    end = _skip(text, _members(text, _skip(text, 0), top))
    if end != len(text):
        raise ValueError(f"extra data at offset {end}")
    return cells


# ---- IPython syntax ------------------------------------------------------------------------------------------

def mask_ipython(text: str) -> tuple[str | None, list[tuple[int, str]]]:
    """`text` with IPython-only lines masked as `pass` (line numbers kept), and what was masked;
    (None, []) for a cell magic whose body is not Python. A cell that parses as Python is left alone."""
    lines = text.split("\n")
    first = lines[0].lstrip()
    if first.startswith("%%"):
        name = first[2:].split(None, 1)[0] if first[2:].strip() else ""
        if name not in PYTHON_CELL_MAGICS:
            return None, []
        masks = [(0, lines[0])]
        lines[0] = MASK + ("\r" if lines[0].endswith("\r") else "")
        return _mask_lines(lines, masks)
    if not any(_IPYTHON_LINE.match(ln) for ln in lines) or _parses(text):
        return text, []
    return _mask_lines(lines, [])


def _mask_lines(lines: list[str], masks: list[tuple[int, str]]) -> tuple[str, list[tuple[int, str]]]:
    continued = False
    for i, line in enumerate(lines):
        if (i, line) in masks or not (continued or _IPYTHON_LINE.match(line)):
            continued = False
            continue
        masks.append((i, line))
        body = line.rstrip("\r")
        indent = body[:len(body) - len(body.lstrip())] if not continued else _indent_of(lines, i)
        lines[i] = indent + MASK + line[len(body):]
        continued = body.endswith("\\")
    return "\n".join(lines), sorted(masks)


def _indent_of(lines: list[str], i: int) -> str:
    j = i - 1
    while j > 0 and lines[j].rstrip("\r").endswith("\\") and lines[j - 1].rstrip("\r").endswith("\\"):
        j -= 1
    prev = lines[j]
    return prev[:len(prev) - len(prev.lstrip())]


def _parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False


def _split_script(script: str, count: int) -> list[str] | None:
    """The script cut at its cell markers back into `count` pieces; None when they do not match."""
    pieces: list[str] = []
    current: list[str] | None = None
    for line in _LINES.findall(script):
        if line.startswith(MARKER) and line.rstrip("\n")[len(MARKER):].isdigit():
            if current is not None:
                pieces.append("".join(current))
            current = []
        elif current is None:
            return None  # text before the first marker
        else:
            current.append(line)
    if current is not None:
        pieces.append("".join(current))
    return pieces if len(pieces) == count else None


def _unmask(piece: str, cell: _CodeCell) -> str:
    """A rewritten cell with its masked lines given back. Fixes never touch a masked line (a `pass`
    with our comment), but they may insert lines: masked lines are found again in order."""
    if not cell.masks:
        return piece
    lines = piece.split("\n")
    original = cell.masked.split("\n")
    masked_lines = [original[i] for i, _ in cell.masks]
    restored, k = [], 0
    for line in lines:
        if k < len(masked_lines) and line == masked_lines[k]:
            restored.append(cell.masks[k][1])
            k += 1
        else:
            restored.append(line)
    if k != len(masked_lines):
        raise SourceError("<notebook>", f"cell {cell.number}: a masked IPython line was lost; not written")
    return "\n".join(restored)
