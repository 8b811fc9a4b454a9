"""`complex_traps`: in-place ops whose out-of-place form behaves otherwise on a complex tensor.

The dtype classes of a rewrite (inplace.py) are measured on real inputs. On a complex64 input,
with and without requires-grad (a non-leaf, as in a model), some forms part ways: `abs_` raises
("In-place abs is not supported for complex tensors") where `abs` returns real values; `F.silu(z,
inplace=True)` runs where `F.silu(z)` raises ("silu does not support automatic differentiation
for outputs with complex dtype"); `nan_to_num_` likewise. The analysis knows no dtype as "real"
(a float-only op's result, `sigmoid(z)`, is complex for a complex `z`), so a rewrite of one of
these is safe only on a tensor known to be an integer or bool one (eval49 D1, D2).

A name is listed, with the first difference seen, where the in-place form and the out-of-place
form differ in raising, or both run and return different dtypes (the bool results of `eq_`,
`logical_and_`... are the "bool_result" dtype class already and are left out).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .common import attempt
from .inputs import arg_lists

_SHAPES = ((4,), (2, 3, 4, 5))


def build_complex_traps(methods: dict[str, dict], functions: dict[str, dict], functional: dict) -> dict:
    out: dict[str, dict[str, str]] = {"methods": {}, "functions": {}, "functional": {}}
    for name, row in sorted(methods.items()):
        if row.get("kind") == "twin" and row.get("dtype") != "bool_result":
            got = _differs(lambda x, a, k: getattr(x, name)(*a, **k), lambda x, a, k: getattr(x, row["twin"])(*a, **k),
                           row["twin"])
            if got:
                out["methods"][name] = got
    for name, row in sorted(functions.items()):
        twin = row.get("twin")
        if twin and methods.get(name, {}).get("dtype") != "bool_result":
            got = _differs(lambda x, a, k: getattr(torch, name)(x, *a, **k),
                           lambda x, a, k: getattr(torch, twin)(x, *a, **k), twin)
            if got:
                out["functions"][name] = got
    for name in sorted(functional["inplace_param"]):
        fn = getattr(F, name)
        kw = {"training": False} if "dropout" in name or name == "rrelu" else {}
        extra = (0.5, 0.0) if name == "threshold" else ()
        got = _differs(lambda x, a, k: fn(x, *extra, inplace=True, **kw), lambda x, a, k: fn(x, *extra, **kw), None)
        if got:
            out["functional"][name] = got
    return out


def _differs(inplace, outplace, base: str | None) -> str | None:
    """The first way the two forms part on a complex64 input (None: none seen)."""
    for grad in (False, True):
        for shape in _SHAPES:
            torch.manual_seed(0)
            leaf = torch.randn(*shape, dtype=torch.complex64)
            lists = [((), {})]
            if base is not None:
                try:
                    lists = list(arg_lists(base, leaf.real))[:6] or lists
                except Exception:  # (no argument templates for it: called bare)
                    pass
            for args, kwargs in lists:
                args = tuple(a.to(torch.complex64) if isinstance(a, torch.Tensor) and a.is_floating_point() else a
                             for a in args)
                source = leaf.clone().requires_grad_(grad)
                xi, xo = (source * 1, source * 1) if grad else (source.clone(), source.clone())
                torch.manual_seed(1)
                r_in, e_in = attempt(lambda: inplace(xi, args, kwargs))
                torch.manual_seed(1)
                r_out, e_out = attempt(lambda: outplace(xo, args, kwargs))
                if isinstance(e_in, TypeError) and isinstance(e_out, TypeError):
                    continue
                where = "requiring grad" if grad else "not requiring grad"
                if e_in is None and e_out is not None:
                    return f"on a complex tensor {where} the in-place form runs, the out-of-place one raises"
                if e_in is not None and e_out is None:
                    return f"on a complex tensor {where} the in-place form raises, the out-of-place one runs"
                if e_in is None and isinstance(r_out, torch.Tensor) and r_out.dtype != xi.dtype:
                    return f"on a complex tensor {where} the out-of-place form returns {r_out.dtype}"
    return None
