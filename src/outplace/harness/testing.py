"""Helpers for test suites that drive the harness: one warm worker pool per test process.

    @pytest.fixture(scope="session")
    def pool():
        return shared_pool()

Every test module that asks for it gets the same pool (torch imported once per worker for the whole
session); it is closed at interpreter exit.
"""

from __future__ import annotations

import atexit
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
