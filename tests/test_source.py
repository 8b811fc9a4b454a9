"""source.py: lossless reading and writing of Python source files."""

from __future__ import annotations

import codecs
import hashlib
import os
import stat
import sys

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from outplace import source
from outplace.source import SourceError, decode_bytes, encode_text, read_source, write_source

BOM = codecs.BOM_UTF8


def roundtrip(tmp_path, data: bytes, name: str = "m.py"):
    """Write `data`, read it, write the same text back: the bytes on disk must not change."""
    p = tmp_path / name
    p.write_bytes(data)
    sf = read_source(p)
    write_source(sf, sf.text)
    assert p.read_bytes() == data
    assert sorted(os.listdir(tmp_path)) == [name]
    return sf


CASES = {
    "lf": (b"x = 1\ny = 2\n", "x = 1\ny = 2\n", "\n"),
    "crlf": (b"x = 1\r\ny = 2\r\n", "x = 1\r\ny = 2\r\n", "\r\n"),
    "cr": (b"x = 1\ry = 2\r", "x = 1\ry = 2\r", "\r"),
    "mixed_mostly_crlf": (b"a\r\nb\r\nc\nd\r", "a\r\nb\r\nc\nd\r", "\r\n"),
    "tabs": (b"if x:\n\ty = 1\n\t\tz = '\t'\n", "if x:\n\ty = 1\n\t\tz = '\t'\n", "\n"),
    "no_trailing_newline": (b"x = 1\ny = 2", "x = 1\ny = 2", "\n"),
    "no_newline_at_all": (b"x = 1", "x = 1", "\n"),
    "empty": (b"", "", "\n"),
    "non_ascii": ("s = 'héllo, 世界 🚀'\n".encode(), "s = 'héllo, 世界 🚀'\n", "\n"),
    "form_feed_and_ls": ("a = 1\x0c\nb = '\u2028'\n".encode(), "a = 1\x0c\nb = '\u2028'\n", "\n"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_round_trip(tmp_path, name):
    data, text, newline = CASES[name]
    sf = roundtrip(tmp_path, data)
    assert sf.text == text
    assert sf.newline == newline
    assert sf.encoding == "utf-8"
    assert sf.bom is False
    assert sf.size == len(data)
    assert sf.digest == hashlib.sha256(data).hexdigest()


def test_bom(tmp_path):
    data = BOM + b"x = '\xc3\xa9'\r\n"
    sf = roundtrip(tmp_path, data)
    assert sf.bom is True
    assert sf.encoding == "utf-8"
    assert sf.text == "x = 'é'\r\n"  # the BOM is not part of the text
    assert sf.newline == "\r\n"


def test_bom_is_kept_when_text_changes(tmp_path):
    p = tmp_path / "m.py"
    p.write_bytes(BOM + b"x = 1\n")
    sf = read_source(p)
    write_source(sf, "x = 2\n")
    assert p.read_bytes() == BOM + b"x = 2\n"


def test_latin1_cookie(tmp_path):
    data = b"# -*- coding: latin-1 -*-\ns = '\xe9\xe8'\n"
    sf = roundtrip(tmp_path, data)
    assert sf.encoding == "iso-8859-1"
    assert sf.text == "# -*- coding: latin-1 -*-\ns = 'éè'\n"
    write_source(sf, sf.text.replace("éè", "ü"))
    assert (tmp_path / "m.py").read_bytes() == b"# -*- coding: latin-1 -*-\ns = '\xfc'\n"


def test_cookie_on_second_line(tmp_path):
    data = b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x80'\n"
    sf = roundtrip(tmp_path, data)
    assert sf.encoding == "cp1252"
    assert sf.text.endswith("x = '€'\n")


def test_write_changes_newlines_only_as_told(tmp_path):
    p = tmp_path / "m.py"
    p.write_bytes(b"a = 1\r\nb = 2\r\n")
    sf = read_source(p)
    write_source(sf, sf.text.replace("a = 1", "a = 3"))
    assert p.read_bytes() == b"a = 3\r\nb = 2\r\n"


def test_invalid_utf8_is_one_line_naming_the_file(tmp_path):
    p = tmp_path / "bad.py"
    p.write_bytes(b"x = 1\ny = '\xff'\n")
    with pytest.raises(SourceError) as info:
        read_source(p)
    msg = str(info.value)
    assert msg == f"{p}: not valid utf-8 (byte 0xff at offset 11)"
    assert "\n" not in msg
    assert info.value.path == str(p)


def test_invalid_utf8_on_first_line(tmp_path):
    p = tmp_path / "bad.py"
    p.write_bytes(b"x = '\xff'\n")
    with pytest.raises(SourceError, match=r"not valid utf-8 \(byte 0xff at offset 5\)$"):
        read_source(p)


def test_invalid_utf8_after_bom_counts_raw_offset(tmp_path):
    p = tmp_path / "bad.py"
    p.write_bytes(BOM + b"x\n\xfe")
    with pytest.raises(SourceError, match=r"byte 0xfe at offset 5\)$"):
        read_source(p)


def test_invalid_latin_declared_but_bad_for_codec(tmp_path):
    p = tmp_path / "bad.py"
    p.write_bytes(b"# coding: ascii\nx = '\xe9'\n")
    with pytest.raises(SourceError, match=r"not valid ascii \(byte 0xe9 at offset 21\)$"):
        read_source(p)


def test_unknown_encoding(tmp_path):
    p = tmp_path / "bad.py"
    p.write_bytes(b"# coding: foo\nx = 1\n")
    with pytest.raises(SourceError) as info:
        read_source(p)
    assert str(info.value) == f"{p}: unknown encoding 'foo'"


def test_bom_contradicting_cookie(tmp_path):
    p = tmp_path / "bad.py"
    p.write_bytes(BOM + b"# coding: latin-1\nx = 1\n")
    with pytest.raises(SourceError, match="byte order mark but declares encoding 'latin-1'"):
        read_source(p)


def test_encoding_that_does_not_round_trip_is_refused(tmp_path):
    p = tmp_path / "bad.py"
    p.write_bytes(b"# coding: utf-16\nx = 12\n")  # even length: decodes, to garbage that encodes back with a BOM
    with pytest.raises(SourceError, match="does not encode back to the same bytes"):
        read_source(p)


def test_missing_file():
    with pytest.raises(SourceError, match=r"^nope\.py: cannot read: \[Errno 2\] No such file or directory$"):
        read_source("nope.py")


def test_directory_is_a_read_error(tmp_path):
    with pytest.raises(SourceError, match=r": cannot read: a directory, not a regular file$"):
        read_source(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file(tmp_path):
    p = tmp_path / "secret.py"
    p.write_text("x = 1\n")
    p.chmod(0)
    try:
        with pytest.raises(SourceError) as info:
            read_source(p)
        assert str(info.value) == f"{p}: cannot read: [Errno 13] Permission denied"
    finally:
        p.chmod(0o644)


def test_permission_error_message_format(tmp_path, monkeypatch):
    """Same check as above, without needing a non-root user."""
    p = tmp_path / "secret.py"
    p.write_text("x = 1\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(p))

    monkeypatch.setattr(source, "_open_regular", denied)
    with pytest.raises(SourceError) as info:
        read_source(p)
    assert str(info.value) == f"{p}: cannot read: [Errno 13] Permission denied"


def test_write_refuses_when_file_changed_on_disk(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    sf = read_source(p)
    p.write_text("x = 1  # edited by someone else\n")
    with pytest.raises(SourceError) as info:
        write_source(sf, "x = 2\n")
    assert str(info.value) == f"{p}: changed meanwhile, not written (its bytes are not those outplace read)"
    assert p.read_text() == "x = 1  # edited by someone else\n"
    assert os.listdir(tmp_path) == ["m.py"]


def test_write_refuses_same_size_change(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    sf = read_source(p)
    p.write_text("x = 9\n")
    os.utime(p, ns=(sf.mtime_ns, sf.mtime_ns))  # even with the old mtime, the hash catches it
    with pytest.raises(SourceError, match="changed meanwhile, not written"):
        write_source(sf, "x = 2\n")
    assert p.read_text() == "x = 9\n"


def test_write_refuses_when_file_deleted(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    sf = read_source(p)
    p.unlink()
    with pytest.raises(SourceError, match="deleted while outplace was working; not recreated"):
        write_source(sf, "x = 2\n")
    assert os.listdir(tmp_path) == []


def test_write_refuses_change_between_temp_file_and_replace(tmp_path, monkeypatch):
    """The late check (after the temp file is written) catches an edit made meanwhile."""
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    sf = read_source(p)
    real_fsync = os.fsync

    def fsync_and_edit(fd):
        real_fsync(fd)
        if p.read_text() == "x = 1\n":
            p.write_text("x = 1  # racing edit\n")

    monkeypatch.setattr(source.os, "fsync", fsync_and_edit)
    with pytest.raises(SourceError, match="changed meanwhile, not written"):
        write_source(sf, "x = 2\n")
    assert p.read_text() == "x = 1  # racing edit\n"
    assert os.listdir(tmp_path) == ["m.py"]


def test_unencodable_text_is_refused_and_file_untouched(tmp_path):
    p = tmp_path / "m.py"
    data = b"# coding: latin-1\nx = '\xe9'\n"
    p.write_bytes(data)
    sf = read_source(p)
    with pytest.raises(SourceError) as info:
        write_source(sf, "# coding: latin-1\nx = '\u2603'\n")
    assert str(info.value).startswith(f"{p}: cannot encode character '\u2603' (U+2603) at offset 23 as iso-8859-1")
    assert p.read_bytes() == data
    assert os.listdir(tmp_path) == ["m.py"]


def test_atomic_write_leaves_no_temp_files(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    for i in range(3):
        sf = read_source(p)
        write_source(sf, f"x = {i}\n")
    assert p.read_text() == "x = 2\n"
    assert os.listdir(tmp_path) == ["m.py"]


def test_failed_replace_leaves_no_temp_files(tmp_path, monkeypatch):
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    sf = read_source(p)

    def boom(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(source.os, "replace", boom)
    with pytest.raises(SourceError) as info:
        write_source(sf, "x = 2\n")
    assert str(info.value) == f"{p}: cannot write: [Errno 13] Permission denied"
    assert p.read_text() == "x = 1\n"
    assert os.listdir(tmp_path) == ["m.py"]


def test_failed_temp_write_leaves_no_temp_files(tmp_path, monkeypatch):
    p = tmp_path / "m.py"
    p.write_text("x = 1\n")
    sf = read_source(p)

    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(source.os, "fsync", boom)
    with pytest.raises(SourceError, match=r"cannot write: \[Errno 28\] No space left on device$"):
        write_source(sf, "x = 2\n")
    assert p.read_text() == "x = 1\n"
    assert os.listdir(tmp_path) == ["m.py"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX mode bits")
def test_write_preserves_mode(tmp_path):
    p = tmp_path / "script.py"
    p.write_text("x = 1\n")
    p.chmod(0o751)
    sf = read_source(p)
    write_source(sf, "x = 2\n")
    assert stat.S_IMODE(p.stat().st_mode) == 0o751
    assert p.read_text() == "x = 2\n"


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks")
def test_write_through_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "real.py"
    real.write_text("x = 1\n")
    link = tmp_path / "link.py"
    link.symlink_to(real)
    sf = read_source(link)
    write_source(sf, "x = 2\n")
    assert link.is_symlink()
    assert real.read_text() == "x = 2\n"
    assert sorted(os.listdir(tmp_path)) == ["link.py", "real.py"]


def test_decode_and_encode_bytes_for_stdin():
    assert decode_bytes(b"x = 1\r\n") == ("x = 1\r\n", "utf-8", False)
    assert decode_bytes(BOM + b"x") == ("x", "utf-8", True)
    assert encode_text("x", "utf-8", True) == BOM + b"x"
    with pytest.raises(SourceError, match=r"^<stdin>: not valid utf-8"):
        decode_bytes(b"\xff")
    with pytest.raises(SourceError, match=r"^<stdout>: cannot encode character"):
        encode_text("\u2603", "ascii", False)


def test_dominant_newline_ties_go_to_the_first_seen():
    assert source.dominant_newline("a\r\nb\nc") == "\r\n"
    assert source.dominant_newline("a\nb\r\nc") == "\n"
    assert source.dominant_newline("a\rb\rc\r\n") == "\r"


def test_source_error_is_one_line():
    err = SourceError("p.py", "first\nsecond")
    assert str(err) == "p.py: first second"


# --- property: arbitrary text with arbitrary newline styles survives decode -> encode byte-for-byte ----

_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=40)
_newline = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def _sources(draw):
    lines = draw(st.lists(_line, max_size=12))
    newlines = draw(st.lists(_newline, min_size=len(lines), max_size=len(lines)))
    text = "".join(line + nl for line, nl in zip(lines, newlines))
    if draw(st.booleans()) and text:
        text = text[: -len(newlines[-1])]  # no trailing newline
    return text


@given(text=_sources(), bom=st.booleans())
@hsettings(max_examples=300, deadline=None)
def test_property_decode_encode_round_trip(text, bom):
    data = (BOM if bom else b"") + text.encode("utf-8")
    try:
        decoded, encoding, has_bom = decode_bytes(data)
    except SourceError:
        # Only an (arbitrary) coding cookie can make valid UTF-8 undecodable.
        assert "coding" in text
        return
    assert encode_text(decoded, encoding, has_bom) == data
    if "coding" not in text:
        assert encoding == "utf-8"
        # A text that itself starts with U+FEFF reads as (another) BOM.
        assert decoded == (text[1:] if not bom and text.startswith("\ufeff") else text)


@given(text=_sources(), bom=st.booleans())
@hsettings(max_examples=50, deadline=None)
def test_property_file_round_trip(tmp_path_factory, text, bom):
    d = tmp_path_factory.mktemp("rt")
    data = (BOM if bom else b"") + text.encode("utf-8")
    p = d / "m.py"
    p.write_bytes(data)
    try:
        sf = read_source(p)
    except SourceError:
        assert "coding" in text
        return
    write_source(sf, sf.text)
    assert p.read_bytes() == data
    assert os.listdir(d) == ["m.py"]


def test_a_source_read_without_a_digest_is_never_written(tmp_path):
    # `check` reads without hashing; such a SourceFile cannot vouch that the file is unchanged.
    p = tmp_path / "m.py"
    p.write_bytes(b"x = 1\n")
    sf = read_source(p, digest=False)
    assert sf.digest == "" and sf.text == "x = 1\n"
    with pytest.raises(SourceError, match="read without a digest; not written"):
        write_source(sf, "x = 2\n")
    assert p.read_bytes() == b"x = 1\n"
    assert read_source(p).digest  # the default still hashes
