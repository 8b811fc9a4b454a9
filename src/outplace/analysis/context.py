"""Where mutation is intentional and must be left alone.

  * `with torch.no_grad():`, `torch.inference_mode()`, `torch.set_grad_enabled(False)` blocks;
  * functions decorated with `@torch.no_grad()` / `@torch.inference_mode()` (with or without parens);
  * optimizer and LR-scheduler classes (subclasses of `Optimizer`, `LRScheduler`, `_LRScheduler`):
    their in-place updates are the point (rewriting `p.sub_(lr * g)` stops learning);
  * anything reached through `.data` or `.grad` (handled by the origin model: origin "data").
"""

from __future__ import annotations

import ast

from outplace.analysis.imports import ImportMap, dotted
from outplace.analysis.scopes import ScopeIndex

NO_GRAD = {
    "torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
    "torch.autograd.inference_mode", "torch.autograd.grad_mode.inference_mode",
}
SET_GRAD = {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}
STATEFUL_BASES = ("Optimizer", "LRScheduler", "_LRScheduler", "ReduceLROnPlateau")


class IntentContext:
    def __init__(self, index: ScopeIndex, imports: ImportMap) -> None:
        self.index, self.imports = index, imports
        self._memo: dict[ast.AST, str | None] = {}

    def reason(self, node: ast.AST) -> str | None:
        """Why a write at `node` is intentional (and must not be reported), or None."""
        for anc in self.index.ancestors(node):
            if anc in self._memo:
                r = self._memo[anc]
            else:
                r = self._memo[anc] = self._own_reason(anc)
            if r:
                return r
        return None

    def _own_reason(self, node: ast.AST) -> str | None:
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if self._disables_grad(item.context_expr):
                    return "inside a no-grad block"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                if self._disables_grad(deco):
                    return "in a no-grad function"
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = dotted(base) or ""
                if name.split(".")[-1] in STATEFUL_BASES:
                    return "in an optimizer or scheduler class"
        return None

    def _disables_grad(self, expr: ast.AST) -> bool:
        call = expr if isinstance(expr, ast.Call) else None
        target = call.func if call else expr
        q = self.imports.qualname(target) or ""
        if q in NO_GRAD:
            if call and q.endswith("inference_mode") and call.args:
                first = call.args[0]
                return not (isinstance(first, ast.Constant) and first.value is False)
            return True
        if q in SET_GRAD and call and call.args:
            first = call.args[0]
            return isinstance(first, ast.Constant) and first.value is False
        return False
