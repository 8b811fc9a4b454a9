"""OP104: `inplace=True` in `torch.nn.functional` calls and `torch.nn` module constructors."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import Analysis
from outplace.findings import Finding
from outplace.plans import CallEdit, CallPlan

from .base import Rule, RuleCommand, RuleDoc
from .inplace_calls import has_star_args, place_call

# Modules whose output is always a new tensor: an in-place activation right after them writes into
# a tensor nothing else refers to.
FRESH_OUTPUT_MODULES = {
    "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Linear",
    "Bilinear", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LayerNorm", "GroupNorm",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "Embedding", "LazyConv1d", "LazyConv2d",
    "LazyConv3d", "LazyLinear", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "RMSNorm",
    "AvgPool1d", "AvgPool2d", "AvgPool3d", "MaxPool1d", "MaxPool2d", "MaxPool3d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "Upsample",
}


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
                   "used later. For modules the fix is safe inside `nn.Sequential` right after a layer that "
                   "always returns a new tensor (Conv, Linear, BatchNorm, ...): nothing else refers to that "
                   "tensor. Elsewhere it is unsafe: the module's input may be referenced by the caller "
                   "(a residual branch), which saw the activated values before and would see the raw ones.",
    )

    def findings(self, an: Analysis) -> Iterator[Finding]:
        ops = an.ops
        for call in an.nodes(ast.Call):
            q = an.qualname(call.func) or ""
            name = q.rsplit(".", 1)[-1]
            if q.startswith("torch.nn.functional.") and name in ops.functional["inplace_param"]:
                where = _inplace_arg(call, ops.functional["inplace_param"][name])
                if where is not None:
                    yield from self._functional(an, call, name, where)
            elif q.startswith("torch.nn.") and name in ops.modules_inplace and q.count(".") in (2, 3):
                where = _inplace_arg(call, ops.modules_inplace[name])
                if where is not None:
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
        plan = None if has_star_args(call) else place_call(an, stmt, call, receiver, [(call, CallEdit("drop_arg", arg=where))])
        func = ast.unparse(call.func)
        yield self.finding(an, call, f"`{func}(..., inplace=True)` modifies tensor `{shown}` in place; drop "
                                     "`inplace=True`", plan, judged.reasons, target=judged)

    def _module(self, an: Analysis, call: ast.Call, name: str, where: str | int) -> Finding:
        reasons = []
        if not _after_fresh_layer(an, call):
            reasons.append(f"`{name}` writes into its input: references to that input elsewhere (a residual "
                           "branch) saw the activated values and would see the raw ones")
        stmt = an.index.statement_of(call)
        plan = CallPlan(an.start(stmt), ((an.span(call), CallEdit("drop_arg", arg=where)),))
        return self.finding(an, call, f"`{ast.unparse(call.func)}(..., inplace=True)` modifies its input in "
                                      "place; drop `inplace=True`", plan, reasons)


def _inplace_arg(call: ast.Call, index: int) -> str | int | None:
    """Where `inplace=True` is passed: "inplace" (keyword), a positional index, or None."""
    for k in call.keywords:
        if k.arg == "inplace":
            return "inplace" if isinstance(k.value, ast.Constant) and k.value.value is True else None
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        a = call.args[index]
        if isinstance(a, ast.Constant) and a.value is True:
            return index
    return None


def _after_fresh_layer(an: Analysis, call: ast.Call) -> bool:
    parent = an.index.parent.get(call)
    if not (isinstance(parent, ast.Call) and (an.qualname(parent.func) or "").endswith("nn.Sequential")):
        return False
    if call not in parent.args:
        return False
    i = parent.args.index(call)
    if i == 0:
        return False
    prev = parent.args[i - 1]
    return isinstance(prev, ast.Call) and (an.qualname(prev.func) or "").rsplit(".", 1)[-1] in FRESH_OUTPUT_MODULES \
        and (an.qualname(prev.func) or "").startswith("torch.nn.")


class InplaceArgumentCommand(RuleCommand):
    DESCRIPTION = InplaceArgument.summary
    rule = InplaceArgument
