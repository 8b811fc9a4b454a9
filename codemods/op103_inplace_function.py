"""OP103: in-place torch function (`torch.relu_(x)`, `F.relu_(x)`) -> `x = torch.relu(x)`."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import Analysis
from outplace.findings import Finding
from outplace.plans import CallEdit

from .base import Rule, RuleDoc
from .inplace_calls import call_args, complex_trap, layout_change, has_star_args, operand_reasons, place_call
from .op102_inplace_method import DTYPE_TRAPS


class InplaceFunction(Rule):
    code = "OP103"
    name = "inplace-function"
    summary = "In-place torch function (`torch.relu_(x)`, `F.relu_(x)`)"
    doc = RuleDoc(
        what="Finds calls of the in-place functions in `torch` (`torch.relu_`, `torch.sigmoid_`, "
             "`torch.clamp_`, ...) and `torch.nn.functional` (`F.relu_`, `F.elu_`, `F.leaky_relu_`, ...). "
             "`torch.nn.init.*_` initialisers are intentional and never reported.",
        why="They overwrite their first argument; if autograd saved it for backward, backward fails with "
            "\"modified by an inplace operation\".",
        example="h = torch.sigmoid(x)\ntorch.relu_(h)",
        use_instead="h = torch.sigmoid(x)\nh = torch.relu(h)",
        fix_safety="The result is bound back to the first argument (`torch.relu_(x)` -> `x = torch.relu(x)`; "
                   "`y = torch.relu_(x)` -> `y = x = torch.relu(x)` when `x` is used later). Unsafe when the "
                   "argument is a parameter, attribute, global, view or alias, or when a tensor operand may "
                   "broadcast or promote. A function imported by its bare name (`from torch import relu_`) "
                   "is reported without a fix: its twin is not imported.",
    )

    def findings(self, an: Analysis) -> Iterator[Finding]:
        ops = an.ops
        for call in an.nodes(ast.Call):
            q = an.qualname(call.func) or ""
            parts = q.split(".")
            if len(parts) == 2 and parts[0] == "torch" and (ops.functions.get(parts[1]) or {}).get("twin"):
                name, twin, row = parts[1], ops.functions[parts[1]]["twin"], ops.functions[parts[1]]
            elif q.startswith("torch.nn.functional.") and parts[-1] in ops.functional["inplace_functions"]:
                name, twin, row = parts[-1], ops.functional["inplace_functions"][parts[-1]], {"dtype": "same"}
            else:
                continue
            if not call.args or isinstance(call.args[0], ast.Starred) or an.intent_reason(call):
                continue
            receiver = call.args[0]
            judged = an.write(call)
            if judged is None or judged.hazard is None:
                continue
            shown = judged.spelling or ast.unparse(receiver)
            reasons = list(judged.reasons)
            if name in DTYPE_TRAPS and judged.safety_info.dtype not in DTYPE_TRAPS[name][0]:
                reasons.append(DTYPE_TRAPS[name][1].format(shown=shown))
            elif (trap := complex_trap(an, "functions" if q.startswith("torch.") and len(parts) == 2 else "functional",
                                       name if len(parts) == 2 else twin, judged.safety_info.dtype, shown)) is not None:
                reasons.append(trap)
            if (moved := layout_change(an, "functions" if len(parts) == 2 else "functional",
                                       name if len(parts) == 2 else twin, call, judged.spelling, shown)) is not None:
                reasons.append(moved)
            if row.get("dtype") == "int_to_float" and judged.safety_info.dtype != "float":
                reasons.append(f"`{shown}` is not known to be floating: on an integer tensor `{name}` raises "
                               f"but `{twin}` returns floats")
            reasons += operand_reasons(an, judged.safety_info, shown, call_args(call, skip_first=True),
                                       positional_operands=True)
            stmt = an.index.statement_of(call)
            plan = None
            if isinstance(call.func, ast.Attribute) and not has_star_args(call):
                plan = place_call(an, stmt, call, receiver, [(call, CallEdit("rename", twin))], judged)
            func = ast.unparse(call.func)
            yield self.finding(
                an, call, f"`{func}({shown})` modifies tensor `{shown}` in place; use "
                          f"`{shown} = {func[: -len(name)]}{twin}({shown})`", plan, reasons, judged)
