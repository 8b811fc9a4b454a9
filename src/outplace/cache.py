"""A per-project cache of `check` results, like ruff's: a file whose size and mtime have not changed
since the last run is not read or parsed again.

One pickle per (outplace code, op table, settings) fingerprint under `.outplace_cache/` in the
project root (or `OUTPLACE_CACHE_DIR`): any change to outplace itself or to the settings starts a
fresh cache. Entries hold a file's findings or its one-line error. The cache is only ever a
shortcut: a missing, unreadable or corrupt cache file is a miss, never an error.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
import tempfile
from dataclasses import asdict
from pathlib import Path

from outplace.findings import Finding
from outplace.settings import Settings

CACHE_DIR_NAME = ".outplace_cache"
Entry = tuple[int, int, list[Finding], "str | None"]  # mtime_ns, size, findings, error


@functools.cache
def _code_fingerprint() -> str:
    """A hash of outplace's own source and data: a new version or a local edit invalidates the cache."""
    import importlib.util

    import outplace

    # The rules' directory, found without importing them (a warm run never needs them).
    codemods = importlib.util.find_spec("outplace.codemods")
    assert codemods is not None and codemods.origin is not None
    h = hashlib.sha256()
    for base in (Path(outplace.__file__).parent, Path(codemods.origin).parent):
        for path in sorted(base.rglob("*")):
            if path.suffix in (".py", ".json") and "__pycache__" not in path.parts:
                h.update(path.as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def fingerprint(settings: Settings) -> str:
    relevant = {k: v for k, v in asdict(settings).items()
                if k in ("select", "ignore", "unsafe_fixes", "clone")}
    return hashlib.sha256(f"{_code_fingerprint()}:{sorted(relevant.items())}".encode()).hexdigest()[:24]


def cache_dir(root: Path) -> Path:
    env = os.environ.get("OUTPLACE_CACHE_DIR")
    return Path(env) if env else root / CACHE_DIR_NAME


class Cache:
    def __init__(self, root: Path, settings: Settings) -> None:
        self.dir = cache_dir(root)
        self.file = self.dir / f"check-{fingerprint(settings)}.pickle"
        self.entries: dict[str, Entry] = {}
        self.dirty = False
        try:
            with open(self.file, "rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError, TypeError):
            self.entries = {}

    @staticmethod
    def _key(path: Path) -> str:
        return os.path.abspath(path)

    def get(self, path: Path) -> tuple[list[Finding], str | None] | None:
        entry = self.entries.get(self._key(path))
        if entry is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if (st.st_mtime_ns, st.st_size) != entry[:2]:
            return None
        return entry[2], entry[3]

    def put(self, path: Path, mtime_ns: int, size: int, findings: list[Finding], error: str | None) -> None:
        self.entries[self._key(path)] = (mtime_ns, size, findings, error)
        self.dirty = True

    def save(self) -> None:
        """Atomically replace the cache file; failing to save is silent (the cache is optional)."""
        if not self.dirty:
            return
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            ignore = self.dir / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by outplace.\n*\n")
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    pickle.dump(self.entries, fh, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.file)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass
