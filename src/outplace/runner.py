"""Run the engine over many files: read, analyse/fix, hand results back. Writes nothing.

One file's failure (unreadable, not UTF-8, not Python, an internal error) becomes that file's
`error`; the run goes on. With more than one job, files are spread over worker processes.
"""

from __future__ import annotations

import gc
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from outplace.cache import Cache
from outplace.engine import ParseError, check_source, fix_source
from outplace.findings import Finding
from outplace.settings import Settings
from outplace.source import SourceError, SourceFile, read_source

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
    stamp: tuple[int, int] | None = None  # (mtime_ns, size) as read, when `source` is not kept

    def __post_init__(self) -> None:
        if self.stamp is None and self.source is not None:
            self.stamp = (self.source.mtime_ns, self.source.size)


def process(path: Path, settings: Settings, fix: bool) -> FileResult:
    # The cyclic garbage collector finds nothing here (syntax trees and the analysis are acyclic) but
    # would rescan each growing tree many times while it is built: ~13% of parsing time. Reference
    # counting frees a file's objects as soon as it is done.
    collecting = gc.isenabled()
    gc.disable()
    try:
        src = read_source(path, digest=fix)  # only a write checks the file is unchanged
        return process_text(path, src, settings, fix)
    except SourceError as e:
        return FileResult(path, error=str(e))
    finally:
        if collecting:
            gc.enable()


def process_text(path: Path, src: SourceFile, settings: Settings, fix: bool) -> FileResult:
    try:
        if not fix:
            return FileResult(path, check_source(src.text, settings, path=str(path)), src)
        result = fix_source(src.text, settings, path=str(path))
    except ParseError as e:
        return FileResult(path, source=src, error=f"{path}:{e}")
    except RecursionError:
        return FileResult(path, source=src, error=f"{path}: too deeply nested to analyse")
    except Exception as e:  # an engine bug must not take the whole run (or the file) down
        return FileResult(path, source=src, error=f"{path}: internal error: {type(e).__name__}: {e}")
    fixed = result.output if result.changed and result.output != src.text else None
    return FileResult(path, result.remaining, src, fixed, result.applied, result.held_back)


def _work(args: tuple[Path, Settings, bool]) -> FileResult:
    result = process(*args)
    if not args[2]:
        # `check` needs only the file's stamp back from a worker (kept in `stamp`), not its text:
        # pickling every file's text back costs more than reading it again for `--format json`.
        result.source = None
    return result


def run(paths: Iterable[Path], settings: Settings, *, fix: bool, jobs: int | None = None,
        on_done: Callable[[FileResult], None] | None = None, cache: Cache | None = None) -> Iterator[FileResult]:
    """Results in input order. With a cache, unchanged files are answered without being read."""
    files = list(paths)
    results: dict[int, FileResult] = {}
    todo: list[int] = []
    for i, path in enumerate(files):
        hit = cache.get(path) if cache is not None else None
        if hit is not None and not (fix and _has_applicable_fix(hit[0], settings)):
            results[i] = FileResult(path, hit[0], error=hit[1])
            if on_done:
                on_done(results[i])
        else:
            todo.append(i)
    fresh = _process_all([files[i] for i in todo], settings, fix, jobs, on_done)
    for i, r in zip(todo, fresh):
        results[i] = r
        if cache is not None and not fix and r.stamp is not None:
            cache.put(r.path, *r.stamp, r.findings, r.error)
    if cache is not None:
        cache.save()
    for i in range(len(files)):
        yield results[i]


def _has_applicable_fix(findings: list[Finding], settings: Settings) -> bool:
    return any(f.fix is not None and (f.fix.is_safe or settings.unsafe_fixes) for f in findings)


def _process_all(files: list[Path], settings: Settings, fix: bool, jobs: int | None,
                 on_done: Callable[[FileResult], None] | None) -> list[FileResult]:
    jobs = jobs or os.cpu_count() or 1
    out: list[FileResult] = []
    if jobs <= 1 or len(files) < _PARALLEL_THRESHOLD:
        for p in files:
            out.append(process(p, settings, fix))
            if on_done:
                on_done(out[-1])
        return out
    # Largest files first, so that the run does not end with one worker parsing a big file while the
    # others idle; results are handed back in input order all the same.
    order = sorted(range(len(files)), key=lambda i: -_size(files[i]))
    done: dict[int, FileResult] = {}
    with ProcessPoolExecutor(max_workers=min(jobs, len(files))) as pool:
        chunk = max(1, min(16, len(files) // (jobs * 8)))
        for i, r in zip(order, pool.map(_work, [(files[i], settings, fix) for i in order], chunksize=chunk)):
            done[i] = r
            if on_done:
                on_done(r)
    return [done[i] for i in range(len(files))]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reading it will say what is wrong
