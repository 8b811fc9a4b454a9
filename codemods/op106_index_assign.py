"""OP106: index/slice assignment into a tensor (`x[m] = 0`, `x[:, 0] = v`, `x[i] += v`)."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import Analysis
from outplace.analysis.imports import dotted
from outplace.findings import Finding
from outplace.plans import MaskedFillPlan

from .base import Rule, RuleDoc
from .inplace_calls import clone_before, follows_clone, shown_expr, torch_alias
from .op101_augmented_assign import OPS

ELEMENTWISE_PREDICATES = {"isnan", "isinf", "isfinite", "isneginf", "isposinf", "signbit", "isreal"}


class IndexAssign(Rule):
    code = "OP106"
    name = "index-assign"
    summary = "Index or slice assignment writes into a tensor in place"
    doc = RuleDoc(
        what="Finds assignments and augmented assignments to an index or slice of a tensor: `x[m] = 0`, "
             "`x[:, 0] = v`, `x[i] += v`.",
        why="`x[idx] = v` is `x.__setitem__`, an in-place copy into `x`'s storage. If autograd saved `x` "
            "(the output of `sigmoid`/`exp`/`tanh`, an input of `mul`), backward fails with \"modified by "
            "an inplace operation\"; on a leaf that requires grad it fails at once.",
        example="p = torch.softmax(logits, -1)\np[p < 1e-6] = 0",
        use_instead="p = torch.softmax(logits, -1)\np = torch.where(p < 1e-6, 0, p)",
        fix_safety="With a boolean mask computed elementwise from the tensor itself (`x[x > 0] = 0`, "
                   "`x[torch.isnan(x)] = 0`, or a mask name bound to such an expression) and a scalar value, "
                   "the exact form is `x = torch.where(mask, v, x)`: it keeps `x`'s memory layout (the mask "
                   "shares it) and, for a scalar no wider than `x`'s dtype, its dtype; where the dtype could "
                   "change, the fix is `x = x.masked_fill(mask, v)` and unsafe (its result is contiguous even "
                   "where `x` is a transposed view). Other indexing (slices, integer or "
                   "prefix masks, tensor values) has no exact one-line form; with `--clone` it becomes "
                   "`x = x.clone()` before the write, which is always faithful for values and gradients; "
                   "where the value written saves `x` itself (`hs[:, t + 1] = cell(hs[:, t])`, an RNN buffer "
                   "filled step by step), a plain store computes the value first under a new name, then "
                   "clones, then stores (an augmented store, which reads its index first, gets none). "
                   "Either fix is unsafe when `x` is a parameter, attribute, global, view or alias: views "
                   "taken of `x` earlier would no longer see the write.",
    )

    def findings(self, an: Analysis) -> Iterator[Finding]:
        for node in [*an.nodes(ast.Assign), *an.nodes(ast.AugAssign)]:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Subscript):
                continue
            sub = targets[0]
            if _string_key(sub.slice) or never_a_tensor_element(node.value) or an.intent_reason(node):
                continue
            if an.obviously_not_tensor(sub.value, node):
                continue
            judged = an.write(node, sub.value)
            if judged is None or judged.hazard is None or not judged.info.sure:
                continue  # no tensor, or maybe a numpy array or a list: `.masked_fill`/`.clone()` would crash
            shown = judged.spelling or shown_expr(sub.value)
            if follows_clone(an, node, judged.spelling):
                continue
            plan = None
            reasons = judged.reasons
            if isinstance(node, ast.Assign) and _elementwise_mask(an, sub.slice, sub.value, node) and _scalar(an, node.value):
                torch = torch_alias(an, node)
                if torch is not None and _where_keeps_dtype(an.info(node.value).dtype, judged.safety_info.dtype):
                    plan = MaskedFillPlan(an.start(node), where=torch)
                else:
                    plan = MaskedFillPlan(an.start(node))
                    reasons = (*reasons, MASKED_FILL_LAYOUT.format(shown=shown))
            elif an.settings.clone:
                plan = clone_before(an, node, sub.value, judged)
            op = "=" if isinstance(node, ast.Assign) else OPS[type(node.op)] + "="
            yield self.finding(an, node, f"`{shown}[...] {op} ...` writes into tensor `{shown}` in place",
                               plan, reasons, judged)


# `masked_fill` returns a contiguous tensor whatever the layout of its input (adversarial review,
# eval12): where `h` is a transposed or permuted view, or computed elementwise from one, a later
# `.view(-1)` raises and a sum adds in another order. The analysis does not follow layouts: the fix
# is safe only as `torch.where(mask, v, h)`, whose result takes the layout its inputs share (the
# mask is computed elementwise from `h`), where its dtype is `h`'s.
MASKED_FILL_LAYOUT = ("`{shown}.masked_fill(...)` is contiguous where `{shown}` may not be (a transposed or permuted "
                      "tensor, or computed from one): a later `.view()` or the order of a sum could differ")


def _where_keeps_dtype(value: str | None, tensor: str | None) -> bool:
    """Does `torch.where(mask, v, x)` keep x's dtype, as the write into x does, for a Python scalar
    `v` of dtype class `value`? A scalar never promotes a tensor of its own class or a wider one;
    a float into an integer tensor, or an int into a bool one, would."""
    fits = {"bool": ("bool", "int", "float", "complex"), "int": ("int", "float", "complex"), "float": ("float", "complex")}
    return tensor in fits.get(value or "", ())


def never_a_tensor_element(value: ast.AST) -> bool:
    """`cache[i] = "Rep"`, `slots[i] = None`: a tensor cannot store a string or None, so what is
    subscripted is a container (diffusers' VAE feature caches)."""
    if isinstance(value, ast.Constant):
        return value.value is None or isinstance(value.value, (str, bytes))
    return isinstance(value, (ast.JoinedStr, ast.Dict))


def _string_key(index: ast.AST) -> bool:
    """`d["eta"] = v`, `sd[prefix + ".weight"] = w`: an index that ends in a string literal keys a
    mapping (a tensor index cannot hold a string). candidate_lines skips these lines for the same reason."""
    while True:
        if isinstance(index, ast.Constant):
            return isinstance(index.value, (str, bytes))
        if isinstance(index, ast.JoinedStr):
            return True
        if isinstance(index, ast.BinOp):
            index = index.right
        elif isinstance(index, ast.IfExp):
            index = index.orelse
        elif isinstance(index, ast.Tuple) and index.elts:
            index = index.elts[-1]
        else:
            return False


def _scalar(an: Analysis, value: ast.AST) -> bool:
    info = an.info(value)
    return info.is_scalar and info.dtype in ("int", "float", "bool") and not _beyond_int64(value)


_CAP_BITS = 128
_CAP = 2 ** _CAP_BITS


def _beyond_int64(value: ast.AST) -> bool:
    """An integer literal (or arithmetic of literals: `2**63`, `-(1 << 64)`) outside int64: storing it
    in place raises ("Overflow when unpacking long long"), `torch.where` computes a result (eval49 D8)."""
    def fold(node: ast.AST, depth: int = 0):
        if depth > 8:
            raise ValueError
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return node.value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)):
            v = fold(node.operand, depth + 1)
            return -v if isinstance(node.op, ast.USub) else (v if isinstance(node.op, ast.UAdd) else ~v)
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Pow, ast.LShift)):
            a, b = fold(node.left, depth + 1), fold(node.right, depth + 1)
            if isinstance(node.op, (ast.Pow, ast.LShift)):
                if b < 0:
                    raise ValueError  # (a float, or an error: not an integer store)
                bits = a.bit_length() * b if isinstance(node.op, ast.Pow) else a.bit_length() + b
                if abs(a) > 1 and bits > _CAP_BITS:  # (folded no further: its size is all that matters)
                    return _CAP if a > 0 or (isinstance(node.op, ast.Pow) and b % 2 == 0) else -_CAP
                return a ** b if isinstance(node.op, ast.Pow) else a << b
            out = a + b if isinstance(node.op, ast.Add) else a - b if isinstance(node.op, ast.Sub) else a * b
            return max(-_CAP, min(_CAP, out))
        raise ValueError
    try:
        v = fold(value)
    except (ValueError, OverflowError, MemoryError):
        return False
    return not -(2 ** 63) <= v < 2 ** 63


