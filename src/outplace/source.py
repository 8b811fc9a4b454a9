"""Reading and writing Python source files without losing a byte.

    read_source(path)               -> SourceFile   (text decoded per PEP 263, newlines untouched)
    write_source(original, text)    -> None         (same encoding/BOM, atomic, refuses if the file changed)
    file_digest(path)               -> str | None   (sha256 of a regular file's bytes; None if unreadable)
    remove_stale_temp_files(dir)    -> list[Path]   (what an interrupted write of ours left behind)
    decode_bytes(data, path)        -> (text, encoding, bom)     (stdin filter mode)
    encode_text(text, encoding, bom)-> bytes                     (stdout filter mode)

Every failure is a `SourceError` whose `str()` is one line: ``path: what went wrong``.
Whether the decoded text is valid Python is not this module's concern.

Guarantee: `decode_bytes` only succeeds when `encode_text` of its result gives back the input
byte-for-byte, so writing back unchanged text never alters a file.

Only regular files are read: a FIFO, a device (`/dev/zero`) or a socket is refused without waiting
for it or reading it. A write is compare-and-swap: under an advisory lock (`flock` on the target) the
file's bytes are hashed again immediately before the rename, and a file that changed meanwhile (or
that is read-only: no write bit at all, whoever the user) is not replaced.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import errno
import hashlib
import io
import os
import re
import stat
import tempfile
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceError", "SourceFile", "decode_bytes", "encode_text", "file_digest", "interrupt", "read_source",
           "remove_stale_temp_files", "uninterrupted", "write_source"]

_BOM = codecs.BOM_UTF8
# PEP 263, as the tokenizer applies it (checked against bytes decoded as latin-1, which never fails).
_COOKIE_RE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK_RE = re.compile(r"^[ \t\f]*(?:[#\r\n]|$)", re.ASCII)
_NEWLINE_RE = re.compile(r"\r\n|\r|\n")


class SourceError(Exception):
    """A source file could not be read, decoded, encoded or written. `str()` is one line."""

    def __init__(self, path: str | os.PathLike[str], message: str) -> None:
        self.path = os.fspath(path)
        self.message = " ".join(str(message).split())  # one line, always
        super().__init__(self.path, self.message)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    text: str  # decoded, BOM removed, newlines exactly as on disk
    encoding: str  # codec name as `tokenize.detect_encoding` normalises it ("utf-8", "iso-8859-1", ...)
    bom: bool  # the file starts with a UTF-8 byte order mark (then `encoding` is "utf-8")
    newline: str  # dominant line ending: "\n", "\r\n" or "\r" ("\n" when there is none)
    mtime_ns: int
    size: int  # bytes on disk
    digest: str  # sha256 hex digest of the raw bytes on disk ("" when read without one: never written)


def _os_error_text(exc: OSError) -> str:
    if exc.errno is not None and exc.strerror:
        return f"[Errno {exc.errno}] {exc.strerror}"
    return str(exc)


def _undecodable(exc: UnicodeDecodeError, encoding: str, offset: int) -> str:
    byte = exc.object[exc.start : exc.start + 1]
    where = f"byte 0x{byte.hex()} at offset {exc.start + offset}" if byte else f"offset {exc.start + offset}"
    return f"not valid {encoding} ({where})"


def _declared_encoding(data: bytes) -> str | None:
    """The PEP 263 cookie on line 1 or 2 (line 2 only when line 1 is blank or a comment), raw."""
    lines = data.splitlines(keepends=True)[:2]
    for i, raw in enumerate(lines):
        line = raw.decode("latin-1")
        m = _COOKIE_RE.match(line)
        if m:
            return m.group(1)
        if i == 0 and not _BLANK_RE.match(line):
            return None
    return None


def _detect_failure(data: bytes, path: str) -> SourceError:
    """Explain why `tokenize.detect_encoding` refused `data`, in our own words."""
    bom = data.startswith(_BOM)
    body = data[len(_BOM) :] if bom else data
    declared = _declared_encoding(body)
    if declared is not None:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            return SourceError(path, f"unknown encoding {declared!r}")
        if bom and name != "utf-8":
            return SourceError(path, f"starts with a UTF-8 byte order mark but declares encoding {declared!r}")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return SourceError(path, _undecodable(exc, "utf-8", len(_BOM) if bom else 0))
    return SourceError(path, "invalid or missing encoding declaration")


def decode_bytes(data: bytes, path: str | os.PathLike[str] = "<stdin>") -> tuple[str, str, bool]:
    """Decode Python source bytes per PEP 263: returns (text, encoding, bom). Newlines are not translated.

    Raises SourceError for an unknown or contradictory encoding, undecodable bytes, or text that would not
    encode back to exactly `data`.
    """
    path = os.fspath(path)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        raise _detect_failure(data, path) from None
    bom = encoding == "utf-8-sig"
    if bom:
        encoding = "utf-8"
    offset = len(_BOM) if bom else 0
    try:
        text = data[offset:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(path, _undecodable(exc, encoding, offset)) from None
    except LookupError:  # pragma: no cover - detect_encoding already looked the codec up
        raise SourceError(path, f"unknown encoding {encoding!r}") from None
    try:
        lossless = encode_text(text, encoding, bom, path=path) == data
    except SourceError:
        lossless = False
    if not lossless:
        raise SourceError(path, f"{encoding} text does not encode back to the same bytes; not processed")
    return text, encoding, bom


def encode_text(text: str, encoding: str, bom: bool, *, path: str | os.PathLike[str] = "<stdout>") -> bytes:
    """The inverse of `decode_bytes`. Raises SourceError when `text` has a character `encoding` cannot hold."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        char = exc.object[exc.start]
        raise SourceError(
            path, f"cannot encode character {char!r} (U+{ord(char):04X}) at offset {exc.start} as {encoding}"
        ) from None
    except LookupError:
        raise SourceError(path, f"unknown encoding {encoding!r}") from None
    return _BOM + data if bom else data


