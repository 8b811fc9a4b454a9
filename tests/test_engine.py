"""The engine's public functions, beyond what the fixtures cover."""

from __future__ import annotations

from outplace.engine import check_source, fix_edit, fix_selected, fix_source
from outplace.settings import Settings

SOURCE = ("import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    z = torch.tanh(x)\n"
          "    y *= 2\n    z += y\n    x.mul_(2)\n    return x, y, z\n")


def test_fix_selected_applies_exactly_the_chosen_findings_whatever_their_safety() -> None:
    findings = check_source(SOURCE)
    unsafe = [f for f in findings if f.fix and not f.fix.is_safe]
    assert {f.line for f in unsafe} == {8, 9}
    new, applied = fix_selected(SOURCE, [unsafe[0]])
    assert applied == [unsafe[0]]
    assert "    z = z + y\n" in new and "    y *= 2\n" in new and "    x.mul_(2)\n" in new
    assert fix_selected(SOURCE, []) == (SOURCE, [])


def test_fix_edit_is_one_findings_fix_and_fix_source_all_safe_ones() -> None:
    [safe] = [f for f in check_source(SOURCE) if f.fix and f.fix.is_safe]
    edit = fix_edit(SOURCE, safe)
    assert SOURCE[edit.start:edit.end] == "y *= 2" and edit.content == "y = y * 2"
    result = fix_source(SOURCE)
    assert result.output == SOURCE.replace("y *= 2", "y = y * 2")
    assert [f.line for f in result.held_back] == [8, 9]


def test_files_without_torch_are_not_analysed() -> None:
    assert check_source("x = [1]\nx += [2]\n", Settings(unsafe_fixes=True)) == []
