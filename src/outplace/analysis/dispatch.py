"""What the file does that makes Python call something else than the source says at the call.

The analysis resolves `self.prep(x)` to the class's `prep`, `self.act(x)` to the module assigned in
`__init__`, `pick(x)` to the module-level `def pick`. Python decides at run time, and the file may
say otherwise elsewhere (an adversarial review found each of these turning a safe fix unsafe):

  * an attribute assigned on another object (`m.act = nn.Identity()`, `M.prep = ...`,
    `m.prep = types.MethodType(...)`, `setattr(m, "act", ...)`; a computed name: any attribute);
  * a module-level name rebound in a function (`global pick; pick = ...`) or through `globals()`;
  * forward hooks (`register_forward_hook`, `register_forward_pre_hook`), which may replace what a
    module returns;
  * (per class, in filecontext.py: a subclass in the file overriding the method, an instance
    attribute of the method's name, a class-body name bound again after its `def`.)

Where one of these may apply, the call is unknown for what its result may share; what the known
callee saves still counts for hazards where the callee is only joined with the unknown.
"""

from __future__ import annotations

import ast
import bisect
import re
from dataclasses import dataclass, field

from outplace.analysis.imports import dotted
from outplace.analysis.scopes import _children, walk

HOOK_METHODS = frozenset({"register_forward_hook", "register_forward_pre_hook", "register_module_forward_hook",
                          "register_module_forward_pre_hook"})
HOOK_DICTS = frozenset({"_forward_hooks", "_forward_pre_hooks", "_global_forward_hooks", "_global_forward_pre_hooks"})


@dataclass(frozen=True)
class Rebinding:
    attrs: frozenset = frozenset()  # attribute names assigned on something other than `self` (`cls.m = ...` too)
    any_attr: bool = False  # `setattr(obj, name, ...)` with a computed name
    hooks: bool = False  # forward hooks are registered somewhere in the file
    globals_rebound: frozenset = frozenset()  # module-level names a function rebinds (`global`)
    globals_written: bool = False  # `globals()[...] = ...` / `globals().update(...)`
    # Attribute names whose container is changed after it is built (`self.blocks.append(m)`,
    # `m.layers[0] = nn.Identity()`, `del self.head[-1]`, `self.blocks += [...]`).
    mutated: frozenset = frozenset()
    # Submodules put in place by name (`add_module`, `register_module`, `_modules[...] =`): these
    # replace a module attribute, never a method (a class's method is found before `_modules`).
    module_attrs: frozenset = frozenset()
    any_module_attr: bool = False
    # attribute name -> the statements that change its container (`mutated`'s), for the module
    # builder to tell the ones it followed (`self.blocks.append(...)` in `__init__`) from others.
    mutation_sites: dict = field(default_factory=dict, hash=False, compare=False)

    def attribute(self, name: str) -> bool:
        """May the attribute (a method or a module) be something else at run time?"""
        return self.any_attr or name in self.attrs

    def module_attribute(self, name: str) -> bool:
        """May the module attribute be another module at run time?"""
        return self.attribute(name) or self.any_module_attr or name in self.module_attrs or name in self.mutated

    def global_name(self, name: str) -> bool:
        return self.globals_written or name in self.globals_rebound


_HOOK_WORDS = re.compile(r"register_(module_)?forward|_forward(_pre)?_hooks")
CALL_WORDS = ("setattr(", "delattr(", "__setattr__", "__delattr__", "register_forward", "register_module_forward",
              "globals()", "add_module", "register_module", "_forward_hooks", "_forward_pre_hooks")
# Stores into an instance's `__dict__` / `vars(obj)` and into `_modules`, found in the text (a read of
# them, `vars(args)`, `self._modules.items()`, is common and changes nothing).
_DICT_STORE = re.compile(r"(__dict__|vars\([^()]+\))\s*(\[[^\]]*\]\s*=(?!=)|\.update\(|\.setdefault\()")
_MODULES_STORE = re.compile(r"_modules\s*(\[[^\]]*\]\s*=(?!=)|\.update\(|\.pop\(|\.__setitem__\(|\.setdefault\(|"
                            r"\.clear\(|\.popitem\(|\.__delitem__\()|del\s+[\w.]*_modules\b")
# Functions that put other modules in a model's place (`fuse_modules` puts an Identity where a BatchNorm was).
MODULE_SWAPPERS = ("fuse_modules", "fuse_fx", "swap_module")


CONTAINER_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault",
                                "__setitem__", "__delitem__", "popitem"})


