"""Iterables a `for` loop certainly goes round at least once (the control-flow graph then has no
path that skips the loop's body: cfg.py).

The zero-trip path matters to the flow. `for conv in self.convs: x = conv(x) + x` followed by
`return x` would otherwise return the function's own argument on one path, and the argument saved
by the first conv on another; joined, callers see "the input, saved" and report a write into the
result that no run can make. Only what the text proves is taken (deny by default):

- a list, tuple or set display with an element (`[a, b]`, `(1,)`), a non-empty string;
- `range(...)` of integer literals that is not empty (`range(3)`, `range(1, 4)`);
- a comprehension with one `for` and no `if` over such an iterable;
- `enumerate`, `reversed`, `list`, `tuple`, `sorted`, `iter` of one, `zip` of several;
- `self.<attr>` in a method, where the class assigns the attribute once, to such a display or to
  `nn.ModuleList(...)`/`nn.ParameterList(...)`/`nn.Sequential(...)` of one, and nothing in the
  file changes, deletes or replaces that attribute (no subclass, no class-level value, no
  `.pop()`/`del`/`setattr`, no `__getattr__`). A builtin name the file rebinds counts for nothing.
"""

from __future__ import annotations

import ast
import re

from outplace.analysis.dispatch import CONTAINER_MUTATORS
from outplace.analysis.imports import dotted
from outplace.analysis.scopes import walk

ONE_ARGUMENT = frozenset({"enumerate", "reversed", "list", "tuple", "sorted", "iter"})
CONTAINER_CLASSES = frozenset({"torch.nn.ModuleList", "torch.nn.ParameterList", "torch.nn.Sequential"})
MAX_DEPTH = 6


def certainly_nonempty(expr: ast.expr, ctx, scope: ast.AST, depth: int = 0, config: dict | None = None) -> bool:
    """Does evaluating `expr` (a `for` loop's iterable in `scope`) always give at least one element?
    `config`: the constructor arguments a configured instance was built with (config.py), where
    `scope` runs on one: `range(num_layers)` in its `__init__` with `num_layers=3`."""
    if depth > MAX_DEPTH:
        return False
    nonempty = lambda e, sc=scope: certainly_nonempty(e, ctx, sc, depth + 1, config)  # noqa: E731
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(not isinstance(e, ast.Starred) or nonempty(e.value) for e in expr.elts)
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, (str, bytes)) and len(expr.value) > 0
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
        gens = expr.generators
        return len(gens) == 1 and not gens[0].ifs and not gens[0].is_async and nonempty(gens[0].iter)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add) and \
            all(_certainly_list(side, ctx, scope) for side in (expr.left, expr.right)) and \
            any(nonempty(side) for side in (expr.left, expr.right)):
        return True  # (`[input_dim] + h` with `h = [d] * (n - 1)`: lists, one with an element)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult) and isinstance(expr.left, (ast.List, ast.Tuple)):
        times = _int(expr.right, config)
        return times is not None and times > 0 and nonempty(expr.left)  # (`[d] * 3`)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and \
            all(k.arg == "strict" and expr.func.id == "zip" for k in expr.keywords) and \
            not any(isinstance(a, ast.Starred) for a in expr.args) and _builtin(expr.func.id, ctx, scope):
        name, args = expr.func.id, expr.args
        if name == "range":
            if len(args) == 1 and isinstance(args[0], ast.Call) and isinstance(args[0].func, ast.Name) and \
                    args[0].func.id == "len" and len(args[0].args) == 1 and not args[0].keywords and \
                    _builtin("len", ctx, scope):
                # `range(len(xs))` has as many elements as `xs` (kokoro's `ParameterList` of one
                # parameter per conv)
                return nonempty(args[0].args[0])
            return _range_length(args, config) > 0
        if name in ONE_ARGUMENT:
            return len(args) == 1 and nonempty(args[0])
        if name == "zip":
            return bool(args) and all(nonempty(a) for a in args)
        return False
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        return _nonempty_attribute(expr, ctx, scope, depth, config)
    return False