def dominant_newline(text: str) -> str:
    """The most frequent line ending in `text`; ties go to the one seen first; "\\n" when there is none."""
    if "\r" not in text:  # the common case, without scanning every line ending
        return "\n"
    counts = collections.Counter(m.group() for m in _NEWLINE_RE.finditer(text))
    if not counts:
        return "\n"
    return max(counts, key=counts.__getitem__)  # Counter keeps first-seen order; max keeps the first maximum


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _not_regular(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO", ...); None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _open_regular(path: str | os.PathLike[str]) -> int:
    """A descriptor open for reading on `path`, which must be a regular file. Opening does not wait
    (O_NONBLOCK: a FIFO without a writer would block forever). Raises OSError or SourceError."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        kind = _not_regular(os.fstat(fd).st_mode)
        if kind is not None:
            raise SourceError(path, f"cannot read: {kind}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _read_fd(fd: int) -> bytes:
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def file_digest(path: str | os.PathLike[str]) -> str | None:
    """The sha256 hex digest of a regular file's bytes; None when it cannot be read (or is not one)."""
    try:
        fd = _open_regular(path)
    except (OSError, SourceError):
        return None
    try:
        return hashlib.sha256(_read_fd(fd)).hexdigest()
    except OSError:
        return None
    finally:
        os.close(fd)


def read_source(path: str | os.PathLike[str], *, digest: bool = True) -> SourceFile:
    """Read and decode one source file. Raises SourceError (one line) on any failure, and for
    anything but a regular file (a FIFO is not waited on, a device is not read).

    `digest=False` skips hashing the bytes: the result's `digest` is then empty and `write_source`
    refuses it."""
    p = Path(path)
    try:
        fd = _open_regular(p)
        try:
            st = os.fstat(fd)
            data = _read_fd(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SourceError(p, f"cannot read: {_os_error_text(exc)}") from None
    text, encoding, bom = decode_bytes(data, p)
    return SourceFile(
        path=p,
        text=text,
        encoding=encoding,
        bom=bom,
        newline=dominant_newline(text),
        mtime_ns=st.st_mtime_ns,
        size=len(data),
        digest=hashlib.sha256(data).hexdigest() if digest else "",
    )


# ---- interruptions ----------------------------------------------------------------------------------------
# A signal handler that ends the run raises in the main thread, between any two bytecodes. Where that
# would strand a file (a temporary file created but its name not yet recorded, a rename done but not
# yet noted), the handler's exception waits for the end of the critical section instead.

_critical_depth = 0
_deferred: BaseException | None = None


def interrupt(exc: BaseException) -> None:
    """For a signal handler: raise `exc` now, or when the current `uninterrupted` section ends."""
    global _deferred
    if _critical_depth:
        _deferred = _deferred or exc
        return
    raise exc


@contextlib.contextmanager
def uninterrupted():
    """A section that an `interrupt` does not cut in half (it is raised when the section ends)."""
    global _critical_depth, _deferred
    _critical_depth += 1
    try:
        yield
    finally:
        _critical_depth -= 1
        if not _critical_depth and _deferred is not None:
            exc, _deferred = _deferred, None
            raise exc


LOCK_TIMEOUT_S = 10.0
TEMP_SUFFIX = ".outplace-tmp"
# Ours: `.<name>.<pid>.<8 random characters>.outplace-tmp`, made by `tempfile.mkstemp` in `write_source`.
_TEMP_RE = re.compile(r"\A\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]{8}" + re.escape(TEMP_SUFFIX) + r"\Z",
                      re.DOTALL)


def _read_only(st: os.stat_result) -> bool:
    """No write permission bit at all: the user (or a tool) marked the file read-only. Root could
    replace it anyway; outplace does not."""
    return not stat.S_IMODE(st.st_mode) & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def _refuse_unwritable(original: SourceFile, target: str, st: os.stat_result) -> None:
    if _read_only(st):
        raise SourceError(original.path, f"read-only (mode {stat.S_IMODE(st.st_mode):04o}); not written")
    if not os.access(target, os.W_OK):
        raise SourceError(original.path, "not writable by this user; not written")


def _same_bytes(fd: int, original: SourceFile) -> bool:
    os.lseek(fd, 0, os.SEEK_SET)
    return hashlib.sha256(_read_fd(fd)).hexdigest() == original.digest


@contextlib.contextmanager
def _locked(target: str, original: SourceFile):
    """An exclusive advisory lock (flock) on the file now at `target`; yields a descriptor on it.

    Waits up to LOCK_TIMEOUT_S for another writer (another outplace) to finish. If the file was
    replaced while we waited (the lock was on the old inode), the new one is locked instead."""
    import fcntl

    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while True:
        try:
            fd = _open_regular(target)
        except FileNotFoundError:
            raise SourceError(original.path, "deleted while outplace was working; not recreated") from None
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                    if time.monotonic() > deadline:
                        raise SourceError(original.path, "locked by another process; not written") from None
                    time.sleep(0.01)
            held, now = os.fstat(fd), os.stat(target)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                yield fd
                return
        finally:
            os.close(fd)  # releases the lock


def _unchanged_on_disk(target: str, original: SourceFile) -> None:
    """Raise SourceError unless `target` still holds exactly the bytes `original` was read from."""
    try:
        fd = _open_regular(target)
        try:
            same = _same_bytes(fd, original)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise SourceError(original.path, "deleted while outplace was working; not recreated") from None
    except OSError as exc:
        raise SourceError(original.path, f"cannot read: {_os_error_text(exc)}") from None
    if not same:
        raise SourceError(original.path, _CHANGED)


_CHANGED = "changed meanwhile, not written (its bytes are not those outplace read)"


def write_source(original: SourceFile, new_text: str) -> None:
    """Replace the file `original` was read from with `new_text`, atomically and compare-and-swap.

    Same encoding and BOM as when read; file mode bits (and owner, where permitted) kept. A symlink is
    followed: its target is replaced and the link stays. Under an advisory lock on the file, its bytes
    are hashed again right before the rename; the rename happens only if they are still the bytes
    `original` was read from. Raises SourceError, leaving the file and its directory exactly as they
    were, when the text cannot be encoded, the file is read-only, changed or vanished since it was
    read, is locked for too long by another writer, or the write fails. An interruption (a signal's
    exception) removes the temporary file on the way out.
    """
    data = encode_text(new_text, original.encoding, original.bom, path=original.path)
    if not original.digest:
        raise SourceError(original.path, "read without a digest; not written")
    target = os.path.realpath(original.path)
    directory = os.path.dirname(target)
    try:
        _refuse_unwritable(original, target, os.stat(target))
    except FileNotFoundError:
        raise SourceError(original.path, "deleted while outplace was working; not recreated") from None
    _unchanged_on_disk(target, original)  # cheap early refusal, before creating anything
    tmp: str | None = None
    try:
        st = os.stat(target)
        with uninterrupted():  # the name is recorded before anything can stop us: `finally` removes it
            fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.{os.getpid()}.", suffix=TEMP_SUFFIX,
                                       dir=directory)
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            if hasattr(os, "fchown"):
                with contextlib.suppress(OSError):  # only root (or the owner, for the group) may do this
                    os.fchown(f.fileno(), st.st_uid, st.st_gid)
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            os.fsync(f.fileno())
        with _locked(target, original) as locked:
            _refuse_unwritable(original, target, os.fstat(locked))
            if not _same_bytes(locked, original):
                raise SourceError(original.path, _CHANGED)
            with uninterrupted():
                os.replace(tmp, target)
                tmp = None
    except OSError as exc:
        raise SourceError(original.path, f"cannot write: {_os_error_text(exc)}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _fsync_dir(directory)


def remove_stale_temp_files(directory: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files an interrupted `write_source` of this user left in `directory`
    (`.<name>.<pid>.XXXXXXXX.outplace-tmp` whose process is gone); returns what was removed."""
    removed = []
    try:
        with os.scandir(directory) as it:
            entries = [e for e in it if e.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return removed
    for entry in entries:
        m = _TEMP_RE.match(entry.name)
        if m is None or _alive(int(m.group("pid"))):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                continue
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process (or not a pid we can ask about): leave its file alone
    return True


def _fsync_dir(directory: str) -> None:
    """Make the rename durable (POSIX); best effort."""
    if os.name != "posix":  # pragma: no cover
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines as Python numbers them, endings kept: only \\n, \\r\\n and \\r end a line (not \\x0c, \\u2028)."""
    return _LINE.findall(text)


def char_col(line: str, byte_col: int) -> int:
    """ast columns count UTF-8 bytes; editors and libcst count characters."""
    if line.isascii():
        return byte_col
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", "replace"))