def _elementwise_mask(an: Analysis, mask: ast.AST, tensor: ast.AST, at: ast.stmt) -> bool:
    """Is `mask` a bool tensor of exactly `tensor`'s shape, computed elementwise from it? A mask
    name must be bound once, to such an expression, with `tensor` not rebound in between."""
    spelling = dotted(tensor)
    if spelling is None:
        return False
    if isinstance(mask, ast.Name):
        binding = an.single_binding(mask.id, at)
        if binding is None or not isinstance(tensor, ast.Name) or not an.unchanged_between(tensor.id, binding, at):
            return False
        # A loop around the write but not the mask may change the tensor's shape before the next
        # write (an eval13 review's case): the mask of another shape raises in place, `where`
        # broadcasts. So may a change of the mask itself (`m.unsqueeze_(0)`, `f(m)`).
        if any(not an.index.contains(loop, binding.node) for loop in an.index.loops_around(at)) or \
                _changed_after(an, mask.id, binding.node.lineno, at):
            return False
        return _elementwise_expr(an, binding.value, spelling)  # type: ignore[attr-defined]
    return _elementwise_expr(an, mask, spelling)


def _changed_after(an: Analysis, name: str, since: int, at: ast.stmt) -> bool:
    """Is `name` given to a call or changed in place (`name.unsqueeze_(0)`, `name &= ...`) on a line
    from `since` (its binding's) to `at`'s, in the same scope?"""
    scope = an.index.scope_for(at)
    for load in scope.loads.get(name, ()):
        if not since <= load.lineno <= at.lineno:
            continue
        parent = an.index.parent.get(load)
        if isinstance(parent, ast.Call) and load in parent.args or isinstance(parent, ast.keyword):
            return True
        if isinstance(parent, ast.Attribute) and parent.attr.endswith("_") and not parent.attr.startswith("_"):
            return True
    return any(isinstance(b.stmt, ast.AugAssign) and since <= b.node.lineno <= at.lineno
               for b in scope.bindings.get(name, ()))


def _elementwise_expr(an: Analysis, node: ast.AST, spelling: str) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        return _elementwise_expr(an, node.operand, spelling)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr, ast.BitXor)):
        return _elementwise_expr(an, node.left, spelling) and _elementwise_expr(an, node.right, spelling)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and not isinstance(
            node.ops[0], (ast.Is, ast.IsNot, ast.In, ast.NotIn)):
        sides = [node.left, node.comparators[0]]
        mine = [s for s in sides if dotted(s) == spelling]
        other = [s for s in sides if dotted(s) != spelling]
        # The other side must not broadcast the mask larger: a scalar, or the same tensor.
        return bool(mine) and all(an.info(o).is_scalar for o in other)
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ELEMENTWISE_PREDICATES and not node.args:
            return dotted(func.value) == spelling
        q = an.qualname(func) or ""
        if q.startswith("torch.") and q.rsplit(".", 1)[-1] in ELEMENTWISE_PREDICATES and len(node.args) == 1:
            return dotted(node.args[0]) == spelling
    return False