def _certainly_list(expr: ast.expr, ctx, scope: ast.AST, depth: int = 0) -> bool:
    """Is `expr` a Python list whatever runs (so `+` concatenates: a numpy array or a tensor would
    broadcast, and may be empty)? A list display or comprehension, `[...] * n`, a sum of lists,
    `list(...)`, or a local name bound once, to one of those."""
    if depth > MAX_DEPTH:
        return False
    if isinstance(expr, (ast.List, ast.ListComp)):
        return True
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        return isinstance(expr.left, ast.List)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _certainly_list(expr.left, ctx, scope, depth + 1) and _certainly_list(expr.right, ctx, scope, depth + 1)
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "list":
        return _builtin("list", ctx, scope)
    if isinstance(expr, ast.Name) and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        ctx.index.ensure_indexed(scope)
        info = ctx.index.scopes.get(scope)
        binds = info.bindings.get(expr.id, []) if info is not None else []
        return len(binds) == 1 and isinstance(binds[0].stmt, ast.Assign) and len(binds[0].stmt.targets) == 1 and \
            isinstance(binds[0].stmt.targets[0], ast.Name) and \
            _certainly_list(binds[0].stmt.value, ctx, scope, depth + 1)
    return False


def _builtin(name: str, ctx, scope: ast.AST) -> bool:
    """`name` is the builtin: bound neither in the module nor in the function that uses it nor in
    one around it, with no `import *` or `exec` in the file that could bind it."""
    text = ctx.text
    if text is None or "import *" in text or _dynamic(ctx) or ctx.rebinding.global_name(name):
        return False  # (`builtins.__dict__["range"] = ...`, `exec`: the name may be anything)
    return not ctx.index.scopes[ctx.tree].bindings.get(name) and not ctx.bindings_around(scope, name)


