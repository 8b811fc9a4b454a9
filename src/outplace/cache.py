"""A cache of `check` results, keyed by each file's content: an unchanged file is not analysed again.

Data only, never code: one JSON file per (project, outplace code and op table, settings) holds, per
sha256 of a file's bytes, the findings (without rewrite plans) or the one-line error. It lives in the
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

from outplace.findings import Applicability, Finding, Fix
from outplace.settings import Settings
from outplace.source import uninterrupted

CACHE_DIR_NAME = ".outplace_cache"  # the project-local cache's usual name (excluded from discovery)
KEY_FILE = "key"
FORMAT = 1
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
                if k in ("select", "ignore", "unsafe_fixes", "clone")}
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

    def get(self, digest: str) -> tuple[list[Finding], str | None] | None:
        """The findings and error stored for a file whose bytes hash to `digest`; None: a miss
        (nothing stored, or what is stored is malformed)."""
        decoded = _decode(self.entries.get(digest))
        if decoded is None:
            return None
        if self.entries[digest].get("day") != self.today:
            self.entries[digest]["day"] = self.today
            self.dirty = True
        return decoded

    def put(self, digest: str, findings: list[Finding], error: str | None) -> None:
        entry = _encode(findings, error, self.today)
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


def _encode(findings: list[Finding], error: str | None, day: int) -> dict | None:
    rows = []
    for f in findings:
        rows.append([f.code, f.message, f.line, f.col, f.end_line, f.end_col,
                     None if f.fix is None else f.fix.applicability.value,
                     [] if f.fix is None else list(f.fix.reasons)])
    return {"findings": rows, "error": error, "day": day}


_ROW_TYPES = (str, str, int, int, int, int)


def _decode(entry: object) -> tuple[list[Finding], str | None] | None:
    """An entry back as findings (with their fixes' safety, without plans) and an error; None when
    anything about it is not exactly what `_encode` writes."""
    if not isinstance(entry, dict) or not isinstance(entry.get("findings"), list):
        return None
    error = entry.get("error")
    if error is not None and not isinstance(error, str):
        return None
    findings = []
    for row in entry["findings"]:
        if not isinstance(row, list) or len(row) != 8:
            return None
        head, applicability, reasons = row[:6], row[6], row[7]
        if not all(type(v) is t for v, t in zip(head, _ROW_TYPES)):  # `type is`: no bool for an int
            return None
        if applicability not in (None, "safe", "unsafe") or not isinstance(reasons, list) \
                or not all(isinstance(r, str) for r in reasons):
            return None
        fix = None if applicability is None else Fix(Applicability(applicability), tuple(reasons))
        findings.append(Finding(*head, fix=fix))
    return findings, error