def scan(tree: ast.Module, text: str | None = None) -> Rebinding:
    """`text`: the file's source, when known: the calls are looked for only if one of their names
    is in it (walking every expression of a file costs as much as parsing it)."""
    attrs: set[str] = set()
    rebound: set[str] = set()
    mutated: set[str] = set()
    module_attrs: set[str] = set()
    sites: dict[str, list[ast.stmt]] = {}
    globals_written = instance_dict = any_module_attr = False
    aliases = _attribute_aliases(tree)
    into_containers = _adds_into_containers(tree) if text is None or "add_module(" in text else {}
    recorded: set[int] = set()  # calls whose statement is the site already (one the builder may follow)
    container_calls = {id(s.value) for s in statements(tree.body) if id(s) in into_containers}  # type: ignore[attr-defined]
    # `from m import *` after a module-level `def ident(...)`: it may bind `ident` again (adversarial
    # review X1): every module-level name bound before the last star import is taken as rebound.
    last_star = max((s.lineno for s in tree.body if isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names)),
                    default=0)
    if last_star:
        for s in tree.body:
            if s.lineno < last_star:
                if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    rebound.add(s.name)
                elif isinstance(s, (ast.Assign, ast.AnnAssign)):
                    rebound.update(n.id for t in (s.targets if isinstance(s, ast.Assign) else [s.target])
                                   for n in ast.walk(t) if isinstance(n, ast.Name))
    for stmt in statements(tree.body):
        if isinstance(stmt, ast.Global):
            rebound.update(stmt.names)
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
                isinstance(stmt.value.func, ast.Attribute) and isinstance(stmt.value.func.value, ast.Attribute) and \
                stmt.value.func.attr in ("add_module", "register_module") and id(stmt) not in into_containers and \
                not (stmt.value.func.attr == "register_module" and _registry_call(stmt.value)):
            # `self.body.add_module("0", m)`: the container held in `body` changed (a member replaced
            # or added), as by `self.body.append(m)`
            mutated.add(stmt.value.func.value.attr)
            sites.setdefault(stmt.value.func.value.attr, []).append(stmt)
            recorded.add(id(stmt.value))
        if id(stmt) in into_containers:
            # `self.features.add_module(f"unit{i}", m)` where `features` is a torch container: an
            # item of that container, by a computed name (the container changed; nothing else).
            name = into_containers[id(stmt)]
            mutated.add(name)
            sites.setdefault(name, []).append(stmt)
        for name in mutated_attributes(stmt, aliases):
            mutated.add(name)
            sites.setdefault(name, []).append(stmt)
        if isinstance(stmt, (ast.Assign, ast.Delete)):
            for t in stmt.targets:
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute):
                    if t.value.attr == "__dict__":
                        instance_dict = True  # `obj.__dict__["m"] = ...`: any attribute, methods too
                if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Call) and \
                        isinstance(t.value.func, ast.Name) and t.value.func.id == "vars" and t.value.args:
                    instance_dict = True  # `vars(obj)["m"] = ...`
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete, ast.For, ast.AsyncFor,
                               ast.With, ast.AsyncWith)):
            for t in _targets(stmt):
                if isinstance(t, ast.Name):
                    continue  # (most targets: nothing to look at)
                for part in walk(t):
                    if isinstance(part, ast.Attribute) and isinstance(part.ctx, (ast.Store, ast.Del)) and not (
                            isinstance(part.value, ast.Name) and part.value.id == "self"):
                        attrs.add(part.attr)
                    if isinstance(part, ast.Subscript) and isinstance(part.ctx, (ast.Store, ast.Del)) and \
                            _calls_globals(part.value):
                        globals_written = True
    any_attr = hooks = False
    if text is not None:
        instance_dict = instance_dict or bool(_DICT_STORE.search(text))
        any_module_attr = ("_modules" in text and (bool(_MODULES_STORE.search(text)) or "'_modules'" in text or
                                                   '"_modules"' in text)) or \
            any(w in text for w in MODULE_SWAPPERS)  # `self._modules["act"] = ...`, `fuse_modules(m, ...)`
        # (`vars(m)['_modules']['gate'] = ...`: the submodule dict by its name in a string, reached any way)
    if text is None or any(w in text for w in CALL_WORDS):
        delegations = _setattr_delegations(tree) if text is None or "__setattr__" in text or "__delattr__" in text \
            else set()
        called: set[int] = set()  # (a call is walked before its function: parents come first)
        container_attrs = set(into_containers.values())  # (those the statement scan followed already)
        # (Every node but contexts and operators, in no order: the facts are sets. With the text, only
        # the statements on whose lines a name the walk looks for is written: see _lines_naming.)
        for node in walk(tree) if text is None else _statements_on(tree, _lines_naming(text)):
            if text is None and isinstance(node, ast.Attribute) and node.attr in ("_modules", "__dict__"):
                any_module_attr = True  # (no text to tell a store from a read: either)
                instance_dict = instance_dict or node.attr == "__dict__"
                continue
            if isinstance(node, ast.Attribute) and (node.attr in HOOK_DICTS or node.attr in HOOK_METHODS):
                hooks = True  # (`reg = m.register_forward_hook; reg(fn)`: called through an alias too: H1)
                continue
            if isinstance(node, ast.alias) and node.name.rpartition(".")[2] in HOOK_METHODS or \
                    isinstance(node, ast.Constant) and isinstance(node.value, str) and _HOOK_WORDS.search(node.value):
                # `from torch.nn.modules.module import register_module_forward_pre_hook as rp`; a hook
                # method or table named in a string (`getattr(lin, 'register_forward_' + 'hook')`): eval29 H3
                hooks = True
                continue
            if isinstance(node, ast.Call):
                called.add(id(node.func))
                # `setattr(self.body, "0", m)`, `getattr(self, "body").add_module(...)` in any statement,
                # `self.body.__setitem__(0, m)`: the container held in `body` changed (its item)
                f = node.func
                held = None
                if isinstance(f, ast.Name) and f.id in ("setattr", "delattr") and node.args and \
                        isinstance(node.args[0], ast.Attribute):
                    held = node.args[0].attr
                elif isinstance(f, ast.Name) and f.id in ("setattr", "delattr") and node.args and \
                        not isinstance(node.args[0], ast.Name):
                    # `setattr(getattr(self, "body"), "0", m)`: on something whose container is not
                    # spelled out: any module's member may be replaced (adversarial review G1)
                    any_module_attr = True
                elif isinstance(f, ast.Attribute) and f.attr in ("add_module", "register_module", "__setitem__",
                                                               "__delitem__") and \
                        not (f.attr == "register_module" and _registry_call(node)):
                    held = f.value.attr if isinstance(f.value, ast.Attribute) else _getattr_name(f.value)
                if held is not None and held not in container_attrs and id(node) not in recorded:
                    mutated.add(held)
                    sites.setdefault(held, []).append(node)  # (a site no module builder follows)
            if isinstance(node, ast.Attribute) and node.attr in ("add_module", "register_module") and \
                    id(node) not in called:
                any_module_attr = True  # (`partial(m.register_module, "act")`: called where it cannot be seen)
                continue
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("update", "setdefault", "__setitem__") and isinstance(func, ast.Attribute) and (
                    (isinstance(func.value, ast.Attribute) and func.value.attr == "__dict__") or (
                    isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name)
                    and func.value.func.id == "vars" and func.value.args)):
                instance_dict = True  # `obj.__dict__.update(...)`, `vars(obj).update(...)`
            elif name == "register_module" and _registry_call(node):
                continue  # `@MODELS.register_module()`: a registry's decorator, no submodule
            elif name in ("add_module", "register_module") and node.args and \
                    isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                module_attrs.add(node.args[0].value)
            elif name in ("add_module", "register_module") and id(node) not in container_calls:
                any_module_attr = True  # (`add_module(f"layer{i}", ...)`: modules by computed names)
            elif id(node) in delegations:
                continue  # (a class's own `__setattr__` handing on to `super().__setattr__(name, value)`)
            elif (key := _attribute_name_argument(name, node)) is not None:
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    attrs.add(key.value)
                else:
                    any_attr = True
            elif name in HOOK_METHODS:
                hooks = True
            elif name in ("update", "setdefault", "__setitem__", "pop") and isinstance(func, ast.Attribute) and \
                    _calls_globals(func.value):
                globals_written = True
    return Rebinding(frozenset(attrs), any_attr or instance_dict, hooks, frozenset(rebound), globals_written,
                     frozenset(mutated), frozenset(module_attrs), any_module_attr, sites)


