"""OP106: index/slice assignment into a tensor (`x[m] = 0`, `x[:, 0] = v`, `x[i] += v`)."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import Analysis
from outplace.analysis.imports import dotted
from outplace.analysis.infer import never_a_tensor_element
from outplace.findings import Finding
from outplace.plans import MaskedFillPlan

from .base import Rule, RuleDoc
from .inplace_calls import clone_before, follows_clone, shown_expr
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
        use_instead="p = torch.softmax(logits, -1)\np = p.masked_fill(p < 1e-6, 0)",
        fix_safety="With a boolean mask computed elementwise from the tensor itself (`x[x > 0] = 0`, "
                   "`x[torch.isnan(x)] = 0`, or a mask name bound to such an expression) and a scalar value, "
                   "the exact form is `x = x.masked_fill(mask, v)`. Other indexing (slices, integer or "
                   "prefix masks, tensor values) has no exact one-line form; with `--clone` it becomes "
                   "`x = x.clone()` before the write, which is always faithful for values and gradients. "
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
            judged = an.target(sub.value, node)
            if judged is None:
                continue
            shown = judged.spelling or shown_expr(sub.value)
            if follows_clone(an, node, judged.spelling):
                continue
            plan = None
            if isinstance(node, ast.Assign) and _elementwise_mask(an, sub.slice, sub.value, node) and _scalar(an, node.value):
                plan = MaskedFillPlan(an.start(node))
            elif an.settings.clone:
                plan = clone_before(an, node, sub.value, judged)
            op = "=" if isinstance(node, ast.Assign) else OPS[type(node.op)] + "="
            yield self.finding(an, node, f"`{shown}[...] {op} ...` writes into tensor `{shown}` in place",
                               plan, judged.reasons, target=judged)


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
    return info.is_scalar and info.dtype in ("int", "float", "bool")


def _elementwise_mask(an: Analysis, mask: ast.AST, tensor: ast.AST, at: ast.stmt) -> bool:
    """Is `mask` a bool tensor of exactly `tensor`'s shape, computed elementwise from it?"""
    spelling = dotted(tensor)
    if spelling is None:
        return False
    if isinstance(mask, ast.Name):
        scope = an.index.scope_for(at)
        binds, dom = an.index.reaching(scope, mask.id, at)
        if len(binds) != 1 or dom is None or dom.kind != "assign" or dom.value is None:
            return False
        # `tensor` must not be rebound between the mask and the write (its shape could change).
        base = tensor.id if isinstance(tensor, ast.Name) else None
        if base is None:
            return False
        for b in scope.bindings.get(base, []):
            if b.kind != "param" and dom.node.lineno <= b.node.lineno <= at.lineno and b.stmt is not at:
                return False
        return _elementwise_expr(an, dom.value, spelling)
    return _elementwise_expr(an, mask, spelling)


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
