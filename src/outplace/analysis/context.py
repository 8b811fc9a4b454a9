"""Where mutation is intentional and must be left alone.

  * `with torch.no_grad():`, `torch.inference_mode()`, `torch.set_grad_enabled(False)` blocks;
  * the branch a grad-mode test rules autograd out of (`if not torch.is_grad_enabled():`, the `else:` of
    `if torch.is_grad_enabled():`);
  * functions decorated with `@torch.no_grad()` / `@torch.inference_mode()` (with or without parens);
  * optimizer and LR-scheduler classes (subclasses of `Optimizer`, `LRScheduler`, `_LRScheduler`):
    their in-place updates are the point (rewriting `p.sub_(lr * g)` stops learning); in a module
    that defines an optimizer class, its module-level functions too (`_single_tensor_adam(...)`);
  * functions with PyTorch's functional-optimizer signature (`params` and `grads` parameters);
  * functions named like PyTorch's in-place APIs, `name_` (`orthogonal_`, `clip_grad_norm_`): mutating
    their arguments is their contract;
  * the in-place branch of a switch named `inplace` (`x.mul_(g) if inplace else x * g`);
  * anything reached through `.data` or `.grad` (handled by the origin model: origin "data").
"""

from __future__ import annotations

from typing import Callable

import ast

from outplace.analysis.guards import GRAD_ENABLED
from outplace.analysis.imports import ImportMap, dotted
from outplace.analysis.scopes import ScopeIndex, walk

NO_GRAD = {
    "torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad",
    "torch.autograd.inference_mode", "torch.autograd.grad_mode.inference_mode",
}
SET_GRAD = {"torch.set_grad_enabled", "torch.autograd.set_grad_enabled", "torch.autograd.grad_mode.set_grad_enabled"}
STATEFUL_BASES = ("Optimizer", "LRScheduler", "_LRScheduler", "ReduceLROnPlateau")
# Context managers known to leave autograd's grad mode as it is (or to switch it on). Any other
# `with` may switch it off (a `no_grad()` kept in a variable, a subclass of it, a user
# `@contextmanager`, `ExitStack`, `saved_tensors_hooks`, which also silence the version check):
# a write inside gets no safe fix (out of place, a tensor in the graph would stop requiring grad).
GRAD_NEUTRAL_MANAGERS = {
    "open", "torch.autocast", "torch.amp.autocast", "torch.cuda.amp.autocast", "torch.cpu.amp.autocast",
    "torch.enable_grad", "torch.autograd.enable_grad", "torch.autograd.grad_mode.enable_grad",
    "contextlib.nullcontext", "contextlib.suppress", "contextlib.redirect_stdout", "contextlib.redirect_stderr",
    "warnings.catch_warnings", "torch.random.fork_rng", "torch.autograd.profiler.record_function",
    "torch.profiler.record_function", "torch.autograd.profiler.profile", "torch.profiler.profile",
    "torch.autograd.detect_anomaly", "torch.autograd.set_detect_anomaly", "torch.device", "torch.cuda.device",
    "torch.cuda.stream", "torch.cuda.nvtx.range", "torch.nn.attention.sdpa_kernel", "torch.backends.cuda.sdp_kernel",
    "threading.Lock", "threading.RLock", "tempfile.TemporaryDirectory", "tempfile.NamedTemporaryFile",
}
# Calls that switch grad mode for what follows them (not a `with`), or enter a manager by hand.
GRAD_SWITCH_CALLS = SET_GRAD | {"torch._C._set_grad_enabled", "torch.autograd.grad_mode._set_grad_enabled"}
ENTER_METHODS = ("__enter__", "enter_context", "enter_async_context")
GRAD_SWITCH_NAMES = frozenset(q.rsplit(".", 1)[-1] for q in GRAD_SWITCH_CALLS)