def mutated_attributes(stmt: ast.stmt, aliases: dict[str, set[str]] | None = None) -> list[str]:
    """The attributes whose container `stmt` changes after it is built (`x.blocks.append(m)`,
    `x.layers[0] = ...`, `del x.head[-1]`, `x.blocks += [...]`), also through a name bound to one
    (`layers = m.blocks; del layers[i]`, `aliases`) or `getattr(x, "blocks")`."""
    aliases = aliases or {}

    def held(expr: ast.AST) -> list[str]:
        if isinstance(expr, ast.Attribute):
            return [expr.attr]
        if isinstance(expr, ast.Name):
            return sorted(aliases.get(expr.id, ()))
        return [a] if (a := _getattr_name(expr)) is not None else []

    out = []
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr in CONTAINER_MUTATORS:
            out += held(func.value)
    if isinstance(stmt, ast.AugAssign):
        out += held(stmt.target)
    if isinstance(stmt, (ast.Assign, ast.Delete)):
        for t in stmt.targets:
            if isinstance(t, ast.Subscript):
                out += held(t.value)
    return out


def _getattr_name(expr: ast.AST) -> str | None:
    """`getattr(x, "blocks")` -> "blocks"."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "getattr" and \
            len(expr.args) >= 2 and isinstance(expr.args[1], ast.Constant) and isinstance(expr.args[1].value, str):
        return expr.args[1].value
    return None


def _attribute_aliases(tree: ast.Module) -> dict[str, set[str]]:
    """Names bound to an attribute's value somewhere in the file (`layers = self.blocks`,
    `seq = getattr(m, "body")`): name -> the attribute names (file-wide: a name bound in one
    function counts in all, which only makes more attributes changeable)."""
    out: dict[str, set[str]] = {}
    for stmt in statements(tree.body):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            v = stmt.value
            attr = v.attr if isinstance(v, ast.Attribute) else _getattr_name(v)
            if attr is not None:
                out.setdefault(stmt.targets[0].id, set()).add(attr)
    return out


# Every name whose node the walk in `scan` looks at: the calls' names, the hook tables, and the
# receivers of the `update`/`setdefault`/`__setitem__`/`pop` calls it counts (`__dict__`, `vars()`,
# `globals()`). A node with one of them spells it on a line of its statement.
_WALKED_NAMES = re.compile(r"setattr|delattr|register_forward|register_module|add_module|_forward_hooks|"
                           r"_forward_pre_hooks|__dict__|vars|globals")


def _lines_naming(text: str) -> list[int] | None:
    """The numbers of the lines that hold a name of _WALKED_NAMES; None where a line number or a
    name may not be what the text shows (a carriage return ends lines too; a non-ASCII identifier
    may normalise to one of the names)."""
    if "\r" in text or not text.isascii():
        return None
    out, line, last = [], 1, 0
    for m in _WALKED_NAMES.finditer(text):
        line += text.count("\n", last, m.start())
        last = m.start()
        if not out or out[-1] != line:
            out.append(line)
    return out


def _statements_on(tree: ast.Module, lines: list[int] | None):
    """Every node (as scopes.walk) of the statements whose lines (decorators' included) hold one
    of `lines`; all of them when `lines` is None."""
    if lines is None:
        yield from walk(tree)
        return
    todo: list = list(tree.body)
    while todo:
        n = todo.pop()
        if isinstance(n, ast.stmt):
            first = min([n.lineno, *(d.lineno for d in getattr(n, "decorator_list", ()))])
            i = bisect.bisect_left(lines, first)
            if i == len(lines) or lines[i] > n.end_lineno:  # type: ignore[operator]
                continue
        yield n
        todo += _children(n)


def statements(body: list):
    """Every statement, nested ones included (function and class bodies, branches, handlers, cases)."""
    todo = list(body)
    while todo:
        stmt = todo.pop()
        yield stmt
        t = type(stmt)
        nested = _NESTED.get(t)
        if nested is None:
            nested = _NESTED[t] = _nested_fields(t)
        if nested:
            for field in nested:
                if field == "handlers" or field == "cases":
                    for part in getattr(stmt, field):
                        todo.extend(part.body)
                else:
                    inner = getattr(stmt, field)
                    if isinstance(inner, list):
                        todo.extend(inner)


_NESTED: dict[type, tuple[str, ...]] = {}


def _nested_fields(t: type) -> tuple[str, ...]:
    """The fields of a statement class that hold statements, in the order `statements` takes them
    (most statements have none: a look at the class, once, spares a look at each statement)."""
    fields = getattr(t, "_fields", ())
    return tuple(f for f in ("body", "orelse", "finalbody", "handlers", "cases") if f in fields)


def _targets(stmt: ast.stmt) -> list:
    if isinstance(stmt, (ast.Assign, ast.Delete)):
        return stmt.targets
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [i.optional_vars for i in stmt.items if i.optional_vars is not None]
    return [stmt.target]


def _setattr_delegations(tree: ast.Module) -> set[int]:
    """The calls by which a class's own `__setattr__`/`__delattr__` hands on to its base's, on `self`:
    `super().__setattr__(name, value)`, `nn.Module.__setattr__(self, name, value)`. They set an attribute
    of an instance of that class only (whose own `__setattr__` makes it unconfigurable anyway), not of
    any object (physicsnemo's UNetBlock made every attribute of the file's objects unknown)."""
    out: set[int] = set()
    for fn in walk(tree):
        if not isinstance(fn, ast.FunctionDef) or fn.name not in ("__setattr__", "__delattr__") or not fn.args.args:
            continue
        me = fn.args.args[0].arg
        for n in walk(fn):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == fn.name:
                receiver = n.func.value
                if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Name) and receiver.func.id == "super" \
                        or n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == me:
                    out.add(id(n))
    return out


def _attribute_name_argument(name: str, call: ast.Call) -> ast.AST | None:
    """The name argument of `setattr(obj, NAME, v)`, `delattr(obj, NAME)`, `obj.__setattr__(NAME, v)`,
    `nn.Module.__setattr__(self, NAME, v)`; None for any other call."""
    args = call.args
    if name in ("setattr", "delattr"):
        return args[1] if len(args) >= 2 else None
    if name in ("__setattr__", "__delattr__"):
        unbound = len(args) >= (3 if name == "__setattr__" else 2)
        return args[1] if unbound else (args[0] if args else None)
    return None


def _calls_globals(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in ("globals", "vars") \
        and not expr.args


def _registry_call(call: ast.Call) -> bool:
    """`MODELS.register_module()`, `@BACKBONES.register_module(force=True)`: a registry's (mmengine's
    and alike), not `nn.Module.register_module(name, module)`, which cannot be called with fewer
    than its two arguments, a name and a module."""
    given = len(call.args) + sum(1 for k in call.keywords if k.arg in ("name", "module"))
    return given < 2 and not any(isinstance(a, ast.Starred) for a in call.args) and \
        not any(k.arg is None for k in call.keywords)


_TORCH_CONTAINERS = frozenset({f"{p}{c}" for p in ("nn.", "torch.nn.") for c in ("Sequential", "ModuleList", "ModuleDict")})


def _adds_into_containers(tree: ast.Module) -> dict:
    """id(statement) -> attribute name for each `<x>.<attr>.add_module(name,
    m)` statement whose `<attr>` is, wherever the file assigns one of that name, a torch container
    built empty or with members (`self.features = nn.Sequential()`): its computed-name submodules are
    that container's items, not attributes any class of the file looks up."""
    assigned: dict[str, bool] = {}  # attribute name -> every store of one is a torch container
    named: dict[str, bool] = {}  # the same for plain names (`stage = nn.Sequential()`), any binding counted
    seen: set[int] = set()  # the Name targets of those assignments (walked before the names: parents first)
    calls = []
    for node in walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            ok = isinstance(node.value, ast.Call) and (dotted(node.value.func) or "") in _TORCH_CONTAINERS
            for t in targets:
                if isinstance(t, ast.Attribute):
                    assigned[t.attr] = assigned.get(t.attr, True) and ok
                elif isinstance(t, ast.Name):
                    named[t.id] = named.get(t.id, True) and ok
                    seen.add(id(t))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
                isinstance(node.value.func, ast.Attribute) and node.value.func.attr in ("add_module", "register_module") \
                and isinstance(node.value.func.value, (ast.Attribute, ast.Name)):
            calls.append(node)
        # (a name bound any other way too: a parameter, a loop or `with` target, an import, a `del`)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and id(node) not in seen:
            named[node.id] = False
        elif isinstance(node, ast.arg):
            named[node.arg] = False
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                named[(a.asname or a.name).partition(".")[0]] = False
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            named[node.name] = False
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for n in node.names:
                named[n] = False
    out: dict = {}
    for stmt in calls:
        receiver = stmt.value.func.value
        if isinstance(receiver, ast.Attribute) and assigned.get(receiver.attr):
            out[id(stmt)] = receiver.attr
        elif isinstance(receiver, ast.Name) and named.get(receiver.id):
            out[id(stmt)] = receiver.id
    return out
