"""OP104: `inplace=True` in `torch.nn.functional` calls and `torch.nn` module constructors."""

from __future__ import annotations

import ast
from typing import Iterator

from outplace.analysis import BREAKS, INPLACE, Analysis, Judgement
from outplace.analysis.judge import HAZARD_RANK
from outplace.analysis.effects import inplace_arg, truthy_constant
from outplace.analysis.imports import dotted
from outplace.analysis.flow import SUBMODULE_ITERATORS
from outplace.analysis.modules import MODULE_WRAPPERS, ModuleInfo
from outplace.findings import Applicability, Finding, Fix
from outplace.plans import SWITCH_OFF_REASON, CallEdit, CallPlan, ReplaceExprPlan

from .base import Rule, RuleDoc
from .inplace_calls import complex_trap, has_star_args, layout_change, place_call



class InplaceArgument(Rule):
    code = "OP104"
    name = "inplace-argument"
    summary = "`inplace=True` in a `torch.nn.functional` call or a `torch.nn` module"
    doc = RuleDoc(
        what="Finds `inplace=True` (by keyword or by position: `nn.ReLU(True)`, `nn.LeakyReLU(0.2, True)`) "
             "in the 19 `torch.nn.functional` functions and the 19 `torch.nn` modules that take it, and "
             "`m.inplace = True` set on modules after they were built "
             "(ReLU, ReLU6, LeakyReLU, ELU, CELU, SELU, SiLU, Mish, Hardtanh, Hardswish, Hardsigmoid, "
             "RReLU, Threshold, Dropout/1d/2d/3d, AlphaDropout, FeatureAlphaDropout, ...).",
        why="With `inplace=True` the activation overwrites its input. After an op that saved that input or "
            "its own output for backward (`sigmoid`, `tanh`, `exp`, a `mul`), backward fails with "
            "\"modified by an inplace operation\".",
        example="y = torch.sigmoid(x)\nz = F.relu(y, inplace=True)",
        use_instead="y = torch.sigmoid(x)\nz = F.relu(y)",
        fix_safety="The argument is removed. A bare call `F.relu(x, inplace=True)` becomes "
                   "`x = F.relu(x)`; `z = F.relu(y, inplace=True)` becomes `z = y = F.relu(y)` when `y` is "
                   "used later. For modules the fix is safe inside `nn.Sequential` after a layer that returns "
                   "a new tensor: nothing else refers to it. Elsewhere it is unsafe: the module's input may be "
                   "referenced by the caller (a residual branch), which saw the activated values and would "
                   "see the raw ones. Not reported at all: the idiom `Conv/Linear/BatchNorm/LayerNorm -> "
                   "ReLU(inplace=True)` (in a Sequential, or a module attribute only ever applied to such a "
                   "layer's output): those layers do not save their output, so the write cannot break "
                   "backward. For a module, removing the argument rebinds nothing where it is called: the fix "
                   "is unsafe wherever a call's input is read after the call, or the module is reached where its "
                   "input is not followed. `m.inplace = True` set on modules at run time (a loop over "
                   "`self.modules()`) is judged at the calls of the modules it reaches; its fix, `m.inplace = "
                   "False`, is always unsafe (every module the loop reaches runs out of place).",
    )

    def findings(self, an: Analysis) -> Iterator[Finding]:
        ops = an.ops
        for assign in an.nodes(ast.Assign):
            if _sets_inplace(assign) and not an.intent_reason(assign):
                found = self._attribute(an, assign)
                if found is not None:
                    yield found
        for call in an.nodes(ast.Call):
            q = an.qualname(call.func) or ""
            name = q.rsplit(".", 1)[-1]
            if q.startswith("torch.nn.functional.") and name in ops.functional["inplace_param"]:
                where = inplace_arg(call, ops.functional["inplace_param"][name])
                if where is not None:
                    yield from self._functional(an, call, name, where)
            elif q.startswith("torch.nn.") and name in ops.modules_inplace and q.count(".") in (2, 3):
                where = inplace_arg(call, ops.modules_inplace[name])
                if where is not None and not an.intent_reason(call):
                    found = self._module(an, call, name, where)
                    if found is not None:
                        yield found

    def _functional(self, an: Analysis, call: ast.Call, name: str, where: str | int) -> Iterator[Finding]:
        if an.intent_reason(call):
            return
        receiver = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "input"), None)
        if receiver is None or isinstance(receiver, ast.Starred):
            return
        judged = an.write(call)
        if judged is None or judged.hazard is None:
            return
        shown = judged.spelling or ast.unparse(receiver)
        stmt = an.index.statement_of(call)
        edit = CallEdit("drop_arg", arg=where)
        plan = None if has_star_args(call) else place_call(an, stmt, call, receiver, [(call, edit)], judged)
        func = ast.unparse(call.func)
        reasons = list(judged.reasons)
        if (trap := complex_trap(an, "functional", name, judged.safety_info.dtype, shown)) is not None:
            reasons.append(trap)
        if (moved := layout_change(an, "functional", name, call, judged.spelling, shown)) is not None:
            reasons.append(moved)
        yield self.finding(an, call, f"`{func}(..., inplace=True)` modifies tensor `{shown}` in place; drop "
                                     "`inplace=True`", plan, reasons, judged)

    def _attribute(self, an: Analysis, assign: ast.Assign) -> Finding | None:
        """`m.inplace = True` on modules found at run time (a loop over `self.modules()`): judged at
        the calls of the class's own modules of those types, as if built with `inplace=True`."""
        scope = an.ctx.scope_node(assign)
        cls = an.ctx.enclosing_class(scope)
        wanted = _isinstance_filter(an, assign)
        hazard, why = INPLACE, ("turns on in-place writes in modules this file cannot follow to their inputs")
        # (`for m in self.modules()` reaches the modules of its project submodules too, at any depth)
        classes = [] if cls is None else _submodule_classes(an, cls) if _over_all_modules(an, assign) else [cls]
        for owner in classes:
            for attr, info in an.ctx.class_modules(owner):
                if info.cls not in an.ops.modules_inplace or (wanted is not None and info.cls not in wanted):
                    continue
                for call, saved, grad in an.ctx.module_inputs(owner, info.node):
                    if saved:
                        e = sorted(saved, key=lambda e: (e.line, e.what))[0]
                        hazard = BREAKS
                        held = f"`self.{attr}`" if owner is cls else f"`{owner.name}`'s `self.{attr}`"
                        why = (f"{held} (`nn.{info.cls}`) would write into its input at line {call.lineno}, "
                               f"which was {e.what} (line {e.line}); backward would fail")
                        break
                if hazard == BREAKS:
                    break
            if hazard == BREAKS:
                break
        line, col, end_line, end_col = an.span(assign)
        # The fix turns it off where it is set: every module the loop reaches then runs out of place.
        plan = ReplaceExprPlan(an.start(assign), an.span(assign.value), "False")
        fix = Fix(Applicability.UNSAFE, (SWITCH_OFF_REASON.format(assign=ast.unparse(assign)),))
        return Finding(self.code, f"`{ast.unparse(assign)}` makes modules write into their "
                                  "input in place; set it False", line, col + 1, end_line, end_col + 1, fix, plan,
                       hazard, why)

    def _module(self, an: Analysis, call: ast.Call, name: str, where: str | int) -> Finding | None:
        """A module built with `inplace=True` writes into its input wherever it is called. Judged at
        every call this file shows (a `self.act(x)` in the class's methods, a call of the
        `nn.Sequential` holding it); inside an `nn.Sequential` never called here, by the chain: its
        input is the output of the module before it."""
        sites = an.module_writes(call)
        if sites:
            hazard, why, reasons = _join_sites(sites)
            passed = _passed_elsewhere(an, call)
            if passed is not None:
                reasons = [*reasons, f"the module is also handed to other code (line {passed}), which may call "
                                     "it on tensors this file does not show"]
            outside = _reached_from_outside(an, call) or _called_where_not_judged(an, call)
            if outside is not None:
                reasons = [*reasons, f"the module is also reached where outplace does not follow its input (`{outside[0]}`, "
                                     f"line {outside[1]}): it may be called there on a tensor that is read afterwards"]
        else:
            chain = _chain_judgement(an, call, name)
            if chain is None:
                hazard, why = INPLACE, (f"`nn.{name}(inplace=True)` writes into whatever it is given; this file "
                                        "never shows what that is")
                reasons = [f"`{name}` writes into its input, and where it is called its input may be referenced "
                           "elsewhere (a residual branch), which saw the activated values and would see the raw "
                           "ones"]
            else:
                hazard, why, reasons = chain
        changed = _chain_may_change(an, call)
        if changed is not None:
            reasons = [*reasons, changed]
        dtypes = {j.safety_info.dtype for j in sites} if sites else {None}
        trap = complex_trap(an, "functional", name.lower(), "int" if dtypes <= {"int", "bool"} else None,
                            "its input")
        if trap is not None:
            reasons = [*reasons, trap]
        global_name = an.module_level_name(call)
        if global_name is not None:
            reasons = [*reasons, f"`{global_name}` is a module-level name: other files may import it and call it on "
                                 "tensors this file does not show"]
        if hazard is None:
            return None
        stmt = an.index.statement_of(call)
        plan = CallPlan(an.start(stmt), ((an.span(call), CallEdit("drop_arg", arg=where)),))
        line, col, end_line, end_col = an.span(call)
        reasons = tuple(dict.fromkeys(reasons))
        fix = Fix(Applicability.UNSAFE if reasons else Applicability.SAFE, reasons)
        return Finding(self.code, f"`{ast.unparse(call.func)}(..., inplace=True)` modifies its input in place; drop "
                       "`inplace=True`", line, col + 1, end_line, end_col + 1, fix, plan, hazard, why)


def _stored_in_self(an: Analysis, ctor: ast.Call, value: ast.AST | None = None) -> str | None:
    """`attr` where the statement building the module is `self.<attr> = ...` (with `value` its whole
    right side, where given: `self.body = nn.Sequential(..., ctor)`)."""
    stmt = an.index.statement_of(ctor)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and (value is None or stmt.value is value):
        target = stmt.targets[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            return target.attr
    return None


def _chain_may_change(an: Analysis, ctor: ast.Call) -> str | None:
    """Why the `nn.Sequential` holding `ctor`, stored in `self.<attr>`, may not run as written (a
    member replaced, removed or reordered, the attribute bound to another chain: `self.body =
    self.body[1:]`), or None. Then the module before this one may not be what feeds it."""
    from outplace.analysis.iterables import container_left_alone

    attr = _stored_in_self(an, ctor, value=an.index.parent.get(ctor))
    if attr is None:
        return None
    cls = an.ctx.enclosing_class(an.ctx.scope_node(ctor))
    if cls is None:
        return None
    stores = an.ctx._class_facts(cls)[0].get(attr, [])
    if len(stores) == 1 and container_left_alone(cls, attr, an.ctx) and not an.ctx.rebinding.module_attribute(attr):
        return None
    return (f"`self.{attr}` may be changed after it is built (a member replaced, removed or reordered, or another "
            "chain put there): the module before this one may not be what feeds it")


def _reached_from_outside(an: Analysis, ctor: ast.Call) -> tuple[str, int] | None:
    """For a module stored in `self.<attr>`: where the file may call it other than as `self.<attr>(...)`
    in its class: an attribute of that name read on another object (`m.act(t)`, `model.act`), a
    `getattr` of that name (or a computed one), `get_submodule`/`_modules`, or a loop over
    `children()`/`modules()` that calls what it visits or hands it on: (spelling, line)."""
    attr = _stored_in_self(an, ctor)
    if attr is None:
        return None
    memo = an.ctx.memo.setdefault("modules reached from outside", {})
    if "reads" not in memo:
        memo["reads"], memo["dynamic"] = _outside_reads(an)
    if attr in memo["reads"]:
        return memo["reads"][attr]
    getattr_names = memo["dynamic"].get("getattr", {})
    if attr in getattr_names or None in getattr_names:
        return getattr_names.get(attr) or getattr_names[None]
    return memo["dynamic"].get("submodules")


def _called_where_not_judged(an: Analysis, ctor: ast.Call) -> tuple[str, int] | None:
    """`self.<attr>` (holding the module) read in a nested function or lambda of the class's methods,
    or in a subclass of the file: calls whose inputs `module_writes` does not judge."""
    attr = _stored_in_self(an, ctor)
    if attr is None:
        return None
    cls = an.ctx.enclosing_class(an.ctx.scope_node(ctor))
    if cls is None:
        return None
    methods = {id(m) for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))}
    for owner in [cls, *an.ctx._subclasses().get(id(cls), ())]:
        for m in owner.body:
            if not isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for n in ast.walk(m):
                if isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.ctx, ast.Load) and \
                        isinstance(n.value, ast.Name) and n.value.id == "self" and \
                        (id(m) not in methods or an.ctx.scope_node(n) is not m):
                    return ast.unparse(n), n.lineno
    return None