def _int(node: ast.expr, config: dict | None = None) -> int | None:
    """An int literal, or a name the configuration fixes to an int (`num_layers`); `n - 1` of those."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name) and config and type(config.get(node.id)) is int:
        return config[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int(node.operand, config)
        return -inner if inner is not None else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        a, b = _int(node.left, config), _int(node.right, config)
        if a is None or b is None:
            return None
        return a + b if isinstance(node.op, ast.Add) else a - b
    return None


def _range_length(args: list[ast.expr], config: dict | None = None) -> int:
    values = [_int(a, config) for a in args]
    if not 1 <= len(values) <= 3 or any(v is None for v in values) or (len(values) == 3 and values[2] == 0):
        return 0
    return len(range(*values))  # type: ignore[arg-type]


def _nonempty_attribute(expr: ast.Attribute, ctx, scope: ast.AST, depth: int, config: dict | None = None) -> bool:
    got = _stable_attribute(expr, ctx, scope)
    return got is not None and _nonempty_value(got[0], got[2], got[1], depth, config)


def _stable_attribute(expr: ast.expr, ctx, scope: ast.AST) -> tuple[ast.AST, ast.AST, object] | None:
    """(value, assigning method, its file's context) when `expr` is `self.<attr>` in a method and the
    class assigns the attribute exactly once, and nothing in the file changes, deletes or replaces
    it (no subclass, no class-level value, no container change, no `setattr`, no `__getattr__`)."""
    if not isinstance(expr, ast.Attribute) or not isinstance(expr.value, ast.Name) or \
            not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    cls = ctx.enclosing_class(scope)
    args = scope.args.posonlyargs + scope.args.args
    if cls is None or not args or args[0].arg != expr.value.id or expr.value.id in _rebound(scope, ctx):
        return None
    key = ("stable", id(cls), expr.attr)
    if key not in ctx.memo:
        ctx.memo[key] = None  # (asked again while deciding: not stable)
        ctx.memo[key] = _stable_in_class(cls, expr.attr, ctx)
    return ctx.memo[key]


def _stable_in_class(cls: ast.ClassDef, attr: str, ctx) -> tuple[ast.AST, ast.AST, object] | None:
    # (`_module_replaceable`: nothing else puts a module there, and the only changes to the
    # container are the `.append(...)`s of `__init__` the module builder follows, in order)
    if ctx._module_replaceable(cls, attr):
        return None
    assigns, registered = ctx._class_facts(cls)
    sites = assigns.get(attr, [])
    followed = _appended(cls, attr, ctx)[1] if attr in ctx.rebinding.mutated else set()
    if attr in registered or len(sites) != 1 or ctx._subclass_assigns(cls, attr) or \
            any(isinstance(s, (ast.Assign, ast.AnnAssign)) and attr in _targets(s) for s in cls.body):
        return None
    # Another class's method may run on this object (`Base.setup(self)`), or this class's on another
    # object (`forward = Net.forward`, `Net.forward(other, x)`, `MethodType`); code may reach the
    # attribute by other means (`exec`, `vars(self)`, `__dict__`, a class made with `type(...)`, a
    # builtin patched at run time): deny all of them.
    text = ctx.text or ""
    own = {id(cls), *(id(b) for b in ctx.bases_of(cls))}
    # Other classes of the file that keep an attribute of that name too (`self.layers` is a common
    # name): theirs is another object's, where none of their methods is ever run on this class's
    # instances (the file never names the class but to call it: `Other.setup(self)`, `class
    # D(Cls, Other)` name it; a subclass of this class or a mixin of one is `_subclass_assigns`'s).
    others = [other for other in ctx.top_level_classes().values()
              if id(other) not in own and attr in ctx._class_facts(other)[0]]
    apart = ctx.classes_apart(cls)
    if any(id(other) not in apart for other in others):
        return None
    if "MethodType" in text or (f"{cls.name}." in text or f"{cls.name} ." in text) and re.search(
            rf"\b{re.escape(cls.name)}\s*\.\s*(?!__init__\b)\w", text) or \
            _dynamic(ctx) or not _only_iterated(attr, ctx, followed, apart) or not _applies_harmless(ctx):
        return None
    value, method = sites[0]
    owner = ctx.owner_of(method) if method is not None else ctx
    if owner is None or method is None:
        return None
    return value, method, owner


_DYNAMIC = re.compile(r"\bexec\s*\(|\bvars\s*\(|__dict__|\btype\s*\(\s*['\"]|\bbuiltins\b|"
                      # (a module's submodules reached without their attribute's name: `children()`,
                      # `named_modules()`, `get_submodule("blocks")`, `_modules`; a deep copy alone
                      # reaches them by name only, which the reads below see)
                      # (`_modules` itself, not a name ending in it: transformers' `_no_split_modules = [...]`)
                      r"children\s*\(|modules\s*\(|get_submodule|(?<!\w)_modules\b|"
                      r"^\s*(match|case)\s", re.M)
_READERS = frozenset({"len", "enumerate", "zip", "reversed"})
_READERS_GIVING_NUMBERS = frozenset({"len"})


def _dynamic(ctx) -> bool:
    """Does the file reach names or submodules by other means than their spelling (`_DYNAMIC`)? Once per file."""
    if "dynamic" not in ctx.memo:
        ctx.memo["dynamic"] = bool(_DYNAMIC.search(ctx.text or ""))
    return ctx.memo["dynamic"]


def _only_iterated(attr: str, ctx, followed: set[int] = frozenset(),  # type: ignore[assignment]
                   elsewhere: frozenset = frozenset()) -> bool:
    """Is every read of an attribute named `attr` in the file (on any object) one that cannot change
    the list: iterated by a `for`, indexed (`self.blocks[i](x)`), given to `len`, `enumerate`,
    `zip`, `reversed`, or `apply(fn)`'d (see `_applies_harmless`), or one of the `.append(...)`
    statements of `followed` (the ones that built it)? A list handed to anything else
    (`_drain(self.blocks)`, `Pruner(m.blocks)`, `layers = self.blocks`) may be emptied there.
    `elsewhere`: ids of other classes whose methods never run on this one's instances: what they do
    to their own `self.<attr>` is another object's."""
    reads, _, owners = _file_reads(ctx)
    return all(use is True or use in followed or owner in elsewhere
               for use, owner in zip(reads.get(attr, ()), owners.get(attr, ())))


def _appended(cls: ast.ClassDef, attr: str, ctx) -> tuple[list, set[int]]:
    """(members in order, statements followed) of an empty container `__init__` fills with
    `.append`/`.extend` (ModuleBuilder.added_modules); ([], set()) otherwise."""
    sites = ctx._class_facts(cls)[0].get(attr, [])
    if len(sites) != 1 or not _empty_container(sites[0][0], ctx):
        return [], set()
    method = sites[0][1]
    owner = ctx.owner_of(method) if method is not None else None
    added = owner.modules.added_modules(cls, attr) if owner is not None else None
    return (added[0], added[1]) if added is not None else ([], set())


def _empty_container(value: ast.AST, ctx) -> bool:
    return isinstance(value, ast.Call) and not value.args and not value.keywords and \
        (ctx.imports.qualname(value.func) or "") in ("torch.nn.ModuleList", "torch.nn.Sequential")


def _applies_harmless(ctx) -> bool:
    """Is every `x.apply(fn)` of the file given a function of the file that changes no container?
    (`apply` visits every submodule, a module list too.)"""
    return "apply(" not in (ctx.text or "") or _file_reads(ctx)[1]


def _file_reads(ctx) -> tuple[dict[str, list], bool, dict[str, list]]:
    """(attr -> for each load of `<x>.attr` in the file, whether its use leaves the object alone
    (True / False, or the id of the `<x>.attr.append(...)` statement it is);
    whether every `x.apply(fn)` is given a function of the file that changes no container;
    attr -> for each of those loads, the id of the top-level class whose own `self` it is read on
    (`self.layers` in a method of the class), or None): one walk of the file, kept for the rest of
    its analysis."""
    got = ctx.memo.get("attribute reads")
    if got is None:
        reads: dict[str, list[bool]] = {}
        owners: dict[str, list] = {}
        parents: dict[ast.AST, ast.AST] = {}
        functions = {n.name: n for n in ctx.tree.body if isinstance(n, ast.FunctionDef)}
        # (`self.apply(self.init_weights)`: a method of the file's classes, where one def has that name)
        methods: dict[str, list] = {}
        for cls in (n for n in ctx.tree.body if isinstance(n, ast.ClassDef)):
            for m in cls.body:
                if isinstance(m, ast.FunctionDef):
                    methods.setdefault(m.name, []).append(m)
        applies = True
        for node in ast.walk(ctx.tree):
            for child in ast.iter_child_nodes(node):
                parents[child] = node
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "apply":
                arg = node.args[0] if len(node.args) == 1 else None
                fn = functions.get(arg.id) if isinstance(arg, ast.Name) else None
                if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name) and \
                        len(methods.get(arg.attr, ())) == 1 and arg.attr not in functions:
                    fn = methods[arg.attr][0]
                applies = applies and fn is not None and not _changes_containers(fn)
        for child, node in parents.items():
            if isinstance(child, ast.Attribute) and isinstance(child.ctx, ast.Load):
                grand = parents.get(node)
                use = _harmless_use(child, node, grand, parents)
                if not use and isinstance(node, ast.Attribute) and node.attr in ("append", "extend", "add_module", "register_module") and \
                        isinstance(grand, ast.Call) and grand.func is node and isinstance(parents.get(grand), ast.Expr):
                    use = id(parents[grand])  # (a statement that adds to it: harmless if the builder followed it)
                reads.setdefault(child.attr, []).append(use)
                owners.setdefault(child.attr, []).append(_own_self_class(child, parents, ctx.tree))
        got = ctx.memo["attribute reads"] = (reads, applies, owners)
    return got


