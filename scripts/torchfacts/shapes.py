"""Shape and dtype facts that prove an out-of-place rewrite cannot broadcast or promote its target:
`shape_preserving` and `keepdim_reductions`.

`shape_preserving` (Tensor methods, torch functions, F.* functions): every call ``op(x, *scalars)``
measured, with x floating (float32, float64, bfloat16) over SHAPES (0-dim, 1-D, sizes 1, 3-D) and
the generic argument patterns restricted to Python scalars and nothing (`calls.generic_patterns`;
``inplace=`` never reached), returned one dense tensor with x's exact shape and dtype, on at least
MIN_SHAPES of the shapes (calls that raise are no evidence: ``float_power_`` ran on float64 only).  Not only elementwise ops: ``softmax``, ``cumsum``, ``flip`` keep the
shape too; an op whose result changes shape on any measured argument (``squeeze`` on a size-1 dim,
``tile(2)``, ``t`` on a non-square matrix) is out.  Modules (`module_shape_preserving`): every
call in the sweep with one floating forward input (ModuleInfo constructions in train() and
eval(), generic ones) returned one tensor of that input's shape and dtype, on at least two shapes.

`keepdim_reductions` (Tensor methods, torch functions): ``op(x, dim=d, keepdim=True)`` ran on at
least two shapes and every result (each tensor of a tuple: values and indices) has x's ndim with
size 1 exactly in the reduced dims; ``op(x, d, keepdim=True)`` (dim by position) never gave a
result with another ndim or a dim that is neither 1 nor x's; the first result keeps x's floating
dtype.  "tensor" when the result is one tensor, "tuple" when it is a tuple (``max``: values,
indices).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .calls import generic_patterns, inplace_position, is_property, op_fn
from .common import attempt, describe, tensors_in
from .inputs import make
from .probe import RECORDS

SHAPES = ((3, 4), (4,), (), (1, 4), (3, 1), (2, 3, 4), (2, 1, 4))
FLOAT_DTYPES = (torch.float32, torch.float64, torch.bfloat16)
MIN_SHAPES = 4
KEEPDIM_SHAPES = ((3, 4), (2, 3, 4), (4,), (1, 4))
KEEPDIM_DTYPES = (torch.float32, torch.float64)


def _scalar_only(args: tuple, kwargs: dict) -> bool:
    return not tensors_in([args, kwargs])


@dataclass
class ShapeRun:
    """What the scalar-argument calls of one op showed."""

    violation: str = ""  # the first call whose result was not one dense tensor of x's shape and dtype
    shapes: set[tuple[int, ...]] = field(default_factory=set)  # shapes on which some call succeeded
    calls: int = 0
    example: str = ""

    def proof(self, min_shapes: int) -> str | None:
        if self.violation or len(self.shapes) < min_shapes:
            return None
        return f"{self.calls} calls on {len(self.shapes)} shapes, e.g. {self.example}"


def shape_run(cat: str, name: str, max_positional: int | None, shapes: tuple = SHAPES,
              dtypes: tuple = FLOAT_DTYPES) -> ShapeRun:
    fn = op_fn(cat, name)
    run = ShapeRun()
    prop = cat == "methods" and is_property(name)
    for dtype in dtypes:
        for shape in shapes:
            for args, kwargs in generic_patterns((cat, name), make(dtype, shape), prop, max_positional):
                if not _scalar_only(args, kwargs):
                    continue
                x = make(dtype, shape)  # a fresh receiver: in-place ops (resize_) change it
                res, err = attempt(lambda: fn(x, *args, **kwargs))
                if err is not None:
                    continue
                if not (isinstance(res, torch.Tensor) and res.shape == shape and res.dtype == dtype
                        and res.layout == torch.strided):
                    run.violation = describe(x, args, kwargs)
                    return run
                run.shapes.add(shape)
                run.calls += 1
                run.example = run.example or describe(x, args, kwargs)
    return run


def build_shape_preserving(names: dict[str, list[str]], inplace_param: dict[str, int]) -> tuple[dict, dict]:
    """(shape_preserving, evidence) for methods, torch and functional; modules come from the sweep."""
    out: dict[str, list[str]] = {}
    evidence: dict[str, dict[str, str]] = {}
    for cat in ("methods", "torch", "functional"):
        out[cat], evidence[cat] = [], {}
        for name in names[cat]:
            limit = inplace_position(inplace_param, name) if cat == "functional" else None
            proof = shape_run(cat, name, limit).proof(MIN_SHAPES)
            if proof:
                out[cat].append(name)
                evidence[cat][name] = proof
    out["modules"], evidence["modules"] = module_shape_preserving(names["modules"])
    return out, evidence


def module_shape_preserving(names: list[str]) -> tuple[list[str], dict[str, str]]:
    out, evidence = [], {}
    for name in names:
        kept = [o for o in RECORDS.get(("modules", name), []) if o.keeps_shape is not None]
        shapes = {o.input_shape for o in kept}
        if len(shapes) >= 2 and all(o.keeps_shape for o in kept):
            out.append(name)
            evidence[name] = f"{len(kept)} calls on {len(shapes)} shapes, e.g. {kept[0].case.label}"
    return out, evidence


# --------------------------------------------------------------------------------------------------
# keepdim reductions
# --------------------------------------------------------------------------------------------------

def _dims(ndim: int) -> list[int | tuple[int, ...]]:
    return [0, -1] + ([1, (0, -1)] if ndim >= 2 else [])


def _keepdim_law(x: torch.Tensor, res: Any, dim: int | tuple[int, ...], exact: bool) -> str | None:
    """"tensor"/"tuple" when `res` obeys the law, None when it does not."""
    parts = [res] if isinstance(res, torch.Tensor) else list(res) if isinstance(res, tuple) else []
    if not parts or not all(isinstance(p, torch.Tensor) for p in parts) or parts[0].dtype != x.dtype:
        return None
    reduced = {d % x.ndim for d in (dim if isinstance(dim, tuple) else (dim,))} if x.ndim else set()
    for p in parts:
        if p.ndim != x.ndim:
            return None
        for i, (got, size) in enumerate(zip(p.shape, x.shape)):
            want = (1 if i in reduced else size) if exact else got
            if got != want or got not in (1, size):
                return None
    return "tensor" if isinstance(res, torch.Tensor) else "tuple"


def keepdim_kind(fn: Callable[..., Any], shapes: tuple = KEEPDIM_SHAPES,
                 dtypes: tuple = KEEPDIM_DTYPES) -> tuple[str | None, str]:
    """("tensor"/"tuple", evidence) when `fn` is a keepdim reduction on these inputs; (None, the
    call that breaks the law) or (None, "") when it ran on fewer than two shapes."""
    kinds, ran, example = set(), set(), ""
    for dtype in dtypes:
        for shape in shapes:
            x = make(dtype, shape)
            for dim in _dims(len(shape)):
                for by_keyword in (True, False):
                    args, kwargs = ((), {"dim": dim, "keepdim": True}) if by_keyword else ((dim,), {"keepdim": True})
                    res, err = attempt(lambda: fn(x, *args, **kwargs))
                    if err is not None:
                        continue
                    kind = _keepdim_law(x, res, dim, exact=by_keyword)
                    if kind is None:
                        return None, f"breaks the law: {describe(x, args, kwargs)}"
                    kinds.add(kind)
                    if by_keyword:
                        ran.add(shape)
                        example = example or describe(x, args, kwargs)
    if len(ran) < 2:
        return None, ""
    return ("tuple" if "tuple" in kinds else "tensor"), f"{len(ran)} shapes, e.g. {example}"


def build_keepdim_reductions(names: dict[str, list[str]]) -> tuple[dict, dict]:
    out: dict[str, dict[str, str]] = {}
    evidence: dict[str, dict[str, str]] = {}
    for cat in ("methods", "torch"):
        out[cat], evidence[cat] = {}, {}
        for name in names[cat]:
            if cat == "methods" and is_property(name):
                continue
            kind, proof = keepdim_kind(op_fn(cat, name))
            if kind:
                out[cat][name] = kind
                evidence[cat][name] = proof
    return out, evidence
