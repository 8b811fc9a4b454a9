"""Rewrites that only the run can justify: the faithful form of a culprit the static rules cannot fix.

The engine's rules rewrite a write out of place (`x = x.mul(2)`), or give no fix when every such
rewrite would change the program (the write is *meant* to change a parameter, a caller's tensor, the
tensor a loop variable views). For those, the run shows what the write was for, and each has one
faithful form, which this module builds as plans the engine applies (`engine.fix_selected`):

- ``no_grad``: torch refused to write a leaf that requires grad, or a view of one (a parameter's
  initialisation, a manual optimizer step, an edit of weights, `w -= lr * w.grad`): the same write under
  ``with torch.no_grad():`` (the statement, a loop made only of such writes, or each of a run of them).
- ``base``: torch refused a write into a view that iterating a tensor made (``for t in x: t.sub_(m)``,
  ``zip(x, means)``): iterate ``x[i]`` instead, one view per index, which may be written in place; the
  writes reach ``x`` as before.
- ``caller``: a helper wrote into a tensor its caller passed and autograd had saved: clone it in the
  caller, before the call (``y = y.clone()``); the helper's write then changes the copy.
- ``value``: a write into one of several views whose result is used as a value
  (``[h[i].squeeze_(0) for i in ...]``): its out-of-place twin, the value kept, nothing rebound.
- ``switch``: an ``nn`` module made to write in place after it was built (``m.inplace = True`` in a loop
  over ``self.modules()``): set ``False`` there.

Each is an *unsafe* fix whose reasons say what it assumes: it is built on what one run showed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from outplace.analysis.effects import truthy_constant
from outplace.findings import Applicability, Finding, Fix
from outplace.plans import SWITCH_OFF_REASON, CallEdit, CallPlan, ClonePlan, NoGradPlan, ReplaceExprPlan
from outplace.source import char_col, split_lines

# Backward nodes of the views iterating a tensor makes.
ITERATION_NODES = ("UnbindBackward0",)
PURE_ITERABLE = (ast.Name, ast.Attribute, ast.Subscript)


@dataclass
class Repair:
    kind: str  # no_grad | base | caller | value | switch
    edits: dict[str, list[Finding]] = field(default_factory=dict)  # path -> findings carrying the plans
    reasons: tuple[str, ...] = ()


class Source:
    """One file's text, tree and parents, as the repairs need them."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.tree = ast.parse(text)
        self.lines = split_lines(text)
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    def node_at(self, site: dict | None, kinds: tuple = (ast.AST,)) -> ast.AST | None:
        """The node of one of `kinds` whose span (UTF-8 byte columns, as code positions) is the site's;
        else the outermost such node starting there."""
        if not site or site.get("col") is None:
            return None
        want = (site["line"], site["col"], site.get("end_line"), site.get("end_col"))
        found = None
        for node in ast.walk(self.tree):
            if not isinstance(node, kinds) or getattr(node, "end_lineno", None) is None:
                continue
            span = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
            if span == want:
                return node
            if span[:2] == want[:2] and found is None:
                found = node
        return found

    def statement(self, node: ast.AST) -> ast.stmt | None:
        while node is not None and not isinstance(node, ast.stmt):
            node = self.parent.get(node)
        return node

    def start(self, node: ast.AST) -> tuple[int, int]:
        return (node.lineno, self.char(node.lineno, node.col_offset))

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        return (node.lineno, self.char(node.lineno, node.col_offset),
                node.end_lineno, self.char(node.end_lineno, node.end_col_offset))

    def char(self, line: int, byte_col: int) -> int:
        return char_col(self.lines[line - 1] if 0 < line <= len(self.lines) else "", byte_col)

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def torch_name(self) -> str | None:
        """The module-level name bound to `torch` by an import."""
        for node in self.tree.body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "torch":
                        return alias.asname or "torch"
        return None

    def indent_unit(self) -> str:
        for node in ast.walk(self.tree):
            body = getattr(node, "body", None)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.For, ast.If, ast.While, ast.With)) and body:
                outer = _indent(self.lines[node.lineno - 1])
                inner = _indent(self.lines[body[0].lineno - 1])
                if inner.startswith(outer) and len(inner) > len(outer):
                    return inner[len(outer):]
        return "    "

    def names(self) -> set[str]:
        return {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)} | \
            {a.arg for a in ast.walk(self.tree) if isinstance(a, ast.arg)}


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def finding(code: str, message: str, src: Source, node: ast.AST, plan, reasons) -> Finding:
    line, col, end_line, end_col = src.span(node)
    return Finding(code, message, line, col + 1, end_line, end_col + 1,
                   Fix(Applicability.UNSAFE, tuple(reasons)), plan, "breaks", "")