def _own_self_class(attr: ast.Attribute, parents: dict, tree: ast.Module) -> int | None:
    """The id of the top-level class when `attr` is `self.<name>` read in one of its methods, `self`
    being the method's first parameter (also in a lambda or comprehension inside it, not in a nested
    function, which has parameters of its own): that object is an instance of the class."""
    if not isinstance(attr.value, ast.Name):
        return None
    node = attr
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            cls = parents.get(node)
            args = node.args.posonlyargs + node.args.args
            if isinstance(cls, ast.ClassDef) and parents.get(cls) is tree and args and args[0].arg == attr.value.id \
                    and not node.decorator_list:
                return id(cls)
            return None
        if isinstance(node, ast.ClassDef):
            return None
    return None


def _harmless_use(attr: ast.Attribute, parent: ast.AST, grandparent: ast.AST | None,
                  parents: dict | None = None, depth: int = 0) -> bool:
    """Does this use of `node` (`<x>.attr`, or what a use of it gave: a member `self.body[0]`, the
    module `self.body.train()` returns, a loop variable over it) leave the container alone? What it
    hands on is followed (`parents`): `self.body[0][0] = m`, `self.body.train().pop(0)`, `for blk in
    self.body: del blk[0]` change it (adversarial review NS1, R2)."""
    node = attr

    def onward(value: ast.AST) -> bool:
        """The value this use gives is itself used harmlessly (a member, the module again), or is a
        module built around it stored back where it came from (`self.pos_conv =
        nn.Sequential(self.pos_conv, ...)`: that attribute's reads are judged too; not `self.body =
        self.body[1:]`, another chain: S1)."""
        if parents is None or depth > 6:
            return False
        up = parents.get(value)
        if isinstance(up, ast.Assign) and isinstance(value, ast.Call) and up.value is value and len(up.targets) == 1 and \
                isinstance(attr, ast.Attribute) and isinstance(up.targets[0], ast.Attribute) and \
                up.targets[0].attr == attr.attr and dotted(up.targets[0].value) == dotted(attr.value):
            return True
        return up is not None and _harmless_use(value, up, parents.get(up), parents, depth + 1)  # type: ignore[arg-type]

    if isinstance(parent, (ast.For, ast.AsyncFor)) and parent.iter is node:
        # `for blk in self.body: y = blk(y)`: each member, as the loop variable, is used harmlessly
        return _loop_variable_harmless(parent, parents, depth)
    if isinstance(parent, ast.Subscript) and parent.value is node and isinstance(parent.ctx, ast.Load):
        return onward(parent)  # `self.body[i](x)`; not `self.body[0][0] = m`, `del self.body[0][0]`
    if isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name) and \
            parent.func.id in _READERS:
        return parent.func.id in _READERS_GIVING_NUMBERS or onward(parent)  # (`enumerate(self.body)` hands out members)
    # `self.convs.apply(init)`: `_applies_harmless` decides for every `apply` of the file.
    if isinstance(parent, ast.Attribute) and parent.attr == "apply" and isinstance(grandparent, ast.Call) and \
            grandparent.func is parent:
        return True
    if isinstance(parent, ast.Call) and parent.func is node:  # `self.body(x)`: the chain run
        return True
    if isinstance(parent, (ast.BinOp, ast.UnaryOp, ast.Compare)):
        return True  # `(1 / a1) * xt` of a `ParameterList` member: arithmetic gives a new value, not the member
    if isinstance(parent, ast.Call) and node in parent.args and \
            (dotted(parent.func) or "").rsplit(".", 1)[-1] in _MEMBER_UTILITIES:
        return True  # `for layer in self.convs: remove_weight_norm(layer)`: the member's parameters, not the list
    if isinstance(parent, ast.Call) and node in parent.args and _TORCH_MODULE.fullmatch(dotted(parent.func) or ""):
        # (`nn.Sequential(self.conv, nn.GELU())`: a torch module built around it keeps it as is; what
        # is done to the wrapper may be done to it: `del wrap[0][0]`)
        return onward(parent)
    # `self.body.parameters()`: an nn.Module method that changes no member; `.train()`, `.to(...)`
    # return the module itself: what is done to that is done to it (`self.body.train().pop(0)`)
    if isinstance(parent, ast.Attribute) and isinstance(grandparent, ast.Call) and grandparent.func is parent:
        if parent.attr in _MODULE_SELF_RETURNING:
            return isinstance(parents.get(grandparent) if parents else None, ast.Expr) or onward(grandparent)
        return parent.attr in _MODULE_READS
    if isinstance(parent, ast.Attribute) and isinstance(parent.ctx, ast.Load):
        return parent.attr not in _MUTATING  # (`f = self.blocks.pop` may be called later)
    # `self.blocks.x` reads something of it (a method call may change it: `.pop()`, `.clear()`).
    return False