_HARMLESS_WITH_A_MODULE = frozenset({"isinstance", "hasattr", "type", "print", "len", "id", "repr", "str"})


def _outside_reads(an: Analysis) -> tuple[dict, dict]:
    """One walk of the file: attribute reads off other objects than `self` (not through an import:
    `F.relu` is a function), `getattr` names, and the first way submodules are reached by other means."""
    reads: dict[str, tuple[str, int]] = {}
    dynamic: dict = {"getattr": {}}
    looped: set[int] = set()  # the `children()` calls a loop below judges by its body
    for n in ast.walk(an.tree):  # (breadth first: a loop before the call it iterates)
        if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load) and not (
                isinstance(n.value, ast.Name) and n.value.id == "self") and an.imports.qualname(n) is None:
            reads.setdefault(n.attr, (ast.unparse(n), n.lineno))
            if n.attr in ("get_submodule", "_modules"):
                dynamic.setdefault("submodules", (ast.unparse(n), n.lineno))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "getattr" and len(n.args) >= 2:
            name = n.args[1].value if isinstance(n.args[1], ast.Constant) and isinstance(n.args[1].value, str) else None
            dynamic["getattr"].setdefault(name, (ast.unparse(n), n.lineno))
            if name in ("_modules", "__dict__"):
                dynamic.setdefault("submodules", (ast.unparse(n), n.lineno))
        elif isinstance(n, ast.Call) and (dotted(n.func) or "").rsplit(".", 1)[-1] in _ATTRIBUTE_BY_NAME or \
                isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant):
            # an attribute by its name in a string: `operator.attrgetter('act')`, `methodcaller('get_submodule',
            # 'act')`, `reduce(getattr, ['act'], net)`, `getattr(net, '_modules')`, `__dict__['_modules']` (eval34 O6)
            for c in (ast.walk(n) if isinstance(n, ast.Call) else [n.slice]):
                if isinstance(c, ast.Constant) and isinstance(c.value, str):
                    if c.value in ("_modules", "get_submodule", "__dict__"):
                        dynamic.setdefault("submodules", (ast.unparse(n), n.lineno))
                    elif isinstance(n, ast.Call):
                        dynamic["getattr"].setdefault(c.value, (ast.unparse(n), n.lineno))
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.args and \
                n.func.attr in ("__getattr__", "__getattribute__"):
            # `super().__getattr__('act')(h)`, `self.__getattr__(f"block{i}")` (eval29 op104x29, eval32 refinenet)
            name = n.args[0].value if isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str) else None
            dynamic["getattr"].setdefault(name, (ast.unparse(n), n.lineno))
            if name in ("_modules", "__dict__"):
                dynamic.setdefault("submodules", (ast.unparse(n), n.lineno))
        elif isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.iter, ast.Call) and \
                isinstance(n.iter.func, ast.Attribute) and n.iter.func.attr in SUBMODULE_ITERATORS:
            looped.add(id(n.iter))
            target = n.target.elts[-1] if isinstance(n.target, ast.Tuple) and n.target.elts else n.target
            body = n.body if isinstance(n, ast.For) else []
            if isinstance(target, ast.Name) and (_module_used(body, target.id) or
                                                isinstance(n, ast.For) and _read_after(an, n, target.id)):
                # (`for m in net.children(): pass` then `m(t)`: the last one, after the loop: eval30 reach30)
                dynamic.setdefault("submodules", (ast.unparse(n.iter), n.iter.lineno))
            elif not isinstance(target, ast.Name) or isinstance(n, ast.comprehension):
                # (a comprehension node has no line of its own: eval30 E1 crashed here)
                dynamic.setdefault("submodules", (ast.unparse(n.iter), n.iter.lineno))
        elif isinstance(n, ast.Call) and id(n) not in looped and (
                isinstance(n.func, ast.Attribute) and n.func.attr in SUBMODULE_ITERATORS or
                isinstance(n.func, ast.Name) and n.func.id == "vars" and n.args):
            # `list(net.children())[1]`, `dict(net.named_children())`, `vars(net)['_modules']`: the
            # submodules handed on, any of them called anywhere (eval30 O3)
            dynamic.setdefault("submodules", (ast.unparse(n), n.lineno))
    return reads, dynamic


