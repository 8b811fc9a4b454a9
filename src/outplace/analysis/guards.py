"""What a branch's test proves about requires-grad on the branch taken.

`if not x.requires_grad:`, the `else:` of `if x.requires_grad or y.requires_grad:`, and a project
predicate that returns such a test (kornia's `_ssim_cpu_eligible(img1, img2)` returns
`... and not (torch.is_grad_enabled() and (img1.requires_grad or img2.requires_grad))`): on the
branch taken, the names it proves outside any graph cannot have been saved by what they flow into,
and a write into them cannot break backward.

Propositional, and only what a test proves on every way it can hold: `a and b` true proves what
either part proves; `a or b` true only what both do. Grad mode being off (`not
torch.is_grad_enabled()`) proves every name is outside a graph (`GRAD_OFF`), so in
`not (torch.is_grad_enabled() and x.requires_grad)` x is outside one either way.
"""

from __future__ import annotations

import ast
from typing import Callable

from outplace.analysis.imports import dotted

GRAD_ENABLED = {"torch.is_grad_enabled", "torch.autograd.grad_mode.is_grad_enabled"}
GRAD_OFF = "grad off"  # every tensor is outside a graph: grad mode is off on the branch
NOTHING: frozenset = frozenset()
PREDICATE_DEPTH = 2  # a predicate may call a predicate; no further

# (call, depth) -> what the called predicate's truth proves, in the caller's names; None: not a predicate
Resolver = Callable[[ast.Call, bool, int], "frozenset | str | None"]


def not_requiring_grad(test: ast.expr, truth: bool, qualname: Callable[[ast.AST], str | None],
                       resolve: Resolver | None = None, subst: dict | None = None, depth: int = 0
                       ) -> frozenset | str:
    """The dotted names `test` evaluating to `truth` proves not to require grad (or GRAD_OFF).
    `subst`: inside a predicate, its parameter names -> the caller's argument names (a name
    not in it proves nothing to the caller)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return not_requiring_grad(test.operand, not truth, qualname, resolve, subst, depth)
    if isinstance(test, ast.BoolOp):
        parts = [not_requiring_grad(v, truth, qualname, resolve, subst, depth) for v in test.values]
        if isinstance(test.op, ast.And) == truth:  # `a and b` true, `a or b` false: every part holds
            return GRAD_OFF if GRAD_OFF in parts else frozenset().union(*parts)
        out: frozenset | str = GRAD_OFF  # one part holds, which one unknown: what all of them prove
        for p in parts:
            out = p if out == GRAD_OFF else (out if p == GRAD_OFF else out & p)  # type: ignore[operator]
        return out
    if isinstance(test, ast.Attribute) and test.attr == "requires_grad":
        if truth:
            return NOTHING
        name = dotted(test.value)
        if subst is not None:
            name = subst.get(name) if name is not None else None
        return frozenset({name}) if name is not None else NOTHING
    if isinstance(test, ast.Call):
        if not test.args and not test.keywords and qualname(test.func) in GRAD_ENABLED:
            return GRAD_OFF if not truth else NOTHING
        if resolve is not None and depth < PREDICATE_DEPTH:
            got = resolve(test, truth, depth + 1)
            if got is not None:
                if subst is not None and got != GRAD_OFF:  # the inner call's names are ours: map them on
                    got = frozenset(subst[n] for n in got if n in subst)
                return got
    return NOTHING


def predicate_returns(fn: ast.AST) -> list[ast.expr] | None:
    """The expressions a function returns, when every way out of it is a `return <expr>` and it
    rebinds none of its parameters (so they still name what the caller passed); else None."""
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or isinstance(fn, ast.AsyncFunctionDef):
        return None
    body = fn.body
    if not body or not isinstance(body[-1], ast.Return) or body[-1].value is None:
        return None
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    returns: list[ast.expr] = []
    todo: list[ast.AST] = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Global, ast.Nonlocal)):
            return None
        if isinstance(node, ast.Return):
            if node.value is None:
                return None
            returns.append(node.value)
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and node.id in params:
            return None
        if isinstance(node, ast.NamedExpr) and node.target.id in params:
            return None
        todo.extend(ast.iter_child_nodes(node))
    return returns


def bind_names(fn: ast.FunctionDef, call: ast.Call, bound_self: bool) -> dict:
    """The predicate's parameter names -> the dotted name the call passes for each (names only)."""
    positional = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    if bound_self:
        positional = positional[1:]
    out: dict = {}
    for name, arg in zip(positional, call.args):
        if isinstance(arg, ast.Starred):
            break
        shown = dotted(arg)
        if shown is not None:
            out[name] = shown
    for kw in call.keywords:
        if kw.arg is not None and (shown := dotted(kw.value)) is not None:
            out[kw.arg] = shown
    return out
