"""outplace's language server: diagnostics, quick fixes, fix-all and formatting over LSP (pygls).

What it offers an editor:

- `textDocument/publishDiagnostics` on open, change (debounced) and save: one warning per finding,
  `code` the rule, `data` the fix's applicability (`{"fix": "safe"|"unsafe"|null, "reasons": [...]}`).
- `textDocument/codeAction`: a `quickfix` per finding that has a fix (unsafe ones say so in the
  title), and `source.fixAll.outplace`: every safe fix (and the unsafe ones too when the
  `unsafeFixes` setting is on), as in `outplace fix`.
- `textDocument/formatting` (the same edits as fix-all) for editors whose save hook formats, and
  `textDocument/willSaveWaitUntil` (the same again) when the `fixOnSave` setting is on.
- Notebooks, where the client syncs notebook documents (`notebookDocument/didOpen`, `didChange`,
  `didSave`, `didClose`): the code cells are checked together as one program, the way
  `outplace check x.ipynb` reads them, and each cell gets its own diagnostics, in its own lines;
  quick fixes, formatting and fix-on-save of a cell edit that cell; fix-all edits every cell it
  changes. Clients without notebook support get `.py` files only.

Settings: the closest configuration above each file, as `outplace check` finds it (`.outplace.toml`,
`outplace.toml`, or a pyproject.toml with `[tool.outplace]`; `extend` and `per-file-ignores` too), re-read
when it changes, overridden by the client's `initializationOptions` (or
`workspace/didChangeConfiguration`): `select`, `ignore`, `unsafeFixes`, `clone`, `extendExclude`; and
`fixOnSave` for the server itself. Files the configuration excludes (`.venv`, `build`, .gitignore'd
...) get no diagnostics.

Never blocking the loop: the engine runs in worker threads. Results are keyed by the document's
generation (bumped on every change) and dropped when stale; changes are debounced; the fix-all
edits are computed in the background after the diagnostics, so a save-time request is answered
from the cache. Text that does not parse yet (half-typed code) keeps the last diagnostics.

The protocol's own rules: a request whose params do not match its type gets an InvalidParams error
reply (pygls alone logs it and never answers); the process exits 0 after `shutdown` + `exit` and 1
otherwise (an `exit` without `shutdown`, or the client's stream ending); and it exits when the
client's `processId` (from `initialize`) is gone, so that it never outlives its editor.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import queue
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from outplace import __version__
from outplace.config import CONFIG_FILES
from outplace.findings import Finding
from outplace.lsp.convert import UTF16, LineIndex, apply_change, line_edits
from outplace.lsp.notebooks import Cell, NotebookView
from outplace.settings import Settings

log = logging.getLogger("outplace.lsp")

SOURCE = "outplace"
FIX_ALL_KIND = "source.fixAll.outplace"
DEBOUNCE_S = 0.15
QUICKFIX = types.CodeActionKind.QuickFix.value
PYTHON_IDS = ("python", "py", "pyi")
# Notebooks of any type whose cells are Python, synced with their saves (pygls offers it only to
# clients that say they support notebook documents).
NOTEBOOK_SYNC = types.NotebookDocumentSyncOptions(
    notebook_selector=[types.NotebookDocumentFilterWithCells(cells=[types.NotebookCellLanguage("python")],
                                                             notebook="*")],
    save=True)


# ---- settings --------------------------------------------------------------------------------------

# Client option name (normalised: lower case, no "-" or "_") -> Settings field.
_SETTING_KEYS = {
    "select": "select", "ignore": "ignore", "unsafefixes": "unsafe_fixes", "clone": "clone",
    "exclude": "exclude", "extendexclude": "extend_exclude",
}
_SERVER_KEYS = {"fixonsave": "fix_on_save"}


@dataclass(frozen=True)
class ClientOptions:
    overrides: tuple[tuple[str, Any], ...] = ()  # Settings field -> value (validated by load_settings)
    fix_on_save: bool = False
    problems: tuple[str, ...] = ()


def parse_options(raw: Any) -> ClientOptions:
    """initializationOptions / didChangeConfiguration settings, flat or under an "outplace" key."""
    if isinstance(raw, dict) and isinstance(raw.get("outplace"), dict):
        raw = raw["outplace"]
    if isinstance(raw, dict) and isinstance(raw.get("settings"), dict) and len(raw) == 1:
        raw = raw["settings"]
    if not isinstance(raw, dict):
        return ClientOptions()
    overrides: dict[str, Any] = {}
    fix_on_save, problems = False, []
    for key, value in raw.items():
        norm = str(key).replace("-", "").replace("_", "").lower()
        if norm in _SETTING_KEYS:
            if norm in ("select", "ignore") and isinstance(value, str):
                value = [c.strip().upper() for c in value.split(",") if c.strip()]
            elif norm in ("select", "ignore") and isinstance(value, list):
                value = [c.strip().upper() if isinstance(c, str) else c for c in value]
            if isinstance(value, list):
                value = tuple(value)
            if value is not None:
                overrides[_SETTING_KEYS[norm]] = value
        elif norm in _SERVER_KEYS:
            if isinstance(value, bool):
                fix_on_save = value
            else:
                problems.append(f"{key!r} must be true or false, not {value!r}")
        else:
            log.info("ignoring unknown option %r", key)
    return ClientOptions(tuple(sorted(overrides.items())), fix_on_save, tuple(problems))


class SettingsCache:
    """Settings per project root (the directory of the closest configuration file), re-read when that
    file changes."""

    def __init__(self) -> None:
        self.options = ClientOptions()
        self._roots: dict[str, Path] = {}
        self._by_root: dict[Path, tuple[Any, Settings, Optional[str]]] = {}

    def set_options(self, options: ClientOptions) -> None:
        self.options = options
        self._by_root.clear()

    def root_for(self, path: Optional[str], fallback: Optional[str]) -> Path:
        from outplace.config import find_project_root

        anchor = path or fallback
        if anchor is None:
            return Path(os.getcwd())
        root = self._roots.get(anchor)
        if root is None:
            root = self._roots[anchor] = find_project_root([anchor])
        return root

    def get(self, root: Path) -> tuple[Settings, Optional[str]]:
        """(settings, problem) -- a bad configuration gives the defaults plus a one-line problem."""
        from outplace.config import ConfigError, config_file, load_settings

        config = config_file(root) or root / "pyproject.toml"
        try:
            st = config.stat()
            stamp: Any = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        cached = self._by_root.get(root)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        overrides = dict(self.options.overrides)
        problem = None
        try:
            settings = load_settings(root, **overrides)
        except ConfigError as e:
            if e.source == "command line":
                problem = f"initializationOptions: {e.message}"
                try:
                    settings = load_settings(root)
                except ConfigError as e2:
                    problem += f"; {e2}"
                    settings = Settings()
            else:
                problem = str(e)
                try:
                    settings = load_settings(Path(os.devnull), **overrides)
                except ConfigError:
                    settings = Settings()
        self._by_root[root] = (stamp, settings, problem)
        return settings, problem

    def forget_roots(self) -> None:
        self._roots.clear()
        self._by_root.clear()


# ---- documents ---------------------------------------------------------------------------------------

@dataclass(eq=False)
class Document:
    uri: str
    version: Optional[int]
    text: str
    path: Optional[str]  # a file system path for file: URIs
    generation: int = 0  # bumped on every change: what results are keyed by
    _index: Optional[LineIndex] = None
    timer: Optional[asyncio.TimerHandle] = None
    cache: dict = field(default_factory=dict)  # (kind, generation, settings...) -> asyncio.Future
    published: Optional[int] = None  # generation of the diagnostics on screen
    notebook: Optional[NotebookView] = None  # a notebook document: `text` is its cells' script
    shown: set = field(default_factory=set)  # a notebook's cells that have diagnostics on screen

    @property
    def index(self) -> LineIndex:
        if self._index is None or self._index.text is not self.text:
            self._index = LineIndex(self.text)
        return self._index

    def set_text(self, text: str, version: Optional[int]) -> None:
        self.text = text
        self.version = version
        self.generation += 1
        self.cache = {}


class Stale(Exception):
    """The document changed before a queued job started: its result would be thrown away."""


@dataclass(frozen=True)
class Checked:
    findings: list[Finding]
    excluded: bool = False


@dataclass(frozen=True)
class FixAll:
    edits: list[types.TextEdit]
    applied: int
    cells: dict[str, list[types.TextEdit]] = field(default_factory=dict)  # a notebook's: cell uri -> edits


# ---- engine jobs (run in worker threads: no pygls, no loop) -----------------------------------------------

_projects = threading.local()  # each worker thread its own project indexes: no analysis waits for another


def _project(root: Path, path: Optional[str]) -> Any:
    """The project index of `root` (what a file imports from the others) for this worker thread;
    dependencies are read again when they change on disk."""
    from outplace.analysis.project import ProjectIndex

    indexes = getattr(_projects, "by_root", None)
    if indexes is None:
        indexes = _projects.by_root = {}
    index = indexes.get(root)
    if index is None:
        index = indexes[root] = ProjectIndex.for_run(root, [Path(path)] if path else [])
        index.watch = True
    elif path is not None:
        for extra in ProjectIndex.for_run(root, [Path(path)]).roots:
            if extra not in index.roots:
                index.roots.append(extra)
    return index


def job_check(text: str, settings: Settings, path: Optional[str], root: Path) -> Checked:
    from outplace.engine import check_source

    if path is not None:
        from outplace.discovery import is_excluded

        if is_excluded(path, settings, root=root):
            return Checked([], excluded=True)
        settings = settings.for_file(path)  # per-file-ignores
    return Checked(check_source(text, settings, path=path or "<editor>", project=_project(root, path)))


def _fixed(text: str, settings: Settings, path: Optional[str], root: Optional[Path]) -> tuple[Optional[str], int]:
    """What `outplace fix` makes of `text` (None: nothing changes), and how many fixes it applied."""
    from outplace.engine import fix_source

    if path is not None:
        settings = settings.for_file(path)  # per-file-ignores
    project = _project(root, path) if root is not None else None
    result = fix_source(text, settings, path=path or "<editor>", project=project)
    if not result.changed or result.output == text:
        return None, 0
    return result.output, len(result.applied)


def _edits(old: str, new: str, encoding: str) -> list[types.TextEdit]:
    index = LineIndex(old)
    return [text_edit(index, start, end, content, encoding) for start, end, content in line_edits(old, new)]


def job_fix_all(text: str, settings: Settings, path: Optional[str], encoding: str, root: Optional[Path] = None) -> FixAll:
    output, applied = _fixed(text, settings, path, root)
    return FixAll([], 0) if output is None else FixAll(_edits(text, output, encoding), applied)


def job_fix_all_cells(view: NotebookView, settings: Settings, path: Optional[str], encoding: str,
                      root: Optional[Path] = None) -> FixAll:
    """Fix-all of a notebook: the script's fixes, as edits of each cell they change."""
    output, applied = _fixed(view.text, settings, path, root)
    if output is None:
        return FixAll([], 0)
    cells = {uri: _edits(old, new, encoding) for uri, (old, new) in view.cell_changes(output).items()}
    return FixAll([], applied, cells)


