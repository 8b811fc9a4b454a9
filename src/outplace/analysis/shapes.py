"""Shape and dtype facts that prove an out-of-place rewrite cannot change what a write computes.

In place, `x op= v` keeps `x`'s shape and dtype (or raises); out of place, `x op v` may broadcast
`x` to a larger shape or promote its dtype. Neither can happen when `v` is:
  * a Python number of `x`'s dtype class or a lower one (`float` on a float tensor);
  * a keepdim reduction of `x` itself (`x.norm(dim=-1, keepdim=True)`, `x.sum(1, keepdim=True)`):
    its shape broadcasts to `x`'s, never beyond, and for a floating `x` its dtype is `x`'s;
  * an elementwise function of `x` (`x.exp()`, `torch.sigmoid(x)`): `x`'s shape and dtype;
  * a combination of those with numbers (`x.norm(dim=-1, keepdim=True) + 1e-6`, `x.abs().clamp(min=1)`).
Which ops keep shapes and which reduce with keepdim are torch facts from the op table.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from outplace.analysis.imports import dotted

if TYPE_CHECKING:
    from outplace.analysis import Analysis, Info

ELEMENTWISE_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def operand_keeps_shape_and_dtype(an: Analysis, operand: ast.AST, target: str, info: Info) -> bool:
    """Is `operand` built only from `target` (elementwise, or reduced with keepdim) and numbers, so
    that `target op operand` has `target`'s shape and dtype? Needs `target` to be floating."""
    if info.dtype != "float":
        return False
    return _shaped_like(an, operand, target, 0) in ("same", "reduced")


def _shaped_like(an: Analysis, node: ast.AST, target: str, depth: int) -> str | None:
    """"same" (target's shape), "reduced" (broadcasts to it), "number", or None (unknown)."""
    if depth > 12:
        return None
    if dotted(node) == target:
        return "same"
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return "number"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _shaped_like(an, node.operand, target, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ELEMENTWISE_BINOPS):
        a = _shaped_like(an, node.left, target, depth + 1)
        b = _shaped_like(an, node.right, target, depth + 1)
        if a is None or b is None:
            return None
        for kind in ("same", "reduced", "number"):
            if kind in (a, b):
                return kind
    if isinstance(node, ast.Call):
        func = node.func
        ops = an.ops
        if isinstance(func, ast.Attribute) and not (an.qualname(func) or "").startswith("torch"):
            inner = _shaped_like(an, func.value, target, depth + 1)
            if inner in ("same", "reduced"):
                if func.attr in _elementwise(ops, "methods") and _number_args(an, node):
                    return inner
                if func.attr in _reductions(ops, "methods") and _keepdim(node):
                    return "reduced"
            return None
        q = an.qualname(func) or ""
        name = q.rsplit(".", 1)[-1]
        if q.startswith("torch.") and node.args:
            inner = _shaped_like(an, node.args[0], target, depth + 1)
            rest = ast.Call(func=func, args=node.args[1:], keywords=node.keywords)
            if inner in ("same", "reduced"):
                category = "functional" if q.startswith("torch.nn.functional.") else "torch"
                if name in _elementwise(ops, category) and _number_args(an, rest):
                    return inner
                if name in _reductions(ops, category) and _keepdim(node):
                    return "reduced"
    return None


def _number_args(an: Analysis, call: ast.Call) -> bool:
    """Every other argument is a number, None, or a dim-like keyword: nothing that broadcasts."""
    for a in [*call.args, *(k.value for k in call.keywords if k.arg not in ("dim", "keepdim", "p"))]:
        # (a complex number promotes a real tensor: `h.mul(1j)`)
        if isinstance(a, ast.Constant) and (a.value is None or type(a.value) in (int, float, bool)):
            continue
        if isinstance(a, ast.UnaryOp) and isinstance(a.operand, ast.Constant) and type(a.operand.value) in (int, float):
            continue
        info = an.info(a)
        if info.is_scalar and info.dtype in ("int", "float", "bool"):
            continue
        return False
    return True


def _keepdim(call: ast.Call) -> bool:
    """`keepdim=True`, and nothing that may set the result's dtype: no `dtype=` (`h.sum(1,
    keepdim=True, dtype=torch.float64)` promotes), no positional argument but literal numbers (a
    dim, `norm`'s p) or tuples of them."""
    if any(k.arg not in ("dim", "keepdim", "p") for k in call.keywords):
        return False
    positional = call.args if isinstance(call.func, ast.Attribute) else call.args[1:]
    if not all(_literal_number(a) or isinstance(a, (ast.Tuple, ast.List)) and all(_literal_number(e) for e in a.elts)
               for a in positional):
        return False
    return any(k.arg == "keepdim" and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in call.keywords)


def _literal_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _elementwise(ops, category: str) -> frozenset:
    return ops.shape_preserving.get(category, frozenset())


def _reductions(ops, category: str) -> frozenset:
    return frozenset(n for n, kind in ops.keepdim_reductions.get(category, {}).items() if kind == "tensor")
