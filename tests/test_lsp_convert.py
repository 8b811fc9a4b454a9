"""Position arithmetic of the language server: LSP lines, UTF-8/16/32 code units, edits."""

from __future__ import annotations

import pytest

from outplace.lsp.convert import UTF8, UTF16, UTF32, LineIndex, apply_change, chars_for_units, line_edits, units

ENCODINGS = (UTF8, UTF16, UTF32)


def test_units_of_astral_and_bmp_characters():
    text = 'a"é😀"'
    assert units(text, UTF32) == 5
    assert units(text, UTF16) == 6  # 😀 is a surrogate pair
    assert units(text, UTF8) == 1 + 1 + 2 + 4 + 1


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_position_and_offset_round_trip(encoding):
    text = 'x = "😀é"; y.add_(1)\r\nz\rw\n\x0cform_feed = 1\u2028still_line_3\n'
    index = LineIndex(text)
    # Only \n, \r\n and \r end lines: \x0c and \u2028 do not (str.splitlines would split there).
    assert index.line_count == 5
    assert index.line_text(3) == "\x0cform_feed = 1\u2028still_line_3"
    for offset in range(len(text) + 1):
        if text[offset - 1:offset + 1] == "\r\n":
            continue  # inside a line break: no position names it
        line, character = index.position(offset, encoding)
        assert index.offset(line, character, encoding) == offset


def test_positions_per_encoding():
    text = 'import torch\n    s = "😀😀"; torch.relu_(y)\n'
    index = LineIndex(text)
    offset = text.index("torch.relu_")
    assert index.position(offset, UTF32) == (1, 14)
    assert index.position(offset, UTF16) == (1, 16)
    assert index.position(offset, UTF8) == (1, 20)
    assert index.position_of_line_col(2, 15, UTF16) == (1, 16)


def test_offsets_clamp_like_the_spec_says():
    index = LineIndex("ab\ncd")
    assert index.offset(0, 99, UTF16) == 2  # past the line's end: the line's end
    assert index.offset(7, 0, UTF16) == 5  # past the last line: the end of the text
    assert index.offset(-1, 0, UTF16) == 0
    # Half a surrogate pair rounds up to the whole character rather than splitting it.
    assert chars_for_units("😀x", 1, UTF16) == 1
    assert chars_for_units("é", 1, UTF8) == 1


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_incremental_change(encoding):
    text = 's = "😀"\ny.add_(1)\n'
    index = LineIndex(text)
    start = index.position(text.index("y.add_"), encoding)
    end = index.position(text.index("(1)"), encoding)
    assert apply_change(text, index, start, end, "y = y.add", encoding) == 's = "😀"\ny = y.add(1)\n'
    assert apply_change(text, index, None, None, "new", encoding) == "new"


def test_line_edits_rebuild_the_new_text():
    old = "a\nb\nc\nd\ne\n"
    new = "a\nB\nc\nd\nE\nf\n"
    edits = line_edits(old, new)
    assert len(edits) == 2
    out = old
    for start, end, content in sorted(edits, reverse=True):
        out = out[:start] + content + out[end:]
    assert out == new
    assert line_edits(old, old) == []
    # No newline at the end, CRLF kept.
    assert line_edits("x\r\ny", "x\r\nz") == [(3, 4, "z")]


def test_change_blocks_are_small_and_fast_on_repetitive_files():
    import random
    import time

    from outplace.lsp.convert import change_blocks, split_keep

    block = "def f():\n    h = x * 2\n    torch.relu_(h)\n    return h\n\n"
    old = block * 3000
    new = old.replace("    torch.relu_(h)\n", "    h = torch.relu(h)\n")
    started = time.perf_counter()
    edits = line_edits(old, new)
    assert time.perf_counter() - started < 1.0
    assert len(edits) == 3000 and all(e[2] == "    h = torch.relu(h)\n" for e in edits)

    rng = random.Random(4)
    words = ["a\n", "b\n", "c\n", "\n"]
    for _ in range(300):
        a = [rng.choice(words) for _ in range(rng.randrange(0, 30))]
        b = list(a)
        for _ in range(rng.randrange(0, 4)):
            k = rng.randrange(0, len(b) + 1)
            op = rng.randrange(3)
            if op == 0:
                b.insert(k, rng.choice(words))
            elif b and k < len(b):
                if op == 1:
                    del b[k]
                else:
                    b[k] = "changed\n"
        rebuilt, last = [], 0
        for i1, i2, j1, j2 in change_blocks(a, b):
            assert i1 >= last
            rebuilt += a[last:i1] + b[j1:j2]
            last = i2
        assert rebuilt + a[last:] == b
        text_a, text_b = "".join(a), "".join(b)
        out = text_a
        for start, end, content in sorted(line_edits(text_a, text_b), reverse=True):
            out = out[:start] + content + out[end:]
        assert out == text_b
        assert split_keep(text_b) == b
