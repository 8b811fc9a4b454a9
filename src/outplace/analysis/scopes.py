"""Per-scope name facts on the stdlib AST: where each name is bound, what reaches a given use,
and where another reference to a name's tensor is created (aliases, views, stores, escapes).

Flow is approximated the cheap way: source order, block dominance and loops. That is enough to
answer the two questions the safety model asks at an in-place write `x.op_()`:
  * which bindings of `x` can reach here (to know what `x` is: fresh, a view, a parameter...);
  * can some other reference to that tensor exist here (then a rewrite would be observable).
"""

from __future__ import annotations

import ast
import bisect
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator

Pos = tuple[int, int]

# The node types the rules ask for by type (Analysis.nodes); only these are collected while walking.
INDEXED_TYPES = (ast.Call, ast.Assign, ast.AugAssign)
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
    nested: list[ast.AST] = field(default_factory=list)  # functions, lambdas, classes, comprehensions in it

    @property
    def is_function(self) -> bool:
        return isinstance(self.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))


class ScopeIndex:
    """Parents, enclosing scopes, bindings and loads, built lazily one scope at a time.

    Only scopes that contain a line of `interest` are indexed up front (plus the module's own
    top-level code); others on demand (`ensure_scope_of`). Each scope is walked once, and that one
    walk records parents, the scope of every node, bindings, loads, imports and nodes by type.
    """

    def __init__(self, tree: ast.Module, interest: set[int] | None = None) -> None:
        self.tree = tree
        self.interest = interest
        self._interest_sorted = sorted(interest or ())
        self.parent: dict[ast.AST, ast.AST] = {}
        self.scope_of: dict[ast.AST, Scope] = {}  # node -> innermost scope it belongs to
        self.scopes: dict[ast.AST, Scope] = {}
        self.by_type: dict[type, list[ast.AST]] = {t: [] for t in INDEXED_TYPES}
        self.imports: list[ast.AST] = []  # Import/ImportFrom nodes seen so far
        self._pending: dict[ast.AST, list[ast.AST]] = {}  # indexed scope -> nested scopes not yet indexed
        self._index_scope(tree)

    # ---- construction -------------------------------------------------------------------------
    def _wanted(self, node: ast.AST) -> bool:
        if self.interest is None:
            return True
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])  # type: ignore[attr-defined]
        i = bisect.bisect_left(self._interest_sorted, first)
        return i < len(self._interest_sorted) and self._interest_sorted[i] <= node.end_lineno  # type: ignore[attr-defined]

    def _index_scope(self, node: ast.AST) -> Scope:
        scope = Scope(node)
        self.scopes[node] = scope
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            self._add_params(node, scope)
        if isinstance(node, ast.Lambda):
            roots: list[ast.AST] = [node.body]
        elif isinstance(node, ast.Module):
            roots = list(node.body)
        else:
            roots = list(node.body)  # type: ignore[attr-defined]
        for r in roots:
            self.parent[r] = node
        nested: list[ast.AST] = []
        stack = roots[::-1]
        by_type, parent, scope_of, note, getters = self.by_type, self.parent, self.scope_of, _NOTE, _CHILDREN
        while stack:  # the hot loop of the whole analysis: kept lean
            n = stack.pop()
            t = type(n)
            scope_of[n] = scope
            if t in by_type:
                by_type[t].append(n)
            if t in note:
                note[t](self, scope, n)
            if t in _COMPREHENSION_TYPES:
                scope.nested.append(n)
            if t in _SCOPE_TYPES:
                nested.append(n)
                scope.nested.append(n)
                # Decorators, defaults and bases are evaluated here, in the outer scope.
                children = _outer_parts(n)
            else:
                getter = getters.get(t)
                children = getter(n) if getter is not None else _children(n)
            if children:
                for c in children:
                    parent[c] = n
                children.reverse()
                stack += children
        pending = []
        for inner in nested:
            if self._wanted(inner):
                self._index_scope(inner)
            else:
                pending.append(inner)
        if pending:
            self._pending[node] = pending
        return scope

    def ensure_scope_of(self, node: ast.AST) -> None:
        """Index the scopes enclosing `node` (a node found by walking an unindexed part of the tree)."""
        if node in self.scope_of:
            return
        for owner, pending in list(self._pending.items()):
            for inner in pending:
                if self.contains_by_position(inner, node):
                    pending.remove(inner)
                    self._index_scope(inner)
                    self.ensure_scope_of(node)
                    return

    def ensure_indexed(self, scope: ast.AST) -> None:
        """Index `scope` itself (a function or class found by walking an unindexed part of the tree)."""
        if scope in self.scopes:
            return
        for owner, pending in list(self._pending.items()):
            if scope in pending:
                pending.remove(scope)
                self._index_scope(scope)
                return
        # Nested deeper: index the scopes around it first.
        self.ensure_scope_of(scope)
        for owner, pending in list(self._pending.items()):
            if scope in pending:
                pending.remove(scope)
                self._index_scope(scope)
                return

    @staticmethod
    def contains_by_position(outer: ast.AST, inner: ast.AST) -> bool:
        return (outer.lineno, outer.col_offset) <= (inner.lineno, inner.col_offset) and \
            (inner.end_lineno, inner.end_col_offset) <= (outer.end_lineno, outer.end_col_offset)  # type: ignore

    @staticmethod
    def _add_params(fn: ast.AST, scope: Scope) -> None:
        args = fn.args  # type: ignore[attr-defined]
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None:
                scope.params[a.arg] = a
                scope.bindings.setdefault(a.arg, []).append(Binding(a.arg, fn, fn, "param"))

    def _note_name(self, scope: Scope, node: ast.Name) -> None:
        if type(node.ctx) is ast.Load:
            scope.loads.setdefault(node.id, []).append(node)
        else:
            self._bind(scope, node)

    def _note_global(self, scope: Scope, node: ast.Global | ast.Nonlocal) -> None:
        scope.declared_global.update(node.names)

    def _note_import(self, scope: Scope, node: ast.Import | ast.ImportFrom) -> None:
        self.imports.append(node)
        for alias in node.names:
            name = (alias.asname or alias.name).split(".")[0]
            scope.bindings.setdefault(name, []).append(Binding(name, node, node, "opaque"))

    def _note_named(self, scope: Scope, node: ast.AST) -> None:
        name = node.name  # type: ignore[attr-defined]
        if name:
            scope.bindings.setdefault(name, []).append(Binding(name, node, node, "opaque"))

    def _note_pattern(self, scope: Scope, node: ast.AST) -> None:
        """A `match` pattern's capture (`case act:`, `case [*rest]:`, `case {**rest}:`) binds a name
        (at module level a global: eval45 g12)."""
        name = node.rest if isinstance(node, ast.MatchMapping) else node.name  # type: ignore[attr-defined]
        if name:
            scope.bindings.setdefault(name, []).append(Binding(name, node, self.statement_of(node), "opaque"))

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


