"""`method_max_positional`: for each public torch.Tensor method, the most positional arguments a call
`t.name(a, b, ...)` accepts after `t`, where torch bounds it: `t.dot(u)` takes 1, `t.zero_()` none,
`t.sum(dim, keepdim)` 2. A method that takes any number (`t.view(2, 3)`, `t.permute(0, 2, 1)`, an
int list given as separate ints) has no entry, nor one whose error does not say.

Measured by calling: `t.name(None, None, ...)`, and `t.name(0, 0, ...)`, with more arguments than any
method takes. Python's
argument parser (torch's, for the methods written in C++; Python's own, for those torch defines in
Python) rejects the count before it looks at a value, and says the bound: "dot() takes 1 positional
argument but 12 were given", "sum() takes from 1 to 2 positional arguments", "zero_() takes no
arguments". Python's message for a function defined in Python counts `self`: one less.

The analysis uses it as evidence against a tensor: `semiring.dot(a, b, dim)` (supar's semiring
classes) cannot be `Tensor.dot`, whatever `semiring` may be otherwise.

Verified (verify.py) another way: a call with exactly one argument more than the bound is refused
for its count too (with `None`s and with `0`s); and where the method is written in C++ and has aten
schemas, the bound is at most the largest count of arguments before `*` (less `self`) over its
overloads (the Python binding may take fewer: `t.bmm(u, dtype)` is refused, the schema has it).
"""

from __future__ import annotations

import inspect
import re

import torch

from .common import note

TOO_MANY = 12  # more positional arguments than any Tensor method takes
_BOUND = re.compile(r"takes (?:from \d+ to )?(\d+) positional arguments? but \d+ (?:was|were) given")
_NONE = re.compile(r"takes no arguments \(\d+ given\)")


def measured_bound(name: str) -> int | None:
    """The most positional arguments `torch.Tensor.<name>` accepts after the tensor, or None. Two
    calls, with `None`s and with `0`s (a method taking an int list also takes the ints one by one,
    `t.permute(0, 2, 1)`, which `None`s do not show): bounded only where both are refused for their
    count, and then by the larger bound."""
    attr = getattr(torch.Tensor, name, None)
    if not callable(attr) or isinstance(attr, type):
        return None
    bounds = []
    for filler in (None, 0):
        bound = _refused_count(name, filler)
        if bound is None:
            return None
        bounds.append(bound)
    best = max(bounds)
    return best - 1 if inspect.isfunction(attr) else best  # (Python counts `self`)


def _refused_count(name: str, filler: object, count: int = TOO_MANY) -> int | None:
    """The bound the error states when `t.<name>(filler, ...)` (`count` of them) is refused for its
    count, or None (accepted, or refused for something else)."""
    t = torch.zeros(2)
    try:
        getattr(t, name)(*([filler] * count))
    except TypeError as e:
        message = str(e)
    except Exception:  # noqa: BLE001 - any other failure says nothing of the count
        return None
    else:
        return None
    if _NONE.search(message):
        return 0
    m = _BOUND.search(message)
    return int(m.group(1)) if m is not None else None


def build_method_max_positional() -> dict[str, int]:
    names = sorted(n for n in dir(torch.Tensor) if not n.startswith("_"))
    out = {n: b for n in names if (b := measured_bound(n)) is not None}
    note(f"method_max_positional: {len(out)} of {len(names)} public torch.Tensor names take a bounded number of "
         "positional arguments (the rest: any number, no method, or an error that does not say)")
    return out


def schema_bound(name: str) -> int | None:
    """The bound aten's schemas give for a method: the most arguments before `*` over the overloads
    taking a Tensor `self`, less `self`; None without schemas, or where an overload's first argument
    after `self` is an int list (the Python binding then takes the ints one by one)."""
    schemas = [s for s in torch._C._jit_get_schemas_for_operator(f"aten::{name}")
               if s.arguments and s.arguments[0].name == "self" and str(s.arguments[0].type) == "Tensor"]
    if not schemas:
        return None
    best = 0
    for s in schemas:
        positional = [a for a in s.arguments[1:] if not a.kwarg_only]
        if positional and "List[int]" in str(positional[0].type):
            return None
        best = max(best, len(positional))
    return best


def check_method_max_positional(table: dict[str, int]) -> list[str]:
    """Disagreements of the checked-in bounds with calls of one argument too many and with aten's schemas."""
    out = []
    for name, bound in sorted(table.items()):
        attr = getattr(torch.Tensor, name, None)
        python = inspect.isfunction(attr)
        for filler in (None, 0):
            got = _refused_count(name, filler, bound + 1)
            if got is None or got - python > bound:
                out.append(f"method_max_positional: `Tensor.{name}` takes {bound + 1} positional arguments "
                           f"({filler!r}): not refused for the count")
                break
        schema = None if python else schema_bound(name)
        if schema is not None and bound > schema:
            out.append(f"method_max_positional: `Tensor.{name}` bound {bound} exceeds its aten schemas' {schema}")
    return out
