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

_FRAMES = re.compile(r"_getframe|currentframe|inspect\.stack|getouterframes|\bf_back\b|\bf_locals\b|\btb_frame\b|"
                     r"walk_stack|walk_tb|getargvalues|_current_frames|\bgi_frame\b|\bcr_frame\b")
_HOOKS = re.compile(r"saved_tensors_hooks|save_on_cpu|setprofile|settrace|sys\.monitoring|_push_saved_tensors|"
                    r"saved_tensors_default_hooks")
_TORCH_PROTOCOL = re.compile(r"__torch_(?!_)")
_CODE_STORE = re.compile(r"__code__\s*=(?!=)|__globals__\s*(\[|\.\s*(update|setdefault|__setitem__)\b)|"
                         r"['\"]__(code|globals)__['\"]|__code__\s*\.\s*replace\b")
# (`sys.modules[__name__]` by any spelling of `sys.modules`: `import sys as _s`, `from sys import modules`,
# `.get(__name__)`: eval45 g03, g04)
_SELF_MODULE = re.compile(r"\bmodules\s*(\[|\.\s*get\s*\()\s*(__name__|['\"]__main__['\"])|import_module\s*\(\s*(__name__|['\"]__main__)|"
                          r"^\s*import\s+__main__|^\s*from\s+__main__\s+import", re.M)


def opaque_reason(tree: ast.Module, text: str | None, imports: ImportMap) -> str | None:
    if text is None:
        text = ast.unparse(tree)
    # (each pattern only where one of its words is in the text: a substring search costs far less)
    if any(w in text for w in _FRAME_WORDS) and _FRAMES.search(text):
        return "a function of this file reads other functions' variables through their frames " \
               "(`sys._getframe`, `inspect`): one may hold the tensor"
    if any(w in text for w in _HOOK_WORDS) and _HOOKS.search(text):
        return "this file installs hooks that see the tensors autograd saves or the calls it makes " \
               "(`saved_tensors_hooks`, `setprofile`): one may keep the tensor"
    if ("__name__" in text or "__main__" in text) and _SELF_MODULE.search(text):
        return "this file reaches its own globals by name (`sys.modules[__name__]`): what they hold may change"
    if ("__code__" in text or "__globals__" in text) and _CODE_STORE.search(text):
        # (`fn.__code__ = other.__code__`, `fn.__globals__["helper"] = ...`: a function's text is no longer
        # what it runs, eval34 D1, D3)
        return "this file replaces a function's code or globals (`__code__`, `__globals__`): its text is not what runs"
    if "__torch_" in text and _TORCH_PROTOCOL.search(text):
        # (`__torch_function__`, `__torch_dispatch__`, and a name built from a piece of one:
        # `setattr(K, "__torch_" + "function__", ...)`, eval26; not TorchScript's `__torch__`)
        return "this file overrides how torch runs its functions (`__torch_function__`)"
    if "__instancecheck__" in text or "__subclasscheck__" in text:
        return "this file defines `__instancecheck__`/`__subclasscheck__`: `isinstance` may keep the tensor"
    if any(w in text for w in _REFLECTIVE_WORDS) and _REFLECTIVE.search(text):
        return "this file runs code by name or reaches torch as a module object (`exec`, `sys.modules['torch']`, " \
               "`__import__`, `types.new_class`): what a call does may not be what the text says"
    if _dynamic_by_another_name(tree, text, imports):
        # (`ev = eval` then `ev('h')`, `builtins.eval`, `getattr(builtins, 'eval')`, `__builtins__`: eval49 D5)
        return "this file reaches `eval`, `exec` or `locals` under another name (an alias, `builtins`): " \
               "code may read the function's variables by name"
    torch_names = _aliases(text, [n for n, q in imports.names.items() if q == "torch" or q.startswith("torch.")])
    builtin_names = _aliases(text, ["builtins", "__builtins__", *(n for n, q in imports.names.items() if q == "builtins")]) \
        if "builtins" in text else []
    tensor_names = ["Tensor", "Parameter", *(re.escape(n) for n in re.findall(
        r"^[ \t]*(\w+)\s*=\s*(?:\w+\s*\.\s*)*(?:Tensor|Parameter)[ \t]*$", text, re.M))] \
        if "Tensor\n" in text or "Parameter\n" in text else ["Tensor", "Parameter"]  # (`Base = torch.Tensor`)
    if builtin_names and re.search(_STORE.format("|".join(builtin_names)), text, re.M):
        return "this file replaces Python builtins (`builtins.len = ...`): a builtin call may keep the tensor"
    patched = torch_names and _patched(text, torch_names)
    if patched and _MOCK.search(text):
        return "this file patches torch (`mock.patch`, `monkeypatch.setattr`): the torch facts do not describe its calls"
    if patched and re.search(rf"\b({'|'.join(torch_names)})\s*\.\s*(__dict__|__setattr__)", text):
        return "this file changes torch through `__dict__`/`__setattr__`: the torch facts do not describe its calls"
    subclass = re.search(rf"^[ \t]*class\s+\w+\s*\(([^)]*\b({'|'.join(tensor_names)})\b|\s*\*)", text, re.M) or \
        re.search(r"\btype\s*\([^,]+,\s*\([^)]*\bTensor\b", text)
    if not (patched or subclass):
        return None
    if subclass:
        return "this file defines a Tensor subclass: its methods may do anything"
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in [n for target in targets for n in ast.walk(target)]:  # (`torch.sigmoid, other = ...` too)
            if isinstance(t, (ast.Attribute, ast.Subscript)) and isinstance(t.ctx, ast.Store) and \
                    (_is_torch(t.value, imports) or _root(t) in torch_names):
                return f"this file replaces a torch function (`{ast.unparse(t)} = ...`): the torch facts " \
                       "do not describe its calls"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
                and node.args and (_is_torch(node.args[0], imports) or _root(node.args[0]) in torch_names):
            return f"this file replaces a torch function (`{ast.unparse(node)}`): the torch facts do not describe " \
                   "its calls"
    return None