# Functions that reach an attribute by its name in a string (by the name they are called by: an
# `import operator` inside a function is not one the file's import map knows).
_ATTRIBUTE_BY_NAME = frozenset({"attrgetter", "methodcaller", "reduce"})


def _read_after(an: Analysis, loop: ast.For, name: str) -> bool:
    """Is the loop variable `name` (the last module the loop visited) read after the loop? A read in
    the body of a later loop whose own target is `name` is that loop's module (it runs only after the
    loop bound it: torchvision's second `for m in self.modules():`); any other read counts, also in a
    nested function or lambda, and `eval`/`locals()` read every name (eval34 L2, L3)."""
    scope = an.ctx.scope_node(loop)
    info = an.index.scopes.get(scope)
    if info is None:
        return False
    end = loop.end_lineno or loop.lineno
    later_loops = [n for n in ast.walk(scope) if isinstance(n, (ast.For, ast.AsyncFor)) and n.lineno > end and
                   any(isinstance(t, ast.Name) and t.id == name for t in ast.walk(n.target))]

    def rebound_by_a_loop(load: ast.AST) -> bool:
        return any(any(an.ctx.contains(stmt, load) for stmt in other.body) for other in later_loops)

    loads = [*info.loads.get(name, ()),
             *(n for inner in info.nested for n in ast.walk(inner) if isinstance(n, ast.Name) and n.id == name)]
    if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("eval", "locals", "vars")
           for n in ast.walk(scope) if getattr(n, "lineno", 0) > end):
        return True
    return any(load.lineno > end and not rebound_by_a_loop(load) for load in loads)


