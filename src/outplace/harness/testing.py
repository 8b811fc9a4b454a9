"""Helpers for test suites that drive the harness: one warm worker pool per test process.

    @pytest.fixture(scope="session")
    def pool():
        return shared_pool()

Every test module that asks for it gets the same pool (torch imported once per worker for the whole
session); it is closed at interpreter exit.

For tests that user code stays in its box: a script built with `spawner(pidfile)` starts, and notes
as "pid starttime" lines in `pidfile`, a plain ``sleep 600``, a ``setsid sleep 600`` (its own
session, out of our process group) and a double-forked daemon (a copy of the interpreter, torch and
all), and with ``me=True`` its own process; `survivors(pidfile)` waits, with a generous deadline,
until none of them exists any more (a zombie still counts) and returns those that still do.
"""

from __future__ import annotations

import atexit
import os
import textwrap
import time
from pathlib import Path

from outplace.harness.cases import CaseSpec, collect_cases
from outplace.harness.pipeline import Options, run_cases
from outplace.harness.results import CaseResult
from outplace.harness.runner import WorkerPool

_POOL: WorkerPool | None = None


def shared_pool(jobs: int = 2) -> WorkerPool:
    global _POOL
    if _POOL is None or _POOL._closed:
        _POOL = WorkerPool(jobs)
        _POOL.start()
        atexit.register(_POOL.close)
    return _POOL


def pair(original: Path, rewritten: Path) -> CaseSpec:
    """A case comparing `original` with the hand-made rewrite `rewritten` (like --against)."""
    return collect_cases([original], rewritten)[0]


def verify_pairs(pool: WorkerPool, pairs: list[tuple[Path, Path]], **options) -> list[CaseResult]:
    """Verdicts for (original, rewritten) file pairs, all in one batch (runs spread over the pool)."""
    return run_cases(pool, [pair(a, b) for a, b in pairs], Options(**options))


def verify_sources(pool: WorkerPool, tmp: Path, pairs: list[tuple[str, str]], **options) -> list[CaseResult]:
    """Like verify_pairs for source texts: each pair is written to `tmp` as case_N.py / case_N.fixed.py."""
    files = []
    for i, (original, rewritten) in enumerate(pairs):
        a, b = tmp / f"case_{i}.py", tmp / f"case_{i}.fixed.py"
        a.write_text(original, encoding="utf-8")
        b.write_text(rewritten, encoding="utf-8")
        files.append((a, b))
    return verify_pairs(pool, files, **options)


SPAWNER = """
import os as _os, subprocess as _subprocess, time as _time


def _note(pid):
    with open(f"/proc/{pid}/stat") as fh:
        start = fh.read().rsplit(")", 1)[1].split()[19]
    with open(PIDFILE, "a") as fh:
        fh.write(f"{pid} {start}\\n")


def _spawn():
    _note(_subprocess.Popen(["sleep", "600"]).pid)
    _note(_subprocess.Popen(["setsid", "sleep", "600"]).pid)
    first = _os.fork()
    if first == 0:  # the daemon's parent notes it, so it is on file once the script goes on
        _os.setsid()
        daemon = _os.fork()
        if daemon == 0:
            _time.sleep(600)
        else:
            _note(daemon)
        _os._exit(0)
    _os.waitpid(first, 0)


_spawn()
"""


def spawner(pidfile: Path, *, me: bool = False) -> str:
    """Python source that starts the processes described above (and notes its own pid if `me`)."""
    text = f"PIDFILE = {str(pidfile)!r}\n" + textwrap.dedent(SPAWNER)
    if me:
        text += "_note(_os.getpid())\n"
    return text


def noted(pidfile: Path) -> list[tuple[int, str]]:
    try:
        lines = pidfile.read_text().split("\n")
    except OSError:
        return []
    return [(int(p), s) for p, s in (line.split() for line in lines if line.strip())]


def _alive(pid: int, start: str) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19] == start  # else the pid was reused
    except (OSError, IndexError):
        return False


def survivors(pidfile: Path, timeout: float = 30.0) -> list[int]:
    """The processes noted in `pidfile` that still exist after waiting up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid, start in noted(pidfile) if _alive(pid, start)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)


def wait_for_lines(pidfile: Path, count: int, timeout: float = 180.0) -> bool:
    """Wait until `pidfile` lists `count` processes (the script got that far)."""
    deadline = time.monotonic() + timeout
    while len(noted(pidfile)) < count:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def kill_all(pidfile: Path) -> None:
    """Cleanup after a failed test: never leave our own processes behind."""
    for pid, start in noted(pidfile):
        if _alive(pid, start):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
