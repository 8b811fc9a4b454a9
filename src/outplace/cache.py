"""A cache of `check` results, keyed by each file's content: an unchanged file is not analysed again.

Data only, never code: one JSON file per (project, outplace code and op table, settings) holds, per
sha256 of a file's bytes, the findings (without rewrite plans) or the one-line error, how many
findings the hazard selection hid, the other files of the project the analysis read (what a
module call or an imported helper does) with the digest of their bytes (when one of those changed,
the entry is stale and the file is analysed again), the `noqa` codes that suppressed nothing, and
for a notebook where its cells sit in its script. A file whose `per-file-ignores` ignore something
has an entry of its own (the key adds what they ignore). It lives in the
user's cache directory (`$OUTPLACE_CACHE_DIR`, else `$XDG_CACHE_HOME/outplace`, else
`~/.cache/outplace`); a project-local directory only when asked for (`--cache-dir`, or `cache-dir` in
`[tool.outplace]`, which must stay inside the project).

Trust: the file starts with an HMAC of its body under a random key kept in the user's cache
directory (created on first use, mode 0600), so a cache file that this user's outplace did not write
(shipped in a repository, copied from elsewhere, edited) is ignored as a whole. Every entry is then
validated field by field: anything malformed is a miss, never an error. Because entries are keyed
by content, an edit that keeps a file's size and mtime is seen, and a stale or copied cache cannot
answer for bytes it has not seen. Saving is all or nothing (temporary file, rename); failing to read
or save the cache is silent (it is only a shortcut).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Mapping, NamedTuple

from outplace.findings import HAZARDS, Applicability, Finding, Fix
from outplace.notebook import CellMap
from outplace.settings import Settings
from outplace.source import file_digest, uninterrupted
from outplace.suppression import UnusedNoqa

CACHE_DIR_NAME = ".outplace_cache"  # the project-local cache's usual name (excluded from discovery)
KEY_FILE = "key"
# Bumped whenever an entry's shape changes (a cache of another format is ignored whole). 4: findings
# with hazard and why, the dependencies read, unused noqa codes, a notebook's cells.
FORMAT = 4
KEEP_DAYS = 30  # entries not used for this long are dropped when the cache is saved


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
                if k in ("select", "ignore", "unsafe_fixes", "clone", "hazards")}
    return hashlib.sha256(f"{_code_fingerprint()}:{sorted(relevant.items())}".encode()).hexdigest()[:24]


def user_cache_dir() -> Path:
    """`$OUTPLACE_CACHE_DIR`, else `$XDG_CACHE_HOME/outplace`, else `~/.cache/outplace`. Raises
    OSError when there is no home directory to put it in (then there is no cache)."""
    env = os.environ.get("OUTPLACE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "outplace"
    try:
        home = Path.home()
    except (RuntimeError, KeyError) as e:
        raise OSError(f"no home directory: {e}") from None
    if not home.is_absolute():
        raise OSError("no home directory")
    return home / ".cache" / "outplace"


def cache_dir(root: Path, settings: Settings = Settings(), requested: str | None = None) -> Path:
    """Where the cache of the project at `root` lives: `requested` (the command line) first, then
    `$OUTPLACE_CACHE_DIR`, then the project's `cache-dir` (relative to `root`), then the user's cache."""
    if requested:
        return Path(requested)
    if not os.environ.get("OUTPLACE_CACHE_DIR") and settings.cache_dir:
        return root / settings.cache_dir
    return user_cache_dir()


def _key() -> bytes | None:
    """This user's cache key (created on first use); None when it can be neither read nor made."""
    try:
        directory = user_cache_dir()
    except OSError:
        return None
    path = directory / KEY_FILE
    for _ in range(2):
        try:
            with open(path, "rb") as fh:
                key = fh.read(128)
            if len(key) >= 32:
                return key
            return None  # damaged: do not trust, do not fight over it
        except FileNotFoundError:
            pass
        except OSError:
            return None
        try:
            directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, secrets.token_hex(32).encode(), mode=0o600, replace=False)
        except FileExistsError:
            continue  # another run made it meanwhile: read theirs
        except OSError:
            return None
    return None


def _write_atomically(path: Path, data: bytes, mode: int = 0o644, replace: bool = True) -> None:
    """Write `data` to `path` all or nothing: a temporary file beside it, then a rename (or, with
    `replace=False`, a link that fails with FileExistsError when `path` exists)."""
    tmp = None
    try:
        with uninterrupted():  # a signal cannot strand the temporary file between its creation and `finally`
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).hexdigest().encode()


