"""Reading and writing Python source files without losing a byte.

    read_source(path)               -> SourceFile   (text decoded per PEP 263, newlines untouched)
    write_source(original, text)    -> None         (same encoding/BOM, atomic, refuses if the file changed)
    decode_bytes(data, path)        -> (text, encoding, bom)     (stdin filter mode)
    encode_text(text, encoding, bom)-> bytes                     (stdout filter mode)

Every failure is a `SourceError` whose `str()` is one line: ``path: what went wrong``.
Whether the decoded text is valid Python is not this module's concern.

Guarantee: `decode_bytes` only succeeds when `encode_text` of its result gives back the input
byte-for-byte, so writing back unchanged text never alters a file.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import hashlib
import io
import os
import re
import stat
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SourceError", "SourceFile", "decode_bytes", "encode_text", "read_source", "write_source"]

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


def read_source(path: str | os.PathLike[str], *, digest: bool = True) -> SourceFile:
    """Read and decode one source file. Raises SourceError (one line) on any failure.

    `digest=False` skips hashing the bytes (only a write needs it, to see that the file did not
    change meanwhile): the result's `digest` is then empty and `write_source` refuses it."""
    p = Path(path)
    try:
        with open(p, "rb") as f:
            st = os.fstat(f.fileno())
            if stat.S_ISDIR(st.st_mode):  # pragma: no cover - open() already refuses on POSIX
                raise IsADirectoryError(21, "Is a directory")
            data = f.read()
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


def _unchanged_on_disk(target: str, original: SourceFile) -> None:
    """Raise SourceError unless `target` still holds exactly the bytes `original` was read from."""
    try:
        with open(target, "rb") as f:
            st = os.fstat(f.fileno())
            same = st.st_size == original.size and hashlib.sha256(f.read()).hexdigest() == original.digest
    except FileNotFoundError:
        raise SourceError(original.path, "deleted while outplace was working; not recreated") from None
    except OSError as exc:
        raise SourceError(original.path, f"cannot read: {_os_error_text(exc)}") from None
    if not same:
        raise SourceError(original.path, "changed on disk while outplace was working; not overwritten")


def write_source(original: SourceFile, new_text: str) -> None:
    """Replace the file `original` was read from with `new_text`, atomically.

    Same encoding and BOM as when read; file mode bits (and owner, where permitted) kept. A symlink is
    followed: its target is replaced and the link stays. Raises SourceError, leaving the file and its
    directory exactly as they were, when the text cannot be encoded, the file changed or vanished since it
    was read, or the write fails.
    """
    data = encode_text(new_text, original.encoding, original.bom, path=original.path)
    target = os.path.realpath(original.path)
    directory = os.path.dirname(target)
    _unchanged_on_disk(target, original)  # cheap early refusal, before creating anything
    tmp: str | None = None
    try:
        st = os.stat(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".outplace-tmp", dir=directory)
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            if hasattr(os, "fchown"):
                with contextlib.suppress(OSError):  # only root (or the owner, for the group) may do this
                    os.fchown(f.fileno(), st.st_uid, st.st_gid)
            os.chmod(tmp, stat.S_IMODE(st.st_mode))
            os.fsync(f.fileno())
        _unchanged_on_disk(target, original)  # again, as late as possible: the window is now tiny
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise SourceError(original.path, f"cannot write: {_os_error_text(exc)}") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    _fsync_dir(directory)


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