def job_quick_fix(text: str, finding: Finding, encoding: str) -> Optional[types.TextEdit]:
    from outplace.engine import fix_edit

    edit = fix_edit(text, finding)
    if edit is None:
        return None
    return text_edit(LineIndex(text), edit.start, edit.end, edit.content, encoding)


def warm_up() -> None:
    """Import the engine's rules and run them once, so that the first real check is not the slow one."""
    from outplace.engine import check_source, fix_source

    try:
        sample = "import torch\n\ndef f(x: torch.Tensor):\n    y = x * 2\n    torch.relu_(y)\n    return y\n"
        check_source(sample, Settings())
        fix_source(sample, Settings())
    except Exception:  # noqa: BLE001 - only a warm-up; real checks report their own errors
        log.debug("warm-up failed", exc_info=True)


def text_edit(index: LineIndex, start: int, end: int, new_text: str, encoding: str) -> types.TextEdit:
    (sl, sc), (el, ec) = index.position(start, encoding), index.position(end, encoding)
    return types.TextEdit(types.Range(types.Position(sl, sc), types.Position(el, ec)), new_text)


class DaemonExecutor(concurrent.futures.Executor):
    """A thread pool whose workers never hold up the process's exit (a long check may be running
    when the editor says `exit`)."""

    def __init__(self, workers: int = 2) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        for i in range(workers):
            threading.Thread(target=self._work, name=f"outplace-engine-{i}", daemon=True).start()

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        if self._closed:
            raise RuntimeError("executor is shut down")
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def _work(self) -> None:
        while True:
            future, fn, args, kwargs = self._queue.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
                future.set_exception(e)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True


