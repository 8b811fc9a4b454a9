"""Aten schemas: which overloads exist and what their alias annotations say."""

from __future__ import annotations

import collections
from typing import Any

import torch

def aten_schemas() -> dict[str, list]:
    by_name: dict[str, list] = collections.defaultdict(list)
    for s in torch._C._jit_get_all_schemas():
        if s.name.startswith("aten::"):
            by_name[s.name[len("aten::"):]].append(s)
    return by_name


SCHEMAS = aten_schemas()


def _mentions_tensor(t: Any) -> bool:
    return "Tensor" in str(t)


def schema_class(name: str, method: bool) -> str | None:
    """fresh / alias / nontensor from the aten overloads of `name`, or None when aten has none.

    out= overloads are ignored (they return the `out` tensor, a separate write the analysis handles).
    Method view: only overloads with a Tensor `self`.  Function view: overloads that mention a
    Tensor somewhere (TorchScript also registers list/str/int overloads such as `aten::add.str`).
    """
    classes = set()
    for s in SCHEMAS.get(name, ()):
        if any(a.alias_info is not None and a.alias_info.is_write and a.kwarg_only for a in s.arguments):
            continue
        if method:
            if not any(a.name == "self" and str(a.type) == "Tensor" for a in s.arguments):
                continue
        elif not any(_mentions_tensor(a.type) for a in s.arguments) and not any(
            _mentions_tensor(r.type) for r in s.returns
        ):
            continue
        if any(r.alias_info is not None for r in s.returns):
            classes.add("alias")
        elif any(_mentions_tensor(r.type) for r in s.returns):
            classes.add("fresh")
        else:
            classes.add("nontensor")
    for c in ("alias", "fresh", "nontensor"):  # an overload that may alias makes the name alias
        if c in classes:
            return c
    return None


def schema_is_factory(name: str) -> bool:
    """Every (non-out) overload takes no Tensor argument and returns a Tensor: a creation op."""
    overloads = [
        s for s in SCHEMAS.get(name, ())
        if not any(a.alias_info is not None and a.alias_info.is_write for a in s.arguments)
    ]
    return bool(overloads) and all(
        not any(_mentions_tensor(a.type) for a in s.arguments)
        and [str(r.type) for r in s.returns] == ["Tensor"]
        for s in overloads
    )


def writes_first_argument(name: str) -> bool:
    return any(
        s.arguments and s.arguments[0].alias_info is not None and s.arguments[0].alias_info.is_write
        for s in SCHEMAS.get(name, ())
    )
