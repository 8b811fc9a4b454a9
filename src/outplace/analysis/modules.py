"""Which module an expression builds, read off the code that builds it (nothing is run).

    nn.ReLU(inplace=True)                       a torch module (with its `inplace`)
    nn.Sequential(a, b, c) / nn.Sequential(*layers)   a chain; `layers` as the function builds it:
                                                a list literal, `.append`/`.extend`/`+=`, members
                                                added under an `if` are optional, in a loop repeated
    nn.ModuleList([...]), nn.ModuleDict({...})  alternatives (`self.blocks[i]` is one of them)
    Block(dim)                                  one of the run's own nn.Module classes
    make_mlp(...) / get_activation(name)        a function of the run that returns any of the above
    weight_norm(nn.Linear(...))                 the module it wraps (parametrizations return it)
    nn.Linear(...) if c else nn.Identity()      either
    self.body = nn.Sequential(); self.body.add_module(name, m)   the chain add_module builds

An optional member is `container(member, skip)`: the chain's value may pass it by.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from outplace.analysis.config import names_lookup, truth
from outplace.analysis.effects import PARAMETER_CLASSES, inplace_arg
from outplace.analysis.imports import dotted
from outplace.analysis.iterables import certainly_nonempty
from outplace.analysis.scopes import walk

if TYPE_CHECKING:
    from outplace.analysis.filecontext import FileContext

MODULE_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
# torch.nn.utils wrappers that return the module they are given (with a parametrization or hook).
MODULE_WRAPPERS = {"weight_norm", "spectral_norm", "orthogonal", "register_parametrization", "remove_weight_norm",
                   "remove_spectral_norm", "skip_init"}
MAX_DEPTH = 8


@dataclass(frozen=True)
class ModuleInfo:
    """What is known of a module object: a torch.nn class, one of the project's, a container of them."""

    kind: str  # torch | project | sequential | container | function | unknown
    cls: str | None = None  # the class; for a function: the torch function's qualified name
    inplace: bool = False
    parts: tuple = ()  # sequential: the chain in order; container: the alternatives
    node: ast.AST | None = field(default=None, compare=False, hash=False)  # the constructor call / class
    config: tuple = ()  # project: what the constructor's constant arguments fix (config.py)
    # container filled by `.append(...)`s (`parts` are its distinct members): the members in the
    # order they were added, loops' and ifs' optional, for a loop that runs them in turn
    order: tuple = ()


SKIP = ModuleInfo("torch", "Identity")
ITERATION = "<one iteration>"  # the `cls` of the chain of what one loop iteration added  # "this optional member did not run"
UNKNOWN_MODULE = ModuleInfo("unknown")
# A member of a torch container (`nn.Sequential(layers)`, `nn.ModuleList(...)`) the file does not show: a
# module for sure, which may have parameters (its output may require grad whatever its input).
UNKNOWN_MEMBER = ModuleInfo("unknown", "a member of a torch container")


def _member(m: ModuleInfo | None) -> ModuleInfo:
    """A torch container's member: an unknown one is still a module (UNKNOWN_MEMBER)."""
    return UNKNOWN_MEMBER if m is None or m == UNKNOWN_MODULE else m


def optional(m: ModuleInfo) -> ModuleInfo:
    return ModuleInfo("container", parts=(m, SKIP))


def members_of(added: list[ModuleInfo]) -> list[ModuleInfo]:
    """The modules one by one of what a builder added in order (optional ones unwrapped, a loop
    iteration's group opened): what `self.blocks[i]` may be."""
    out: list[ModuleInfo] = []
    for m in added:
        if m.kind == "container" and any(p is SKIP for p in m.parts):
            # (optional, or maybe replaced: each of the others; SKIP by identity, not a written
            # `nn.Identity()`, which equals it: `nn.Linear(...) if c else nn.Identity()` stays both)
            out += members_of([p for p in m.parts if p is not SKIP])
        elif m.kind == "sequential" and m.cls == ITERATION:
            out += members_of(list(m.parts))
        else:
            out.append(m)
    return out