def _module_used(body: list, name: str) -> bool:
    """Does the loop body call the module `name` visits, or hand it to anything but a look at it
    (`isinstance(m, ...)`, `hasattr`)? Reading or setting its attributes (`m.weight`, `m.inplace`) is neither."""
    for stmt in body:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Call):
                if isinstance(n.func, ast.Name) and n.func.id == name:
                    return True  # `m(t)`
                fn = n.func.id if isinstance(n.func, ast.Name) else None
                if fn in _HARMLESS_WITH_A_MODULE:
                    continue
                if any(isinstance(a, ast.Name) and a.id == name for a in [*n.args, *(k.value for k in n.keywords)]):
                    return True  # handed on: `fuse(m)`, `out.append(m)`
            elif isinstance(n, ast.Assign) and any(isinstance(v, ast.Name) and v.id == name for v in (
                    n.value.elts if isinstance(n.value, (ast.Tuple, ast.List)) else [n.value])):
                return True  # `layer = m`, `self.keep = m` (not `r = sqrt(m.out_features)`)
    return False


def _passed_elsewhere(an: Analysis, ctor: ast.Call) -> int | None:
    """The line where the module built by `ctor` (bound to a local name or to `self.<attr>`) is
    used other than by calling it: passed to a constructor or a function, stored, returned. Calls
    made through that other reference are not among the sites this file judged."""
    stmt = an.index.statement_of(ctor)
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.value is ctor):
        return None
    target = stmt.targets[0]
    if isinstance(target, ast.Name):
        where: ast.AST = an.ctx.scope_node(ctor)

        def holds(n: ast.AST) -> bool:
            return isinstance(n, ast.Name) and n.id == target.id and isinstance(n.ctx, ast.Load)
    elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
        cls = an.ctx.enclosing_class(an.ctx.scope_node(ctor))
        if cls is None:
            return None
        where = cls

        def holds(n: ast.AST) -> bool:
            return isinstance(n, ast.Attribute) and n.attr == target.attr and isinstance(n.ctx, ast.Load) \
                and isinstance(n.value, ast.Name) and n.value.id == "self"
    else:
        return None
    called: set[int] = set()
    held = []
    for n in ast.walk(where):  # (one walk; the first use in its order is the one named)
        if isinstance(n, ast.Call):
            called.add(id(n.func))
        elif holds(n):
            held.append(n)
    return next((n.lineno for n in held if id(n) not in called), None)