class IntentContext:
    def __init__(self, index: ScopeIndex, imports: ImportMap) -> None:
        self.index, self.imports = index, imports
        self._memo: dict[ast.AST, str | None] = {}
        self._grad_memo: dict[ast.AST, bool] = {}
        self._switch_memo: dict[ast.AST, bool] = {}
        # A function every call of which the run makes with autograd off (set by FileContext, which
        # knows the calls): its body runs with autograd off too.
        self.called_without_grad: Callable[[ast.AST], bool] = lambda fn: False
        self.optimizer_module = any(
            isinstance(n, ast.ClassDef) and any(_base_name(b) in STATEFUL_BASES for b in n.bases)
            for n in index.tree.body)

    def reason(self, node: ast.AST) -> str | None:
        """Why a write at `node` is intentional (and must not be reported), or None."""
        child = node
        for anc in self.index.ancestors(node):
            if _opted_in(anc, child):
                return "in code that runs only when in-place was asked for (`inplace`)"
            if isinstance(anc, ast.If) and self._in_grad_off_branch(child):
                return "in a branch that runs only with autograd off (`torch.is_grad_enabled()`)"
            if anc not in self._memo:
                self._memo[anc] = self._own_reason(anc)
            if self._memo[anc]:
                return self._memo[anc]
            child = anc
        return None

    def grad_disabled(self, node: ast.AST) -> bool:
        """Does `node` run with autograd off (inside a no-grad block or function)? A nested
        function's body runs when it is called: only its own decorators count."""
        chain = []
        cur: ast.AST | None = node
        memo = self._grad_memo
        while cur is not None and cur not in memo:
            chain.append(cur)
            cur = self.index.parent.get(cur)
        off = memo.get(cur, False) if cur is not None else False
        for n in reversed(chain):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # (or every call the run makes of it is: eval46 stable_audio_tools, `_next_token` only
                # called from `generate` under `@torch.no_grad()`: its softmax builds no graph)
                off = any(self._disables_grad(d) for d in n.decorator_list) or self._autograd_function_body(n) \
                    or self.called_without_grad(n)
            elif isinstance(n, (ast.Lambda, ast.GeneratorExp)):
                off = False  # (runs when called or consumed, maybe with autograd on: LH3)
            elif isinstance(n, (ast.With, ast.AsyncWith)) and off:
                # `with torch.enable_grad():` inside a no-grad block turns it on again (LH1)
                off = not any(self._enables_grad(item.context_expr) for item in n.items)
            elif isinstance(n, (ast.With, ast.AsyncWith)) and not off:
                off = any(self._disables_grad(item.context_expr) for item in n.items)
            elif not off:
                off = self._in_grad_off_branch(n)
            memo[n] = off
        return off

    def grad_maybe_off(self, node: ast.AST) -> str | None:
        """Why autograd may be off where `node` runs though nothing says it certainly is, or None:
        inside a `with` whose manager is not known to leave grad mode alone, or in a function (or
        module) that switches grad mode with a call or enters a manager by hand."""
        for anc in self.index.ancestors(node):
            if isinstance(anc, (ast.With, ast.AsyncWith)):
                for item in anc.items:
                    if not self._leaves_grad_alone(item.context_expr):
                        return f"inside `with {ast.unparse(item.context_expr)}:`, which may switch autograd off"
            if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)):
                if self._switches_grad(anc):
                    return "the function switches autograd's mode with a call (`set_grad_enabled`, `__enter__`)"
            if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and \
                    self._switches_grad(self.index.tree):
                return "the module switches autograd's mode with a call (`set_grad_enabled`, `__enter__`)"
        return None

    def _leaves_grad_alone(self, expr: ast.AST) -> bool:
        call = expr if isinstance(expr, ast.Call) else None
        target = call.func if call is not None else expr
        q = self.imports.qualname(target) or (target.id if isinstance(target, ast.Name) else "")  # (`open`)
        if q in GRAD_NEUTRAL_MANAGERS or self._disables_grad(expr):
            return True  # (a no-grad block: the write is left alone as intentional already)
        if q in SET_GRAD and call is not None and call.args and not call.keywords:
            return isinstance(call.args[0], ast.Constant) and call.args[0].value is True
        return False

    def _switches_grad(self, scope: ast.AST) -> bool:
        """Does the function (a module: any of its code) call `set_grad_enabled(...)` as a statement,
        or enter a context manager by hand (`__enter__`, `ExitStack.enter_context`)?"""
        hit = self._switch_memo.get(scope)
        if hit is None:
            # (a module: every function too: calling one that switches grad mode switches it here)
            tops = list(scope.body) if isinstance(scope, ast.Module) else [scope]
            nodes = [n for top in tops for n in walk(top)]
            managers = {id(item.context_expr) for n in nodes if isinstance(n, (ast.With, ast.AsyncWith))
                        for item in n.items}
            # (`sge = torch.set_grad_enabled; sge(False)`: a name bound to a switch switches too, eval26 GM1)
            aliases = {t.id for n in nodes if isinstance(n, ast.Assign) and
                       (self.imports.qualname(n.value) or "") in GRAD_SWITCH_CALLS
                       for t in n.targets if isinstance(t, ast.Name)}
            hit = any(isinstance(n, ast.Call) and id(n) not in managers and (
                isinstance(n.func, ast.Attribute) and n.func.attr in ENTER_METHODS
                or (self.imports.qualname(n.func) or "") in GRAD_SWITCH_CALLS
                or isinstance(n.func, ast.Name) and n.func.id in aliases) for n in nodes) or any(
                # (`getattr(ng, '__enter__')()`: the method by its name in a string, eval26; and
                # `getattr(torch, "set_grad_enabled")(False)`, eval49 D6)
                isinstance(n, ast.Constant) and (n.value in ENTER_METHODS or n.value in GRAD_SWITCH_NAMES)
                for n in nodes)
            self._switch_memo[scope] = hit
        return hit

    def _in_grad_off_branch(self, node: ast.AST) -> bool:
        """Is `node` a statement of the branch that a grad-mode test rules autograd out of:
        the body of `if not torch.is_grad_enabled():` (or of a conjunction with it), the
        `else:` of `if torch.is_grad_enabled():` (or of a disjunction with it)."""
        branch = self.index.parent.get(node)
        if not isinstance(branch, ast.If):
            return False
        if any(s is node for s in branch.body):
            return self._grad_mode_is(branch.test, False)
        if any(s is node for s in branch.orelse):
            return self._grad_mode_is(branch.test, False, when=False)
        return False

    def _grad_mode_is(self, test: ast.expr, enabled: bool, when: bool = True) -> bool:
        """Does `test` evaluating to `when` prove that grad mode is `enabled`?"""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return self._grad_mode_is(test.operand, enabled, not when)
        if isinstance(test, ast.BoolOp):
            # `a and b` true: both hold; `a or b` false: both fail. Otherwise one part says nothing.
            if isinstance(test.op, ast.And) == when:
                return any(self._grad_mode_is(v, enabled, when) for v in test.values)
            return False
        if isinstance(test, ast.Call) and not test.args and not test.keywords and \
                self.imports.qualname(test.func) in GRAD_ENABLED:
            return when == enabled
        return False

    def _autograd_function_body(self, fn: ast.AST) -> bool:
        """`forward`/`backward` of a `torch.autograd.Function`: autograd records nothing inside them."""
        if getattr(fn, "name", None) not in ("forward", "backward", "setup_context", "jvp", "vjp"):
            return False
        cls = self.index.parent.get(fn)
        return isinstance(cls, ast.ClassDef) and any(
            (self.imports.qualname(b) or dotted(b) or "").endswith(("autograd.Function", "InplaceFunction"))
            or (dotted(b) or "") == "Function" for b in cls.bases)

    def _own_reason(self, node: ast.AST) -> str | None:
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if self._disables_grad(item.context_expr):
                    return "inside a no-grad block"
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in node.decorator_list:
                if self._disables_grad(deco):
                    return "in a no-grad function"
            if self.called_without_grad(node):
                return f"in `{node.name}`, which every call in the run makes with autograd off"
            if node.name.endswith("_") and not node.name.endswith("__"):
                return "in an in-place function (`name_`)"
            if self.optimizer_module and self.index.parent.get(node) is self.index.tree:
                return "in an optimizer implementation"
            names = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
            if {"params", "grads"} <= names or {"param", "grad"} <= names:
                return "in an optimizer step function (takes params and grads)"
        elif isinstance(node, ast.ClassDef):
            if any(_base_name(b) in STATEFUL_BASES for b in node.bases):
                return "in an optimizer or scheduler class"
        return None

    def _enables_grad(self, expr: ast.AST) -> bool:
        """`torch.enable_grad()`, `torch.set_grad_enabled(<anything but False>)`, `torch.inference_mode(False)`:
        a manager that may turn autograd on."""
        call = expr if isinstance(expr, ast.Call) else None
        q = self.imports.qualname(call.func if call else expr) or ""
        if q.endswith("enable_grad"):
            return True
        if q in SET_GRAD:
            return not (call and call.args and isinstance(call.args[0], ast.Constant) and call.args[0].value is False)
        if q.endswith("inference_mode") and call and call.args:
            return isinstance(call.args[0], ast.Constant) and call.args[0].value is False
        return False

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


def _base_name(base: ast.AST) -> str:
    return (dotted(base) or "").rsplit(".", 1)[-1]


def _opted_in(anc: ast.AST, child: ast.AST) -> bool:
    """`x.mul_(g) if inplace else x * g`, `if self.inplace: x.relu_()`: the in-place branch of a
    switch named `inplace` is an in-place mode the caller asked for."""
    if isinstance(anc, ast.IfExp) and child is anc.body or isinstance(anc, ast.If) and child in anc.body:
        return any((dotted(n) or "").rsplit(".", 1)[-1].replace("_", "").lower() == "inplace"
                   for n in walk(anc.test) if isinstance(n, (ast.Name, ast.Attribute)))
    return False