# ---- which statement is a write, and into what -----------------------------------------------------

def write_target(stmt: ast.stmt) -> ast.AST | None:
    """The expression a statement that does nothing but write in place writes into: `x.add_(...)`,
    `x += ...`, `x[i] = ...`, `x[i] += ...`."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        while isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) and _inplace_name(func.attr):
            func = func.value.func  # a chain: the innermost receiver
        if isinstance(func, ast.Attribute) and _inplace_name(func.attr):
            return func.value
        return None
    if isinstance(stmt, ast.AugAssign):
        return stmt.target.value if isinstance(stmt.target, ast.Subscript) else stmt.target
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Subscript):
        return stmt.targets[0].value
    return None


def _inplace_name(name: str) -> bool:
    return name.endswith("_") and not name.endswith("__")


def root_name(expr: ast.AST | None) -> str | None:
    while isinstance(expr, (ast.Attribute, ast.Subscript, ast.Call)):
        expr = expr.func if isinstance(expr, ast.Call) else expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def reads_grad_of(stmt: ast.stmt, name: str) -> bool:
    """`w -= lr * w.grad`, `p.add_(-lr, p.grad)`: the write reads the written tensor's gradient."""
    value = stmt.value if isinstance(stmt, (ast.AugAssign, ast.Assign, ast.Expr)) else None
    if value is None:
        return False
    return any(isinstance(n, ast.Attribute) and n.attr == "grad" and root_name(n.value) == name for n in ast.walk(value))


# ---- the repairs ---------------------------------------------------------------------------------

def gradient_step(c, src: Source) -> Repair | None:
    """A leaf write that reads its own `.grad` (`w -= lr * w.grad`) is an optimizer step: its faithful
    form is the same write under no_grad, whatever the rules offer (rebinding `w` makes it a non-leaf
    whose `.grad` is None afterwards)."""
    if c.kind != "leaf":
        return None
    stmt = src.statement(src.node_at(c.at))
    target = write_target(stmt) if stmt is not None else None
    name = root_name(target)
    if name is None or not reads_grad_of(stmt, name):
        return None
    return no_grad(c, src, force=True)


def no_grad(c, src: Source, force: bool = False) -> Repair | None:
    """Torch refused to write a leaf that requires grad or a view of one: run the write under no_grad."""
    target = c.target or {}
    leafy = c.kind == "leaf" or target.get("parameter") or target.get("base_leaf") or \
        (target.get("leaf") and target.get("requires_grad"))
    if not (force or (c.kind in ("leaf", "view") and leafy)):
        return None
    torch = src.torch_name()
    stmt = src.statement(src.node_at(c.at))
    write = write_target(stmt) if stmt is not None else None
    root = root_name(write)
    if torch is None or write is None or root is None:
        return None
    block, loop = _siblings(src, stmt), src.parent.get(stmt)
    kind = type(stmt)
    run = [stmt]
    i = block.index(stmt) if stmt in block else -1
    while 0 <= i < len(block) - 1 and type(block[i + 1]) is kind and root_name(write_target(block[i + 1])) == root:
        run.append(block[i + 1])
        i += 1
    wrap = run
    if isinstance(loop, (ast.For, ast.While)) and not loop.orelse and all(
            write_target(s) is not None and root_name(write_target(s)) in (root, _loop_name(loop)) for s in loop.body):
        wrap = [loop]  # a loop made only of such writes: the whole loop under no_grad
    view = target.get("view") or "view of a leaf" in (c.message or "")
    what = ("a view of a parameter" if target.get("parameter") and view else "a parameter" if target.get("parameter")
            else "a view of a leaf that requires grad" if view else "a leaf that requires grad")
    reasons = (f"the run showed that `{src.segment(write)}` is {what}, which autograd refuses to write in place: the "
               "write updates its value (an initialisation, an optimizer step, an edit of weights), and under "
               "`torch.no_grad()` it does so without being recorded; if it was meant to be differentiated, write "
               "it out of place instead",)
    unit = src.indent_unit()
    code = _code(stmt)
    findings = [finding(code, f"run `{src.segment(s).splitlines()[0]}` under `{torch}.no_grad()`", src, s,
                        NoGradPlan(src.start(s), torch, unit), reasons) for s in wrap]
    return Repair("no_grad", {src.path: findings}, reasons)


