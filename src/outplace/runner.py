"""Run the engine over many files: read, analyse/fix, hand results back. Writes nothing.

One file's failure (unreadable, not UTF-8, not Python, an internal error) becomes that file's
`error`; the run goes on. With more than one job, files are spread over worker processes, each
taking a chunk of files at a time and sending each file's result back as soon as it has it. A
worker that dies (killed, out of memory, a crash in native code) costs exactly the file it was on:
that file gets an error naming how the worker ended, the rest of its chunk goes to a fresh worker.
Workers ignore SIGINT (the parent decides), die with the parent (Linux: PR_SET_PDEATHSIG; else they
notice within a second), and are terminated by `run`'s cleanup whatever ends the run early.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from outplace.cache import Cache
from outplace.engine import ParseError, check_source_full, fix_source
from outplace.findings import Finding
from outplace.notebook import CellMap, Notebook, is_notebook, parse_notebook
from outplace.settings import Settings
from outplace.source import SourceError, SourceFile, file_digest, read_source, write_source
from outplace.suppression import UnusedNoqa

if TYPE_CHECKING:  # the analysis is imported only when a file is analysed (a warm run answers all from the cache)
    from outplace.analysis.project import ProjectIndex

# Below this many files a process pool costs more than it saves.
_PARALLEL_THRESHOLD = 8


@dataclass
class FileResult:
    path: Path
    findings: list[Finding] = field(default_factory=list)  # check: all; fix: those left after fixing
    source: SourceFile | None = None
    fixed: str | None = None  # fix mode: the new text when it differs
    applied: list[Finding] = field(default_factory=list)
    held_back: list[Finding] = field(default_factory=list)
    error: str | None = None  # one line naming the file
    digest: str | None = None  # sha256 of the bytes analysed (the cache key), when `source` is not kept
    hidden: int = 0  # findings of hazard levels not selected
    deps: dict[str, str] = field(default_factory=dict)  # other files the analysis read -> their digests
    unused_noqa: list[UnusedNoqa] = field(default_factory=list)
    # A notebook: positions are in its script (`source` is the script); `cells` maps them to cells.
    notebook: Notebook | None = None
    cells: CellMap | None = None

    def __post_init__(self) -> None:
        if self.digest is None and self.source is not None and self.source.digest:
            self.digest = self.source.digest


def process(path: Path, settings: Settings, fix: bool, project: ProjectIndex | None = None) -> FileResult:
    # The cyclic garbage collector finds nothing here (syntax trees are acyclic, and the analysis
    # breaks its own cycles when a file is done: Analysis.close) but would rescan each growing tree
    # many times while it is built: ~13% of parsing time. tests/test_engine.py checks it stays so.
    collecting = gc.isenabled()
    gc.disable()
    try:
        src, notebook = read_code(path)  # hashed: the cache key, and a write's proof that the file is unchanged
        if notebook is not None and not notebook.is_python:
            return FileResult(path, digest=notebook.file.digest, cells=notebook.cells_map)  # an R notebook
        result = process_text(path, src, settings, fix, project, notebook.cells_map if notebook else None)
        if notebook is not None:
            result.notebook, result.digest = notebook, notebook.file.digest
        return result
    except SourceError as e:
        return FileResult(path, error=str(e))
    finally:
        if collecting:
            gc.enable()


def read_code(path: Path) -> tuple[SourceFile, Notebook | None]:
    """The Python text of `path` for the engine: the file's, or a notebook's script (and the notebook).
    Raises SourceError."""
    src = read_source(path)
    if not is_notebook(path):
        return src, None
    notebook = parse_notebook(src)
    return notebook.script_source(), notebook


def write_code(src: SourceFile, notebook: Notebook | None, new_text: str) -> None:
    """Write `new_text` (from `read_code`) back: into the file, or into the notebook's cells that
    changed (atomic and compare-and-swap either way). Raises SourceError."""
    if notebook is None:
        write_source(src, new_text)
    else:
        write_source(notebook.file, notebook.with_script(new_text))


def process_text(path: Path, src: SourceFile, settings: Settings, fix: bool,
                 project: ProjectIndex | None = None, cells: CellMap | None = None) -> FileResult:
    """One file's text through the engine; `project`: the run's other files (what an imported module
    class or helper does), None: this file alone. `cells`: the text is a notebook's script."""
    settings = settings.for_file(path)
    try:
        if not fix:
            checked = check_source_full(src.text, settings, path=str(path), project=project)
            return FileResult(path, checked.findings, src, hidden=checked.hidden, deps=_deps(project, path),
                              unused_noqa=checked.unused_noqa, cells=cells)
        result = fix_source(src.text, settings, path=str(path), project=project)
    except ParseError as e:
        return FileResult(path, source=src, error=f"{path}:{_parse_error(e, cells)}", cells=cells)
    except RecursionError:
        return FileResult(path, source=src, error=f"{path}: too deeply nested to analyse")
    except Exception as e:  # an engine bug must not take the whole run (or the file) down
        return FileResult(path, source=src, error=f"{path}: internal error: {type(e).__name__}: {e}")
    fixed = result.output if result.changed and result.output != src.text else None
    return FileResult(path, result.remaining, src, fixed, result.applied, result.held_back, hidden=result.hidden,
                      deps=_deps(project, path), unused_noqa=result.unused_noqa, cells=cells)