# ---- the protocol ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Unreadable:
    """A request pygls could not turn into its typed params: answered with `error`, never handled."""

    id: Any
    method: str
    error: JsonRpcException
    jsonrpc: str = "2.0"


class OutplaceProtocol(LanguageServerProtocol):
    """pygls' protocol, except that a request with params it cannot read gets an error reply."""

    def structure_message(self, data: dict[str, Any]):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "id" in data and isinstance(data.get("method"), str):
                if isinstance(error, JsonRpcInvalidParams):
                    cause = error.__cause__
                    detail = "; ".join(str(e) for e in getattr(cause, "exceptions", ())) or str(cause or "")
                    error = JsonRpcInvalidParams(message=f"invalid params for {data['method']}: {detail}".rstrip(": "))
                return _Unreadable(data["id"], data["method"], error)
            raise

    def handle_message(self, message) -> None:
        if isinstance(message, _Unreadable):
            log.warning("%s: %s", message.method, message.error.message)
            self._send_response(message.id, error=message.error.to_response_error())
            return
        super().handle_message(message)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or not one we can ask about): alive as far as we know
    return True


async def watch_parent(pid: int, interval: float = 1.0) -> None:
    """Exit (code 1) once process `pid` is gone: the editor died without saying `exit`."""
    while _alive(pid):
        await asyncio.sleep(interval)
    log.warning("the client process %d is gone; exiting", pid)
    sys.stderr.flush()
    os._exit(1)


