"""Notebook documents in the editor (LSP 3.17 notebook sync): the cells the client holds, as the one
script the engine checks, and the engine's findings and edits mapped back onto the cells. No pygls here.

    NotebookView.of(cells)             cells: [Cell(uri, number, is_code, text, version)], the notebook's order
      .script                       the code cells as one script (`notebook.CellScript`: a marker line
                                    before each cell, IPython syntax masked), what `check` reads
      .locate(finding)           -> (cell uri, the finding in the cell's lines) | None
      .cell_edit(edit)           -> (cell uri, the edit in the cell's positions) | None
      .cell_changes(new_script)  -> {cell uri: (old text, new text)}   raises SourceError

Cells are numbered from 1 over all cells (markdown too), as the command line numbers them, so a
message's "cell 3, line 7" is the same in the editor and in `outplace check`. A code cell whose
language is not Python (a `%%bash` cell, an SQL cell) is left out, as in a notebook file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from lsprotocol import types

from outplace.findings import Finding
from outplace.lsp.convert import LineIndex
from outplace.notebook import CellScript

PYTHON_LANGUAGES = ("python", "py", "ipython", "")


@dataclass(frozen=True)
class Cell:
    uri: str
    number: int  # 1-based over all cells
    is_code: bool
    text: str
    version: Optional[int] = None
    language: str = "python"


@dataclass(eq=False)
class NotebookView:
    cells: tuple[Cell, ...]
    script: CellScript
    _indexes: dict[str, LineIndex] = field(default_factory=dict)

    @classmethod
    def of(cls, cells: Iterable[Cell]) -> "NotebookView":
        cells = tuple(cells)
        code = [(c.number, c.text) for c in cells if c.is_code and c.language.lower() in PYTHON_LANGUAGES]
        return cls(cells, CellScript.of_cells(code))

    @property
    def text(self) -> str:
        return self.script.script

    @property
    def code_uris(self) -> list[str]:
        """The cells the script holds (those that get diagnostics)."""
        by_number = {c.number: c.uri for c in self.cells}
        return [by_number[c.number] for c in self.script.code]

    def cell(self, uri: str) -> Optional[Cell]:
        return next((c for c in self.cells if c.uri == uri), None)

    def index(self, uri: str) -> LineIndex:
        if uri not in self._indexes:
            cell = self.cell(uri)
            self._indexes[uri] = LineIndex(cell.text if cell is not None else "")
        return self._indexes[uri]

    def _cell_at(self, script_line: int) -> Optional[tuple[Cell, int]]:
        """The code cell holding 1-based `script_line`, and the script line of the cell's first line."""
        number, _ = self.script.cells_map.locate(script_line)
        code = next((c for c in self.script.code if c.number == number), None)
        cell = next((c for c in self.cells if c.number == number), None)
        if code is None or cell is None or not code.first <= script_line < code.first + max(1, code.body.count("\n")):
            return None  # a marker line: no cell's
        return cell, code.first

    def locate(self, f: Finding) -> Optional[tuple[str, Finding]]:
        """`f` with its lines counted in its cell, and lines its words name ("line 13") named by cell."""
        from outplace.formats import located

        found = self._cell_at(f.line)
        if found is None:
            return None
        in_cell, _ = located(f, self.script.cells_map)
        return found[0].uri, in_cell

    def cell_edit(self, edit: types.TextEdit) -> Optional[tuple[str, types.TextEdit]]:
        """A text edit of the script (0-based lines) as an edit of the one cell it falls in; None when it
        is not inside one cell (fixes never touch the marker lines, so this does not happen)."""
        r = edit.range
        found = self._cell_at(r.start.line + 1)
        if found is None:
            return None
        cell, first = found
        shift = first - 1
        start, end = r.start.line - shift, r.end.line - shift
        if start < 0 or end > self.index(cell.uri).line_count - 1:
            return None
        moved = types.Range(types.Position(start, r.start.character), types.Position(end, r.end.character))
        return cell.uri, types.TextEdit(moved, edit.new_text)

    def cell_changes(self, new_script: str) -> dict[str, tuple[str, str]]:
        """{cell uri: (old text, new text)} for the cells a rewritten script changes. Raises
        SourceError when the script does not map back onto the cells."""
        from outplace.source import SourceError

        changed = self.script.cell_texts(new_script)
        if changed is None:
            raise SourceError("<notebook>", "the rewritten cells could not be mapped back onto the notebook")
        by_number = {c.number: c.uri for c in self.cells}
        return {by_number[n]: texts for n, texts in changed.items()}
