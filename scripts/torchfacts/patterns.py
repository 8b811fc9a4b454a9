"""Argument patterns: the classes of calls the analysis can tell apart from a call's arguments alone,
and the argument positions it needs for that (`pattern_args`).

Every call falls in exactly one pattern, the first that applies:

* ``"inplace"``: the call (a module: its construction) passes ``inplace=True``;
* ``"flags"``: it passes a return flag as True (`return_flags`: ``return_indices``,
  ``return_counts``, ``return_inverse``, ``as_tuple``, ``get_infos``...) by keyword, or at the
  position of that parameter (`pattern_args`); a module: in its construction;
* ``"modes"``: it passes a mode-like string argument (`MODE_PARAMS`: ``mode``, ``reduction``) other
  than the function's default, by keyword or at that parameter's position (`mode_defaults`: the
  defaults; not modules, whose modes are constructor arguments): ``F.pad(x, p, mode="reflect")``
  saves its input, ``F.pad(x, p)`` (constant) does not; ``F.ctc_loss(..., reduction="none")``
  saves what it returns, a mean does not;
* ``"tensors"``: a tensor operand besides the primary argument (the receiver / first argument /
  forward input; the tensors *inside* a list passed as the primary argument, ``torch.cat([a, b])``,
  do not count);
* ``"dim"``: a ``dim`` argument, by keyword or at the position of a parameter named ``dim`` in
  some overload, with a value that is not a tensor and not None (methods, torch and functional
  only; a module's ``dim`` is a constructor argument that changes nothing returned);
* ``"scalar"``: everything else (every operand but the primary a Python number or other
  non-tensor).

``"any"`` is the union of every pattern but ``"inplace"``.  The flag names (`return_flags`) and the
positions (`pattern_args`, from the signature of a Python-level callable or the aten overloads of a
builtin) are checked in, so that the analysis classifies a call exactly as the generator
classified the measured ones.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

import torch

from .common import torch_attr, torch_function_names
from .schemas import SCHEMAS, _mentions_tensor

# Most specific first; "any" (every call but inplace=True ones) is the union of the others.
CALL_PATTERNS = ("inplace", "flags", "modes", "tensors", "dim", "scalar")
ALL_PATTERNS = ("any",) + CALL_PATTERNS
DIM = "dim"
# String parameters that pick what a function computes (and so what autograd saves).
MODE_PARAMS = frozenset({"mode", "reduction"})


# Keyword arguments that make a call return a tuple instead of a tensor without appearing in any
# aten schema or Python signature: torch's argument parser handles nonzero's `as_tuple` itself.
PARSER_FLAGS = frozenset({"as_tuple"})


def _dispatched() -> dict[Any, dict[str, Any]]:
    """F.max_pool2d & co. are `boolean_dispatch`es over a flag: fn -> {"arg_name", "if_true", ...}."""
    from torch._jit_internal import boolean_dispatched

    return dict(boolean_dispatched.items())


def python_params(fn: Callable[..., Any], skip_first: bool) -> dict[str, list[int]] | None:
    """Parameter name -> [its position] ([] for keyword-only) of a Python-level callable (a boolean
    dispatch: the signature of its True branch); None for a builtin."""
    dispatched = _dispatched()
    while fn in dispatched:  # torch.unique dispatches on return_inverse, then on return_counts
        fn = dispatched[fn]["if_true"]
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    out: dict[str, list[int]] = {}
    positional = True
    for i, p in enumerate(params[1:] if skip_first else params):
        positional = positional and p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                               inspect.Parameter.POSITIONAL_OR_KEYWORD)
        if p.kind is not inspect.Parameter.VAR_KEYWORD and p.kind is not inspect.Parameter.VAR_POSITIONAL:
            out[p.name] = [i] if positional else []
    return out


def _schema_params(name: str, method: bool) -> dict[str, list[int]]:
    """Parameter name -> the positions (after `self` for a method) where some aten overload that
    takes a Tensor has it as a positional argument ([] where only keyword-only), out= overloads
    aside."""
    found: dict[str, set[int]] = {}
    for s in SCHEMAS.get(name, ()):
        if any(a.alias_info is not None and a.alias_info.is_write and a.kwarg_only for a in s.arguments):
            continue
        if not any(_mentions_tensor(a.type) for a in s.arguments):
            continue
        args = list(s.arguments)
        if method:
            if not args or args[0].name != "self" or args[0].kwarg_only:
                continue
            args = args[1:]
        for i, a in enumerate(args):
            found.setdefault(a.name, set()).update(() if a.kwarg_only else (i,))
    return {n: sorted(p) for n, p in found.items()}


def parameters(category: str, name: str) -> dict[str, list[int]]:
    """Every parameter of `category.name` -> the positions it may be passed at, as input keys number
    them (after the receiver for methods; a module's: its constructor's, self excluded)."""
    if category == "modules":
        return python_params(getattr(torch.nn, name).__init__, skip_first=True) or {}
    if category == "methods":
        fn: Any = getattr(torch.Tensor, name)
    else:
        fn = torch_attr(name) if category == "torch" else getattr(torch.nn.functional, name)
    params = python_params(fn, skip_first=category == "methods")
    return _schema_params(name, method=category == "methods") if params is None else params


@functools.cache
def return_flags() -> frozenset[str]:
    """The keyword names that make a call's pattern "flags" when passed True: every parameter named
    `return_*` of a public Tensor method, torch callable, F.* function or torch.nn class; the flags
    F.* and torch.* functions are boolean-dispatched on (`get_infos` of torch.lu); PARSER_FLAGS."""
    from .calls import functional_names, module_names  # calls imports this module

    universe = {
        "methods": [n for n in dir(torch.Tensor) if not n.startswith("_") and callable(getattr(torch.Tensor, n))],
        "torch": [n for n in torch_function_names() if callable(torch_attr(n))],
        "functional": functional_names(),
        "modules": module_names(),
    }
    found = set(PARSER_FLAGS) | {d["arg_name"] for d in _dispatched().values()}
    for cat, cat_names in universe.items():
        for name in cat_names:
            found |= {p for p in parameters(cat, name) if p.startswith("return_")}
    return frozenset(found)


def mode_defaults(category: str, name: str) -> dict[str, str]:
    """The mode-like parameters (`MODE_PARAMS`) of `category.name` with a string default -> that
    default (`F.pad`: {"mode": "constant"}); {} for modules and names without one."""
    if category == "modules":
        return {}
    fn: Any = torch_attr(name) if category == "torch" else getattr(
        torch.Tensor if category == "methods" else torch.nn.functional, name)
    dispatched = _dispatched()
    while fn in dispatched:
        fn = dispatched[fn]["if_true"]
    try:
        return {p.name: p.default for p in inspect.signature(fn).parameters.values()
                if p.name in MODE_PARAMS and isinstance(p.default, str)}
    except (TypeError, ValueError):
        pass
    out: dict[str, str] = {}
    for s in SCHEMAS.get(name, ()):
        for a in s.arguments:
            if a.name in MODE_PARAMS and a.has_default_value() and isinstance(a.default_value, str):
                if out.get(a.name, a.default_value) != a.default_value:
                    return {}  # overloads disagree: no default to compare with
                out[a.name] = a.default_value
    return out


@functools.cache
def cached_mode_defaults(category: str, name: str) -> dict[str, str]:
    return mode_defaults(category, name)


def build_mode_defaults(names: dict[str, list[str]]) -> dict[str, dict[str, dict[str, str]]]:
    return {cat: {n: d for n in cat_names if (d := cached_mode_defaults(cat, n))} for cat, cat_names in names.items()
            if cat != "modules"}


def pattern_args(category: str, name: str, flags: frozenset[str]) -> dict[str, list[str]]:
    """`dim` (not for modules), the return flags and the mode parameters with a default
    (`mode_defaults`) among the parameters of `category.name` -> the input keys ("0", "1"... as
    calls.keyed numbers them) where each may be passed by position ([]: keyword-only).  For
    modules: positions in the constructor's arguments."""
    wanted = flags | ({DIM, *cached_mode_defaults(category, name)} if category != "modules" else set())
    return {p: [str(i) for i in pos] for p, pos in sorted(parameters(category, name).items()) if p in wanted}