# ---- the server --------------------------------------------------------------------------------------------

class OutplaceServer(LanguageServer):
    def __init__(self, workers: int = 2, debounce: float = DEBOUNCE_S) -> None:
        super().__init__("outplace", __version__, protocol_cls=OutplaceProtocol,
                         notebook_document_sync=NOTEBOOK_SYNC)
        self.shutdown_requested = False  # `exit` after `shutdown` is a success (0); any other end is 1
        self.parent_watch: Optional[asyncio.Task] = None
        self.docs: dict[str, Document] = {}
        self.cell_owner: dict[str, str] = {}  # a notebook cell's uri -> its notebook's
        self.settings = SettingsCache()
        self.executor = DaemonExecutor(workers)
        self.debounce = debounce
        self._told: set[str] = set()  # configuration problems already shown to the user

    # -- helpers --------------------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        try:
            enc = self.workspace.position_encoding
        except RuntimeError:  # not initialized yet
            return UTF16
        return str(getattr(enc, "value", enc) or UTF16)

    def _capability(self, *names: str, default: Any = None) -> Any:
        node: Any = self.client_capabilities
        for name in names:
            node = getattr(node, name, None)
            if node is None:
                return default
        return node

    def tell(self, problem: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        if problem in self._told:
            return
        self._told.add(problem)
        log.warning("%s", problem)
        self.window_show_message(types.ShowMessageParams(kind, f"outplace: {problem}"))

    def workspace_root(self) -> Optional[str]:
        try:
            root = self.workspace.root_path
        except RuntimeError:
            return None
        return root or None

    def settings_for(self, doc: Document) -> tuple[Settings, Path]:
        root = self.settings.root_for(doc.path, self.workspace_root())
        settings, problem = self.settings.get(root)
        if problem:
            self.tell(problem)
        return settings, root

    async def run_job(self, doc: Document, key: tuple, fn: Callable, *args: Any) -> Any:
        """The result of `fn(*args)` for `doc` at its current generation, computed once per key.

        The job is skipped when the document has changed before a worker picks it up. Awaiting is
        shielded: a cancelled request does not cancel a result that others (the save hook) await.
        """
        generation = doc.generation
        full_key = (key, generation)
        future = doc.cache.get(full_key)
        if future is None:
            def guarded() -> Any:
                if self.docs.get(doc.uri) is not doc or doc.generation != generation:
                    raise Stale()
                return fn(*args)

            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self.executor, guarded)
            future.add_done_callback(_consume)
            doc.cache[full_key] = future
        return await asyncio.shield(future)

    def current(self, doc: Document, generation: int) -> bool:
        return self.docs.get(doc.uri) is doc and doc.generation == generation

    # -- diagnostics ----------------------------------------------------------------------------------

    def schedule(self, doc: Document, delay: float) -> None:
        if doc.timer is not None:
            doc.timer.cancel()
            doc.timer = None
        loop = asyncio.get_running_loop()
        generation = doc.generation

        def fire() -> None:
            doc.timer = None
            if self.current(doc, generation):
                task = loop.create_task(self.lint(doc))
                task.add_done_callback(_consume)

        if delay <= 0:
            fire()
        else:
            doc.timer = loop.call_later(delay, fire)

    async def check(self, doc: Document) -> tuple[Checked, Settings, Path]:
        settings, root = self.settings_for(doc)
        checked = await self.run_job(doc, ("check", settings), job_check, doc.text, settings, doc.path, root)
        return checked, settings, root

    async def lint(self, doc: Document) -> None:
        generation = doc.generation
        text, view = doc.text, doc.notebook
        try:
            checked, settings, _ = await self.check(doc)
        except Stale:
            return
        except Exception as e:  # ParseError on half-typed code, or an engine bug: keep what is shown
            from outplace.engine import ParseError

            if isinstance(e, ParseError):
                log.debug("%s: not valid Python yet (%s): keeping the last diagnostics", doc.uri, e)
            else:
                log.exception("%s: internal error while checking", doc.uri)
                self.window_log_message(types.LogMessageParams(
                    types.MessageType.Error, f"outplace: internal error on {doc.uri}: {type(e).__name__}: {e}"))
            return
        if not self.current(doc, generation):
            return  # a newer text is on its way: these would point at the wrong places
        if view is None:
            index = LineIndex(text)
            diagnostics = [to_diagnostic(f, index, self.encoding) for f in checked.findings]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(doc.uri, diagnostics, version=doc.version))
        else:
            self.publish_cells(doc, view, checked.findings)
        doc.published = generation
        # Have the save-time answer ready: compute the fix-all edits now, in the background.
        if any(_applies(f, settings) for f in checked.findings):
            task = asyncio.get_running_loop().create_task(self.fix_all(doc))
            task.add_done_callback(_consume)

    # -- fixes ----------------------------------------------------------------------------------------------

    async def fix_all(self, doc: Document) -> FixAll:
        """The fix-all edits of the document's current text (empty when it does not parse)."""
        for _ in range(3):  # the text may change while we work: answer for the newest one
            generation = doc.generation
            try:
                checked, settings, root = await self.check(doc)
                if checked.excluded or not any(_applies(f, settings) for f in checked.findings):
                    result = FixAll([], 0)  # nothing fix-all would change: no need to run the fixer
                elif doc.notebook is not None:
                    result = await self.run_job(doc, ("fix", settings, self.encoding), job_fix_all_cells,
                                                doc.notebook, settings, doc.path, self.encoding, root)
                else:
                    result = await self.run_job(doc, ("fix", settings, self.encoding), job_fix_all,
                                                doc.text, settings, doc.path, self.encoding, root)
            except Stale:
                continue
            except Exception as e:
                from outplace.engine import ParseError

                if not isinstance(e, ParseError):
                    log.exception("%s: internal error while fixing", doc.uri)
                return FixAll([], 0)
            if self.current(doc, generation):
                return result
        return FixAll([], 0)

    async def quick_fix_edit(self, doc: Document, generation: int, finding_index: int) -> Optional[types.TextEdit]:
        if not self.current(doc, generation):
            return None
        try:
            checked, _, _ = await self.check(doc)
            if not self.current(doc, generation) or finding_index >= len(checked.findings):
                return None
            finding = checked.findings[finding_index]
            edit = await self.run_job(doc, ("edit", finding_index, self.encoding), job_quick_fix,
                                      doc.text, finding, self.encoding)
        except Stale:
            return None
        except Exception as e:
            from outplace.engine import ParseError

            if not isinstance(e, ParseError):
                log.exception("%s: internal error while fixing", doc.uri)
            return None
        return edit if self.current(doc, generation) else None

    def workspace_edit(self, doc: Document, edits: dict[str, list[types.TextEdit]]) -> types.WorkspaceEdit:
        """Edits of `doc` (by its uri), or of a notebook's cells (by theirs), at their current versions."""
        if self._capability("workspace", "workspace_edit", "document_changes", default=False):
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                types.OptionalVersionedTextDocumentIdentifier(uri, self.version_of(doc, uri)), list(e))
                for uri, e in edits.items()])
        return types.WorkspaceEdit(changes={uri: list(e) for uri, e in edits.items()})

    def version_of(self, doc: Document, uri: str) -> Optional[int]:
        if doc.notebook is None or uri == doc.uri:
            return doc.version
        cell = doc.notebook.cell(uri)
        return cell.version if cell is not None else None

    @staticmethod
    def fix_all_edits(doc: Document, result: FixAll, only: Optional[str] = None) -> dict[str, list[types.TextEdit]]:
        """Fix-all's edits by document: `doc`'s, or every cell's it changes (`only`: that cell's)."""
        edits = dict(result.cells) if doc.notebook is not None else {doc.uri: result.edits}
        if only is not None:
            edits = {only: edits.get(only, [])}
        return {uri: e for uri, e in edits.items() if e}

    async def quick_fix_edits(self, doc: Document, generation: int, finding_index: int
                              ) -> Optional[dict[str, list[types.TextEdit]]]:
        """One finding's quick fix, by document (a notebook's: in the cell it falls in)."""
        view = doc.notebook
        edit = await self.quick_fix_edit(doc, generation, finding_index)
        if edit is None:
            return None
        if view is None:
            return {doc.uri: [edit]}
        in_cell = view.cell_edit(edit)
        return None if in_cell is None else {in_cell[0]: [in_cell[1]]}

    def publish_cells(self, doc: Document, view: NotebookView, findings: list[Finding]) -> None:
        """Each cell its diagnostics; a cell that had some and has none now is cleared."""
        by_cell: dict[str, list[types.Diagnostic]] = {}
        for f in findings:
            mapped = cell_diagnostic(view, f, self.encoding)
            if mapped is not None:
                by_cell.setdefault(mapped[0], []).append(mapped[1])
        for uri in sorted(set(by_cell) | doc.shown):
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri, by_cell.get(uri, []), version=self.version_of(doc, uri)))
        doc.shown = set(by_cell)

    def notebook_view(self, uri: str) -> Optional[NotebookView]:
        """The notebook `uri` as the client synced it (pygls keeps its cells in the workspace)."""
        from urllib.parse import unquote

        notebook = self.workspace.get_notebook_document(notebook_uri=uri)
        if notebook is None:
            return None
        cells = []
        for number, cell in enumerate(notebook.cells, 1):
            text = self.workspace.text_documents.get(unquote(cell.document))
            cells.append(Cell(cell.document, number, cell.kind == types.NotebookCellKind.Code,
                              text.source if text is not None else "", text.version if text is not None else None,
                              (text.language_id or "python") if text is not None else "python"))
        return NotebookView.of(cells)

    def own_cells(self, doc: Document) -> None:
        for uri in [u for u, owner in self.cell_owner.items() if owner == doc.uri]:
            del self.cell_owner[uri]
        if doc.notebook is not None:
            self.cell_owner.update({c.uri: doc.uri for c in doc.notebook.cells})

    def document_of(self, uri: str) -> tuple[Optional[Document], Optional[str]]:
        """The document a request's uri names, and the cell when it is a notebook cell's."""
        doc = self.docs.get(uri)
        if doc is not None:
            return doc, None
        owner = self.cell_owner.get(uri)
        doc = self.docs.get(owner) if owner is not None else None
        return (doc, uri) if doc is not None else (None, None)

    def resolves_edits(self) -> bool:
        props = self._capability("text_document", "code_action", "resolve_support", "properties", default=())
        return "edit" in (props or ())

    def document(self, uri: str) -> Optional[Document]:
        return self.docs.get(uri)

    async def fix_all_of(self, uri: str) -> Optional[list[types.TextEdit]]:
        """Fix-all's edits of one document (a notebook cell: that cell's share of the notebook's fixes)."""
        doc, cell = self.document_of(uri)
        if doc is None:
            return None
        return self.fix_all_edits(doc, await self.fix_all(doc), only=uri).get(uri, [])