def _siblings(src: Source, stmt: ast.stmt) -> list[ast.stmt]:
    parent = src.parent.get(stmt)
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and stmt in block:
            return block
    return [stmt]


def _loop_name(loop: ast.AST) -> str | None:
    target = getattr(loop, "target", None)
    return target.id if isinstance(target, ast.Name) else None


def _code(stmt: ast.stmt) -> str:
    if isinstance(stmt, ast.AugAssign):
        return "OP106" if isinstance(stmt.target, ast.Subscript) else "OP101"
    if isinstance(stmt, ast.Assign):
        return "OP106"
    return "OP102"


def through_base(c, src: Source) -> Repair | None:
    """A write into the view a loop over a tensor gave (`for t, m in zip(x, means): t.sub_(m)`):
    iterate one indexed view per step instead of the views `unbind` makes, so the writes reach `x`."""
    if c.kind != "view" or (c.target or {}).get("node") not in ITERATION_NODES:
        return None
    stmt = src.statement(src.node_at(c.at))
    name = root_name(write_target(stmt)) if stmt is not None else None
    if name is None:
        return None
    loop, iterable = _loop_over(src, stmt, name)
    if loop is None or not isinstance(iterable, PURE_ITERABLE) or not _pure(iterable):
        return None
    base = root_name(iterable)
    if base is None or _rebinds(loop, base):
        return None
    taken = src.names()
    index = next(n for n in ("i", "_i", "_k", "_index") + tuple(f"_i{k}" for k in range(100)) if n not in taken)
    text = src.segment(iterable)
    shown = text if isinstance(iterable, (ast.Name, ast.Attribute, ast.Subscript)) else f"({text})"
    new = f"({shown}[{index}] for {index} in range(len({shown})))"
    reasons = (f"the loop now takes `{shown}[{index}]` (a view per index, which may be written in place) instead of "
               f"the views iterating `{shown}` makes all at once (which may not): the same tensors and values, and "
               f"the writes reach `{shown}` as before; `{shown}` is evaluated on every step instead of once",)
    plan = ReplaceExprPlan(src.start(loop), src.span(iterable), new)
    f = finding(_code(stmt), f"iterate `{shown}` by index so that writes into its rows are allowed", src, iterable,
                plan, reasons)
    return Repair("base", {src.path: [f]}, reasons)


def _loop_over(src: Source, stmt: ast.stmt, name: str) -> tuple[ast.AST | None, ast.AST | None]:
    """The `for` loop around `stmt` that binds `name`, and the tensor expression it iterates for it."""
    node = src.parent.get(stmt)
    while node is not None and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
        if isinstance(node, ast.For):
            it = _iterated(node.target, node.iter, name)
            if it is not None:
                return node, it
        node = src.parent.get(node)
    return None, None