class Cache:
    def __init__(self, root: Path, settings: Settings, requested: str | None = None) -> None:
        self.today = int(time.time() // 86400)
        self.entries: dict[str, dict] = {}
        self.dirty = False
        self.key = _key()
        try:
            self.dir = cache_dir(root, settings, requested)
            self.local = Path(os.path.abspath(self.dir)) != Path(os.path.abspath(user_cache_dir()))
        except OSError:  # no home directory: no key either, so no cache
            self.dir, self.local, self.key = Path(os.devnull), False, None
        where = hashlib.sha256(os.fsencode(os.path.abspath(root))).hexdigest()[:16]
        self.file = self.dir / f"check-{fingerprint(settings)}-{where}.json"
        if self.key is not None:
            self.entries = self._load()

    def _load(self) -> dict[str, dict]:
        try:
            with open(self.file, "rb") as fh:
                mac, _, body = fh.read().partition(b"\n")
            if not hmac.compare_digest(mac, _mac(self.key, body)):  # type: ignore[arg-type]
                return {}
            data = json.loads(body)
        except (OSError, ValueError, RecursionError, MemoryError):
            return {}
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), dict):
            return {}
        return data["entries"]

    def get(self, digest: str, current: Callable[[str], str | None] = file_digest) -> Entry | None:
        """What is stored for a file whose bytes hash to `digest`; None: a miss (nothing stored,
        what is stored is malformed, or a file it depends on now hashes differently: `current`)."""
        decoded = _decode(self.entries.get(digest))
        if decoded is None or any(current(p) != d for p, d in decoded.deps.items()):
            return None
        if self.entries[digest].get("day") != self.today:
            self.entries[digest]["day"] = self.today
            self.dirty = True
        return decoded

    def put(self, digest: str, findings: list[Finding], error: str | None, hidden: int = 0,
            deps: Mapping[str, str] | None = None, unused_noqa: list[UnusedNoqa] | None = None,
            cells: CellMap | None = None) -> None:
        entry = _encode(Entry(findings, error, hidden, dict(deps or {}), list(unused_noqa or []), cells), self.today)
        if entry is not None:
            self.entries[digest] = entry
            self.dirty = True

    def save(self) -> None:
        """Replace the cache file all at once; failing to save is silent (the cache is optional)."""
        if not self.dirty or self.key is None:
            return
        keep = {d: e for d, e in self.entries.items()
                if isinstance(e, dict) and isinstance(e.get("day"), int) and self.today - e["day"] <= KEEP_DAYS}
        body = json.dumps({"format": FORMAT, "entries": keep}, separators=(",", ":")).encode()
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            if self.local:
                ignore = self.dir / ".gitignore"
                if not ignore.exists():
                    _write_atomically(ignore, b"# Created by outplace.\n*\n")
            _write_atomically(self.file, _mac(self.key, body) + b"\n" + body, mode=0o600)
        except OSError:
            pass


class Entry(NamedTuple):
    findings: list[Finding]
    error: str | None
    hidden: int = 0  # findings of hazard levels not selected
    deps: dict[str, str] = {}  # other files the analysis read: absolute path -> sha256 of their bytes
    unused_noqa: list[UnusedNoqa] = []
    cells: CellMap | None = None  # a notebook's cells in its script


def _encode(entry: Entry, day: int) -> dict:
    rows = []
    for f in entry.findings:
        rows.append([f.code, f.message, f.line, f.col, f.end_line, f.end_col,
                     None if f.fix is None else f.fix.applicability.value,
                     [] if f.fix is None else list(f.fix.reasons), f.hazard, f.why])
    return {"findings": rows, "error": entry.error, "hidden": entry.hidden, "deps": entry.deps, "day": day,
            "noqa": [[u.line, u.col, u.code, u.file_level] for u in entry.unused_noqa],
            "cells": None if entry.cells is None else entry.cells.to_json()}


_ROW_TYPES = (str, str, int, int, int, int)


def _decode(entry: object) -> Entry | None:
    """An entry back as findings (with their fixes' safety, without plans), error, hidden count and
    dependencies; None when anything about it is not exactly what `_encode` writes."""
    if not isinstance(entry, dict) or not isinstance(entry.get("findings"), list):
        return None
    error, hidden, deps = entry.get("error"), entry.get("hidden"), entry.get("deps")
    if error is not None and not isinstance(error, str):
        return None
    if type(hidden) is not int or hidden < 0 or not isinstance(deps, dict) \
            or not all(isinstance(p, str) and isinstance(d, str) for p, d in deps.items()):
        return None
    findings = []
    for row in entry["findings"]:
        if not isinstance(row, list) or len(row) != 10:
            return None
        head, applicability, reasons, hazard, why = row[:6], row[6], row[7], row[8], row[9]
        if not all(type(v) is t for v, t in zip(head, _ROW_TYPES)):  # `type is`: no bool for an int
            return None
        if applicability not in (None, "safe", "unsafe") or not isinstance(reasons, list) \
                or not all(isinstance(r, str) for r in reasons):
            return None
        if hazard not in HAZARDS or not isinstance(why, str):
            return None
        fix = None if applicability is None else Fix(Applicability(applicability), tuple(reasons))
        findings.append(Finding(*head, fix=fix, hazard=hazard, why=why))
    noqa, cells = entry.get("noqa"), entry.get("cells")
    if not isinstance(noqa, list) or not all(
            isinstance(u, list) and len(u) == 4 and type(u[0]) is int and type(u[1]) is int
            and isinstance(u[2], str) and isinstance(u[3], bool) for u in noqa):
        return None
    cell_map = None if cells is None else CellMap.from_json(cells)
    if cells is not None and cell_map is None:
        return None
    return Entry(findings, error, hidden, deps, [UnusedNoqa(*u) for u in noqa], cell_map)