def _loop_variable_harmless(loop: ast.For, parents: dict | None, depth: int) -> bool:
    """Is every use of the loop's variables in it harmless (`blk(x)`, `blk.weight`; `i` of
    `enumerate` included), and none bound again there?"""
    target = loop.target
    if parents is None or not all(isinstance(t, ast.Name) for t in (target.elts if isinstance(target, ast.Tuple)
                                                                      else [target])):
        return False
    names = {t.id for t in walk(target) if isinstance(t, ast.Name)}
    if isinstance(loop.iter, ast.Call) and isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "enumerate" \
            and isinstance(target, ast.Tuple) and target.elts:
        names.discard(target.elts[0].id)  # type: ignore[attr-defined]  # (the index: a number)
    own = set(map(id, walk(target)))
    for n in walk(loop):
        if isinstance(n, ast.Name) and n.id in names and id(n) not in own:
            if not isinstance(n.ctx, ast.Load):
                return False
            up = parents.get(n)
            if up is None or not _harmless_use(n, up, parents.get(up), parents, depth + 1):  # type: ignore[arg-type]
                return False
    return True


# torch.nn.utils functions given a module: they change its parameters (and hooks), never a container.
_MEMBER_UTILITIES = frozenset({"weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm",
                               "isinstance", "hasattr", "print", "len", "id", "type"})