class ModuleBuilder:
    """Static evaluation of module-building expressions within one file (other files' classes and
    functions through the file context's project index)."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._returns: dict[int, ModuleInfo | None] = {}
        self._assigns: dict[int, dict[str, list[ast.Assign]]] = {}
        self._defaulted: dict[int, ast.Call] = {}  # `act_layer(...)` -> the call of its parameter's default
        # (an `__init__`, its configuration): while a configured instance's attributes are built,
        # `a if relu else b` in that `__init__` is the arm the configuration takes.
        self.known: tuple[ast.AST, dict] | None = None

    def info(self, value: ast.AST | None, scope: ast.AST | None = None, depth: int = 0) -> ModuleInfo | None:
        """The module `value` builds when evaluated in `scope` (a function whose local names it may
        use), or None when it builds no module outplace knows of."""
        if value is None:
            return None
        if depth > MAX_DEPTH:
            return UNKNOWN_MODULE
        if isinstance(value, ast.IfExp):
            taken = self.decided(value.test, scope)
            if taken is not None:
                return self.info(value.body if taken else value.orelse, scope, depth + 1)
            # (`nn.Linear(d, e) if proj else None`: a call of it runs the module; None is called never)
            if _is_none(value.orelse) or _is_none(value.body):
                return self.info(value.body if _is_none(value.orelse) else value.orelse, scope, depth + 1)
            return either(self.info(value.body, scope, depth + 1), self.info(value.orelse, scope, depth + 1))
        function = self.torch_function(value, scope)
        if function is not None:
            return function
        if isinstance(value, ast.Name) and scope is not None:
            return self._local(value.id, scope, value, depth)
        if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Slice):
            return UNKNOWN_MODULE  # (`self.body[1:]`: a part of a chain, another chain: adversarial review S1)
        if isinstance(value, ast.Subscript):
            return self._registry(value, depth, call=False)
        if not isinstance(value, ast.Call):
            return None
        if isinstance(value.func, ast.Subscript) and not value.args and not value.keywords:
            return self._registry(value.func, depth, call=True)
        by_name = self._named_class(value, scope, depth)
        if by_name is not None:
            return by_name
        ctx = self.ctx
        q = ctx.imports.qualname(value.func) or ctx.module_alias(value.func) or ""
        parts = q.split(".")
        name = parts[-1]
        if q in PARAMETER_CLASSES or name in ("Parameter", "Buffer"):
            return None
        if q.startswith("torch.nn.utils") and name in MODULE_WRAPPERS and value.args:
            return self.info(value.args[0], scope, depth + 1)
        if _torch_module_class(q):
            if name in MODULE_CONTAINERS:
                return self._container(name, value, scope, depth)
            index = ctx.ops.modules_inplace.get(name)
            inplace = index is not None and inplace_arg(value, index) is not None
            return ModuleInfo("torch", name, inplace=inplace, node=value)
        func_name = value.func.id if isinstance(value.func, ast.Name) else None
        shadowed = func_name is not None and scope is not None and self._shadows(func_name, scope)
        target = self._definition(value.func) if not shadowed else None  # `act()` where `act` is a parameter
        if shadowed:
            # `norm_layer(dim)` with `norm_layer=nn.LayerNorm` a parameter: its default's module, or
            # whatever a caller passes
            by_default = self._default_layer(func_name, value, scope, depth)  # type: ignore[arg-type]
            passed = self._passed_layers(func_name, value, scope, depth)  # type: ignore[arg-type]
            if passed:  # (and what the file's instantiations pass: `Block(act_layer=nn.Sigmoid)`)
                return ModuleInfo("container", parts=tuple(dict.fromkeys(
                    [*([by_default] if by_default is not None else []), *passed, UNKNOWN_MODULE])))
            return either(by_default, UNKNOWN_MODULE) if by_default is not None else UNKNOWN_MODULE
        if isinstance(target, ast.ClassDef):
            owner = ctx.owner_of(target)
            if owner.replacing_decorator(target) is not None:
                return UNKNOWN_MODULE  # (`@REG.register()` may have put another class in its place)
            if owner.is_module_class(target):
                known = names_lookup(self.known[1]) if self.known is not None and scope is self.known[0] else None
                config = owner.constructor_config(target, value, known)
                if config and owner is not ctx and (ctx.rebinding.any_attr or not ctx.rebinding.attrs.isdisjoint(
                        owner.stored_attributes(target))):
                    config = ()  # this file sets such attributes on other objects: maybe on this instance
                return ModuleInfo("project", target.name, node=target, config=config)
            return None
        if isinstance(target, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return self.returned(target, depth + 1)
        if target is None and q and not shadowed:
            from outplace.analysis.external import external_module  # (it builds on this module's infos)

            return external_module(q, value, lambda name: self._bound_once(name, scope))
        return None

    def _bound_once(self, name: str, scope: ast.AST | None) -> ast.AST | None:
        """What a local of `scope` is bound to, where it is bound once, by a plain assignment
        (`act_cfg = dict(type='ReLU')` before the modules it configures)."""
        info = self.ctx.index.scopes.get(scope) if scope is not None else None
        binds = info.bindings.get(name, []) if info is not None else []
        return binds[0].value if len(binds) == 1 and binds[0].kind == "assign" and name not in info.params else None

    def decided(self, test: ast.AST, scope: ast.AST | None) -> bool | None:
        """The arm a configured `__init__` takes at `test` (None: not fixed, or not that `__init__`)."""
        if self.known is None or scope is not self.known[0]:
            return None
        return truth(test, names_lookup(self.known[1]))

    def torch_function(self, value: ast.AST, scope: ast.AST | None) -> ModuleInfo | None:
        """A torch function kept to be called later like a module: `self.act = F.gelu`,
        `torch.sigmoid`, `partial(F.softmax, dim=-1)` (keywords only; never `inplace=`/`out=`,
        which make it a write). The effects know the function, or it is none."""
        ctx = self.ctx
        if isinstance(value, ast.Call):
            if (ctx.imports.qualname(value.func) or "") != "functools.partial" or len(value.args) != 1 or \
                    any(k.arg in (None, "inplace", "out") for k in value.keywords):
                return None
            inner = self.torch_function(value.args[0], scope)
            if inner is None or ctx.ops.may_alias_input.get("functional", {}).get(
                    (inner.cls or "").rsplit(".", 1)[-1], frozenset()) - {"inplace=True"}:
                return None  # whether it returns its input depends on arguments the partial hides (`training=`)
            return ModuleInfo("function", inner.cls, node=value)
        if not isinstance(value, (ast.Attribute, ast.Name)):
            return None
        if isinstance(value, ast.Name):
            info = ctx.index.scopes.get(scope) if scope is not None else None
            if info is not None and value.id in info.bindings:
                return None  # a local of that name, not the import
        q = ctx.imports.qualname(value) or ""
        parts = q.split(".")
        name = parts[-1]
        if parts[:3] == ["torch", "nn", "functional"] and len(parts) == 4:
            known = ctx.effects.functional(name, False) is not None
        elif parts[0] == "torch" and len(parts) == 2:
            known = ctx.effects.torch_function(name) is not None
        else:
            return None
        return ModuleInfo("function", q, node=value) if known and name[:1].islower() and not name.endswith("_") \
            else None

    def _registry(self, item: ast.Subscript, depth: int, call: bool) -> ModuleInfo | None:
        """`ACT2CLS[name]()` / `ACT2FN[name]`: an entry of a module-level dict literal of torch.nn
        classes (called) or torch functions (not called), bound once: any of its values, or
        something else."""
        if not isinstance(item.value, ast.Name):
            return None
        binds = self.ctx.index.scopes[self.ctx.tree].bindings.get(item.value.id, [])
        stmt = binds[0].stmt if len(binds) == 1 else None
        if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Dict) and stmt.value.values):
            return None
        parts: list[ModuleInfo] = []
        for v in stmt.value.values:
            if call:
                q = self.ctx.imports.qualname(v) or ""
                name = q.rsplit(".", 1)[-1]
                if not (q.startswith("torch.nn.") and name[:1].isupper() and name not in MODULE_CONTAINERS):
                    return None
                parts.append(ModuleInfo("torch", name))
            else:
                got = self.torch_function(v, None)
                if got is None:
                    return None
                parts.append(got)
        # Other code may add entries (`ACT2CLS["swish"] = Swish`): anything else too, as far as a
        # fix is concerned; what its known entries save still counts.
        return ModuleInfo("container", parts=tuple(dict.fromkeys(parts)) + (UNKNOWN_MODULE,))

    # ---- containers ---------------------------------------------------------------------------------
    def _container(self, name: str, call: ast.Call, scope: ast.AST | None, depth: int) -> ModuleInfo:
        members: list[ModuleInfo] = []
        chain_known = name == "Sequential"
        for a in call.args:
            if isinstance(a, ast.Starred):
                got = self.list_members(a.value, scope, depth + 1)
                if got is None:
                    chain_known = False
                    members.append(UNKNOWN_MEMBER)
                else:
                    members += [_member(m) for m in got]
            elif isinstance(a, (ast.List, ast.Tuple)):
                members += [_member(self.info(e, scope, depth + 1)) for e in a.elts]
                chain_known = False if name == "Sequential" else chain_known
            elif isinstance(a, ast.ListComp):
                members.append(_member(self.info(a.elt, scope, depth + 1)))
                chain_known = False
            elif isinstance(a, ast.Dict):
                members += [_member(self.info(v, scope, depth + 1)) for v in a.values]
                chain_known = False
            elif isinstance(a, ast.Name) and name != "Sequential":
                got = self.list_members(a, scope, depth + 1)
                members += [_member(m) for m in got] if got is not None else [UNKNOWN_MEMBER]
            else:
                members.append(_member(self.info(a, scope, depth + 1)))
        if chain_known:
            return ModuleInfo("sequential", parts=tuple(members), node=call)
        return ModuleInfo("container", parts=tuple(members) or (UNKNOWN_MEMBER,), node=call)

    def list_members(self, expr: ast.AST, scope: ast.AST | None, depth: int) -> list[ModuleInfo] | None:
        """The modules a list holds, in order, as the function `scope` builds it before using it."""
        if isinstance(expr, (ast.List, ast.Tuple)):
            return [self.info(e, scope, depth + 1) or UNKNOWN_MODULE for e in expr.elts]
        if not isinstance(expr, ast.Name) or scope is None:
            return None
        out: list[ModuleInfo] = []
        understood: set[int] = set()
        found = self._build_list(expr.id, getattr(scope, "body", []), scope, depth, out, optional_part=False,
                                 before=expr, understood=understood)
        if not found:
            # (a parameter the body never changes or hands on: what the instantiations pass)
            plain = not understood and not _other_uses(expr.id, scope, expr, understood)
            return self._constructor_list(expr.id, scope, depth) if plain else None
        if found and _other_uses(expr.id, scope, expr, understood):
            # Changed, read or rebound in a way not followed (`layers[0] = ...`, `del layers[-1]`,
            # `layers.pop(0)`, a helper given the list, an `except:` branch): any member may be gone,
            # and it may hold anything as well.
            out[:] = [m if m.kind == "container" and SKIP in m.parts else optional(m) for m in out]
            out.append(optional(UNKNOWN_MODULE))
        return out if found else None

    def _empty_or_copied(self, value: ast.AST, scope: ast.AST, depth: int) -> list[ModuleInfo] | None:
        """`list()`, `nn.ModuleList()`: empty; `nn.ModuleList([a, b])`: those; None for anything else."""
        if not isinstance(value, ast.Call) or value.keywords:
            return None
        if isinstance(value.func, ast.Name) and value.func.id == "list" and not value.args:
            return []
        if (self.ctx.imports.qualname(value.func) or "") in ("torch.nn.ModuleList", "torch.nn.modules.container.ModuleList"):
            if not value.args:
                return []
            if len(value.args) == 1 and not isinstance(value.args[0], ast.Starred):
                return self.list_members(value.args[0], scope, depth + 1)
        return None

    def _build_list(self, name: str, body: list[ast.stmt], scope: ast.AST, depth: int, out: list[ModuleInfo],
                    optional_part: bool, before: ast.AST, understood: set[int] | None = None) -> bool:
        found = False
        understood = set() if understood is None else understood
        for stmt in body:
            if stmt.lineno >= before.lineno:  # type: ignore[attr-defined]
                break
            if isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets):
                understood.add(id(stmt))
                out.clear()
                got = self.list_members(stmt.value, scope, depth) if isinstance(stmt.value, (ast.List, ast.Tuple)) \
                    else self._empty_or_copied(stmt.value, scope, depth)
                if got is None:
                    out.append(UNKNOWN_MODULE)
                else:
                    out += [optional(m) if optional_part else m for m in got]
                found = True
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
                    isinstance(stmt.value.func, ast.Attribute) and isinstance(stmt.value.func.value, ast.Name) and \
                    stmt.value.func.value.id == name and stmt.value.func.attr in ("append", "extend", "insert") and \
                    not any(isinstance(n, ast.Name) and n.id == name for a in [*stmt.value.args, *stmt.value.keywords]
                            for n in ast.walk(a)):
                # (not `layers.append(layers.pop(0))`: the list changed inside its own argument, L1)
                understood.add(id(stmt))
                call = stmt.value
                if call.func.attr == "append" and call.args:  # type: ignore[attr-defined]
                    added = [self.info(call.args[0], scope, depth + 1) or UNKNOWN_MODULE]
                elif call.func.attr == "extend" and call.args:  # type: ignore[attr-defined]
                    added = self.list_members(call.args[0], scope, depth + 1) or [UNKNOWN_MODULE]
                else:
                    added = [UNKNOWN_MODULE]
                out += [optional(m) if optional_part else m for m in added]
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
                understood.add(id(stmt))
                added = self.list_members(stmt.value, scope, depth + 1) or [UNKNOWN_MODULE]
                out += [optional(m) if optional_part else m for m in added]
            elif isinstance(stmt, ast.If):
                taken = self.decided(stmt.test, scope)
                if taken is not None:  # a configured `__init__` takes one arm: the other's members never join
                    found |= self._build_list(name, stmt.body if taken else stmt.orelse, scope, depth, out,
                                              optional_part, before, understood)
                    self._build_list(name, stmt.orelse if taken else stmt.body, scope, depth, [], True, before,
                                     understood)
                    continue
                found |= self._build_list(name, stmt.body, scope, depth, out, True, before, understood)
                found |= self._build_list(name, stmt.orelse, scope, depth, out, True, before, understood)
            elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
                found |= self._loop(stmt, scope, out, optional_part, name, lambda group, opt: self._build_list(
                    name, stmt.body, scope, depth, group, opt, before, understood))
            elif isinstance(stmt, (ast.With, ast.AsyncWith, ast.Try)):
                # (A `try` body, or a `with` whose manager may swallow an exception, may stop early.)
                found |= self._build_list(name, stmt.body, scope, depth, out, True, before, understood)
        return found

    # ---- names and definitions ------------------------------------------------------------------------
    def _local(self, name: str, scope: ast.AST, at: ast.AST, depth: int) -> ModuleInfo | None:
        """A local name: the modules every assignment to it in the function may have made."""
        got: list[ModuleInfo] = []
        plain = self._assignments(scope).get(name, ())
        self._scope(scope)  # (indexed: its parents known)
        loops = self.ctx.index.loops_around(at)
        nothing = False
        for node in plain:
            # (an assignment later in a loop around the use reaches it on the next iteration)
            if node.lineno < at.lineno or any(self.ctx.contains(loop, node) for loop in loops):  # type: ignore[attr-defined]
                if _is_none(node.value):  # type: ignore[attr-defined]
                    # (`act = None`, then `act = nn.ReLU()` if configured: None is never run as a module;
                    # a call of it, or a chain holding it, raises)
                    nothing = True
                    continue
                got.append(self.info(node.value, scope, depth + 1) or UNKNOWN_MODULE)  # type: ignore[attr-defined]
        if not got:
            return None if nothing else self._constructor_argument(name, scope, depth)
        if self._bound_otherwise(name, scope, plain):
            got.append(UNKNOWN_MODULE)  # also a `for`/`with` target, a walrus, an unpacking, a parameter
        return got[0] if len(got) == 1 else ModuleInfo("container", parts=tuple(got))

    def _constructor_argument(self, name: str, scope: ast.AST, depth: int) -> ModuleInfo | None:
        """`self.activation = activation` in `__init__`, a parameter it never rebinds: what the class's
        instantiations in this file pass there (`ARMAConv(..., activation=activation)` in another
        `__init__`, `ARMA4NC(..., activation=F.relu)`), or any module (callers elsewhere); None where
        none of them passes a module outplace knows (dgl's ARMA, eval27)."""
        found: list[ModuleInfo] = []
        for passed, caller in self._passed_to_init(name, scope, depth) or ():
            got = self.info(passed, caller, depth + 1)
            if got is not None:
                found.append(got)
        if not found:
            return None
        return ModuleInfo("container", parts=(*dict.fromkeys(found), UNKNOWN_MODULE))

    def _constructor_list(self, name: str, scope: ast.AST, depth: int) -> list[ModuleInfo] | None:
        """`nn.Sequential(*arch)` in `__init__` with `arch` a parameter it never rebinds: the modules
        the class's instantiations in this file pass there, position by position, each or any
        module (callers elsewhere may pass others) (cgnet, eval32); None where they do not all
        pass lists of one length outplace can read."""
        passed = self._passed_to_init(name, scope, depth)
        if not passed:
            return None
        lists = [self.list_members(p, caller, depth + 1) for p, caller in passed]
        if any(m is None for m in lists) or len({len(m) for m in lists}) != 1:  # type: ignore[arg-type]
            return None
        return [ModuleInfo("container", parts=(*dict.fromkeys(ms), UNKNOWN_MODULE)) for ms in zip(*lists)]  # type: ignore[misc]

    def _passed_to_init(self, name: str, scope: ast.AST, depth: int) -> list[tuple[ast.AST, ast.AST | None]] | None:
        """(what is passed, the caller's scope or None at module level) for the `__init__` parameter
        `name`, a parameter it never rebinds, at each instantiation of its class in this file that
        passes it; None where `scope` is no such `__init__`."""
        info = self._scope(scope)
        if not isinstance(scope, ast.FunctionDef) or scope.name != "__init__" or info is None or \
                name not in info.params or any(b.kind != "param" for b in info.bindings.get(name, ())) or \
                depth > MAX_DEPTH - 2:
            return None
        cls = self.ctx.enclosing_class(scope)
        args = scope.args
        params = [a.arg for a in [*args.posonlyargs, *args.args]][1:]  # (after `self`)
        if cls is None or name == (args.vararg.arg if args.vararg else None) or \
                name == (args.kwarg.arg if args.kwarg else None):
            return None
        out = []
        for call in self.ctx._calls_by_name()[0].get(cls.name, ()):
            if self._definition(call.func) is not cls:
                continue
            passed = next((k.value for k in call.keywords if k.arg == name), None)
            if passed is None and name in params and params.index(name) < len(call.args) and \
                    not any(isinstance(a, ast.Starred) for a in call.args[:params.index(name) + 1]):
                passed = call.args[params.index(name)]
            if passed is None:
                continue
            caller = self.ctx.scope_node(call)
            out.append((passed, caller if not isinstance(caller, ast.Module) else None))
        return out

    def _named_class(self, call: ast.Call, scope: ast.AST | None, depth: int) -> ModuleInfo | None:
        """`getattr(nn, activation)(...)`, or `cls = getattr(nn, name); cls(...)`: a torch.nn class
        looked up by its name (fepegar/unet's blocks, eval42). A name that is a string constant, or a
        parameter defaulting to one (what callers pass may be another), gives that class; any
        other name, some torch.nn class outplace cannot tell (None: not such a lookup)."""
        func = call.func
        if isinstance(func, ast.Name) and scope is not None and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            plain = self._assignments(scope).get(func.id, ())
            if len(plain) != 1 or self._bound_otherwise(func.id, scope, plain) or \
                    plain[0].lineno >= call.lineno:  # type: ignore[attr-defined]
                return None
            func = plain[0].value  # type: ignore[attr-defined]
        if not (isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "getattr" and
                len(func.args) == 2 and not func.keywords and self.ctx.imports.qualname(func.args[0]) == "torch.nn"
                and self._builtin(func.func.id, scope)):
            return None
        names = self._string_values(func.args[1], scope)
        known = [n for n in names if n is not None and n[:1].isupper() and n not in MODULE_CONTAINERS]
        made = []
        for n in dict.fromkeys(known):
            index = self.ctx.ops.modules_inplace.get(n)
            made.append(ModuleInfo("torch", n, inplace=index is not None and inplace_arg(call, index) is not None,
                                   node=call))
        if len(known) != len(names) or not made:
            made.append(UNKNOWN_MODULE)
        return made[0] if len(made) == 1 else ModuleInfo("container", parts=tuple(made))

    def _builtin(self, name: str, scope: ast.AST | None) -> bool:
        """Is `name` the builtin where `scope` reads it: bound nowhere in the module, nor in `scope` or a
        function around it (a file's own `def getattr` is another function: eval44 B1)?"""
        inner = scope if scope is not None else self.ctx.tree
        if not isinstance(inner, ast.Module) and self.ctx.bindings_around(inner, name):
            return False
        return self.ctx.outside_name(inner, name)[1].origin == "builtin" and not self.ctx.rebinding.global_name(name)

    def _string_values(self, expr: ast.AST, scope: ast.AST | None) -> list[str | None]:
        """The strings `expr` may be: a constant; a parameter's constant default (or, from a caller,
        anything: None); None for anything else."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, ast.Name) and self.known is not None and scope is self.known[0]:
            fixed = names_lookup(self.known[1])(expr)
            if isinstance(fixed, str):
                return [fixed]  # (the instance being built: what its constructor call passed, or the default)
        if isinstance(expr, ast.Name) and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            from outplace.analysis.filecontext import parameter_default

            info = self._scope(scope)
            if info is not None and expr.id in info.params and \
                    all(b.kind == "param" for b in info.bindings.get(expr.id, ())):
                args = scope.args
                arg = next((a for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg == expr.id), None)
                default = parameter_default(args, arg) if arg is not None else None
                if isinstance(default, ast.Constant) and isinstance(default.value, str):
                    return [default.value, None]
        return [None]

    def _default_layer(self, name: str, call: ast.Call, scope: ast.AST, depth: int) -> ModuleInfo | None:
        """`act_layer(inplace=True)` in a function with the parameter `act_layer=nn.ReLU` that it never
        binds again: the module the default builds with the call's arguments (None: no default, or
        one that builds no module outplace knows)."""
        from outplace.analysis.filecontext import parameter_default

        info = self._scope(scope)
        if info is None or name not in info.params or any(b.kind != "param" for b in info.bindings.get(name, ())) or \
                not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        args = scope.args
        arg = next((a for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg == name), None)
        default = parameter_default(args, arg) if arg is not None else None
        if not isinstance(default, (ast.Name, ast.Attribute)):
            return None
        return self.info(self._called_with(default, call, id(call)), scope, depth + 1)

    def _called_with(self, func: ast.expr, call: ast.Call, key) -> ast.Call:
        """`call` with `func` in its place (what `act_layer(inplace=True)` builds where `act_layer` is
        `func`): one node per `key`, since modules are told apart by the node that built them."""
        made = self._defaulted.get(key)
        if made is None:
            made = self._defaulted[key] = ast.copy_location(ast.Call(func=func, args=call.args, keywords=call.keywords),
                                                            call)
            made.end_lineno, made.end_col_offset = call.end_lineno, call.end_col_offset
        return made

    def _passed_layers(self, name: str, call: ast.Call, scope: ast.AST, depth: int) -> list[ModuleInfo]:
        """`act_layer(...)` in an `__init__` whose parameter `act_layer` the file's instantiations of
        the class pass: for each, the module built by calling what is passed, where that is a torch.nn
        class (`Block(act_layer=nn.Sigmoid)`), a module class of the run (unconfigured: the call's
        arguments are another scope's) or a function of the run returning modules (FrEIA's
        `AllInOneBlock(..., subnet_constructor=subnet_fc)`); any module for anything else."""
        out: list[ModuleInfo] = []
        for passed, caller in self._passed_to_init(name, scope, depth) or ():
            got = None
            q = self.ctx.imports.qualname(passed) or self.ctx.module_alias(passed) or ""
            if _torch_module_class(q) and q.rsplit(".", 1)[-1] not in MODULE_CONTAINERS:
                # (the passed name is the caller's: read with no scope's locals)
                got = self.info(self._called_with(passed, call, (id(call), id(passed))), None, depth + 1)
            elif isinstance(passed, (ast.Name, ast.Attribute)) and not (
                    isinstance(passed, ast.Name) and caller is not None and self._shadows(passed.id, caller)):
                target = self._definition(passed)
                if isinstance(target, ast.ClassDef) and self.ctx.owner_of(target).is_module_class(target) and \
                        self.ctx.owner_of(target).replacing_decorator(target) is None:
                    got = ModuleInfo("project", target.name, node=target, config=())
                elif isinstance(target, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    got = self.returned(target, depth + 1)
            out.append(got or UNKNOWN_MODULE)
        return out

    def _bound_otherwise(self, name: str, scope: ast.AST, plain) -> bool:
        """Does `scope` bind `name` other than by the plain assignments `plain`?"""
        info = self._scope(scope)
        if info is None or name in info.params:
            return True
        ids = {id(n) for n in plain}
        return any(id(b.stmt) not in ids for b in info.bindings.get(name, ()))

    def _shadows(self, name: str, scope: ast.AST) -> bool:
        """Does the function `scope` bind `name` itself (a parameter, a local)?"""
        info = None if isinstance(scope, ast.Module) else self._scope(scope)
        return info is not None and (name in info.params or name in info.bindings)

    def _scope(self, scope: ast.AST):
        index = self.ctx.index
        index.ensure_indexed(scope)
        return index.scopes.get(scope)

    def _assignments(self, scope: ast.AST) -> dict[str, list[ast.Assign]]:
        """`name = ...` statements of a function by name (one walk per function)."""
        got = self._assigns.get(id(scope))
        if got is None:
            got = self._assigns[id(scope)] = {}
            for node in walk(scope):
                if type(node) is ast.Assign:
                    for t in node.targets:
                        if type(t) is ast.Name:
                            got.setdefault(t.id, []).append(node)
        return got

    def _definition(self, func: ast.AST) -> ast.AST | None:
        ctx = self.ctx
        if isinstance(func, ast.Name):
            for node in ctx.tree.body:
                if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == func.id:
                    return node
        spelled = dotted(func)
        return ctx.resolve_import(spelled) if spelled is not None else None

    def returned(self, fn: ast.AST, depth: int = 0) -> ModuleInfo | None:
        """The modules a function of the run returns (a factory: `make_mlp`, `get_activation`)."""
        key = id(fn)
        if key in self._returns:
            return self._returns[key]
        self._returns[key] = None  # recursion guard
        owner = self.ctx.owner_of(fn)
        builder = owner.modules if owner is not self.ctx else self
        got: list[ModuleInfo] = []
        for node in _own_returns(fn):
            if node.value is None or (isinstance(node.value, ast.Constant) and node.value.value is None):
                continue
            got.append(builder.info(node.value, fn, depth + 1) or UNKNOWN_MODULE)
        result = None
        if got and any(m is not UNKNOWN_MODULE for m in got):
            result = got[0] if len(got) == 1 else ModuleInfo("container", parts=tuple(got))
        self._returns[key] = result
        return result

    def added_modules(self, cls: ast.ClassDef, attr: str) -> tuple[list[ModuleInfo], set[int]] | None:
        """The modules put into an empty `self.<attr>` container by its `__init__`: `add_module(name,
        m)`, `.append(m)` / `.extend([...])`, in order (loops repeat, ifs optional); with the
        statements followed. None when there are none. (An add in another method runs when, and if,
        that method is called: not followed, so the container may be changed; adversarial review M4.)"""
        out: list[ModuleInfo] = []
        followed: set[int] = set()
        found = False
        for method in cls.body:
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and method.name == "__init__":
                found |= self._adds(method.body, method, attr, out, False, followed, True)
        return (out, followed) if found else None

    def _adds(self, body: list[ast.stmt], scope: ast.AST, attr: str, out: list[ModuleInfo], opt: bool,
              followed: set[int], appends: bool, names: set | None = None) -> bool:
        found = False
        names = set() if names is None else names  # (the constant member names added so far)
        for stmt in body:
            call = stmt.value if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) else None
            method = call.func.attr if call is not None and isinstance(call.func, ast.Attribute) and \
                dotted(call.func.value) == f"self.{attr}" else None
            if method == "add_module" and len(call.args) >= 2 and _new_member_name(call.args[0], stmt, scope, names):  # type: ignore[union-attr]
                added = [self.info(call.args[1], scope) or UNKNOWN_MODULE]  # type: ignore[union-attr]
            elif appends and method == "append" and len(call.args) == 1 and not call.keywords:  # type: ignore[union-attr]
                added = [self.info(call.args[0], scope) or UNKNOWN_MODULE]  # type: ignore[union-attr]
            elif appends and method == "extend" and len(call.args) == 1 and not call.keywords:  # type: ignore[union-attr]
                added = self.list_members(call.args[0], scope, 0) or [UNKNOWN_MODULE]  # type: ignore[union-attr]
            else:
                added = None
            if added is not None:
                out += [optional(m) if opt else m for m in added]
                followed.add(id(stmt))
                found = True
            elif isinstance(stmt, ast.If):
                found |= self._adds(stmt.body, scope, attr, out, True, followed, appends, names)
                found |= self._adds(stmt.orelse, scope, attr, out, True, followed, appends, names)
            elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
                found |= self._loop(stmt, scope, out, opt, None, lambda group, o, stmt=stmt: self._adds(
                    stmt.body, scope, attr, group, o, followed, appends, names))
        return found

    def _loop(self, loop: ast.AST, scope: ast.AST, out: list[ModuleInfo], optional_part: bool, name: str | None,
              collect) -> bool:
        """The members a loop's body adds (`collect(list, optional)` adds one iteration's), as if it
        went round twice (twice shows what follows what). An iteration's members come together
        (a run of the chain has all of them or none): one optional group per iteration, the first
        not optional where the loop certainly goes round. One by one, each optional, where an
        iteration may stop part way or the loop rebinds the list `name`."""
        if any(isinstance(n, (ast.Break, ast.Continue, ast.Return, ast.Raise, ast.Try)) or (
                name is not None and isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)))
               for n in walk(loop)):
            found = False
            for _ in range(2):
                found |= collect(out, True)
            return found
        once = isinstance(loop, ast.For) and certainly_nonempty(loop.iter, self.ctx, scope)
        found = False
        for i in range(2):
            group: list[ModuleInfo] = []
            found |= collect(group, False)
            if group:
                unit = group[0] if len(group) == 1 else ModuleInfo("sequential", ITERATION, parts=tuple(group))
                out.append(unit if i == 0 and once and not optional_part else optional(unit))
        return found


_HEADERS = {ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"), ast.AsyncFor: ("target", "iter"),
            ast.With: ("items",), ast.AsyncWith: ("items",), ast.Try: ("handlers",), ast.FunctionDef: (),
            ast.AsyncFunctionDef: (), ast.ClassDef: ()}


def _new_member_name(name: ast.expr, stmt: ast.stmt, scope: ast.AST, names: set) -> bool:
    """Does `add_module(name, m)` add a member at the end rather than replace one? A constant name
    is new once (not a position's, `"0"`, and not twice, nor in a loop, nor one a computed name
    before it may have made); a computed one only as below."""
    if isinstance(name, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in name.values):
        name = ast.Constant("".join(str(v.value) for v in name.values))  # (`f'a'` is `'a'`)
    if isinstance(name, ast.Constant):
        if not isinstance(name.value, str) or name.value.isdigit() or name.value in names or \
                any(isinstance(n, tuple) and name.value.startswith(n[2]) for n in names):
            return False  # (a position's, seen before, or one a computed name before may have made)
        names.add(name.value)
        return True
    # A computed name with letters of its own (`f"block{i}"`: never a position's; `str(i)`, `f"{i}"`
    # may be one) is new each time only where nothing else can make it: the one computed name of
    # the container, formatting only the counter of the loop around it (`for i in range(n)`, the
    # index of `enumerate`), in no other loop. (`f"b{i}"` in two loops replaces the first loop's
    # members: adversarial review N1.) The caller adds the name's spelling to `names`.
    if isinstance(name, ast.JoinedStr) and any(
            isinstance(v, ast.Constant) and isinstance(v.value, str) and not v.value.isdigit() and v.value.strip()
            for v in name.values):
        formatted = [v.value for v in name.values if isinstance(v, ast.FormattedValue)]
        first = name.values[0]
        prefix = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    elif isinstance(name, ast.Call) and isinstance(name.func, ast.Attribute) and name.func.attr == "format" and \
            isinstance(name.func.value, ast.Constant) and isinstance(name.func.value.value, str) and \
            any(c.isalpha() for c in name.func.value.value) and not name.keywords:
        formatted, prefix = list(name.args), name.func.value.value.split("{", 1)[0]  # (`"unit{}".format(i)`)
    else:
        return False
    loop = _counter_loop(formatted, stmt, scope)
    mine = ("computed", id(stmt), prefix)
    if loop is None or any(isinstance(n, tuple) and n != mine for n in names) or \
            any(isinstance(n, str) and n.startswith(prefix) for n in names):
        return False  # (another computed name, or a constant one this may make)
    names.add(mine)  # (the same statement again: the loop's body is followed once per group)
    return True


def _counter_loop(formatted: list, stmt: ast.stmt, scope: ast.AST) -> ast.For | None:
    """The one loop around `stmt` (in `scope`) when `formatted` is just its counter (or the counter
    plus or minus a number): the target of `for i in range(...)`, or the index of `for i, m in
    enumerate(...)`."""
    one = formatted[0] if len(formatted) == 1 else None
    if isinstance(one, ast.BinOp) and isinstance(one.op, (ast.Add, ast.Sub)) and isinstance(one.left, ast.Name) and \
            isinstance(one.right, ast.Constant) and type(one.right.value) is int:
        one = one.left  # (`"block{}".format(i + 1)`: one name per counter value still)
    if not isinstance(one, ast.Name):
        return None
    formatted = [one]
    loops = [n for n in walk(scope) if isinstance(n, (ast.For, ast.AsyncFor, ast.While)) and n is not scope
             and any(s is stmt for s in walk(n))]
    if len(loops) != 1 or not isinstance(loops[0], ast.For) or not isinstance(loops[0].iter, ast.Call) or \
            not isinstance(loops[0].iter.func, ast.Name):
        return None
    loop, counter = loops[0], formatted[0].id
    kind = loop.iter.func.id
    if kind == "range" and isinstance(loop.target, ast.Name) and loop.target.id == counter:
        return loop
    if kind == "enumerate" and isinstance(loop.target, ast.Tuple) and loop.target.elts and \
            isinstance(loop.target.elts[0], ast.Name) and loop.target.elts[0].id == counter:
        return loop
    return None


def _other_uses(name: str, scope: ast.AST, before: ast.AST, understood: set[int]) -> bool:
    """Is the list `name` mentioned before `before` by a statement the list builder did not follow?"""
    from outplace.analysis.dispatch import statements

    line = getattr(before, "lineno", 0)
    for stmt in statements(getattr(scope, "body", [])):
        if id(stmt) in understood or stmt.lineno > line:
            continue
        if type(stmt) in _HEADERS:
            parts = [getattr(stmt, f) for f in _HEADERS[type(stmt)]]
            nodes = [n for p in parts for x in (p if isinstance(p, list) else [p]) for n in ast.walk(x)]
        elif stmt.lineno <= line <= getattr(stmt, "end_lineno", stmt.lineno) and any(n is before for n in ast.walk(stmt)):
            nodes = [n for n in ast.walk(stmt) if n is not before]  # the statement that uses it: its other parts
        else:
            nodes = list(ast.walk(stmt))
        if hasattr(ast, "Match") and isinstance(stmt, ast.Match):
            nodes = list(ast.walk(stmt.subject)) + [n for c in stmt.cases for n in ast.walk(c.pattern)]
        if any(isinstance(n, ast.Name) and n.id == name for n in nodes):
            return True
    return False


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _torch_module_class(q: str) -> bool:
    """Does the dotted name `q` name a torch.nn module class (`torch.nn.ReLU`, `torch.nn.modules.conv.Conv2d`;
    not `torch.nn.functional.relu`, `torch.nn.init.*`, `torch.nn.utils.*`, `torch.nn.parameter.*`)?"""
    parts = q.split(".")
    return q.startswith("torch.nn.") and parts[-1][:1].isupper() and len(parts) > 2 and \
        parts[2] not in ("functional", "init", "utils", "parameter")


def either(a: ModuleInfo | None, b: ModuleInfo | None) -> ModuleInfo | None:
    """`a if t else b`: either; an arm that builds no module outplace knows may be any
    (`nn.GELU() if act_layer is None else act_layer()`)."""
    if a is None and b is None:
        return None
    return ModuleInfo("container", parts=(a or UNKNOWN_MODULE, b or UNKNOWN_MODULE))


def _own_returns(fn: ast.AST):
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Return):
            yield n
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            todo.extend(ast.iter_child_nodes(n))
