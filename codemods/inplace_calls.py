"""Shared judgement for rules whose in-place write is a call (OP102-OP105, OP107):
where the written tensor must be rebound, whether operands can change dtype or shape, and the
resulting `CallPlan`.
"""

from __future__ import annotations

import ast
import re

from outplace.analysis import Analysis, Info, Judgement
from outplace.analysis.imports import dotted
from outplace.analysis.shapes import operand_keeps_shape_and_dtype
from outplace.plans import CallEdit, CallPlan, ClonePlan

# Arguments that are not operands of the math (dims, flags, modes).
STRUCTURAL_KWARGS = {"dim", "dims", "keepdim", "dtype", "memory_format", "non_blocking", "generator", "out",
                     "inplace", "rounding_mode", "approximate", "implicit", "descending", "stable", "reduce",
                     "accumulate", "include_self", "index", "diagonal", "wrap"}
# In-place methods whose positional arguments are math operands (elsewhere positional ints are dims).
OPERAND_METHODS = {"add_", "sub_", "subtract_", "mul_", "multiply_", "div_", "divide_", "true_divide_",
                   "floor_divide_", "remainder_", "fmod_", "pow_", "float_power_", "clamp_", "clamp_min_",
                   "clamp_max_", "clip_", "addcmul_", "addcdiv_", "lerp_", "masked_fill_", "fill_", "copy_",
                   "maximum_", "minimum_", "fmax_", "fmin_", "hypot_", "atan2_", "xlogy_", "copysign_",
                   "bitwise_and_", "bitwise_or_", "bitwise_xor_", "bitwise_left_shift_", "bitwise_right_shift_",
                   "logical_and_", "logical_or_", "logical_xor_", "eq_", "ne_", "lt_", "le_", "gt_", "ge_",
                   "greater_", "greater_equal_", "less_", "less_equal_", "not_equal_", "add", "sub", "mul", "div"}


def operand_reasons(an: Analysis, target: Info, shown: str, args: list[ast.AST], *,
                    positional_operands: bool) -> list[str]:
    """Why computing out of place could give another dtype or shape than writing into `target`."""
    reasons: list[str] = []
    for i, (arg, is_kw) in enumerate(args):  # type: ignore[misc]
        if not is_kw and not positional_operands and literal_number(arg) and _is_int_literal(arg):
            continue
        info = an.info(arg)
        text = ast.unparse(arg)
        if info.tensor and operand_keeps_shape_and_dtype(an, arg, shown, target):
            continue  # `e /= e.norm(dim=-1, keepdim=True) + eps`: cannot broadcast or promote `e`
        if literal_number(arg) or info.is_scalar:
            reasons += scalar_reasons(target, shown, info.dtype if not literal_number(arg) else _lit_dtype(arg))
        elif isinstance(arg, ast.Constant) and (arg.value is None or isinstance(arg.value, (bool, str))):
            continue
        elif info.tensor:
            reasons.append(f"`{text}` is a tensor: out of place it may broadcast `{shown}` to a larger shape "
                           "or promote its dtype, where in place this raises or keeps the dtype")
        else:
            reasons.append(f"`{text}` may be a tensor that broadcasts or promotes `{shown}`")
    return reasons


# A complex Python number into a real tensor: in place the write raises ("result type ComplexFloat
# can't be cast to ... Float"), out of place it silently computes a complex tensor. Where the
# target is known to be real, that rewrite certainly changes behaviour (Rule.finding; eval26 U4).
COMPLEX_OPERAND = "a complex operand promotes `{shown}` out of place"


class CertainIfReal(str):
    """A reason against a rewrite that is a certainty, not a risk, where the written tensor is known
    to be real (Rule.finding then offers no fix at all)."""


def complex_trap(an, category: str, name: str, dtype: str | None, shown: str) -> str | None:
    """Why rewriting the in-place `name` may change behaviour on a complex tensor (the op table's
    measured `complex_traps`: `abs_` raises where `abs` returns real values; `F.silu(inplace=True)`
    runs with grad where `F.silu` raises): unless the tensor is known to be an integer or bool one
    (no dtype is known to be real: a float-only op of a complex tensor is complex). None: no trap."""
    trap = an.ops.complex_traps.get(category, {}).get(name)
    if trap is None or dtype in ("int", "bool"):
        return None
    return f"`{shown}` is not known to be a real tensor: {trap} (`{name}`)"


