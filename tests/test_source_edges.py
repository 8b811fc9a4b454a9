"""Edges of the lossless reader and the guarded writer, through their public functions (found by
mutation testing: each of these behaviours could be broken without any other test noticing)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from outplace.source import SourceError, read_source, write_source


def test_a_cookie_on_line_two_counts_only_after_a_blank_or_comment_line(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    # Line 1 is code: the line-2 cookie is not a declaration (PEP 263); the file is bad UTF-8.
    path.write_bytes(b"x = '\xff'\n# coding: bogus\n")
    with pytest.raises(SourceError, match=r"not valid utf-8 \(byte 0xff at offset 5\)"):
        read_source(path)
    # Line 1 is a comment: now the cookie counts, and names an unknown codec.
    path.write_bytes(b"#!/usr/bin/env python\n# coding: bogus\nx = '\xff'\n")
    with pytest.raises(SourceError, match="unknown encoding 'bogus'"):
        read_source(path)
    path.write_bytes(b"\n# coding: bogus\nx = '\xff'\n")
    with pytest.raises(SourceError, match="unknown encoding 'bogus'"):
        read_source(path)


def test_a_declared_codec_without_a_bom_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    raw = b"# coding: windows-1252\nx = '\x80'\n"
    path.write_bytes(raw)
    src = read_source(path)
    assert (src.text, src.encoding, src.bom) == ("# coding: windows-1252\nx = '\u20ac'\n", "windows-1252", False)
    write_source(src, src.text.replace("x =", "y ="))
    assert path.read_bytes() == raw.replace(b"x =", b"y =")


def test_a_source_file_is_immutable(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    src = read_source(path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        src.digest = "anything"  # type: ignore[misc]


def test_a_directory_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as e:
        read_source(tmp_path)
    text = str(e.value)
    assert text.startswith(f"{tmp_path}: ") and "\n" not in text and "directory" in text.lower(), text


def test_a_file_replaced_by_a_directory_before_the_write(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n")
    src = read_source(path)
    path.unlink()
    path.mkdir()
    with pytest.raises(SourceError, match=r"(?i)directory"):
        write_source(src, "x = 2\n")
    assert path.is_dir() and not any(path.iterdir())
