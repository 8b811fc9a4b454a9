"""Per-scope name facts on the stdlib AST: where each name is bound, what reaches a given use,
and where another reference to a name's tensor is created (aliases, views, stores, escapes).

Flow is approximated the cheap way: source order, block dominance and loops. That is enough to
answer the two questions the safety model asks at an in-place write `x.op_()`:
  * which bindings of `x` can reach here (to know what `x` is: fresh, a view, a parameter...);
  * can some other reference to that tensor exist here (then a rewrite would be observable).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator

Pos = tuple[int, int]

SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
LOOP_NODES = (ast.For, ast.AsyncFor, ast.While)


def pos(node: ast.AST) -> Pos:
    return (node.lineno, node.col_offset)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Binding:
    name: str
    node: ast.AST  # the target node (its position orders bindings)
    stmt: ast.AST  # the enclosing statement
    kind: str  # "assign" | "param" | "aug" | "opaque"
    value: ast.AST | None = None  # the bound expression for kind "assign"


@dataclass
class Scope:
    node: ast.AST  # Module, FunctionDef, AsyncFunctionDef or Lambda
    params: dict[str, ast.arg] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)  # `global`/`nonlocal` names
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    loads: dict[str, list[ast.Name]] = field(default_factory=dict)

    @property
    def is_module(self) -> bool:
        return isinstance(self.node, ast.Module)

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))


class ScopeIndex:
    """Parents, enclosing statements, loops and scopes for every node of one module."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.parent: dict[ast.AST, ast.AST] = {}
        self.scope_of: dict[ast.AST, Scope] = {}  # node -> innermost scope it belongs to
        self.scopes: dict[ast.AST, Scope] = {}
        self._build(tree, Scope(tree))

    # ---- construction -------------------------------------------------------------------------
    def _build(self, root: ast.AST, root_scope: Scope) -> None:
        self.scopes[root] = root_scope
        stack: list[tuple[ast.AST, Scope]] = [(root, root_scope)]
        while stack:
            node, scope = stack.pop()
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node
                child_scope = scope
                if isinstance(child, SCOPE_NODES):
                    self.scope_of[child] = scope  # the def itself lives in the outer scope
                    if isinstance(child, ast.ClassDef):
                        # Class bodies bind names of their own; treat them as a scope of their own.
                        child_scope = Scope(child)
                    else:
                        child_scope = Scope(child)
                        self._add_params(child, child_scope)
                    self.scopes[child] = child_scope
                    # decorators, defaults and bases are evaluated in the outer scope
                    for outer in _outer_parts(child):
                        self.parent.setdefault(outer, child)
                    stack.append((child, child_scope))
                    continue
                self.scope_of[child] = scope
                stack.append((child, child_scope))
        for scope in self.scopes.values():
            self._collect(scope)

    @staticmethod
    def _add_params(fn: ast.AST, scope: Scope) -> None:
        args = fn.args  # type: ignore[attr-defined]
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None:
                scope.params[a.arg] = a
                scope.bindings.setdefault(a.arg, []).append(Binding(a.arg, fn, fn, "param"))

    def _collect(self, scope: Scope) -> None:
        for node in self.walk_scope(scope):
            if isinstance(node, (ast.Global, ast.Nonlocal)):
                scope.declared_global.update(node.names)
            elif isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    scope.loads.setdefault(node.id, []).append(node)
                else:
                    self._bind(scope, node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    name = (alias.asname or alias.name).split(".")[0]
                    scope.bindings.setdefault(name, []).append(Binding(name, node, node, "opaque"))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not scope.node:
                scope.bindings.setdefault(node.name, []).append(Binding(node.name, node, node, "opaque"))
            elif isinstance(node, ast.ExceptHandler) and node.name:
                scope.bindings.setdefault(node.name, []).append(Binding(node.name, node, node, "opaque"))

    def _bind(self, scope: Scope, target: ast.Name) -> None:
        parent = self.parent[target]
        stmt = self.statement_of(target)
        if isinstance(parent, ast.Assign) and target in parent.targets or \
                isinstance(parent, ast.AnnAssign) and target is parent.target:
            b = Binding(target.id, target, stmt, "assign", parent.value)
        elif isinstance(parent, ast.NamedExpr):
            b = Binding(target.id, target, stmt, "assign", parent.value)
        elif isinstance(parent, ast.AugAssign):
            b = Binding(target.id, target, stmt, "aug", parent.value)
        else:  # loop targets, unpacking, with-as, comprehension targets, del...
            b = Binding(target.id, target, stmt, "opaque")
        scope.bindings.setdefault(target.id, []).append(b)

    # ---- navigation ---------------------------------------------------------------------------
    def walk_scope(self, scope: Scope) -> Iterator[ast.AST]:
        """Nodes that belong to `scope` (nested function/class bodies excluded, their defs included)."""
        todo = list(ast.iter_child_nodes(scope.node)) if not isinstance(scope.node, ast.Lambda) else [scope.node.body]
        if isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo = list(scope.node.body)
        while todo:
            node = todo.pop()
            yield node
            if isinstance(node, SCOPE_NODES):
                continue
            todo.extend(ast.iter_child_nodes(node))

    def statement_of(self, node: ast.AST) -> ast.AST:
        while not isinstance(node, ast.stmt) and node in self.parent:
            node = self.parent[node]
        return node

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        while node in self.parent:
            node = self.parent[node]
            yield node

    def loops_around(self, node: ast.AST) -> list[ast.AST]:
        """Enclosing loops inside the node's own scope, innermost first."""
        out = []
        for anc in self.ancestors(node):
            if isinstance(anc, SCOPE_NODES):
                break
            if isinstance(anc, LOOP_NODES) and _in_loop_body(anc, node, self):
                out.append(anc)
        return out

    def scope_for(self, node: ast.AST) -> Scope:
        return self.scope_of.get(node) or self.scopes[self.tree]

    def contains(self, outer: ast.AST, inner: ast.AST) -> bool:
        return inner is outer or any(a is outer for a in self.ancestors(inner))

    def dominates(self, stmt: ast.AST, use: ast.AST) -> bool:
        """True when `stmt` runs before `use` on every path (same or enclosing statement list)."""
        owner = self.parent.get(stmt)
        if owner is None:
            return False
        for fieldname in ("body", "orelse", "finalbody"):
            block = getattr(owner, fieldname, None)
            if isinstance(block, list) and stmt in block:
                idx = block.index(stmt)
                for anc in [use, *self.ancestors(use)]:
                    if self.parent.get(anc) is owner and anc in block:
                        return block.index(anc) > idx
                return False
        return False

    # ---- the two questions ----------------------------------------------------------------------
    def reaching(self, scope: Scope, name: str, at: ast.AST) -> tuple[list[Binding], Binding | None]:
        """Bindings of `name` that may reach `at`, and the dominating one they start from (if any)."""
        binds = [b for b in scope.bindings.get(name, []) if b.kind != "aug"]
        here = pos(at)
        at_stmt = self.statement_of(at)
        before = [b for b in binds if b.kind == "param" or (pos(b.node) < here and b.stmt is not at_stmt)]
        dom = None
        for b in sorted(before, key=lambda b: (0, 0) if b.kind == "param" else pos(b.node), reverse=True):
            if b.kind == "param" or self.dominates(b.stmt, at):
                dom = b
                break
        if dom is not None:
            dom_pos = (0, 0) if dom.kind == "param" else pos(dom.node)
            result = [dom] + [b for b in before if b is not dom and b.kind != "param" and pos(b.node) > dom_pos]
        else:
            result = list(before)
        for loop in self.loops_around(at):
            if dom is not None and dom.kind != "param" and self.contains(loop, dom.stmt):
                break
            result += [b for b in binds if b.kind != "param" and pos(b.node) >= here and self.contains(loop, b.stmt)
                       and b not in result]
        return result, dom

    def in_common_loop(self, a: ast.AST, b: ast.AST, within: ast.AST | None = None) -> bool:
        for loop in self.loops_around(b):
            if within is not None and self.contains(loop, within):
                return False
            if self.contains(loop, a):
                return True
        return False


def _in_loop_body(loop: ast.AST, node: ast.AST, index: ScopeIndex) -> bool:
    """A node in a for-loop's `iter` runs once; only the body (and while-test) repeats."""
    for anc in [node, *index.ancestors(node)]:
        if index.parent.get(anc) is loop:
            if isinstance(loop, ast.While):
                return anc is loop.test or anc in loop.body
            return anc in loop.body
    return False


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    parts: list[ast.AST] = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        parts += node.bases + [k.value for k in node.keywords]
    elif not isinstance(node, ast.ClassDef):
        args = node.args  # type: ignore[attr-defined]
        parts += [d for d in args.defaults + args.kw_defaults if d is not None]
    return parts