def layout_change(an, category: str, name: str, site: ast.AST, spelling: str | None, shown: str) -> str | None:
    """Why rewriting the in-place `name` may be seen: its out-of-place form returns another memory
    layout than the tensor's (optable.layout_changing: `tril`, `cumsum`, `masked_fill`...), and the
    layout is read after the write (eval49 D3). None: not one of those ops, or no such read."""
    if name not in an.ops.layout_changing.get(category, frozenset()):
        return None
    read = an.layout_read(site, spelling)
    if read is None:
        return None
    return (f"{read} reads the memory layout of `{shown}` after the write, and `{name}` out of place returns a "
            f"contiguous tensor where `{shown}` may not be one")


def scalar_reasons(target: Info, shown: str, scalar_dtype: str) -> list[str]:
    if scalar_dtype in ("float", "real") and target.dtype != "float":  # (real: an int or a float)
        return [f"`{shown}` is not known to be floating: with an integer tensor the float operand raises "
                "in place but silently promotes out of place"]
    if scalar_dtype in ("int", "unknown") and target.dtype not in ("float", "int"):
        return [f"the dtype of `{shown}` is unknown: a bool tensor raises in place but promotes out of place"]
    if scalar_dtype == "complex":
        return [CertainIfReal(COMPLEX_OPERAND.format(shown=shown))]
    if scalar_dtype == "unknown" and target.dtype != "complex":
        return [f"the operand is a Python number of unknown kind: a complex one raises in place but makes `{shown}` "
                "complex out of place"]
    return []