def _applies(f: Finding, settings: Settings) -> bool:
    """Whether fix-all (like `outplace fix`) applies `f`'s fix under `settings`."""
    return f.fix is not None and (f.fix.is_safe or settings.unsafe_fixes)


def _consume(future: "asyncio.Future[Any]") -> None:
    """Mark a background future's exception as retrieved (it is logged where it matters)."""
    if not future.cancelled():
        future.exception()


def to_diagnostic(f: Finding, index: LineIndex, encoding: str) -> types.Diagnostic:
    sl, sc = index.position_of_line_col(f.line, f.col, encoding)
    el, ec = index.position_of_line_col(f.end_line, f.end_col, encoding)
    if (el, ec) < (sl, sc):
        el, ec = sl, sc
    fix = None if f.fix is None else f.fix.applicability.value
    message = f.message + (" (unsafe fix)" if fix == "unsafe" else "") + (f"\n{f.why}" if f.why else "")
    return types.Diagnostic(
        range=types.Range(types.Position(sl, sc), types.Position(el, ec)),
        message=message,
        severity=types.DiagnosticSeverity.Warning,
        code=f.code,
        source=SOURCE,
        data={"fix": fix, "reasons": list(f.fix.reasons) if f.fix is not None else [],
              "hazard": f.hazard, "why": f.why},
    )