def _parse_error(e: ParseError, cells: CellMap | None) -> str:
    """`line:col: message`, the line as the user counts it (in its cell, for a notebook)."""
    text = str(e)
    if cells is None:
        return text
    line, _, rest = text.partition(":")
    if not line.isdigit():
        return text
    cell, in_cell = cells.locate(int(line))
    return f"cell {cell}:{in_cell}:{rest}"


def _deps(project: ProjectIndex | None, path: Path) -> dict[str, str]:
    if project is None:
        return {}
    own = os.path.abspath(path)
    return {p: d for p, d in project.dependencies().items() if p != own}


def _work(path: Path, settings: Settings, fix: bool, project: ProjectIndex | None) -> FileResult:
    result = process(path, settings, fix, project)
    if not fix:
        # `check` needs only the file's digest back from a worker (kept in `digest`), not its text:
        # pickling every file's text back costs more than reading it again for `--format json`.
        result.source = result.notebook = None
    return result


def run(paths: Iterable[Path], settings: Settings, *, fix: bool, jobs: int | None = None,
        on_done: Callable[[FileResult], None] | None = None, cache: Cache | None = None,
        root: Path | None = None) -> Iterator[FileResult]:
    """Results in input order. With a cache, a file whose bytes (and whose dependencies' bytes) were
    analysed before is answered from it (`fix` still processes a file that has a fix to apply).
    `root`: the project root, for the project index (what the files import from each other); None:
    each file alone."""
    files = list(paths)
    results: dict[int, FileResult] = {}
    todo: list[int] = []
    digests: dict[str, str | None] = {}

    def current(dep: str) -> str | None:  # each dependency hashed once per run
        if dep not in digests:
            digests[dep] = file_digest(dep)
        return digests[dep]

    keys: dict[int, str] = {}
    for i, path in enumerate(files):
        digest = file_digest(path) if cache is not None else None
        if digest is not None:
            keys[i] = cache_key(digest, settings, path)
        hit = cache.get(keys[i], current) if cache is not None and digest is not None else None
        if hit is not None and not (fix and _has_applicable_fix(hit.findings, settings)):
            held_back = [f for f in hit.findings if f.fix is not None and not f.fix.is_safe] if fix else []
            results[i] = FileResult(path, hit.findings, error=_with_path(path, hit.error), digest=digest,
                                    held_back=held_back, hidden=hit.hidden, deps=hit.deps,
                                    unused_noqa=hit.unused_noqa, cells=hit.cells)
            if on_done:
                on_done(results[i])
        else:
            todo.append(i)
    roots = _roots(root, files) if root is not None and todo else None
    fresh = _process_all([files[i] for i in todo], settings, fix, jobs, on_done, roots)
    for i, r in zip(todo, fresh):
        results[i] = r
        if cache is not None and not fix and r.digest is not None:  # (a dead worker's file has none)
            error = _without_path(r.path, r.error)
            if r.error is None or error is not None:
                cache.put(cache_key(r.digest, settings, r.path), r.findings, error, r.hidden, r.deps,
                          r.unused_noqa, r.cells)
    if cache is not None:
        cache.save()
    for i in range(len(files)):
        yield results[i]


def cache_key(digest: str, settings: Settings, path: Path) -> str:
    """The cache is keyed by content; a file whose `per-file-ignores` ignore codes gets its own key
    (the same bytes elsewhere give other findings)."""
    extra = settings.file_ignores(path)
    return f"{digest}:{','.join(extra)}" if extra else digest