# An assignment into an attribute or an item of one of these names (`torch.sigmoid = ...`,
# `torch. sigmoid = ...`, `torch.__dict__["sigmoid"] = ...`, `b.print = ...`).
_STORE = r"^[ \t]*({0})(\s*\.\s*\w+|\s*\[[^\]]*\])+\s*(=[^=]|[-+*/@|&]=)|(setattr|delattr)\(\s*({0})\b|vars\(\s*({0})\s*\)\s*\["


_MOCK = re.compile(r"patch\.object\(|patch\(\s*['\"]torch\.|monkeypatch\.setattr\(")
_REFLECTIVE = re.compile(r"\bexec\s*\(|sys\.modules\s*\[\s*['\"]torch|__import__\s*\(|import_module\s*\(\s*['\"]torch|"
                         r"\bnew_class\s*\(")


_HOOK_WORDS = ("saved_tensors", "save_on_cpu", "setprofile", "settrace", "monitoring")
_FRAME_WORDS = ("frame", "f_back", "f_locals", "inspect", "stack", "getargvalues")
_REFLECTIVE_WORDS = ("exec", "sys.modules", "__import__", "import_module", "new_class")
_AFTER_NAME = re.compile(r"([ \t]*\.[ \t]*\w+)+[ \t]*(=[^=]|[-+*/@|&]=)|[ \t]*\.[ \t]*(__dict__|__setattr__)")


_DYNAMIC = ("eval", "exec", "locals", "vars", "globals")
_DYNAMIC_VALUE = re.compile(r"(?<![\w.'\"])(eval|exec|locals|vars|globals)\b(?!\s*\()")


def _dynamic_by_another_name(tree: ast.Module, text: str, imports: ImportMap) -> bool:
    """Does the file reach a builtin that reads variables by name (`eval`, `exec`, `locals`, `vars`,
    `globals`) otherwise than by calling it by its name, which the flow sees: as a value (`ev = eval`,
    `run(eval, s)`), through the `builtins` module or `__builtins__` (by attribute, `getattr` or
    `__dict__`), or through `importlib`? A file that binds the name itself (`vars = [...]`) means its
    own variable."""
    if not any(w in text for w in _DYNAMIC):
        return False
    if "__builtins__" in text or ("builtins" in text and any(q == "builtins" or q.startswith("builtins.")
                                                             for q in imports.names.values())) or \
            ("importlib" in text and "builtins" in text):
        return True
    if not _DYNAMIC_VALUE.search(text):
        return False
    called: set[int] = set()
    bound: set[str] = set()
    values: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(id(node.func))
        elif isinstance(node, ast.Name) and node.id in _DYNAMIC:
            if isinstance(node.ctx, ast.Load):
                if id(node) not in called:
                    values.add(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.arg) and node.arg in _DYNAMIC:
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in _DYNAMIC:
            bound.add(node.name)
        elif isinstance(node, ast.alias) and (node.asname or node.name) in _DYNAMIC:
            bound.add(node.asname or node.name)
    return bool(values - bound)


def _patched(text: str, names: list[str]) -> bool:
    """Is one of `names` (torch and its aliases) assigned into anywhere (`torch.sigmoid = f`,
    `a = torch.sigmoid = f`, `x; torch.sigmoid = f`, `torch.__dict__[...]`, `setattr(torch, ...)`), or patched with
    `mock`/`monkeypatch`? Confirmed on the tree by the caller. Each occurrence of a name is looked
    at where it is, not the whole text once per line."""
    for m in re.finditer(rf"\b({'|'.join(names)})\b", text):
        if _AFTER_NAME.match(text, m.end()):
            return True
    if ("setattr" in text or "delattr" in text) and \
            re.search(rf"\b(setattr|delattr)\(\s*({'|'.join(names)})\b", text):
        return True  # (`setattr(torch, "sigmoid", f)`)
    return bool(re.search(rf"patch\.object\(\s*({'|'.join(names)})\b|patch\(\s*['\"]torch\.|"
                          rf"monkeypatch\.setattr\(\s*(({'|'.join(names)})\b|['\"]torch\.)", text)) if "patch" in text else False


def _aliases(text: str, names: list[str]) -> list[str]:
    """`names` (escaped for a pattern) and the names the text binds to one of them, or to an
    attribute of one (`mod = torch`, `Base = torch.Tensor`), transitively."""
    out = [re.escape(n) for n in names]
    for _ in range(3):
        if not out:
            return out
        found = re.findall(rf"^[ \t]*(\w+)[ \t]*=[ \t]*(?:{'|'.join(out)})(?:[ \t]*\.[ \t]*\w+)*[ \t]*$", text, re.M)
        new = [re.escape(n) for n in found if re.escape(n) not in out]
        if not new:
            break
        out += new
    return out


def _root(expr: ast.expr) -> str | None:
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return re.escape(expr.id) if isinstance(expr, ast.Name) else None


def _is_torch(expr: ast.expr, imports: ImportMap) -> bool:
    """`torch`, `torch.Tensor`, `F`, `nn.functional`...: a torch module or class."""
    q = imports.qualname(expr) or ""
    return q == "torch" or q.startswith("torch.")
