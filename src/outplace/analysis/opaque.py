"""Files whose code can see or change what the analysis takes as fixed: no rewrite in them is safe.

The analysis reads a call of `torch.sigmoid` as torch's sigmoid, a function's locals as its own,
a module's globals as bound where the text binds them. Some code breaks those premises for every
function of its file at once (adversarial review, eval12):

- it reads other functions' variables through their frames (`sys._getframe(1).f_locals["h"]`,
  `inspect.stack()`, `currentframe().f_back`): a callee may hold the caller's tensor;
- it replaces torch's functions or methods (`torch.sigmoid = ...`, `torch.Tensor.mul = ...`,
  `setattr(F, "relu", ...)`): the torch facts no longer describe its calls;
- it defines a Tensor subclass, or `__torch_function__`: methods may do anything;
- it installs hooks that see every tensor autograd saves or every call (`saved_tensors_hooks`,
  `save_on_cpu`, `sys.setprofile`/`settrace`, `sys.monitoring`): they may keep the tensor;
- it reaches its own globals by name (`sys.modules[__name__]`, `import_module(__name__)`);
- it replaces Python builtins (`builtins.len = ...`) or answers `isinstance` itself
  (`__instancecheck__`): a builtin call may keep its argument.

`opaque_reason` names the first such premise the file breaks (None: none); every fix in the file is
then unsafe with that reason. The text is searched first: most files spell none of these words.
"""

from __future__ import annotations

import ast
import re

from outplace.analysis.imports import ImportMap

_FRAMES = re.compile(r"_getframe|currentframe|inspect\.stack|getouterframes|\bf_back\b|\bf_locals\b")
_HOOKS = re.compile(r"saved_tensors_hooks|save_on_cpu|setprofile|settrace|sys\.monitoring")
_SELF_MODULE = re.compile(r"sys\.modules\s*\[\s*__name__\s*\]|import_module\s*\(\s*__name__")
_BUILTINS_PATCHED = re.compile(r"^[ \t]*(builtins|__builtins__)\s*(\.\w+|\[[^\]]*\])\s*=(?!=)|"
                               r"setattr\(\s*(builtins|__builtins__)\b", re.M)
_TORCH_SUBCLASS_BASES = frozenset({"torch.Tensor", "torch.nn.Parameter", "torch.nn.parameter.Parameter"})


def opaque_reason(tree: ast.Module, text: str | None, imports: ImportMap) -> str | None:
    if text is None:
        text = ast.unparse(tree)
    if _FRAMES.search(text):
        return "a function of this file reads other functions' variables through their frames " \
               "(`sys._getframe`, `inspect`): one may hold the tensor"
    if _HOOKS.search(text):
        return "this file installs hooks that see the tensors autograd saves or the calls it makes " \
               "(`saved_tensors_hooks`, `setprofile`): one may keep the tensor"
    if _SELF_MODULE.search(text):
        return "this file reaches its own globals by name (`sys.modules[__name__]`): what they hold may change"
    if "__torch_function__" in text or "__torch_dispatch__" in text:
        return "this file overrides how torch runs its functions (`__torch_function__`)"
    if _BUILTINS_PATCHED.search(text):
        return "this file replaces Python builtins (`builtins.len = ...`): a builtin call may keep the tensor"
    if "__instancecheck__" in text or "__subclasscheck__" in text:
        return "this file defines `__instancecheck__`/`__subclasscheck__`: `isinstance` may keep the tensor"
    aliases = [re.escape(n) for n, q in imports.names.items() if q == "torch" or q.startswith("torch.")]
    patched = aliases and re.search(rf"^[ \t]*({'|'.join(aliases)})(\.\w+)+[ \t]*(=[^=]|[-+*/@|&]=)|"
                                    rf"(setattr|delattr)\(\s*({'|'.join(aliases)})\b", text, re.M)
    subclass = re.search(r"^[ \t]*class\s+\w+\s*\([^)]*\b(Tensor|Parameter)\b", text, re.M)
    if not (patched or subclass):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(
                (imports.qualname(b) or "") in _TORCH_SUBCLASS_BASES for b in node.bases):
            return f"this file defines a Tensor subclass (`{node.name}`): its methods may do anything"
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            if isinstance(t, ast.Attribute) and _is_torch(t.value, imports):
                return f"this file replaces a torch function (`{ast.unparse(t)} = ...`): the torch facts " \
                       "do not describe its calls"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
                and node.args and _is_torch(node.args[0], imports):
            return f"this file replaces a torch function (`{ast.unparse(node)}`): the torch facts do not describe " \
                   "its calls"
    return None


def _is_torch(expr: ast.expr, imports: ImportMap) -> bool:
    """`torch`, `torch.Tensor`, `F`, `nn.functional`...: a torch module or class."""
    q = imports.qualname(expr) or ""
    return q == "torch" or q.startswith("torch.")
