"""OP101: augmented assignment on a tensor (`x += y`) -> `x = x + y`."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import Analysis
from outplace.analysis.imports import dotted
from outplace.findings import Finding
from outplace.plans import AugAssignPlan

from .base import Rule, RuleDoc
from .inplace_calls import operand_reasons, scalar_reasons

OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
       ast.Pow: "**", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
       ast.LShift: "<<", ast.RShift: ">>"}


class AugmentedAssign(Rule):
    code = "OP101"
    name = "augmented-assign"
    summary = "Augmented assignment (`x += y`) modifies a tensor in place"
    doc = RuleDoc(
        what="Finds augmented assignments (`+=`, `-=`, `*=`, `/=`, `//=`, `%=`, `**=`, `&=`, `|=`, "
             "`^=`, `<<=`, `>>=`) whose target is a tensor. `@=` is not one: tensors have no in-place "
             "matmul, so `y @= w` already rebinds `y` (an index target, `y[i] @= w`, still writes into `y`).",
        why="On a tensor, `x += y` is `x.add_(y)`: it overwrites `x`'s storage. If autograd saved `x` for "
            "backward (the output of `exp`, `sigmoid`, `tanh`, `relu`, or any input of `mul`/`matmul`), "
            "backward fails with \"one of the variables needed for gradient computation has been modified "
            "by an inplace operation\". On a leaf that requires grad it fails at once.",
        example="y = torch.sigmoid(x)\ny *= 2\ny.sum().backward()  # RuntimeError",
        use_instead="y = torch.sigmoid(x)\ny = y * 2\ny.sum().backward()",
        fix_safety="Safe when the target is a fresh local tensor that nothing else refers to and the operand "
                   "is a Python number that cannot change its dtype. Unsafe when the target is a parameter, "
                   "an attribute, a global, a view or has an alias (they would keep the old value), when the "
                   "operand is a tensor (out of place it may broadcast to a larger shape or promote the dtype, "
                   "where in place this raises or keeps the dtype), or on a leaf that requires grad (in "
                   "place this raises; out of place it silently replaces the leaf). Parentheses are added "
                   "only where precedence needs them: `x -= a - b` becomes `x = x - (a - b)`.",
    )

    def findings(self, an: Analysis) -> Iterator[Finding]:
        for node in an.nodes(ast.AugAssign):
            target = node.target
            if isinstance(target, ast.Subscript) and an.write(node, target, exact=True) is None:
                continue  # an index write into a tensor: OP106 (here only a tensor element of a list or dict)
            if isinstance(target, ast.Attribute) and dotted(target) is None:
                continue  # `f().h += 1`: the object expression is not pure
            if an.intent_reason(node) or an.obviously_not_tensor(target, node):
                continue
            judged = an.write(node, target, exact=True) if isinstance(target, ast.Subscript) else an.write(node)
            if judged is None or judged.hazard is None:
                continue
            operand = an.info(node.value)
            # (a tensor made here on one path of a plain name; a container's element joins every value
            # stored in it, whatever its key: no evidence there)
            some_path = judged.some_tensor and isinstance(target, ast.Name)
            # (what autograd saved is a tensor: a `breaks` by a save of what the name holds is a path
            # where it is one: a helper's parameter that one call passes a saved activation)
            some_path = some_path or (judged.saved_tensor and isinstance(target, ast.Name))
            if not judged.info.sure and not some_path and not operand.sure:
                continue  # maybe a number, a list or an array on every path: no evidence of a tensor
            op = OPS[type(node.op)]
            shown = judged.spelling or ast.unparse(target)
            reasons = list(judged.reasons)
            if literal := _number(node.value):
                reasons += scalar_reasons(judged.safety_info, shown, literal)
            else:
                reasons += operand_reasons(an, judged.safety_info, shown, [(node.value, False)], positional_operands=True)
            if op == "/" and judged.safety_info.dtype != "float":
                reasons.append(f"`{shown}` is not known to be floating: on an integer tensor `/=` raises, "
                               "`/` silently returns floats")
            if not judged.safety_info.sure:
                reasons.append(f"`{shown}` may not be a tensor: then `{op}=` would rebind it, not write")
            yield self.finding(
                an, node, f"`{shown} {op}= ...` modifies tensor `{shown}` in place; use `{shown} = {shown} {op} ...`",
                AugAssignPlan(an.start(node)), reasons, judged)


def _number(node: ast.AST) -> str | None:
    inner = node.operand if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) else node
    if isinstance(inner, ast.Constant) and not isinstance(inner.value, bool):
        if isinstance(inner.value, int):
            return "int"
        if isinstance(inner.value, float):
            return "float"
        if isinstance(inner.value, complex):
            return "complex"
    return None