@functools.cache
def cached_pattern_args(category: str, name: str) -> dict[str, list[str]]:
    return pattern_args(category, name, return_flags())


def ctor_flags(name: str, cargs: tuple, ckwargs: dict[str, Any]) -> frozenset[str]:
    """The return flags a module's construction sets True, by keyword or by position."""
    flags = {k for k, v in ckwargs.items() if k in return_flags() and v is True}
    for param, keys in cached_pattern_args("modules", name).items():
        flags |= {param for k in keys if int(k) < len(cargs) and cargs[int(k)] is True}
    return frozenset(flags)


def build_pattern_args(names: dict[str, list[str]]) -> dict[str, dict[str, dict[str, list[str]]]]:
    return {cat: {n: args for n in cat_names if (args := cached_pattern_args(cat, n))}
            for cat, cat_names in names.items()}


# --------------------------------------------------------------------------------------------------
# Classifying a measured call
# --------------------------------------------------------------------------------------------------

def _given(value: Any) -> bool:
    return value is not None and not isinstance(value, torch.Tensor)


def _other_mode(category: str, name: str, inputs: dict[str, Any], args: dict[str, list[str]]) -> bool:
    """Does the call pass a mode parameter a value other than its default?"""
    for param, default in cached_mode_defaults(category, name).items():
        values = [inputs[k] for k in (param, *args.get(param, ())) if k in inputs]
        if any(v != default for v in values):
            return True
    return False


def classify(category: str, name: str, inputs: dict[str, Any], operand_tensors: bool, variant: str,
             ctor_flags: frozenset[str]) -> str:
    """The pattern of one call.  `inputs`: the call's arguments by input key (calls.keyed);
    `operand_tensors`: a tensor among the operands besides the primary argument; `variant`: the
    keyword that made the case ("inplace=True"...); `ctor_flags`: return flags a module's
    construction set True."""
    if variant == "inplace=True":
        return "inplace"
    args = cached_pattern_args(category, name)
    if ctor_flags or (category != "modules" and any(
            inputs.get(p) is True or any(inputs.get(k) is True for k in keys)
            for p, keys in args.items() if p != DIM)) or any(
            k in return_flags() and v is True for k, v in inputs.items()):
        return "flags"
    if category != "modules" and _other_mode(category, name, inputs, args):
        return "modes"
    if operand_tensors:
        return "tensors"
    if category != "modules" and (_given(inputs.get(DIM)) or any(_given(inputs.get(k)) for k in args.get(DIM, ()))):
        return "dim"
    return "scalar"