_TORCH_MODULE = re.compile(r"(torch\.)?nn\.[A-Z]\w*")  # `nn.Sequential`, `torch.nn.ModuleList`
_MUTATING = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort", "update",
                       "setdefault", "popitem", "add_module", "register_module", "register_parameter",
                       "register_buffer", "apply", "__setitem__", "__delitem__", "__setattr__", "__delattr__",
                       "__iadd__", "__imul__", "_modules", "__dict__"})
_MODULE_READS = frozenset({"parameters", "named_parameters", "buffers", "named_buffers", "state_dict",
                           "zero_grad", "extra_repr", "__len__",
                           # (a member re-initialising its own parameters: `for blk in self.blocks:
                           # blk.reset_parameters()`, PyG-style; it holds no reference to the list)
                           "reset_parameters", "_reset_parameters", "reset_parameter"})
# nn.Module methods that return the module itself.
_MODULE_SELF_RETURNING = frozenset({"train", "eval", "to", "cuda", "cpu", "float", "half", "double", "bfloat16",
                                    "requires_grad_", "type", "xpu", "to_empty", "share_memory"})


def container_left_alone(cls: ast.ClassDef, attr: str, ctx) -> bool:
    """Is every read of `<x>.attr` in the file one that cannot change the container it holds
    (`_only_iterated`, the `__init__` appends the module builder follows included, every `apply`
    harmless)? `drop_first(self.body)`, `seq = self.body`, `nn.Sequential.__setitem__(self.body, 0,
    m)` are not."""
    return _only_iterated(attr, ctx, _appended(cls, attr, ctx)[1]) and _applies_harmless(ctx)