def cell_diagnostic(view: NotebookView, f: Finding, encoding: str) -> Optional[tuple[str, types.Diagnostic]]:
    """A finding of a notebook's script as a diagnostic of the cell it is in (by the cell's uri)."""
    located = view.locate(f)
    if located is None:
        return None
    uri, in_cell = located
    return uri, to_diagnostic(in_cell, view.index(uri), encoding)


def _suggestion(f: Finding) -> str:
    _, sep, rest = f.message.rpartition("; ")
    return rest if sep else "rewrite out of place"


def quick_fix_title(f: Finding) -> str:
    title = f"Fix {f.code}: {_suggestion(f)}"
    if f.fix is not None and not f.fix.is_safe:
        why = "; ".join(f.fix.reasons)
        title += f" (unsafe fix: {why})" if why else " (unsafe fix)"
    return title


def _kind_wanted(only: Optional[list[str]], kind: str) -> bool:
    if not only:
        return True
    return any(k == "" or kind == k or kind.startswith(k + ".") for k in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    a0, a1 = (a.start.line, a.start.character), (a.end.line, a.end.character)
    b0, b1 = (b.start.line, b.start.character), (b.end.line, b.end.character)
    return a0 <= b1 and b0 <= a1


def _text_of(uri: str) -> Optional[str]:
    if not uri.startswith("file:"):
        return None
    try:
        return to_fs_path(uri)
    except Exception:  # pragma: no cover - exotic URIs
        return None


# ---- wiring -------------------------------------------------------------------------------------------------

def create_server(workers: int = 2, debounce: float = DEBOUNCE_S) -> OutplaceServer:
    server = OutplaceServer(workers=workers, debounce=debounce)

    @server.feature(types.INITIALIZE)
    def initialize(ls: OutplaceServer, params: types.InitializeParams) -> None:
        options = parse_options(params.initialization_options)
        ls.settings.set_options(options)
        for problem in options.problems:
            log.warning("initializationOptions: %s", problem)
        pid = params.process_id
        if isinstance(pid, int) and pid > 0 and pid != os.getpid() and ls.parent_watch is None:
            if _alive(pid):  # not there now: another PID namespace (a container); nothing to watch
                ls.parent_watch = asyncio.get_running_loop().create_task(watch_parent(pid))
            else:
                log.info("client processId %d is not visible from here; not watching it", pid)

    @server.feature(types.INITIALIZED)
    def initialized(ls: OutplaceServer, params: types.InitializedParams) -> None:
        for problem in ls.settings.options.problems:
            ls.tell(f"initializationOptions: {problem}")
        ls.executor.submit(warm_up)  # load the rules while the editor opens its first file

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: OutplaceServer, params: types.DidChangeConfigurationParams) -> None:
        if not isinstance(params.settings, dict) or not params.settings:
            return
        options = parse_options(params.settings)
        if options == ls.settings.options:
            return
        ls.settings.set_options(options)
        ls._told.clear()
        for doc in ls.docs.values():
            doc.cache = {}
            ls.schedule(doc, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: OutplaceServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        if item.language_id not in PYTHON_IDS and not item.uri.endswith((".py", ".pyi")):
            return  # not Python (a client that sends every open file): nothing to check
        doc = Document(item.uri, item.version, item.text, _text_of(item.uri))
        ls.docs[item.uri] = doc
        ls.schedule(doc, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: OutplaceServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is None:
            return
        text, enc = doc.text, ls.encoding
        index: Optional[LineIndex] = doc.index
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                r = change.range
                text = apply_change(text, index, (r.start.line, r.start.character),
                                    (r.end.line, r.end.character), change.text, enc)
            else:
                text = change.text
            index = None
        doc.set_text(text, params.text_document.version)
        ls.schedule(doc, ls.debounce)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: OutplaceServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri.endswith(tuple(f"/{name}" for name in (*CONFIG_FILES, ".gitignore"))):
            ls.settings.forget_roots()
            for doc in ls.docs.values():
                doc.cache = {}
                ls.schedule(doc, 0)
            return
        doc = ls.docs.get(uri)
        if doc is None:
            return
        if params.text is not None and params.text != doc.text:
            doc.set_text(params.text, doc.version)
        if doc.published != doc.generation:
            ls.schedule(doc, 0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: OutplaceServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.docs.pop(params.text_document.uri, None)
        if doc is not None and doc.timer is not None:
            doc.timer.cancel()
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(params.text_document.uri, []))

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def did_open_notebook(ls: OutplaceServer, params: types.DidOpenNotebookDocumentParams) -> None:
        item = params.notebook_document
        view = ls.notebook_view(item.uri)
        if view is None:
            return
        doc = Document(item.uri, item.version, view.text, _text_of(item.uri), notebook=view)
        ls.docs[item.uri] = doc
        ls.own_cells(doc)
        ls.schedule(doc, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def did_change_notebook(ls: OutplaceServer, params: types.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        doc, view = ls.docs.get(uri), ls.notebook_view(uri)
        if doc is None or view is None:
            return
        doc.notebook = view  # new cells, or new numbers: a new generation even when the code is the same
        doc.set_text(view.text, params.notebook_document.version)
        ls.own_cells(doc)
        ls.schedule(doc, ls.debounce)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def did_save_notebook(ls: OutplaceServer, params: types.DidSaveNotebookDocumentParams) -> None:
        doc = ls.docs.get(params.notebook_document.uri)
        if doc is not None and doc.published != doc.generation:
            ls.schedule(doc, 0)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def did_close_notebook(ls: OutplaceServer, params: types.DidCloseNotebookDocumentParams) -> None:
        doc = ls.docs.pop(params.notebook_document.uri, None)
        if doc is None:
            return
        if doc.timer is not None:
            doc.timer.cancel()
        for uri in sorted(doc.shown):
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        doc.notebook = None
        ls.own_cells(doc)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND],
                                resolve_provider=True),
    )
    async def code_action(ls: OutplaceServer, params: types.CodeActionParams) -> Optional[list[types.CodeAction]]:
        doc, cell = ls.document_of(params.text_document.uri)
        if doc is None:
            return None
        only = list(params.context.only) if params.context.only else None
        only = [str(getattr(k, "value", k)) for k in only] if only else None
        actions: list[types.CodeAction] = []
        generation = doc.generation
        want_fix_all = _kind_wanted(only, FIX_ALL_KIND)
        lazy = ls.resolves_edits()

        if _kind_wanted(only, QUICKFIX):
            try:
                checked, settings, _ = await ls.check(doc)
            except Exception:  # does not parse (yet), stale, or an engine error: nothing to offer
                checked = None
            if checked is not None and ls.current(doc, generation):
                view, enc = doc.notebook, ls.encoding
                for i, f in enumerate(checked.findings):
                    if f.fix is None:
                        continue
                    if view is None:
                        diag = to_diagnostic(f, doc.index, enc)
                    else:
                        mapped = cell_diagnostic(view, f, enc)
                        if mapped is None or mapped[0] != cell:
                            continue  # another cell's
                        diag = mapped[1]
                    if not _overlaps(diag.range, params.range):
                        continue
                    action = types.CodeAction(
                        title=quick_fix_title(f), kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                        is_preferred=f.fix.is_safe,
                        data={"uri": params.text_document.uri, "generation": generation, "finding": i})
                    if not lazy:
                        edits = await ls.quick_fix_edits(doc, generation, i)
                        if edits is None:
                            continue
                        action.edit = ls.workspace_edit(doc, edits)
                        action.data = None
                    actions.append(action)
            if not only and not (checked and any(_applies(f, settings) for f in checked.findings)):
                want_fix_all = False  # nothing fix-all would change: keep the light bulb menu short

        if want_fix_all and ls.current(doc, generation):
            settings, _ = ls.settings_for(doc)
            title = "Fix all outplace problems" + (" (including unsafe fixes)" if settings.unsafe_fixes else "")
            action = types.CodeAction(title=title, kind=FIX_ALL_KIND,
                                      data={"uri": params.text_document.uri, "generation": generation, "fixAll": True})
            if only or not lazy:
                # Asked for explicitly (a save hook): answer with the edits, no second round trip.
                edits = ls.fix_all_edits(doc, await ls.fix_all(doc))  # a notebook's: every cell's
                if edits:
                    action.edit = ls.workspace_edit(doc, edits)
                    action.data = None
                    actions.append(action)
            else:
                actions.append(action)
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: OutplaceServer, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        doc, _ = ls.document_of(str(data.get("uri", "")))
        if doc is None or action.edit is not None:
            return action
        generation = data.get("generation")
        if data.get("fixAll"):
            edits = ls.fix_all_edits(doc, await ls.fix_all(doc))
            if generation == doc.generation or edits:
                action.edit = ls.workspace_edit(doc, edits)
        elif isinstance(generation, int) and isinstance(data.get("finding"), int):
            edits = await ls.quick_fix_edits(doc, generation, data["finding"])
            if edits is not None:
                action.edit = ls.workspace_edit(doc, edits)
        return action

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    async def formatting(ls: OutplaceServer, params: types.DocumentFormattingParams) -> Optional[list[types.TextEdit]]:
        return await ls.fix_all_of(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_WILL_SAVE_WAIT_UNTIL)
    async def will_save_wait_until(ls: OutplaceServer, params: types.WillSaveTextDocumentParams) -> Optional[list[types.TextEdit]]:
        if not ls.settings.options.fix_on_save:
            return None
        return await ls.fix_all_of(params.text_document.uri)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: OutplaceServer, params: Any = None) -> None:
        ls.shutdown_requested = True
        for doc in ls.docs.values():
            if doc.timer is not None:
                doc.timer.cancel()
        ls.executor.shutdown(wait=False)

    return server