def _iterated(target: ast.AST, iterable: ast.AST, name: str) -> ast.AST | None:
    if isinstance(target, ast.Name):
        return iterable if target.id == name else None
    if not isinstance(target, (ast.Tuple, ast.List)) or not isinstance(iterable, ast.Call) or \
            not isinstance(iterable.func, ast.Name) or iterable.keywords:
        return None
    if iterable.func.id == "zip" and len(iterable.args) == len(target.elts):
        for t, a in zip(target.elts, iterable.args):
            found = _iterated(t, a, name)
            if found is not None:
                return found
    if iterable.func.id == "enumerate" and len(target.elts) == 2 and len(iterable.args) == 1:
        return _iterated(target.elts[1], iterable.args[0], name)
    return None


def _pure(expr: ast.AST) -> bool:
    """Names, attributes and constant indexes: evaluating it again gives the same object."""
    if isinstance(expr, ast.Name):
        return True
    if isinstance(expr, ast.Attribute):
        return _pure(expr.value)
    if isinstance(expr, ast.Subscript):
        return isinstance(expr.slice, ast.Constant) and _pure(expr.value)
    return False


def _rebinds(loop: ast.AST, name: str) -> bool:
    for node in ast.walk(loop):
        if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, (ast.Store, ast.Del)):
            return True
    return False


def clone_in_caller(c, load) -> Repair | None:
    """A helper wrote into its caller's tensor, which autograd had saved: clone it in the caller."""
    if c.kind != "write" or not c.callers:
        return None
    edits: dict[str, list[Finding]] = {}
    reasons: list[str] = []
    for caller in c.callers:
        names = caller.get("names") or []
        at = caller.get("at") or {}
        src = load(at.get("file"))
        if len(names) != 1 or src is None:
            return None
        call = src.node_at(at, (ast.Call,))
        stmt = src.statement(call) if call is not None else None
        if not isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign)):
            return None
        name = names[0]
        why = (f"`{name}` now names a copy made before `{src.segment(call)}` writes into it: the tensor autograd saved "
               f"keeps its values; any other reference to the original tensor no longer sees the write")
        reasons.append(why)
        edits.setdefault(src.path, []).append(finding(
            "OP101" if c.form and c.form.endswith("=") else "OP102",
            f"clone `{name}` before `{src.segment(call)}` writes into it", src, stmt,
            ClonePlan(src.start(stmt), name), (why,)))
    return Repair("caller", edits, tuple(reasons))


def value_twin(c, src: Source, ops) -> Repair | None:
    """A write into one of several views whose result is used as a value: its out-of-place twin."""
    if c.kind != "view":
        return None
    call = src.node_at(c.at, (ast.Call,))
    if call is None or not isinstance(call.func, ast.Attribute):
        return None
    row = ops.methods.get(call.func.attr)
    stmt = src.statement(call)
    if row is None or row["kind"] not in ("twin", "view") or not row.get("twin") or row["dtype"] != "same":
        return None
    if isinstance(stmt, ast.Expr) and stmt.value is call:
        return None  # a statement of its own: only its effect on the view counts, which the twin drops
    recv = src.segment(call.func.value)
    reasons = (f"`{recv}` itself is no longer changed, only the value is computed: code that reads `{recv}` "
               "afterwards sees it unchanged",)
    plan = CallPlan(src.start(stmt), ((src.span(call), CallEdit("rename", row["twin"])),))
    f = finding("OP102", f"`{call.func.attr}` -> `{row['twin']}`: the value, without writing", src, call, plan, reasons)
    return Repair("value", {src.path: [f]}, reasons)


def switch_off(c, load) -> Repair | None:
    """`m.inplace = True` (after the module was built) made this module write in place: set False."""
    at = c.inplace_set_at
    if c.form != "inplace=True" or not at:
        return None
    src = load(at.get("file"))
    if src is None:
        return None
    line = at["line"]
    for node in ast.walk(src.tree):
        if isinstance(node, ast.Assign) and node.lineno == line and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Attribute) and node.targets[0].attr == "inplace" and \
                truthy_constant(node.value):
            reasons = (SWITCH_OFF_REASON.format(assign=src.segment(node)),)
            plan = ReplaceExprPlan(src.start(node), src.span(node.value), "False")
            f = finding("OP104", "`inplace = True` -> `inplace = False`", src, node, plan, reasons)
            return Repair("switch", {src.path: [f]}, reasons)
    return None