def _changes_containers(fn: ast.FunctionDef) -> bool:
    """May `fn` change a container it is given? Only a body that deletes and stores no item and
    calls nothing but `nn.init.*`, in-place tensor methods (`m.weight.data.normal_()`) and
    `isinstance`/`hasattr`/`getattr`/`len` is taken not to (a helper it calls, `mod.__init__()`,
    `__delitem__`, may empty the list)."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Delete) or (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)):
            return True
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            spelled = ast.unparse(f)
            if not (spelled.startswith(("nn.init.", "torch.nn.init.", "init.")) or name in _PURE_CALLS or
                    (isinstance(f, ast.Attribute) and name.endswith("_") and not name.startswith("_"))):
                return True
    return False


_PURE_CALLS = frozenset({"isinstance", "hasattr", "getattr", "len", "print", "math.sqrt", "sqrt",
                         # (iterating a module's parameters or submodules changes no container)
                         "parameters", "named_parameters", "buffers", "named_buffers", "children", "modules",
                         "named_children", "named_modules",
                         # (string methods on a class name: `m.__class__.__name__.find("Conv")`)
                         "find", "startswith", "endswith", "lower", "upper"})


def chain_loop(loop: ast.For, ctx, scope: ast.AST) -> bool:
    """Is `loop` a chain of known modules, in order: `for m in self.layers: y = m(y)` or
    `for i in range(len(self.layers)): y = self.layers[i](y)`, where `self.layers` is an
    `nn.ModuleList`/`nn.Sequential` built once from a list of modules written out (no starred part,
    nothing added or removed later)? Then the loop runs each of them once, in order: an
    `nn.Sequential` of them (what each saves is what the next one is given)."""
    if loop.orelse or len(loop.body) != 1 or not isinstance(loop.target, ast.Name):
        return False
    stmt = loop.body[0]
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Call) and not stmt.value.keywords and len(stmt.value.args) == 1
            and isinstance(stmt.value.args[0], ast.Name) and stmt.value.args[0].id == stmt.targets[0].id):
        return False
    y, var, func = stmt.targets[0].id, loop.target.id, stmt.value.func
    if y == var:
        return False
    if isinstance(func, ast.Name) and func.id == var:
        container = loop.iter  # `for m in self.layers: y = m(y)`
    elif isinstance(func, ast.Subscript) and isinstance(func.slice, ast.Name) and func.slice.id == var and \
            _range_of_len(loop.iter, func.value, ctx, scope):
        container = func.value  # `for i in range(len(self.layers)): y = self.layers[i](y)`
    else:
        return False
    got = _stable_attribute(container, ctx, scope)
    return got is not None and (_written_out(got[0], got[2]) or (
        _empty_container(got[0], got[2]) and bool(_appended(ctx.enclosing_class(scope), container.attr, got[2])[0])))


def _range_of_len(iterable: ast.expr, container: ast.expr, ctx, scope: ast.AST) -> bool:
    """`range(len(C))` or `range(0, len(C))` with the builtins, C spelled as `container` is."""
    if not (isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "range"
            and not iterable.keywords and _builtin("range", ctx, scope) and _builtin("len", ctx, scope)):
        return False
    args = iterable.args
    if len(args) == 2 and _int(args[0]) == 0:
        args = args[1:]
    return len(args) == 1 and isinstance(args[0], ast.Call) and isinstance(args[0].func, ast.Name) and \
        args[0].func.id == "len" and len(args[0].args) == 1 and not args[0].keywords and \
        ast.dump(args[0].args[0]) == ast.dump(container)


def _written_out(value: ast.AST, ctx) -> bool:
    """`nn.ModuleList([a, b, c])`, `nn.Sequential(a, b, c)`: every member spelled out, in order."""
    if not isinstance(value, ast.Call) or value.keywords:
        return False
    cls = ctx.imports.qualname(value.func) or ""
    if cls == "torch.nn.Sequential":
        members = value.args
    elif cls == "torch.nn.ModuleList" and len(value.args) == 1 and isinstance(value.args[0], (ast.List, ast.Tuple)):
        members = value.args[0].elts
    else:
        return False
    return bool(members) and not any(isinstance(m, ast.Starred) for m in members)


def _nonempty_value(value: ast.AST, ctx, method: ast.AST | None, depth: int, config: dict | None = None) -> bool:
    """Is `value`, assigned to the attribute in `method`, a container with an element? (`config`:
    the instance's, for the names of an `__init__`)"""
    if method is None:
        return False
    if getattr(method, "name", None) != "__init__":
        config = None
    if isinstance(value, (ast.List, ast.Tuple)):
        return certainly_nonempty(value, ctx, method, depth + 1, config)
    if not isinstance(value, ast.Call) or value.keywords:
        return False
    cls = ctx.imports.qualname(value.func) or ""
    if cls not in CONTAINER_CLASSES:
        return False
    if cls.endswith("Sequential"):  # `nn.Sequential(a, b)`, `nn.Sequential(*[...])`
        return any(not isinstance(a, ast.Starred) or certainly_nonempty(a.value, ctx, method, depth + 1, config)
                   for a in value.args)
    return len(value.args) == 1 and certainly_nonempty(value.args[0], ctx, method, depth + 1, config)


def _targets(stmt: ast.stmt) -> set[str]:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]  # type: ignore[attr-defined]
    return {t.id for t in targets if isinstance(t, ast.Name)}


def _rebound(scope: ast.AST, ctx) -> set[str]:
    """Names the function binds more than once (its `self` reassigned: another object)."""
    ctx.index.ensure_indexed(scope)
    return {name for name, binds in ctx.index.scopes[scope].bindings.items() if len(binds) > 1}
