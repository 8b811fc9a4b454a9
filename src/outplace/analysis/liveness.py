"""Which local names may still be read after each step of a scope (backward liveness on the CFG).

A name is live after a step when some path from there reads it before rebinding it. Reads in
nested functions, lambdas and comprehensions count where they are defined (they may run later:
the safety proof treats such names as captured anyway). Module-level names are read by every
function of the module: the caller makes them live at the scope's exit.
"""

from __future__ import annotations

import ast

from outplace.analysis.cfg import CFG, Step
from outplace.analysis.scopes import _children, walk

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_SCOPE_TYPES = frozenset(_SCOPES)


def step_uses_defs(step: Step) -> tuple[set[str], set[str]]:
    """(names read, names bound) by one step; reads happen before the binds."""
    kind, node = step
    uses: set[str] = set()
    defs: set[str] = set()
    if kind == "stmt":
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            parts = list(getattr(node, "decorator_list", []))
            if isinstance(node, ast.ClassDef):
                parts += node.bases + [k.value for k in node.keywords]
            else:
                parts += [d for d in node.args.defaults + node.args.kw_defaults if d is not None]
            for p in parts:
                _names(p, uses, defs)
            _free_reads(node, uses)
            defs.add(node.name)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            _names(node.value, uses, defs)
            uses.add(node.target.id)
            defs.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                defs.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            pass
        else:
            _names(node, uses, defs)
    elif kind == "test":
        _names(node, uses, defs)
    elif kind == "iter":
        _names(node.iter, uses, defs)  # type: ignore[attr-defined]
    elif kind == "target":
        _names(node.target, uses, defs)  # type: ignore[attr-defined]
    elif kind == "chain":  # `for m in ITER: y = m(y)`: ITER and y read, m and y bound
        _names(node.iter, uses, defs)  # type: ignore[attr-defined]
        call = node.body[0].value  # type: ignore[attr-defined]
        _names(call, uses, defs)
        uses.discard(node.target.id)  # type: ignore[attr-defined]
        _names(node.body[0].targets[0], uses, defs)  # type: ignore[attr-defined]
        defs.add(node.target.id)  # type: ignore[attr-defined]
    elif kind == "with":
        _names(node.context_expr, uses, defs)  # type: ignore[attr-defined]
        if node.optional_vars is not None:  # type: ignore[attr-defined]
            _names(node.optional_vars, uses, defs)  # type: ignore[attr-defined]
    elif kind == "handler":
        if node.type is not None:  # type: ignore[attr-defined]
            _names(node.type, uses, defs)  # type: ignore[attr-defined]
        if node.name:  # type: ignore[attr-defined]
            defs.add(node.name)  # type: ignore[attr-defined]
    elif kind == "case":
        for n in ast.walk(node.pattern):  # type: ignore[attr-defined]
            name = getattr(n, "name", None)
            if isinstance(name, str):
                defs.add(name)
        if node.guard is not None:  # type: ignore[attr-defined]
            _names(node.guard, uses, defs)  # type: ignore[attr-defined]
    return uses, defs


# What a read of these sees an in-place write never changes (nor would its out-of-place rewrite, for
# the tensor written or any other name for it): `out = x; out[:, :, :h] = v; ... x.size(2)` reads
# only `x`'s shape. Not a read of its values: it keeps no name live. (`requires_grad` is left out:
# writing a graph tensor into one that required none makes it require grad.)
SHAPE_ONLY_ATTRS = frozenset({"shape", "size", "dim", "ndim", "ndimension", "numel", "nelement", "dtype", "device",
                              "is_cuda", "get_device", "element_size", "is_floating_point", "is_complex", "layout"})


def _names(node: ast.AST, uses: set[str], defs: set[str]) -> None:
    todo = [node]
    while todo:
        n = todo.pop()
        t = type(n)
        if t is ast.Attribute and n.attr in SHAPE_ONLY_ATTRS and type(n.value) is ast.Name:
            continue  # (`x.size(2)`, `x.shape`: see SHAPE_ONLY_ATTRS)
        if t is ast.Name:
            if type(n.ctx) is ast.Load:
                uses.add(n.id)
            else:
                defs.add(n.id)
            continue
        if t in _SCOPE_TYPES:
            _free_reads(n, uses)
            if t is ast.Lambda:
                todo.extend(d for d in n.args.defaults + n.args.kw_defaults if d is not None)
            continue
        todo.extend(_children(n))


def _free_reads(scope: ast.AST, uses: set[str]) -> None:
    """Every name read anywhere inside a nested scope (an over-approximation of its free names)."""
    for n in walk(scope):
        if type(n) is ast.Name and type(n.ctx) is ast.Load:
            uses.add(n.id)


class Liveness:
    """live_after(block, index): the names that may be read after that step."""

    def __init__(self, cfg: CFG, live_at_exit: frozenset[str] = frozenset()) -> None:
        self.cfg = cfg
        n = len(cfg.blocks)
        self.gen: list[list[tuple[set[str], set[str]]]] = [[step_uses_defs(s) for s in b.steps] for b in cfg.blocks]
        live_in: list[frozenset[str]] = [frozenset()] * n
        live_out: list[frozenset[str]] = [frozenset()] * n
        live_out[cfg.exit] = live_at_exit
        live_in[cfg.exit] = live_at_exit
        order = list(reversed(cfg.reverse_postorder()))
        changed = True
        while changed:
            changed = False
            for b in order:
                block = cfg.blocks[b]
                out = frozenset().union(*(live_in[s] for s in block.succ)) if block.succ else live_out[b]
                if b == cfg.exit:
                    out = out | live_at_exit
                live = set(out)
                for uses, defs in reversed(self.gen[b]):
                    live -= defs
                    live |= uses
                new_in = frozenset(live)
                if new_in != live_in[b] or out != live_out[b]:
                    live_in[b], live_out[b] = new_in, out
                    changed = True
        self.live_in, self.live_out = live_in, live_out

    def live_after(self, block: int, index: int) -> frozenset[str]:
        live = set(self.live_out[block])
        for uses, defs in reversed(self.gen[block][index + 1:]):
            live -= defs
            live |= uses
        return frozenset(live)