# Errors are stored without the file's name (the cache is keyed by content; the name is the
# caller's) and given it back on a hit. An error that does not start with the name is not stored.
def _without_path(path: Path, error: str | None) -> str | None:
    prefix = str(path)
    return error[len(prefix):] if error is not None and error.startswith(prefix) else None


def _with_path(path: Path, error: str | None) -> str | None:
    return None if error is None else f"{path}{error}"


def _has_applicable_fix(findings: list[Finding], settings: Settings) -> bool:
    return any(f.fix is not None and (f.fix.is_safe or settings.unsafe_fixes) for f in findings)


def _roots(root: Path, files: list[Path]) -> list[str]:
    """The import roots of the project index (from every file of the run, not only those analysed)."""
    from outplace.analysis.project import ProjectIndex

    return ProjectIndex.for_run(root, files).roots


def _project(roots: list[str] | None) -> ProjectIndex | None:
    if roots is None:
        return None
    from outplace.analysis.project import ProjectIndex

    return ProjectIndex(roots)


def _process_all(files: list[Path], settings: Settings, fix: bool, jobs: int | None,
                 on_done: Callable[[FileResult], None] | None, roots: list[str] | None = None) -> list[FileResult]:
    jobs = jobs or os.cpu_count() or 1
    if jobs <= 1 or len(files) < _PARALLEL_THRESHOLD:
        out = []
        project = _project(roots)
        for p in files:
            out.append(process(p, settings, fix, project))
            if on_done:
                on_done(out[-1])
        return out
    done: dict[int, FileResult] = {}

    def finished(i: int, r: FileResult) -> None:
        done[i] = r
        if on_done:
            on_done(r)

    workers = min(jobs, len(files))
    chunks = _Chunks(files, workers)
    with _Pool(workers, settings, fix, roots) as pool:
        pool.run(chunks, finished)
    project = _project(roots)
    for i, path in enumerate(files):  # a pool that could not keep workers alive: the rest here
        if i not in done:
            finished(i, _work(path, settings, fix, project))
    return [done[i] for i in range(len(files))]


# ---- worker processes ---------------------------------------------------------------------------------

