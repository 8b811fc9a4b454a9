"""Aten schemas: which overloads exist and what their alias annotations say."""

from __future__ import annotations

import collections
import inspect
from typing import Any

import torch

from .common import TORCH_NAMESPACES, torch_attr

def aten_schemas() -> dict[str, list]:
    """aten overloads by name; a namespaced function's also by its Python name (`linalg_norm` as
    `linalg.norm`, common.TORCH_NAMESPACES)."""
    by_name: dict[str, list] = collections.defaultdict(list)
    for s in torch._C._jit_get_all_schemas():
        if s.name.startswith("aten::"):
            name = s.name[len("aten::"):]
            by_name[name].append(s)
            for ns in TORCH_NAMESPACES:
                if name.startswith(ns + "_"):
                    by_name[f"{ns}.{name[len(ns) + 1:]}"].append(s)
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


def _signature_names(fn: Any, skip_first: bool) -> list[str] | None:
    """Positional parameter names from a Python-level signature; None for a builtin."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    out = []
    for p in params[1:] if skip_first else params:
        if p.kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
            break
        out.append(p.name)
    return out


def _schema_names(name: str, method: bool) -> list[str | None]:
    """Positional argument names of the aten overloads that take a Tensor (out= overloads aside),
    after `self` for a method; None where overloads disagree.  Python's bindings call a function's
    `self` argument `input` (torch.mul(input=x, other=y))."""
    by_position: list[set[str]] = []
    for s in SCHEMAS.get(name, ()):
        args = [a for a in s.arguments if not a.kwarg_only]
        if any(a.alias_info is not None and a.alias_info.is_write and a.kwarg_only for a in s.arguments):
            continue
        if not any(_mentions_tensor(a.type) for a in args):
            continue
        if method:
            if not args or args[0].name != "self":
                continue
            args = args[1:]
        for i, a in enumerate(args):
            while len(by_position) <= i:
                by_position.append(set())
            by_position[i].add("input" if a.name == "self" else a.name)
    return [next(iter(n)) if len(n) == 1 else None for n in by_position]


def positional_names(category: str, name: str) -> dict[str, str]:
    """Input key ("0", "1"... as calls.keyed numbers them) -> the parameter's keyword name, where
    the signature (Python-level) or every aten overload (builtins) agrees on one."""
    if category == "modules":
        names: list[str | None] | None = _signature_names(getattr(torch.nn, name).forward, skip_first=True)
    elif category == "methods":
        names = _signature_names(getattr(torch.Tensor, name), skip_first=True)
        names = _schema_names(name, method=True) if names is None else names
    else:
        fn = torch_attr(name) if category == "torch" else getattr(torch.nn.functional, name)
        names = _signature_names(fn, skip_first=False)
        names = _schema_names(name, method=False) if names is None else names
    return {str(i): n for i, n in enumerate(names or ()) if n and not n.startswith("_")}