def literal_number(node: ast.AST) -> bool:
    """`2`, `-0.5`, `1e-3`: a python number literal."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _is_int_literal(node: ast.AST) -> bool:
    return _lit_dtype(node) == "int"


def _lit_dtype(node: ast.AST) -> str:
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return "float" if isinstance(node.value, float) else "int"  # type: ignore[attr-defined]


def call_args(call: ast.Call, skip_first: bool = False) -> list[tuple[ast.AST, bool]]:
    args = [(a, False) for a in call.args[1 if skip_first else 0:] if not isinstance(a, ast.Starred)]
    args += [(k.value, True) for k in call.keywords if k.arg and k.arg not in STRUCTURAL_KWARGS]
    return args


def shown_expr(node: ast.AST) -> str:
    """Source text of a receiver as it must be written before `.method()`: `(a / b)`, `x[0]`."""
    text = ast.unparse(node)
    atomic = (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant, ast.List, ast.Tuple, ast.Dict)
    return text if isinstance(node, atomic) else f"({text})"


def has_star_args(call: ast.Call) -> bool:
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


def torch_alias(an: Analysis, at: ast.AST | None = None) -> str | None:
    """The name bound to the torch module (`torch`, or `th` after `import torch as th`) that code at
    `at` can use: one no function around `at` binds to something else (`def f(a, torch="cpu")`)."""
    scope = an.index.scope_for(at).node if at is not None else an.tree
    for local, q in an.imports.names.items():
        if q == "torch" and not any(not isinstance(b.stmt, (ast.Import, ast.ImportFrom))
                                    for b in an.ctx.bindings_around(scope, local)):
            return local
    return None


def place_call(an: Analysis, stmt: ast.stmt, outer: ast.Call, receiver: ast.AST,
               edits: list[tuple[ast.Call, CallEdit]], target: Judgement, unknown_temporary: bool = False
               ) -> CallPlan | None:
    """A plan that rewrites `edits` and rebinds the receiver where the in-place result was kept.

    None when the write goes into a temporary that shares storage with something else
    (`buf.narrow(0, 0, 2).copy_(x)`): no rewrite can keep it. (Writes whose every rewrite would
    drop their effect are `target.certain`: the rule's finding offers no fix for them.)
    `unknown_temporary`: the caller takes a receiver the analysis cannot name and knows nothing of
    (`conv(x).unsqueeze_(1)` of a module it cannot see into) as one, with a reason that makes it unsafe."""
    spelling = dotted(receiver)
    if spelling is None and target.info.origin != "fresh" and not (unknown_temporary and target.info.origin == "unknown"):
        return None
    keyed = tuple((an.span(c), e) for c, e in edits)
    key = an.start(stmt)
    value = _whole_value(stmt)
    if value is outer:
        if isinstance(stmt, ast.Expr):
            return CallPlan(key, keyed, spelling) if spelling else None
        if isinstance(stmt, ast.Return):
            return CallPlan(key, keyed)
        target = dotted(stmt.targets[0]) if isinstance(stmt, ast.Assign) else dotted(stmt.target)  # type: ignore[attr-defined]
        if target is None:
            return None
        if spelling is None or spelling == target:
            return CallPlan(key, keyed)
        if isinstance(receiver, ast.Name) and not an.used_after(receiver.id, stmt):
            return CallPlan(key, keyed)
        if not isinstance(stmt, ast.Assign):
            return None
        return CallPlan(key, keyed, spelling)
    # Nested in a larger expression: only when nothing needs to see the new value afterwards, or
    # when the statement rebinds the name itself (`v = v.clamp_(min=0).to(dt)`).
    if spelling is None or (isinstance(receiver, ast.Name) and not an.used_after(receiver.id, stmt)):
        return CallPlan(key, keyed)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and dotted(stmt.targets[0]) == spelling:
        return CallPlan(key, keyed)
    return None


def clone_before(an: Analysis, stmt: ast.stmt, receiver: ast.AST, target: Judgement) -> ClonePlan | None:
    spelling = dotted(receiver)
    if spelling is None or not isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign)):
        return None
    first, last = stmt.lineno, getattr(stmt, "end_lineno", stmt.lineno) or stmt.lineno
    if any(first <= line <= last for line in target.saved_lines) and _read_in_value(stmt, spelling):
        # `b[:, 1] = act(b[:, 0])`: what saved the tensor is in this very statement; a clone before
        # it would be what that op saves, and the write would change it: backward would still fail.
        # (An index built from it, `t[t.abs() < eps] = eps`, feeds no gradient: the clone is fine.)
        # Computing the value first under a new name, then the clone, then the write is faithful
        # (Python computes the value before the store anyway): the RNN buffer filled step by step,
        # `hs[:, t + 1] = cell(x[:, t], hs[:, t])`.
        hoist = _hoist_name(an, stmt, spelling)
        return ClonePlan(an.start(stmt), spelling, hoist) if hoist is not None else None
    return ClonePlan(an.start(stmt), spelling)


def _hoist_name(an: Analysis, stmt: ast.stmt, spelling: str) -> str | None:
    """A name no line of the file uses, for the value `stmt` writes, where `stmt` is one plain store
    into a subscript of `spelling` inside a function (a class body or the module would get a new
    attribute) that does not read its own variables by name (`dir()`, `locals()`); None otherwise."""
    # Only a plain store: `a[i] = v` computes `v` first, then `a` and `i`, so `v` can go first under a
    # name; `a[i] += v` computes `i` before `v` (a `v` that moves `i` would pick another slot: eval44
    # B2). A binding inside the value (`(prev := hs)[:, t]`) would hold the old buffer (B4).
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1) or \
            any(isinstance(n, ast.NamedExpr) for n in ast.walk(stmt.value)):
        return None
    target = stmt.targets[0]
    owner = next((a for a in an.index.ancestors(stmt) if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                         ast.ClassDef, ast.Lambda))), None)
    text = an.ctx.text
    if not isinstance(target, ast.Subscript) or dotted(target.value) != spelling or text is None or \
            not isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef)) or an.flow_of(stmt).dynamic:
        return None
    base = f"new_{spelling.rsplit('.', 1)[-1].strip('_')}"
    for i in range(100):
        name = base if i == 0 else f"{base}{i + 1}"
        if not re.search(rf"\b{name}\b", text):
            return name
    return None


def _read_in_value(stmt: ast.stmt, spelling: str) -> bool:
    """Does the value written (the right-hand side; a method's arguments) read `spelling`?"""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        parts: list[ast.AST] = []
        call: ast.AST = stmt.value
        while isinstance(call, ast.Call):  # `x.add_(...).mul_(x)`: every call of the chain
            parts += [*call.args, *(k.value for k in call.keywords)]
            call = call.func.value if isinstance(call.func, ast.Attribute) else call.func
    elif isinstance(stmt, (ast.Assign, ast.AugAssign)):
        parts = [stmt.value]
    else:
        return True
    return any(dotted(n) == spelling for p in parts for n in ast.walk(p) if isinstance(n, (ast.Name, ast.Attribute)))


def follows_clone(an: Analysis, stmt: ast.stmt, spelling: str | None) -> bool:
    """`x = x.clone()` right before: the write goes to a fresh copy (what --clone produces)."""
    if spelling is None:
        return False
    parent = an.index.parent.get(stmt)
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and stmt in block:
            i = block.index(stmt)
            if i == 0:
                return False
            prev = block[i - 1]
            return (isinstance(prev, ast.Assign) and len(prev.targets) == 1
                    and dotted(prev.targets[0]) == spelling and isinstance(prev.value, ast.Call)
                    and isinstance(prev.value.func, ast.Attribute) and prev.value.func.attr == "clone"
                    and dotted(prev.value.func.value) == spelling)
    return False


def _whole_value(stmt: ast.stmt) -> ast.AST | None:
    if isinstance(stmt, (ast.Expr, ast.Return)):
        return stmt.value
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        return stmt.value
    if isinstance(stmt, ast.AnnAssign):
        return stmt.value
    return None
