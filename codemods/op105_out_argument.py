"""OP105: `out=` argument (`torch.add(a, b, out=c)`) -> `c = torch.add(a, b)`."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import Analysis
from outplace.findings import Finding
from outplace.plans import CallEdit

from .base import Rule, RuleDoc
from .inplace_calls import has_star_args, place_call


class OutArgument(Rule):
    code = "OP105"
    name = "out-argument"
    summary = "`out=` argument writes the result into an existing tensor"
    doc = RuleDoc(
        what="Finds torch calls with an `out=` argument.",
        why="`out=` writes into the given tensor in place: it raises at once when an argument requires "
            "grad (\"functions with out=... arguments don't support automatic differentiation\"), and bumps "
            "the version of a tensor autograd may have saved.",
        example="torch.mul(a, b, out=c)",
        use_instead="c = torch.mul(a, b)",
        fix_safety="Always unsafe: `out=` casts the result to `c`'s dtype, resizes `c`, and writes into "
                   "storage other references to `c` share; the assignment does none of that. A tuple "
                   "`out=(values, indices)` is reported without a fix.",
    )

    def findings(self, an: Analysis) -> Iterator[Finding]:
        for call in an.nodes(ast.Call):
            out = next((k.value for k in call.keywords if k.arg == "out"), None)
            if out is None or not (an.qualname(call.func) or "").startswith("torch"):
                continue
            if isinstance(out, ast.Constant) and out.value is None:
                continue
            if an.intent_reason(call):
                continue
            judged = an.write(call, out)
            if judged is None:
                continue
            shown = judged.spelling or ast.unparse(out)
            reasons = [*judged.reasons, f"`out=` casts the result to `{shown}`'s dtype and writes into its "
                                        "storage; the assignment does neither"]
            stmt = an.index.statement_of(call)
            plan = None
            if judged.spelling is not None and not has_star_args(call):  # a view target cannot be rebound
                plan = place_call(an, stmt, call, out, [(call, CallEdit("drop_arg", arg="out"))], judged)
                if plan is not None and plan.rebind is None and isinstance(stmt, ast.Expr):
                    plan = None
            yield self.finding(an, call, f"`out={shown}` writes into tensor `{shown}` in place; assign the "
                                         f"result to `{shown}` instead", plan, reasons, judged)
