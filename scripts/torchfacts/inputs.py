"""Small deterministic inputs and the generic argument patterns every probe tries."""

from __future__ import annotations

from typing import Any

import torch

INT_DTYPES = (torch.int64, torch.int32)
PROBE_DTYPES = (torch.float32, torch.int64, torch.int32, torch.bool)
PROBE_SHAPES = ((), (4,), (3, 4), (2, 3, 4))


# --------------------------------------------------------------------------------------------------
# Small deterministic inputs
# --------------------------------------------------------------------------------------------------

def make(dtype: torch.dtype, shape: tuple[int, ...], variant: int = 0) -> torch.Tensor:
    """A small tensor with domain-friendly values: floats in (0, 1), ints in 1..5, mixed bools."""
    n = 1
    for s in shape:
        n *= s
    k = torch.arange(n)
    if dtype.is_floating_point or dtype.is_complex:
        lo, hi = ((0.1, 0.9), (0.2, 0.7))[variant]
        t = torch.linspace(lo, hi, n) if n > 1 else torch.tensor([lo + 0.25 * variant])
    elif dtype == torch.bool:
        t = (k % (2 + variant)) == 0
    else:
        t = (k * (1 + 2 * variant)) % (4 + variant) + 1
    return t.to(dtype).reshape(shape)


def scalar_for(dtype: torch.dtype) -> Any:
    """A Python scalar of the same kind as dtype, so that it never promotes the result."""
    if dtype == torch.bool:
        return True
    if dtype.is_floating_point:
        return 0.5
    return 2


def is_integral(dtype: torch.dtype) -> bool:
    return not (dtype.is_floating_point or dtype.is_complex)


ArgList = tuple[tuple, dict]


def _idx2() -> torch.Tensor:
    return torch.tensor([1, 0])


def special_args(base: str, x: torch.Tensor, y: torch.Tensor, s: Any) -> list[ArgList]:
    """Argument lists for ops whose signature needs more than (other,), (scalar,) or ()."""
    dt, d = x.dtype, x.dim()
    mask = make(torch.bool, tuple(x.shape), 1)
    if base == "addbmm" and d == 2:
        return [((make(dt, (2, x.shape[0], 5)), make(dt, (2, 5, x.shape[1]), 1)), {})]
    if base == "baddbmm" and d == 3:
        b, n, m = x.shape
        return [((make(dt, (b, n, 5)), make(dt, (b, 5, m), 1)), {})]
    if base == "addmm" and d == 2:
        return [((make(dt, (x.shape[0], 5)), make(dt, (5, x.shape[1]), 1)), {})]
    if base == "addmv" and d == 1:
        return [((make(dt, (x.shape[0], 5)), make(dt, (5,), 1)), {})]
    if base == "addr" and d == 2:
        return [((make(dt, (x.shape[0],)), make(dt, (x.shape[1],), 1)), {})]
    if base in ("addcdiv", "addcmul", "clamp", "clip"):
        return [((y, y), {})]
    if base in ("cumsum", "cumprod", "squeeze", "unsqueeze", "mvlgamma", "polygamma"):
        return [((0,), {}), ((1,), {})] if base in ("mvlgamma", "polygamma") else [((0,), {})]
    if base in ("transpose", "swapaxes", "swapdims"):
        return [((0, 1), {})] if d >= 2 else [((0, 0), {})]
    if base == "as_strided":
        return [(((1,), (1,)), {})]
    if base == "round":
        return [((), {"decimals": 1})]
    if base in ("div", "divide"):
        return [((y,), {"rounding_mode": "floor"}), ((y,), {"rounding_mode": "trunc"})]
    if base == "lerp":
        return [((y, 0.5), {}), ((y, y), {})]
    if base == "logit":
        return [((0.1,), {})]
    if base == "nan_to_num":
        return [((0.0, 1.0, -1.0), {})]
    if base == "renorm" and d >= 1:
        return [((2, 0, 1.0), {})]
    if base == "masked_fill":
        return [((mask, s), {})]
    if base == "masked_scatter":
        return [((mask, y), {})]
    if base == "put":
        k = min(2, x.numel())
        return [((torch.tensor([1, 0][2 - k:]), y.reshape(-1)[:k]), {})]
    if d >= 1 and x.shape[0] >= 2:
        src = y.narrow(0, 0, 2)
        if base in ("index_add", "index_copy"):
            return [((0, _idx2(), src), {})]
        if base == "index_fill":
            return [((0, _idx2(), s), {})]
        if base == "index_put":
            return [(((_idx2(),), src), {}), (((_idx2(),), src, True), {})]
        if base == "index_reduce":
            return [((0, _idx2(), src, r), {}) for r in ("prod", "mean", "amax", "amin")]
    if base in ("scatter", "scatter_add", "scatter_reduce") and d >= 1:
        index = torch.zeros_like(x, dtype=torch.long)
        if base == "scatter":
            return [((0, index, y), {}), ((0, index, s), {})]
        if base == "scatter_add":
            return [((0, index, y), {})]
        return [((0, index, y, r), {}) for r in ("sum", "prod", "mean", "amax", "amin")]
    # torch.* functions only
    if base == "threshold":
        return [((s, s), {})]
    if base in ("dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"):
        return [((0.5, True), {}), ((0.5, False), {})]
    if base == "rrelu":
        return [((0.1, 0.3, True), {}), ((0.1, 0.3, False), {})]
    return []


def arg_lists(base: str, x: torch.Tensor) -> list[ArgList]:
    """Generic candidates (same-dtype tensor, same-kind scalar, nothing), then op-specific ones."""
    y = make(x.dtype, tuple(x.shape), 1)
    s = scalar_for(x.dtype)
    return [((y,), {}), ((s,), {}), ((), {})] + special_args(base, x, y, s)


GENERIC_PROBE_ARGS = ((), ("y",), (2,), (1,), (0,))


def probe_args(x: torch.Tensor) -> list[tuple]:
    y = make(x.dtype, tuple(x.shape), 1)
    return [tuple(y if a == "y" else a for a in args) for args in GENERIC_PROBE_ARGS]


def leaf(dtype: torch.dtype, shape: tuple[int, ...], variant: int = 0) -> torch.Tensor:
    t = make(dtype, shape, variant)
    return t.requires_grad_() if (dtype.is_floating_point or dtype.is_complex) else t


def i64(*values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def f32(*shape: int) -> torch.Tensor:
    return leaf(torch.float32, shape)
