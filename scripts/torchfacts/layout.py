"""`layout_changing`: in-place ops whose out-of-place form returns another memory layout.

An in-place op leaves its tensor's strides as they were; most out-of-place forms keep them too
(TensorIterator gives an elementwise result its input's layout). Some return a contiguous tensor
whatever they were given: `tril`, `cumsum`, `masked_fill`, `scatter`, `index_add`, `addmm`... On a
non-contiguous tensor that is no view (`torch.sigmoid(x.t())` has the strides of `x.t()`), a
rewrite of one of these changes `h.stride()` and `h.is_contiguous()`, and lets `h.view(-1)` run
where the original raised (eval49 D3). The analysis does not know a tensor's layout, so where the
name's layout is read after such a write, the rewrite is not safe.

Measured on a dense non-contiguous float32 and int64 tensor (a transposed clone), with the call
templates of inplace.py: a name is listed where some call of both forms ran and gave a result of
the same shape with other strides.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .common import attempt
from .inputs import arg_lists


def build_layout_changing(methods: dict[str, dict], functions: dict[str, dict], functional: dict) -> dict:
    out: dict[str, list[str]] = {"methods": [], "functions": [], "functional": []}
    for name, row in sorted(methods.items()):
        if row.get("kind") == "twin" and _changes(lambda x, a, k: getattr(x, name)(*a, **k),
                                                  lambda x, a, k: getattr(x, row["twin"])(*a, **k), row["twin"]):
            out["methods"].append(name)
    for name, row in sorted(functions.items()):
        twin = row.get("twin")
        if twin and _changes(lambda x, a, k: getattr(torch, name)(x, *a, **k),
                             lambda x, a, k: getattr(torch, twin)(x, *a, **k), twin):
            out["functions"].append(name)
    for name in sorted(functional["inplace_param"]):
        fn = getattr(F, name)
        extra = (0.5, 0.0) if name == "threshold" else ()
        if _changes(lambda x, a, k: fn(x, *extra, inplace=True), lambda x, a, k: fn(x, *extra), None):
            out["functional"].append(name)
    return out


def _changes(inplace, outplace, base: str | None) -> bool:
    for dtype in (torch.float32, torch.int64):
        torch.manual_seed(0)
        x = (torch.randn(4, 3) * 3).to(dtype).t().clone()  # (dense, strides (1, 3): no view, not contiguous)
        lists = [((), {})]
        if base is not None:
            try:
                lists = list(arg_lists(base, x))[:8] or lists
            except Exception:  # (no argument templates for it: called bare)
                pass
        for args, kwargs in lists:
            xi, xo = x.clone(), x.clone()
            r_in, e_in = attempt(lambda: inplace(xi, args, kwargs))
            r_out, e_out = attempt(lambda: outplace(xo, args, kwargs))
            if e_in is None and e_out is None and isinstance(r_out, torch.Tensor) and r_out.shape == xi.shape \
                    and r_out.stride() != xi.stride():
                return True
    return False
