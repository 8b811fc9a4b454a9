"""OP102: in-place tensor method with a same-name twin (`x.add_(y)`) -> `x = x.add(y)`.
Also the home of method chains: `x.mul_(a).add_(b)` -> `x = x.mul(a).add(b)`.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Iterator

from outplace.analysis import Analysis
from outplace.analysis.imports import dotted
from outplace.findings import Finding
from outplace.plans import CallEdit

from .base import Rule, RuleDoc
from .inplace_calls import (OPERAND_METHODS, call_args, complex_trap, layout_change, clone_before, follows_clone, has_star_args,
                            operand_reasons, place_call, shown_expr, torch_alias)

TWIN_KINDS = ("twin", "view")
# Rows whose in-place form raises for some dtypes where the twin computes, beyond the table's dtype
# column (found by scripts/verify_optable.py): name -> (dtype classes that are fine, reason).
DTYPE_TRAPS = {
    "square_": (("float", "int"), "the dtype of `{shown}` is unknown: on a bool tensor `square_` raises, "
                                  "`square` returns int64"),
    "float_power_": ((), "`float_power_` works in place only on float64; `float_power` always returns float64"),
}
GRAPH_REASON = ("out of place `{self}` starts without `{old}`'s graph: gradients to what `{old}` was computed "
                "from become None instead of zeros, and a backward through it alone raises")


def _out_of_place_name(name: str, row: dict, edit) -> str:
    """What the rewrite calls instead of `name`, for a reason's text: its twin, or the op its
    template starts with (`copy_` -> `expand_as(...).to(..., copy=True)`: "`to(copy=True)`")."""
    if row.get("twin"):
        return row["twin"]
    if name == "copy_":
        return "to(..., copy=True)"
    return name.rstrip("_")


class InplaceMethod(Rule):
    code = "OP102"
    name = "inplace-method"
    summary = "In-place tensor method (`x.add_(y)`) where an out-of-place twin exists"
    doc = RuleDoc(
        what="Finds calls of in-place tensor methods that have a same-name out-of-place twin (`add_` -> "
             "`add`, `relu_` -> `relu`, `clamp_` -> `clamp`, 138 in torch 2.13), including chains "
             "(`x.mul_(a).add_(b)`) and in-place calls used as values (`u = t.mul_(2)`).",
        why="The method overwrites the tensor's storage and bumps its version counter; if autograd saved "
            "the tensor for backward, backward fails with \"modified by an inplace operation\".",
        example="h = self.fc(x).sigmoid()\nh.mul_(mask)\nloss = h.sum()",
        use_instead="h = self.fc(x).sigmoid()\nh = h.mul(mask)\nloss = h.sum()",
        fix_safety="The in-place call returns its receiver, so every name that held the tensor is rebound "
                   "(`u = t.mul_(2)` becomes `u = t = t.mul(2)` when `t` is used later). Twins that change "
                   "the dtype keep it: comparisons become `x.eq(y).to(x.dtype)`, `cumsum_` passes "
                   "`dtype=x.dtype`. Unsafe when the twin starts a new graph (comparisons: the result no "
                   "longer requires grad, so gradients become None instead of zeros), when the receiver is a parameter, attribute, global, view or "
                   "alias, when an operand is a tensor (broadcasting or promotion), or when the op turns "
                   "integers into floats and the receiver is not known to be floating.",
    )

    kinds: tuple[str, ...] = TWIN_KINDS  # which op-table kinds this rule reports (OP107: the others)

    def message(self, an: Analysis, shown: str, links: list[ast.Call], named: bool) -> str:
        chain = ".".join(f"{ln.func.attr}({_arguments(ln)})" for ln in reversed(links))  # type: ignore[attr-defined]
        if any(not an.ops.methods[ln.func.attr]["twin"] for ln in links):  # type: ignore[attr-defined]
            # A link with no same-name twin (`copy_`): its out-of-place form is an expression, not a name.
            what = f"tensor `{shown}`" if named else "a tensor"
            return f"`{shown}.{chain}` writes into {what} in place; compute it out of place"
        twins = ".".join(f"{an.ops.methods[ln.func.attr]['twin']}({_arguments(ln)})"  # type: ignore[attr-defined]
                         for ln in reversed(links))
        if not named:
            return f"`{shown}.{chain}` writes into a tensor in place; use `{twins}` on a value you keep"
        return f"`{shown}.{chain}` modifies tensor `{shown}` in place; use `{shown} = {shown}.{twins}`"

    def findings(self, an: Analysis) -> Iterator[Finding]:
        ops = an.ops
        for call in an.nodes(ast.Call):
            if not _is_inplace_method(an, call) or _is_inner_link(an, call):
                continue
            links, receiver = [], call
            while isinstance(receiver, ast.Call) and _is_inplace_method(an, receiver):
                links.append(receiver)
                receiver = receiver.func.value  # type: ignore[attr-defined]
            outer_name = call.func.attr  # type: ignore[attr-defined]
            row = ops.methods[outer_name]
            if row["kind"] not in self.kinds:
                continue
            if an.intent_reason(call):
                continue
            judged = an.write(links[-1])  # the innermost link writes into `receiver`; the rest, the same tensor
            if judged is None or judged.hazard is None:
                continue
            stmt = an.index.statement_of(call)
            shown = judged.spelling or shown_expr(receiver)
            reread = _chain_rereads(an, links)
            if reread is not None:
                judged = replace(judged, certain=reread)
            if follows_clone(an, stmt, judged.spelling):
                continue
            edits, reasons, fixable = [], list(judged.reasons), not has_star_args(call)
            dtype = judged.safety_info.dtype
            for link in reversed(links):  # innermost first
                name = link.func.attr  # type: ignore[attr-defined]
                r = ops.methods[name]
                edit = _edit(an, name, r, judged.spelling if link.func.value is receiver else None,  # type: ignore[attr-defined]
                             link)
                if name == "copy_" and not (link.args and an.info(link.args[0]).tensor):
                    edit = None  # `x.copy_(2)` also takes numbers; the out-of-place form needs a tensor
                if edit is not None and edit.kind == "template" and (edit.new or "").count("{self}") > 1 \
                        and dotted(link.func.value) is None:  # type: ignore[attr-defined]
                    edit = None  # the template would evaluate the receiver expression twice
                if edit is None:
                    fixable = False
                    break
                edits.append((link, edit))
                if any(k.arg == "dtype" for k in link.keywords):
                    reasons.append(f"`{name}(..., dtype=...)` raises in place unless the dtype is "
                                   f"`{shown}`'s own; `{r['twin'] or name}` accepts any dtype")
                if name in DTYPE_TRAPS and dtype not in DTYPE_TRAPS[name][0]:
                    reasons.append(DTYPE_TRAPS[name][1].format(shown=shown))
                elif (trap := complex_trap(an, "methods", name, dtype, shown)) is not None:
                    reasons.append(trap)
                if (moved := layout_change(an, "methods", name, call, judged.spelling, shown)) is not None:
                    reasons.append(moved)
                if r["dtype"] == "int_to_float" and dtype != "float":
                    reasons.append(f"`{shown}` is not known to be floating: on an integer tensor `{name}` "
                                   f"raises but `{r['twin']}` returns floats")
                    dtype = "float"
                elif r["dtype"] == "unknown":
                    reasons.append(f"how `{name}` treats dtypes was not verified")
                if name == "copy_" or r["kind"] == "random" or r["dtype"] == "bool_result":
                    reasons.append(GRAPH_REASON.format(self=_out_of_place_name(name, r, edit), old=shown))
                reasons += operand_reasons(an, judged.safety_info, shown, call_args(link),
                                           positional_operands=name in OPERAND_METHODS)
            unknown_temporary = dotted(receiver) is None and judged.info.origin == "unknown"
            if fixable and unknown_temporary:
                # `fea = conv(x).unsqueeze_(dim=1)` (eval32 ZeroRestore): what the call returns may be held
                # elsewhere too (a module that keeps its output, or returns its input)
                reasons.append(f"`{shown}` may return a tensor that something else holds: out of place, that "
                               "reference would keep the old value")
            plan = place_call(an, stmt, call, receiver, edits, judged, unknown_temporary) if fixable else None
            if plan is None and len(links) == 1 and an.settings.clone and row["kind"] not in TWIN_KINDS:
                if isinstance(stmt, ast.Expr) and stmt.value is call:
                    plan = clone_before(an, stmt, receiver, judged)
            yield self.finding(an, call, self.message(an, shown, links, judged.spelling is not None), plan, reasons,
                               judged)


def _chain_rereads(an: Analysis, links: list[ast.Call]) -> str | None:
    """`x.mul_(2).add_(x)`: a later link reads the tensor an earlier one wrote. Out of place the
    chain would read the old value: no chained rewrite computes the same."""
    for link in reversed(links[:-1]):  # every link after the innermost
        later = an.write(link)
        if later is not None and any(r.startswith("an operand shares memory") for r in later.reasons):
            return (f"`{link.func.attr}` reads the tensor the earlier part of the chain wrote: out of place it "  # type: ignore[attr-defined]
                    "would read the old value")
    return None


MAX_ARGUMENTS_SHOWN = 40


def _arguments(call: ast.Call) -> str:
    """The call's arguments as a message shows them (`g`, `0, dtype=d`); `...` when they are long."""
    parts = [ast.unparse(a) for a in call.args]
    parts += [(f"{k.arg}=" if k.arg else "**") + ast.unparse(k.value) for k in call.keywords]
    text = ", ".join(parts)
    return text if len(text) <= MAX_ARGUMENTS_SHOWN else "..."


def _is_inplace_method(an: Analysis, call: ast.AST) -> bool:
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
        return False
    row = an.ops.methods.get(call.func.attr)
    if row is None or row["kind"] == "nonmath":
        return False
    # `torch.relu_(x)` is a function (OP103), `nn.init.zeros_(w)` an initialiser.
    return not (an.qualname(call.func) or "").startswith("torch")


def _is_inner_link(an: Analysis, call: ast.Call) -> bool:
    up = an.index.parent.get(call)
    return (isinstance(up, ast.Attribute) and up.value is call
            and _is_inplace_method(an, an.index.parent.get(up)))


def _edit(an: Analysis, name: str, row: dict, recv: str | None, at: ast.AST) -> CallEdit | None:
    kind = row["kind"]
    if kind in TWIN_KINDS:
        if row["dtype"] == "bool_result":
            return CallEdit("cast", row["twin"], recv=recv) if recv else None
        if row["dtype"] == "int_widens":
            return CallEdit("dtype_kw", row["twin"], recv=recv) if recv else None
        return CallEdit("rename", row["twin"])
    template = row.get("template")
    if not template:
        return None
    torch = torch_alias(an, at)
    if torch is None:
        return None
    return CallEdit("template", template.replace("torch.", f"{torch}."))