class _Chunks:
    """The chunks of (index, path) still to hand out, in one segment per worker slot.

    Files go in path order, so that a package's files are together, and the segments hold about
    equal bytes. Each worker works through its own segment from the front: the files it meets next
    import what the last ones did, which its project index has parsed already (it keeps a bounded
    number of dependencies; two workers going through the same packages would each parse them). A
    worker whose segment is done takes from the back of the segment with the most bytes left, so
    the run ends with every worker busy to the last chunk (results go back in input order anyway)."""

    def __init__(self, files: list[Path], workers: int) -> None:
        order = sorted(range(len(files)), key=lambda i: Path(os.path.abspath(files[i])).parts)
        size = max(1, min(16, len(files) // (workers * 8)))
        chunks = [[(i, files[i]) for i in order[k:k + size]] for k in range(0, len(order), size)]
        weights = [sum(_size(path) for _, path in chunk) for chunk in chunks]
        total = sum(weights) or 1
        self.segments: list[deque] = [deque() for _ in range(workers)]
        self.left = [0] * workers  # bytes left per segment
        done = 0
        for chunk, weight in zip(chunks, weights):
            slot = min(workers - 1, done * workers // total)
            self.segments[slot].append((chunk, weight))
            self.left[slot] += weight
            done += weight

    def __bool__(self) -> bool:
        return any(self.segments)

    def take(self, slot: int) -> list:
        """The next chunk for the worker in `slot` (call only while there are chunks left)."""
        if self.segments[slot]:
            chunk, weight = self.segments[slot].popleft()
        else:
            slot = max(range(len(self.segments)), key=lambda s: (len(self.segments[s]) > 0, self.left[s]))
            chunk, weight = self.segments[slot].pop()
        self.left[slot] -= weight
        return chunk

    def put_back(self, slot: int, chunk: list) -> None:
        """What a worker in `slot` did not get to: first in line for the next one in that slot."""
        weight = sum(_size(path) for _, path in chunk)
        self.segments[slot].appendleft((chunk, weight))
        self.left[slot] += weight


_DIED = "worker process died while analysing it ({how}); the other files were processed"


class _Pool:
    """`workers` processes fed chunks of (index, path) over pipes; see the module docstring."""

    def __init__(self, workers: int, settings: Settings, fix: bool, roots: list[str] | None = None) -> None:
        self.size, self.settings, self.fix, self.roots = workers, settings, fix, roots
        self.context = multiprocessing.get_context()
        self.procs: dict[Connection, multiprocessing.process.BaseProcess] = {}
        self.slots: dict[Connection, int] = {}  # which segment of the chunks each worker works through
        self.busy: dict[Connection, deque] = {}  # what each worker still has to send back
        self.idle_deaths = 0

    def __enter__(self) -> "_Pool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        parent, child = self.context.Pipe()
        proc = self.context.Process(target=_worker_main, args=(child, self.settings, self.fix, os.getpid(), self.roots),
                                    name="outplace-worker", daemon=True)
        proc.start()
        child.close()
        self.procs[parent] = proc
        self.slots[parent] = min(set(range(self.size)) - set(self.slots.values()))  # a dead worker's, if any

    def run(self, chunks: _Chunks, finished: Callable[[int, FileResult], None]) -> None:
        for _ in range(self.size):
            self._start()
        idle = list(self.procs)
        while self.procs and (chunks or self.busy):
            while idle and chunks:
                conn = idle.pop()
                items = chunks.take(self.slots[conn])
                try:
                    conn.send(items)
                except OSError:  # it died before it got any work: the chunk waits for another
                    chunks.put_back(self.slots[conn], items)
                    self._died(conn, chunks, finished)
                    continue
                self.busy[conn] = deque(items)
            sentinels = {proc.sentinel: conn for conn, proc in self.procs.items()}
            for ready in wait([*self.procs, *sentinels]):
                conn = sentinels.get(ready, ready)  # type: ignore[arg-type]
                if conn not in self.procs:
                    continue  # already handled (its pipe and its sentinel were both ready)
                if self._receive(conn, finished):
                    if conn not in self.busy and conn not in idle:
                        idle.append(conn)
                    continue
                self._died(conn, chunks, finished)
                if conn in idle:
                    idle.remove(conn)
            while len(self.procs) < self.size and (chunks or self.busy) and self.idle_deaths <= self.size:
                self._start()  # replace the dead
                idle.extend(c for c in self.procs if c not in self.busy and c not in idle)

    def _receive(self, conn: Connection, finished: Callable[[int, FileResult], None]) -> bool:
        """Take whatever `conn` has sent; False when its worker is gone."""
        try:
            while conn.poll():
                message = conn.recv()
                queue = self.busy.get(conn)
                if message is None:  # the chunk is done
                    self.busy.pop(conn, None)
                    continue
                index, result = message
                if queue and queue[0][0] == index:
                    queue.popleft()
                finished(index, result)
        except (EOFError, OSError):
            return False
        return self.procs[conn].is_alive() or conn.poll()

    def _died(self, conn: Connection, chunks: _Chunks, finished: Callable[[int, FileResult], None]) -> None:
        proc = self.procs.pop(conn)
        slot = self.slots.pop(conn)
        proc.join(1)
        conn.close()
        queue = self.busy.pop(conn, None)
        if not queue:
            self.idle_deaths += 1
            return
        index, path = queue.popleft()
        finished(index, FileResult(path, error=f"{path}: " + _DIED.format(how=_how(proc.exitcode))))
        if queue:
            chunks.put_back(slot, list(queue))

    def close(self) -> None:
        """Stop every worker: ask (SIGTERM), then insist (SIGKILL); reap them all."""
        for proc in self.procs.values():
            if proc.is_alive():
                proc.terminate()
        for conn, proc in list(self.procs.items()):
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join(2)
            conn.close()
        self.procs.clear()
        self.slots.clear()


def _how(exitcode: int | None) -> str:
    if exitcode is None:
        return "it did not exit"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"killed by {name}" + (", perhaps out of memory" if name == "SIGKILL" else "")
    return f"exit code {exitcode}"


def _worker_main(conn: Connection, settings: Settings, fix: bool, parent: int, roots: list[str] | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    project = _project(roots)  # each worker parses the dependencies it needs once
    while True:
        while not conn.poll(1.0):
            if os.getppid() != parent:
                os._exit(1)
        try:
            items = conn.recv()
        except (EOFError, OSError):
            return
        for index, path in items:
            conn.send((index, _work(path, settings, fix, project)))
        conn.send(None)


def _die_with_parent(parent: int) -> None:
    """Linux: ask the kernel to kill this process when its parent dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it will say what is wrong
