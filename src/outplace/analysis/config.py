"""Instance configuration: what a module's constructor arguments decide about that instance.

`self.ghost2 = RepGhostModule(c, c, relu=False)` builds a module whose `__init__` chose
`self.relu = nn.ReLU() if relu else nn.Identity()` with `relu=False`, and whose `forward` takes
`if self.nonlinear == "softmax":` one way only. A call of that instance runs its class's `forward`
with those facts (a summary per configuration), so what the call returns and saves is that
instance's, not the join of every way the class can be built.

The facts are proven, never guessed (a wrong one could make a fix look safe):
  * a configuration holds only constants (None, bools, numbers, strings), each bound to a parameter
    of the class's own `__init__` that the body never binds again: passed as a constant, or left to
    a constant default where the call has no `*args`/`**kwargs` that could pass it;
  * a class with its own `__new__`, a metaclass or bases other than `nn.Module` and the file's own
    classes gets no configuration;
  * an attribute is a constant of the configuration only where the class, its bases and subclasses in
    the file store it exactly once, unconditionally (or under `if`s the configuration decides) in that
    `__init__`, nothing else in the file stores an attribute of that name, and no method or property
    of the class has that name.
"""

from __future__ import annotations

import ast
from typing import Callable

UNDECIDED = object()  # a value the facts do not fix
NOT_NONE = object()  # an object the facts know only to be something (a module): `is None` is False
CONSTANT_TYPES = (bool, int, float, str, bytes, type(None))
Config = tuple  # ((parameter name, constant), ...) sorted by name: hashable, comparable


def constant(expr: ast.AST):
    """The constant `expr` is (`3`, `-1`, `"gelu"`, `None`), or UNDECIDED."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, CONSTANT_TYPES):
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub) and isinstance(expr.operand, ast.Constant) \
            and type(expr.operand.value) in (int, float):
        return -expr.operand.value
    return UNDECIDED


def value_of(expr: ast.AST, lookup: Callable[[ast.AST], object]):
    """What `expr` evaluates to, where `lookup` fixes names and attributes (UNDECIDED: not fixed).
    Only operators whose result on constants Python fixes: `not`, `and`/`or`, comparisons."""
    c = constant(expr)
    if c is not UNDECIDED:
        return c
    if isinstance(expr, (ast.Name, ast.Attribute, ast.Call)):  # (a call: `getattr(self, "flag", False)`)
        got = lookup(expr)
        return UNDECIDED if got is NOT_NONE else got  # (only `is None` can be asked of it)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        v = value_of(expr.operand, lookup)
        return UNDECIDED if v is UNDECIDED else not v
    if isinstance(expr, ast.BoolOp):
        last = UNDECIDED
        for operand in expr.values:  # short-circuit as Python does
            last = value_of(operand, lookup)
            if last is UNDECIDED:
                return UNDECIDED
            if bool(last) == isinstance(expr.op, ast.Or):
                return last
        return last
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1:
        op, right = expr.ops[0], expr.comparators[0]
        if isinstance(op, (ast.Is, ast.IsNot)) and isinstance(right, ast.Constant) and right.value is None and \
                isinstance(expr.left, (ast.Name, ast.Attribute, ast.Call)) and lookup(expr.left) is NOT_NONE:
            return isinstance(op, ast.IsNot)
        left = value_of(expr.left, lookup)
        if left is UNDECIDED:
            return UNDECIDED
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(right, (ast.Tuple, ast.List, ast.Set)):
                return UNDECIDED
            items = [value_of(e, lookup) for e in right.elts]
            if any(i is UNDECIDED for i in items):
                return UNDECIDED
            return (left in items) == isinstance(op, ast.In)
        r = value_of(right, lookup)
        if r is UNDECIDED:
            return UNDECIDED
        if isinstance(op, (ast.Is, ast.IsNot)):
            if left is not None and r is not None:
                return UNDECIDED  # identity of other constants is an implementation detail
            return (left is r) == isinstance(op, ast.Is)
        compare = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b}.get(type(op))
        if compare is None:
            return UNDECIDED
        return compare(left, r)
    return UNDECIDED


def truth(expr: ast.AST, lookup: Callable[[ast.AST], object]) -> bool | None:
    """Is `expr` true (True/False), or not fixed by the facts (None)?"""
    v = value_of(expr, lookup)
    return None if v is UNDECIDED else bool(v)


def implied(test: ast.AST, known: dict) -> bool | None:
    """Is `test` true (True/False) wherever the tests `known` (ast.dump -> truth) hold, by `not`,
    `and` and `or` alone? None: they do not decide it. (What each known test reads must be the
    same value wherever it is read: the caller checks that.)"""
    got = known.get(ast.dump(test))
    if got is not None:
        return got
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = implied(test.operand, known)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        parts = [implied(v, known) for v in test.values]
        decisive = isinstance(test.op, ast.Or)  # (`or`: one true part decides; `and`: one false part)
        if decisive in parts:
            return decisive
        return (not decisive) if all(p is (not decisive) for p in parts) else None
    return None


def known_tests(test: ast.AST, truth_value: bool) -> list[tuple[ast.AST, bool]]:
    """The tests (with their truth) that `test` evaluating to `truth_value` fixes: itself, and
    through `not`, `a and b` true, `a or b` false, each of its parts."""
    known = [(test, truth_value)]
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        known += known_tests(test.operand, not truth_value)
    elif isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) == truth_value:
        for v in test.values:
            known += known_tests(v, truth_value)
    return known


def names_lookup(config: dict) -> Callable[[ast.AST], object]:
    """A lookup that fixes the configuration's parameter names (and nothing else)."""
    def lookup(expr: ast.AST):
        if isinstance(expr, ast.Name) and expr.id in config:
            return config[expr.id]
        return UNDECIDED
    return lookup


