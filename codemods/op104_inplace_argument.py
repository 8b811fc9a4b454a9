"""OP104: `inplace=True` in `torch.nn.functional` calls and `torch.nn` module constructors."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import Analysis
from outplace.analysis.infer import ALIASING_MODULES, inplace_arg
from outplace.findings import Finding
from outplace.plans import CallEdit, CallPlan

from .base import Rule, RuleDoc
from .inplace_calls import has_star_args, place_call



class InplaceArgument(Rule):
    code = "OP104"
    name = "inplace-argument"
    summary = "`inplace=True` in a `torch.nn.functional` call or a `torch.nn` module"
    doc = RuleDoc(
        what="Finds `inplace=True` (by keyword or by position: `nn.ReLU(True)`, `nn.LeakyReLU(0.2, True)`) "
             "in the 19 `torch.nn.functional` functions and the 19 `torch.nn` modules that take it "
             "(ReLU, ReLU6, LeakyReLU, ELU, CELU, SELU, SiLU, Mish, Hardtanh, Hardswish, Hardsigmoid, "
             "RReLU, Threshold, Dropout/1d/2d/3d, AlphaDropout, FeatureAlphaDropout, ...).",
        why="With `inplace=True` the activation overwrites its input. After an op that saved that input or "
            "its own output for backward (`sigmoid`, `tanh`, `exp`, a `mul`), backward fails with "
            "\"modified by an inplace operation\".",
        example="y = torch.sigmoid(x)\nz = F.relu(y, inplace=True)",
        use_instead="y = torch.sigmoid(x)\nz = F.relu(y)",
        fix_safety="The argument is removed. A bare call `F.relu(x, inplace=True)` becomes "
                   "`x = F.relu(x)`; `z = F.relu(y, inplace=True)` becomes `z = y = F.relu(y)` when `y` is "
                   "used later. For modules the fix is safe inside `nn.Sequential` after a layer that returns "
                   "a new tensor: nothing else refers to it. Elsewhere it is unsafe: the module's input may be "
                   "referenced by the caller (a residual branch), which saw the activated values and would "
                   "see the raw ones. Not reported at all: the idiom `Conv/Linear/BatchNorm/LayerNorm -> "
                   "ReLU(inplace=True)` (in a Sequential, or a module attribute only ever applied to such a "
                   "layer's output): those layers do not save their output, so the write cannot break "
                   "backward.",
    )

    def findings(self, an: Analysis) -> Iterator[Finding]:
        ops = an.ops
        for call in an.nodes(ast.Call):
            q = an.qualname(call.func) or ""
            name = q.rsplit(".", 1)[-1]
            if q.startswith("torch.nn.functional.") and name in ops.functional["inplace_param"]:
                where = inplace_arg(call, ops.functional["inplace_param"][name])
                if where is not None:
                    yield from self._functional(an, call, name, where)
            elif q.startswith("torch.nn.") and name in ops.modules_inplace and q.count(".") in (2, 3):
                where = inplace_arg(call, ops.modules_inplace[name])
                if where is not None and not _after_unsaved_output(an, call) and not _harmless_uses(an, call):
                    yield self._module(an, call, name, where)

    def _functional(self, an: Analysis, call: ast.Call, name: str, where: str | int) -> Iterator[Finding]:
        if an.intent_reason(call):
            return
        receiver = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "input"), None)
        if receiver is None or isinstance(receiver, ast.Starred):
            return
        judged = an.target(receiver, call, assume_tensor=True)
        if judged is None:
            return
        shown = judged.spelling or ast.unparse(receiver)
        stmt = an.index.statement_of(call)
        edit = CallEdit("drop_arg", arg=where)
        plan = None if has_star_args(call) else place_call(an, stmt, call, receiver, [(call, edit)], judged)
        func = ast.unparse(call.func)
        yield self.finding(an, call, f"`{func}(..., inplace=True)` modifies tensor `{shown}` in place; drop "
                                     "`inplace=True`", plan, judged.reasons, target=judged)

    def _module(self, an: Analysis, call: ast.Call, name: str, where: str | int) -> Finding:
        reasons = [] if _unshared_input_in_sequential(an, call) else [
            f"`{name}` writes into its input: references to that input elsewhere (a residual branch) saw "
            "the activated values and would see the raw ones"]
        stmt = an.index.statement_of(call)
        plan = CallPlan(an.start(stmt), ((an.span(call), CallEdit("drop_arg", arg=where)),))
        return self.finding(an, call, f"`{ast.unparse(call.func)}(..., inplace=True)` modifies its input in "
                                      "place; drop `inplace=True`", plan, reasons)


def _after_unsaved_output(an: Analysis, call: ast.Call) -> bool:
    """In `nn.Sequential(..., nn.BatchNorm2d(c), nn.ReLU(inplace=True))` the activation writes into a
    tensor nothing else refers to and no backward needs: harmless, not reported."""
    prev = _sequential_predecessor(an, call)
    q = an.qualname(prev.func) if prev is not None else None
    return bool(q) and q.startswith("torch.nn.") and an.module_output_not_saved(q.rsplit(".", 1)[-1], prev)


def _unshared_input_in_sequential(an: Analysis, call: ast.Call) -> bool:
    """Inside `nn.Sequential`, after a layer that returns a new tensor, nothing else refers to the
    activation's input: dropping `inplace=True` cannot be observed."""
    prev = _sequential_predecessor(an, call)
    if prev is None:
        return False
    q = an.qualname(prev.func) or ""
    name = q.rsplit(".", 1)[-1]
    if not q.startswith("torch.nn.") or name in ALIASING_MODULES or name == "Sequential":
        return False
    index = an.ops.modules_inplace.get(name)
    return index is None or inplace_arg(prev, index) is None


def _sequential_predecessor(an: Analysis, call: ast.Call) -> ast.Call | None:
    parent = an.index.parent.get(call)
    if not (isinstance(parent, ast.Call) and (an.qualname(parent.func) or "").endswith("nn.Sequential")):
        return None
    if call not in parent.args or parent.args.index(call) == 0:
        return None
    prev = parent.args[parent.args.index(call) - 1]
    return prev if isinstance(prev, ast.Call) else None


def _harmless_uses(an: Analysis, call: ast.Call) -> bool:
    """`self.act = nn.ReLU(inplace=True)` whose every use in the class is `self.act(<unsaved output>)`."""
    stmt = an.index.statement_of(call)
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.value is call):
        return False
    target = stmt.targets[0]
    if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"):
        return False
    cls = an.infer.enclosing_class(call)
    if cls is None:
        return False
    uses = [n for n in ast.walk(cls) if isinstance(n, ast.Attribute) and n.attr == target.attr
            and isinstance(n.value, ast.Name) and n.value.id == "self" and isinstance(n.ctx, ast.Load)]
    for use in uses:
        an.index.ensure_scope_of(use)
    if not uses:
        return False
    for use in uses:
        up = an.index.parent.get(use)
        if not (isinstance(up, ast.Call) and up.func is use and len(up.args) == 1 and not up.keywords):
            return False
        if not an.unsaved_layer_output(up.args[0], up):
            return False
    return True