def _over_all_modules(an: Analysis, assign: ast.Assign) -> bool:
    """Is `m.inplace = True` in a loop over `self.modules()` / `self.named_modules()` (every module
    below the object, not only its own attributes)?"""
    for anc in an.index.ancestors(assign):
        if isinstance(anc, (ast.For, ast.AsyncFor)):
            it = anc.iter
            return isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and \
                it.func.attr in ("modules", "named_modules") and isinstance(it.func.value, ast.Name) and \
                it.func.value.id == "self"
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return False
    return False


def _submodule_classes(an: Analysis, cls: ast.ClassDef, limit: int = 32) -> list[ast.ClassDef]:
    """`cls` and the classes of this file whose instances its module attributes hold, transitively
    (`self.mclm = MCLM(...)`, members of its containers), first found first."""
    out = [cls]
    todo = [cls]
    here = {id(c) for c in an.ctx._file_classes()}  # (another file's class: its flows are that file's)
    while todo and len(out) < limit:
        owner = todo.pop(0)
        for attr in an.ctx._class_facts(owner)[0]:
            module = an.ctx.class_attribute(owner, attr).module
            parts = [module] if isinstance(module, ModuleInfo) else []
            while parts:
                m = parts.pop()
                if m.kind == "project" and id(m.node) in here and m.node not in out:
                    out.append(m.node)
                    todo.append(m.node)
                parts.extend(m.parts)
    return out


def _sets_inplace(assign: ast.Assign) -> bool:
    """`m.inplace = True` (or any true constant: torch tests the flag's truth)"""
    return len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Attribute) \
        and assign.targets[0].attr == "inplace" and truthy_constant(assign.value)


def _isinstance_filter(an: Analysis, assign: ast.Assign) -> set[str] | None:
    """`if isinstance(m, (nn.ReLU, nn.Dropout)): m.inplace = True` -> {"ReLU", "Dropout"}; None: no filter."""
    names: set[str] = set()
    for anc in an.index.ancestors(assign):
        if isinstance(anc, ast.If):
            for n in ast.walk(anc.test):
                if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "isinstance" \
                        and len(n.args) == 2:
                    kinds = n.args[1].elts if isinstance(n.args[1], ast.Tuple) else [n.args[1]]
                    names |= {(an.qualname(k) or ast.unparse(k)).rsplit(".", 1)[-1] for k in kinds}
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
    return names or None