_SCOPE_TYPES = frozenset(SCOPE_NODES)
_COMPREHENSION_TYPES = frozenset((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
_NOTE = {
    ast.Name: ScopeIndex._note_name, ast.Global: ScopeIndex._note_global, ast.Nonlocal: ScopeIndex._note_global,
    ast.Import: ScopeIndex._note_import, ast.ImportFrom: ScopeIndex._note_import,
    ast.FunctionDef: ScopeIndex._note_named, ast.AsyncFunctionDef: ScopeIndex._note_named,
    ast.ClassDef: ScopeIndex._note_named, ast.ExceptHandler: ScopeIndex._note_named,
    ast.MatchAs: ScopeIndex._note_pattern, ast.MatchStar: ScopeIndex._note_pattern,
    ast.MatchMapping: ScopeIndex._note_pattern,
}
# What `_children` leaves out: scalars and the expression-context/operator singletons (a third of all
# nodes, never worth visiting), by their ASDL types as each node class's docstring spells them:
# `Call(expr func, expr* args, keyword* keywords)`.
_LEAF_TYPES = {"identifier", "string", "constant", "int", "expr_context", "operator", "cmpop", "unaryop",
               "boolop", "type_ignore"}
_ASDL_FIELD = re.compile(r"(\w+)([*?]?) (\w+)")
_LISTS_WITH_NONE = {(ast.Dict, "keys"), (ast.arguments, "kw_defaults")}  # `{**d}`, `def f(*, a)`
_CHILDREN: dict[type, Callable[[ast.AST], list[ast.AST]]] = {}


def _children(node: ast.AST) -> list[ast.AST]:
    """ast.iter_child_nodes without contexts and operators, in field order; one generated getter per
    node class (a generic loop over `_fields` with isinstance checks costs twice as much)."""
    t = type(node)
    getter = _CHILDREN.get(t)
    if getter is None:
        getter = _CHILDREN[t] = _children_getter(t)
    return getter(node)


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node` (itself included) like ast.walk, in no promised order, without
    contexts and operators; about twice as fast."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack += _children(n)


def _children_getter(cls: type) -> Callable[[ast.AST], list[ast.AST]]:
    spec = {name: (kind, mark) for kind, mark, name in _ASDL_FIELD.findall((cls.__doc__ or "").partition("(")[2])}
    lines = ["def children(n):", "    out = []"]
    for name in cls._fields:  # type: ignore[attr-defined]
        kind, mark = spec.get(name, ("?", "?"))
        if kind in _LEAF_TYPES:
            continue
        if kind == "?" or (cls, name) in _LISTS_WITH_NONE:
            lines.append(f"    out += _nodes(n.{name})")
        elif mark == "*":
            lines.append(f"    out += n.{name}")
        elif mark == "?":
            lines += [f"    v = n.{name}", "    if v is not None:", "        out.append(v)"]
        else:
            lines.append(f"    out.append(n.{name})")
    lines.append("    return out")
    namespace: dict = {"_nodes": _nodes}
    exec("\n".join(lines), namespace)  # noqa: S102 - code built from ast's own field names
    return namespace["children"]


def _nodes(value: object) -> list[ast.AST]:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, ast.AST)]
    return [value] if isinstance(value, ast.AST) else []


def _outer_parts(node: ast.AST) -> list[ast.AST]:
    """The parts of a def/class/lambda that the enclosing scope evaluates."""
    parts: list[ast.AST] = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        parts += node.bases + [k.value for k in node.keywords]
    else:
        args = node.args  # type: ignore[attr-defined]
        parts += [d for d in args.defaults + args.kw_defaults if d is not None]
    return parts