def single_binding_params(init: ast.FunctionDef, bindings: dict) -> set[str]:
    """`__init__`'s parameters (after `self`) that its body never binds again."""
    args = init.args
    params = [a.arg for a in (args.posonlyargs + args.args)[1:] + args.kwonlyargs]
    out = set()
    for p in params:
        sites = bindings.get(p)
        if sites is not None and len(sites) == 1:
            out.add(p)
    return out


def bind_constructor(init: ast.FunctionDef, call: ast.Call, stable: set[str],
                     lookup: Callable[[ast.AST], object] | None = None) -> Config:
    """The configuration `call` gives `init`'s stable parameters: constants passed, or defaults no
    starred argument could replace. () where the call cannot be bound."""
    args = init.args
    positional = [a.arg for a in (args.posonlyargs + args.args)[1:]]
    kwonly = [a.arg for a in args.kwonlyargs]
    starred = any(isinstance(a, ast.Starred) for a in call.args)
    splat = any(k.arg is None for k in call.keywords)
    given: dict[str, object] = {}
    passed: set[str] = set()
    for i, a in enumerate(call.args):
        if isinstance(a, ast.Starred):
            break
        if i >= len(positional):
            if args.vararg is None:
                return ()  # a TypeError at run time: nothing is certain
            break
        passed.add(positional[i])
        given[positional[i]] = _argument(a, lookup)
    posonly = {a.arg for a in args.posonlyargs}
    for k in call.keywords:
        if k.arg is None:
            continue
        if k.arg in passed or k.arg in posonly:
            return ()
        if k.arg not in positional and k.arg not in kwonly:
            if args.kwarg is None:
                return ()
            continue
        passed.add(k.arg)
        given[k.arg] = _argument(k.value, lookup)
    if not starred and not splat:
        defaults = dict(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        defaults.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        for name, d in defaults.items():
            if name not in passed:
                given[name] = constant(d)
    return tuple(sorted((k, v) for k, v in given.items() if k in stable and v is not UNDECIDED))


def _argument(expr: ast.AST, lookup: Callable[[ast.AST], object] | None):
    c = constant(expr)
    if c is UNDECIDED and lookup is not None and isinstance(expr, ast.Name):
        c = lookup(expr)  # the enclosing `__init__`'s own configuration (`relu=relu`)
    return c


def branch_path(node: ast.AST, scope: ast.AST, parent: dict) -> list[tuple[ast.If, bool]] | None:
    """The `if` branches (test, which arm) that enclose `node` within `scope`; None when something
    else encloses it (a loop, `try`, `with`, a nested function: how often or whether it runs is not
    a matter of tests)."""
    out = []
    child, p = node, parent.get(node)
    while p is not None and p is not scope:
        if isinstance(p, ast.If):
            if child in p.body:
                out.append((p, True))
            elif child in p.orelse:
                out.append((p, False))
            # (the test itself: evaluated whenever the `if` is)
        elif not isinstance(p, (ast.Assign, ast.AnnAssign, ast.Expr, ast.expr)):
            return None
        child, p = p, parent.get(p)
    return out if p is scope else None


def dead_under(path: list[tuple[ast.If, bool]], lookup: Callable[[ast.AST], object]) -> bool:
    """Does the configuration take another way at one of these `if`s?"""
    return any(truth(test.test, lookup) is (not arm) for test, arm in path)


def live_under(path: list[tuple[ast.If, bool]], lookup: Callable[[ast.AST], object]) -> bool:
    """Does the configuration take this way at every one of these `if`s?"""
    return all(truth(test.test, lookup) is arm for test, arm in path)