def _join_sites(sites: list[Judgement]) -> tuple[str | None, str, list[str]]:
    """The module's verdict from its call sites: the worst hazard; a fix safe only where every
    call's input is referenced nowhere else (dropping `inplace=True` leaves that input raw)."""
    hazards = [j.hazard for j in sites if j.hazard is not None]
    if not hazards:
        return None, "", []
    worst = max(hazards, key=HAZARD_RANK.__getitem__)
    why = next(j.why for j in sites if j.hazard == worst)
    reasons: list[str] = []
    for j in sites:
        reasons += [r for r in j.reasons if "leaf" not in r]
    return worst, why, reasons


def _chain_judgement(an: Analysis, call: ast.Call, name: str) -> tuple[str | None, str, list[str]] | None:
    """Inside `nn.Sequential(...)`: what the module before this one did to the tensor it writes."""
    parent = an.index.parent.get(call)
    if not (isinstance(parent, ast.Call) and (an.qualname(parent.func) or "").endswith("nn.Sequential")):
        return None
    if call not in parent.args:
        return None
    i = parent.args.index(call)
    while i > 0:
        prev = parent.args[i - 1]
        if not isinstance(prev, ast.Call):
            return INPLACE, "the module before it is not one outplace knows", [
                f"`{name}` writes into the output of a module outplace does not know"]
        q = an.qualname(prev.func) or ""
        while q.startswith("torch.nn.utils") and q.rsplit(".", 1)[-1] in MODULE_WRAPPERS and prev.args and \
                isinstance(prev.args[0], ast.Call):
            prev = prev.args[0]  # `weight_norm(nn.Conv1d(...))` is that conv, reparametrized
            q = an.qualname(prev.func) or ""
        while q.endswith("nn.Sequential") and prev.args and isinstance(prev.args[-1], ast.Call):
            prev = prev.args[-1]  # a nested `nn.Sequential(...)` passes on what its last module returns
            q = an.qualname(prev.func) or ""
        prev_name = q.rsplit(".", 1)[-1]
        if not q.startswith("torch.nn.") or an.ctx.effects.module(prev_name, False) is None:
            # (as for any call outplace cannot see into: `inplace`, said why; the run's own module
            # classes are judged through the flow of the chain's call, module_writes)
            return INPLACE, (f"the module before it (`{ast.unparse(prev.func)}`) is one outplace cannot see into: "
                             "if it saves its output for backward, this write breaks backward"), [
                f"`{name}` writes into the output of `{ast.unparse(prev.func)}`, which outplace does not know"]
        index = an.ops.modules_inplace.get(prev_name)
        prev_inplace = index is not None and inplace_arg(prev, index) is not None
        if an.ctx.effects.returns_input(prev_name) or prev_inplace:
            eff = an.ctx.effects.module(prev_name, prev_inplace)
            if eff.saves_output or eff.saves is None:
                return BREAKS, (f"`nn.{prev_name}` before it may save the tensor it passes on for backward; this "
                                "write can make backward fail"), []
            i -= 1  # it may pass its input through: look further back
            continue
        eff = an.ctx.effects.module(prev_name, False)
        if eff.saves_output:
            return BREAKS, (f"`nn.{prev_name}` before it saves its output for backward; this write makes "
                            "backward fail"), []
        return INPLACE, (f"its input is the output of `nn.{prev_name}`, which nothing saved: harmless today, "
                         "fragile tomorrow"), []
    return INPLACE, "it is the first module of an `nn.Sequential`: its input is the caller's tensor", [
        f"`{name}` is first in its `nn.Sequential`: it writes into the caller's tensor, which would stay raw"]
