"""`reflected_scalar_saves`: what autograd saves for a Python operator whose left operand is a
Python number and whose right operand is a tensor (`5000.0 / y`, `1 - y`, `2 ** y`): Python calls
the tensor's reflected method (`y.__rtruediv__(5000.0)`), which is not the op the tensor-first
form runs. `c / y` computes `y.reciprocal() * c` and saves the reciprocal, a tensor of its own:
neither `y` nor the result. Per operator (its `ast` class name): the list of what a later
in-place write into breaks backward, of "operand" (the tensor) and "result".

Measured directly, as the sweep's check does: a float tensor in a graph (`x * 1`, x a leaf that
requires grad) goes through the operator; the operand (then the result) is written in place; a
backward through the result raises the in-place error or not. Operators without a derivative for
a tensor right operand (`//`, `%`) are left out.
"""

from __future__ import annotations

import operator
from typing import Callable

import torch

from .common import note

OPERATORS: dict[str, Callable] = {
    "Add": operator.add, "Sub": operator.sub, "Mult": operator.mul, "Div": operator.truediv,
    "Pow": operator.pow, "FloorDiv": operator.floordiv, "Mod": operator.mod,
}
SCALARS = (3.0, 2)  # a float and an int left operand


def _apply(op: Callable, scalar: float | int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(y, scalar op y) for a float tensor y in a graph; None when the operator fails or builds none."""
    x = (torch.rand(4, dtype=torch.float64) + 0.5).requires_grad_()
    y = x * 1
    try:
        z = op(scalar, y)
    except RuntimeError:
        return None
    return (y, z) if z.requires_grad else None


def _breaks(op: Callable, scalar: float | int, written: str) -> bool | None:
    """Does writing `written` ("operand" or "result") after `scalar op y` break backward? None: the
    operator has no derivative here (or fails)."""
    got = _apply(op, scalar)
    if got is None:
        return None
    y, z = got
    (y if written == "operand" else z).add_(1)
    try:
        z.sum().backward()
    except RuntimeError as e:
        if "modified by an inplace operation" in str(e):
            return True
        return None
    return False


def build_reflected_scalar_saves() -> tuple[dict, dict]:
    """(operator -> sorted list of "operand"/"result" a write into breaks backward, evidence)."""
    table: dict[str, list[str]] = {}
    evidence: dict[str, str] = {}
    for name, op in OPERATORS.items():
        found: dict[str, set[bool]] = {"operand": set(), "result": set()}
        for scalar in SCALARS:
            for written in found:
                got = _breaks(op, scalar, written)
                if got is not None:
                    found[written].add(got)
        if not found["operand"] or not found["result"]:
            note(f"reflected_scalar_saves: `number {name} tensor` has no derivative: left out")
            continue
        table[name] = sorted(k for k, seen in found.items() if True in seen)
        evidence[name] = f"writes after `{SCALARS} {name} y` (y = x * 1, x a float64 leaf): " + ", ".join(
            f"{k} {'breaks' if True in seen else 'does not break'} backward" for k, seen in found.items())
    return table, evidence


def _packed(op: Callable, scalar: float | int) -> set[str] | None:
    """What a `saved_tensors_hooks` pack hook sees saved of the operand and the result (another
    channel than writing: the verifier's)."""
    packed: list[torch.Tensor] = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        got = _apply(op, scalar)
    if got is None:
        return None
    y, z = got
    ptr = {t.untyped_storage().data_ptr() for t in packed}
    return {k for k, t in (("operand", y), ("result", z)) if t.untyped_storage().data_ptr() in ptr}


def check_reflected_scalar_saves(table: dict) -> list[str]:
    """The table's rows against what pack hooks see (each operator, each scalar)."""
    out: list[str] = []
    for name, op in OPERATORS.items():
        seen: set[str] = set()
        measured = False
        for scalar in SCALARS:
            got = _packed(op, scalar)
            if got is not None:
                measured = True
                seen |= got
        want = table.get(name)
        if want is None:
            continue  # left out (no derivative): the table claims nothing
        if not measured or sorted(seen) != want:
            out.append(f"reflected_scalar_saves.{name}: table {want!r}, pack hooks saw {sorted(seen)!r}")
    return out
