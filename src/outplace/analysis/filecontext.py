"""What one file's scopes share: imports, classes and their attributes, modules, and how a call
resolves (torch functions, `nn` modules, builtins, the file's own classes and functions).

`ScopeFlow` (flow.py) asks this context whenever a value comes from outside the scope it is
analysing: a global, a parameter, `self.<attr>`, a module it calls. Flows are built lazily, one per
scope, and cached here.
"""

from __future__ import annotations

import ast
import os
import re
import weakref
from itertools import takewhile
from dataclasses import dataclass, field, replace
from typing import Callable

from outplace.analysis.config import NOT_NONE, UNDECIDED, bind_constructor, branch_path, constant, dead_under, live_under, \
    names_lookup, single_binding_params, truth
from outplace.analysis.context import IntentContext
from outplace.analysis.dispatch import Rebinding, scan as scan_rebinding, statements as dispatch_statements
from outplace.analysis.guards import GRAD_OFF, bind_names, not_requiring_grad, predicate_returns
from outplace.analysis.effects import BUFFER_CLASSES, DETACHING_WRAPPERS, LEGACY_CONSTRUCTORS, PARAMETER_CLASSES, SELF, \
    SPARSE_CONSTRUCTORS, TorchEffects, inplace_arg
from outplace.analysis.flow import CONST_KEYS, CONSUMING_BUILTINS, COMPUTING_BUILTINS, CONTAINER_BUILTINS, \
    BUILTIN_NAMES, ELEMENT_BUILTINS, PARAMETER_ITERATORS, SUBMODULE_ITERATORS, ScopeFlow, number_result
from outplace.analysis.imports import ImportMap, dotted
from outplace.analysis.iterables import container_left_alone
from outplace.analysis.modules import SKIP, UNKNOWN_MEMBER, UNKNOWN_MODULE, ModuleBuilder, ModuleInfo, members_of
from outplace.analysis.model import INTEGRAL_DTYPES, MAYBE, NO, UNKNOWN, YES, Key, Obj, State, outside
from outplace.analysis.model import ARGUMENT_SOURCE, Event, obj_join as _obj_join, state_join, tri_or as _tri_or
from outplace.analysis.opaque import opaque_reason
from outplace.analysis.scopes import ScopeIndex, walk
from outplace.analysis.summaries import Summary, apply_summary, summarize
from outplace.optable import OpTable

FLOAT_DTYPES = {"float", "float16", "float32", "float64", "half", "double", "bfloat16", "float8_e4m3fn",
                "float8_e5m2"}
INT_DTYPES = {"int", "int8", "int16", "int32", "int64", "long", "short", "uint8", "uint16", "uint32", "uint64"}
# Generic types whose arguments are what they hold, not what they are: `dict[str, Tensor]` is no tensor.
CONTAINER_ANNOTATIONS = {"list", "List", "dict", "Dict", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet",
                         "Sequence", "MutableSequence", "Mapping", "MutableMapping", "Iterable", "Iterator",
                         "Generator", "Collection", "Callable", "Type", "type", "DefaultDict", "defaultdict",
                         "OrderedDict", "Deque", "deque", "ModuleList", "ParameterList", "ParameterDict"}
# Annotations naming a tensor type: any name containing "Tensor" (Tensor, FloatTensor, jaxtyping's
# Float[Tensor, ...]) and these.
TENSOR_ANNOTATIONS = {"torch.nn.Parameter", "torch.nn.parameter.Parameter", "Parameter"}
# Calls that may call a function, followed to learn what its parameters are (beyond: left symbolic).
MAX_CANDIDATE_CALLS = 12
# How deep summaries of calls within summaries go (a forward calling a block calling attention...).
MAX_SUMMARY_DEPTH = 2
# A chain's optional members each split its run in two (`_chain_call`): at most this many runs.
MAX_CHAIN_PATHS = 8
# `NAME.attr =` or `NAME` as a call's argument, in a file's text (re.findall gives both groups).
_STORED_OR_PASSED = re.compile(r"\b([A-Za-z_]\w*)\s*\.\s*\w+\s*=(?!=)|[(,]\s*([A-Za-z_]\w*)\s*(?=[,)])")
# Builtins that only read a class given to them.
_CLASS_READERS = frozenset({"isinstance", "issubclass", "super", "type", "print", "repr", "str", "id", "hash",
                            "getattr", "hasattr", "len"})
# Class decorators that return the class they are given (its attributes and methods as written).
PLAIN_CLASS_DECORATORS = frozenset({"dataclasses.dataclass", "typing.final", "functools.total_ordering",
                                    "typing.runtime_checkable", "typing_extensions.final"})
# Decorators after which a call of the function still does what its body does.
BUILTIN_DECORATORS = frozenset({"staticmethod", "classmethod"})
PLAIN_DECORATORS = frozenset({
    "staticmethod", "classmethod", "abc.abstractmethod", "abstractmethod", "typing.overload", "overload",
    "typing.final", "final", "typing.no_type_check", "functools.wraps",
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode", "torch.set_grad_enabled",
    "torch.autograd.no_grad", "torch.autograd.enable_grad", "torch.autocast", "torch.amp.autocast",
    "torch.cuda.amp.autocast", "torch.jit.script", "torch.jit.ignore", "torch.jit.unused", "torch.jit.export",
    "torch.jit.script_method", "torch.compile", "torch.compiler.disable", "torch._dynamo.disable",
    "torch.fx.wrap",
})
MODULE_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}
MODULE_BASES = {"Module", "nn.Module", "torch.nn.Module", "LightningModule", "pl.LightningModule"}
TORCH_MODULE_PARAMETERS = {"weight", "bias", "in_proj_weight", "in_proj_bias", "weight_ih_l0", "weight_hh_l0",
                           "bias_ih_l0", "bias_hh_l0"}
TORCH_MODULE_BUFFERS = {"running_mean", "running_var", "num_batches_tracked"}


# torch's function namespaces the facts measure by dotted name (scripts/torchfacts/common.py).
TORCH_FUNCTION_NAMESPACES = frozenset({"linalg", "fft", "special"})


class FileContext:
    def __init__(self, tree: ast.Module, index: ScopeIndex, ops: OpTable, project=None,
                 path: str | None = None, text: Callable[[], str] | str | None = None) -> None:
        """`text`: the source (or how to get it), for the scans a word of it can spare."""
        self.tree = tree
        self._text = text
        self._rebinding: Rebinding | None = None
        self.path = path
        self.project = project  # the ProjectIndex of the run (other files' classes and functions), or None
        if project is not None:
            project.register(self)
        self.index = index
        self.ops = ops
        self.effects = TorchEffects(ops)
        self._imports_seen = -1
        self._imports: ImportMap | None = None
        self.intent = IntentContext(index, self.imports)
        context = weakref.ref(self)  # (not a bound method: no cycle between the two)
        self.intent.called_without_grad = lambda fn: (c := context()) is not None and c.called_without_grad(fn)
        self._flows: dict[int, ScopeFlow] = {}
        self._attrs: dict[tuple[int, str], Obj] = {}
        self._class_assigns: dict[int, tuple[dict[str, list[ast.AST]], dict[str, Obj]]] = {}
        self._classes: dict[str, ast.ClassDef] | None = None
        self._module_names: dict[str, tuple[Key, Obj]] = {}
        self.module_writes: dict[int, list] = {}  # id(module constructor) -> [(flow, WriteRecord)]
        self.modules = ModuleBuilder(self)
        self._fake_attributes: dict[int, ast.Attribute] = {}
        self._summaries: dict[int, Summary | None] = {}
        self._summary_flows: dict[int, ScopeFlow] = {}  # flows with symbolic parameters
        self._summary_depth = 0
        self._site_facts: dict[int, dict] = {}
        self._call_index: tuple[dict, dict] | None = None
        self._handed: set[str] = set()  # names read as values, not called (found by _calls_by_name)
        self._built_names: dict[int, set[str]] | None = None
        self._call_assigns: list[ast.Assign] = []
        self._module_attrs: dict[int, list] = {}
        self._self_call_index: dict[int, dict[str, list[ast.Call]]] = {}
        self._overrides: dict[int, set[str]] | None = None
        self._classes_all: list[ast.ClassDef] | None = None
        self._opaque: tuple[str | None] | None = None
        self.memo: dict = {}  # per-file answers other modules keep here (iterables.py)
        self._subclass_index: dict[int, list[ast.ClassDef]] | None = None
        self._configurable: dict[int, bool] = {}
        self._stable: dict[int, set[str]] = {}
        self._stores: dict[int, dict[str, int]] = {}

    # ---- shared lookups ---------------------------------------------------------------------------------
    @property
    def imports(self) -> ImportMap:
        if self._imports is None or self._imports_seen != len(self.index.imports):
            imports = ImportMap(self.index.imports)
            # A module-level name bound by more than imports (`gelu = ...`, `def gelu` under an `if`,
            # `global F; F = ...`) may be something else when the code runs: not the import.
            bindings = self.index.scopes[self.tree].bindings
            text = self.text
            # (`global` statements are rare: the scan for them only when the text has one.)
            rebound = self.rebinding.globals_rebound if text is None or "global " in text else frozenset()
            for name in list(imports.names):
                if name in rebound or any(not isinstance(b.stmt, (ast.Import, ast.ImportFrom))
                                          for b in bindings.get(name, ())):
                    del imports.names[name]
            if text is not None:
                imports.note_patches(text)
            self._imports = imports
            self._imports_seen = len(self.index.imports)
        return self._imports

    def close(self) -> None:
        """The file's analysis is over: drop the flows and the module builder, which refer back to
        this context (a cycle only the cycle collector would free, with every state it reaches)."""
        self._flows.clear()
        self._summary_flows.clear()
        self.module_writes.clear()
        self.memo.clear()
        self.modules = None  # type: ignore[assignment]

    def flow(self, scope: ast.AST, instance: tuple | None = None) -> ScopeFlow:
        """The scope's flow with its parameters as symbolic objects (what any caller may pass).
        `instance`: (class, configuration) of the `self` a method runs on (config.py)."""
        key = id(scope) if instance is None else (id(scope), id(instance[0]), instance[1])
        f = self._summary_flows.get(key)
        if f is None:
            self.index.ensure_indexed(scope)
            f = self._summary_flows[key] = ScopeFlow(self, scope, call_sites=False, instance=instance)
            if instance is None:  # (one instance's flow has the same writes as the method's own)
                self._register_module_writes(f)
        return f

    def flow_with_callers(self, scope: ast.AST) -> ScopeFlow:
        """The scope's flow with its parameters started from what the file's calls pass (more
        precise, and dearer: the callers' flows run first). The same flow when no call is known."""
        f = self._flows.get(id(scope))
        if f is None:
            sites = self.call_site_facts(scope) if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else {}
            if not sites:
                f = self.flow(scope)
            else:
                f = ScopeFlow(self, scope, call_sites=True)
                self._register_module_writes(f)
            self._flows[id(scope)] = f
        return f

    def _register_module_writes(self, f: ScopeFlow) -> None:
        for records in f.writes.values():
            for w in records:
                if w.ctor is not None:
                    self.module_writes.setdefault(id(w.ctor), []).append((f, w))

    def scope_node(self, node: ast.AST) -> ast.AST:
        """The scope (module, function, lambda or class) that `node` belongs to."""
        self.index.ensure_scope_of(node)
        return self.index.scope_for(node).node

    def grad_disabled(self, node: ast.AST) -> bool:
        return self.intent.grad_disabled(node)

    @property
    def rebinding(self) -> Rebinding:
        """What the file rebinds elsewhere than where the analysis resolves calls (dispatch.py)."""
        if self._rebinding is None:
            text = self.text
            self._rebinding = scan_rebinding(self.tree, text)
        return self._rebinding

    @property
    def text(self) -> str | None:
        """The file's source, when the analysis was given it."""
        if callable(self._text):
            self._text = self._text()
        return self._text

    def class_binds(self, cls: ast.ClassDef, name: str) -> bool:
        """Does `cls` or one of the run's classes it derives from bind `name` in its body (a `def`, or
        an assignment: `__radd__ = __mul__ = _keep`)?"""
        return any(name in _bound_names(stmt) for c in (cls, *_bases_of(cls, self)) for stmt in c.body)

    def bases_of(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """The classes `cls` derives from, transitively, that this file or the run defines."""
        return _bases_of(cls, self)

    @property
    def opaque(self) -> str | None:
        """Why no rewrite in this file is provably unobservable, if its code breaks a premise of the
        analysis for every function at once (opaque.py: frames, patched torch, Tensor subclasses...)."""
        if self._opaque is None:
            text = self.text
            self._opaque = (opaque_reason(self.tree, text, self.imports) or self._imported_tensor_class(),)
        return self._opaque[0]

    def _imported_tensor_class(self) -> str | None:
        """A Tensor subclass (or a class with `__torch_function__`/`__torch_dispatch__`) that another
        file of the run defines and this one uses (calls it, or makes tensors of it with
        `as_subclass`): its methods may do anything, in place or not (eval49 D7). Only names this file
        imports and uses so; a subclass reaching a function through its parameters from elsewhere is
        the premise the analysis keeps."""
        if self.project is None:
            return None
        by_name, by_attr = self._calls_by_name()  # (the file's one walk for its calls)
        used = {n for n in by_name if n in self.imports.names}
        used |= {c.args[0].id for attr in ("as_subclass", "_make_subclass") for c in by_attr.get(attr, ())
                 if c.args and isinstance(c.args[0], ast.Name) and c.args[0].id in self.imports.names}
        for name in sorted(used):
            q = self.imports.names[name]
            if q.startswith("torch"):
                continue
            found = self.resolve_import(name)
            if not isinstance(found, ast.ClassDef):
                continue
            owner = self.owner_of(found)
            if any((owner.imports.qualname(b) or "") in ("torch.Tensor", "torch.nn.Parameter") for b in found.bases) or \
                    any(isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and
                        m.name in ("__torch_function__", "__torch_dispatch__") for m in found.body):
                return (f"`{name}`, imported from another file of the run, is a Tensor subclass (or overrides how torch "
                        "runs its functions): its methods may do anything")
        return None

    def dispatched_elsewhere(self, cls: ast.ClassDef, attr: str) -> bool:
        """May `self.<attr>(...)` in `cls` run something else than `cls`'s own `<attr>`: it is
        assigned from outside, on instances (`self.prep = ...`), or a subclass in the file
        overrides it?"""
        if self.rebinding.attribute(attr) or self.rebinding.attribute("__class__") or \
                self.rebinding.attribute("__bases__"):
            return True  # (`obj.__class__ = type('S', (Keep, Base), {})`, `Sub.__bases__ = ...`: eval30 D1, M2)
        assigns, _ = self._class_facts(cls)
        names = self._overridden().get(id(cls), ())
        return attr in assigns or attr in names or ANY_NAME in names

    def overrides_only(self, cls: ast.ClassDef, attr: str, limit: int = 8) -> list | None:
        """The methods of `cls`'s subclasses in this file that override its method `attr`, where
        that is the only reason `self.<attr>` may run another (no instance assigns it, no subclass
        binds it but by a plain `def`); None otherwise or when none does."""
        if attr not in self._overridden().get(id(cls), ()) or attr in self._class_facts(cls)[0]:
            return None
        out = []
        for sub in self._subclasses().get(id(cls), ()):
            own = [stmt for stmt in sub.body if attr in _bound_names(stmt)]
            if not own:
                continue
            if len(own) != 1 or not isinstance(own[0], ast.FunctionDef) or own[0].decorator_list or \
                    attr in self._class_facts(sub)[0]:
                return None  # (a `@staticmethod` is not given `self`: eval29 R1)
            out.append(own[0])
        return out[:limit] if out and len(out) <= limit else None

    def _subclass_assigns(self, cls: ast.ClassDef, attr: str) -> list[tuple[ast.AST, ast.AST]]:
        """`self.<attr> = ...` in the methods of the file's subclasses of `cls`."""
        out: list[tuple[ast.AST, ast.AST]] = []
        own = {id(cls), *(id(b) for b in _bases_of(cls, self))}
        subs = self._subclasses().get(id(cls), ())
        # A subclass's other bases too (a mixin before `cls` in its method resolution order sets it).
        for sub in dict.fromkeys(c for s in subs for c in (s, *_bases_of(s, self)) if id(c) not in own):
            for method, stmt in _method_statements(sub):
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and any(
                        isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                        and t.attr == attr for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target])):
                    out.append((stmt.value, method))
        return out

    def _subclasses(self) -> dict[int, list[ast.ClassDef]]:
        """id(class) -> the file's classes deriving from it (one pass over the file's classes)."""
        if self._subclass_index is None:
            self._subclass_index = {}
            for sub in self._file_classes():
                for base in _bases_of(sub, self):
                    self._subclass_index.setdefault(id(base), []).append(sub)
        return self._subclass_index

    def _file_classes(self) -> list[ast.ClassDef]:
        if self._classes_all is None:
            self._classes_all = [n for n in dispatch_statements(self.tree.body) if isinstance(n, ast.ClassDef)]
        return self._classes_all

    def _overridden(self) -> dict[int, set[str]]:
        """id(class) -> the names a subclass in this file binds again (one pass over the file's classes)."""
        if self._overrides is None:
            self._overrides = {}
            for sub in self._file_classes():
                names = {n for stmt in sub.body for n in _bound_names(stmt)}
                if names & {"__getattribute__", "__getattr__"} or any(self._decorator_replaces(d) for d in sub.decorator_list):
                    # (it answers any attribute itself, eval30 D2; a decorator of the file returns another class,
                    # `return type(cls.__name__, (Keep, cls), {})`, eval30 M2)
                    names.add(ANY_NAME)
                for base in _bases_of(sub, self):
                    self._overrides.setdefault(id(base), set()).update(names)
                # A base listed earlier comes first in the method resolution order: what it (or its
                # own bases) binds overrides the later bases' methods (`class Sub(Keep, Base)`:
                # `Keep.post` runs for `self.post(h)` in `Base.run`, eval26 M1).
                direct = [c for b in sub.bases if (spelled := dotted(b)) is not None and
                          isinstance(c := self.top_level_classes().get(spelled) or self.resolve_import(spelled),
                                     ast.ClassDef)]
                earlier: set[str] = set()
                for base in direct:
                    if earlier:
                        for later in [base, *_bases_of(base, self)]:
                            self._overrides.setdefault(id(later), set()).update(earlier)
                    earlier |= {n for c in [base, *_bases_of(base, self)] for stmt in c.body for n in _bound_names(stmt)}
                # A base the file cannot name before one it can (`K = Keep; class Sub(K, Base)`,
                # `Keep[int]`, `ns.Keep`), or a metaclass of the run's own: it may bind any method of
                # the bases after it (eval29 M2).
                unknown_before = False
                for b in sub.bases:
                    spelled = dotted(b)
                    c = (self.top_level_classes().get(spelled) or self.resolve_import(spelled)) if spelled else None
                    if isinstance(c, ast.ClassDef):
                        if unknown_before:
                            for later in [c, *_bases_of(c, self)]:
                                self._overrides.setdefault(id(later), set()).add(ANY_NAME)
                    elif (self.imports.qualname(b.value if isinstance(b, ast.Subscript) else b) or "") \
                            not in _BASES_BINDING_NO_METHOD:  # (`Generic[T]` binds none)
                        unknown_before = True
                meta = next((k.value for k in sub.keywords if k.arg == "metaclass"), None)
                if meta is not None and (self.imports.qualname(meta) or "") not in _BASES_BINDING_NO_METHOD:
                    for later in _bases_of(sub, self):
                        self._overrides.setdefault(id(later), set()).add(ANY_NAME)
            # `Sub = type('Sub', (Keep, Base), {})`: a class made at run time from the file's classes, its
            # namespace and earlier bases before theirs (eval26 mixin)
            for call in self._calls_by_name()[0].get("type", ()):
                if len(call.args) == 3 and isinstance(call.args[1], (ast.Tuple, ast.List)):
                    for b in call.args[1].elts:
                        spelled = dotted(b)
                        c = (self.top_level_classes().get(spelled) or self.resolve_import(spelled)) if spelled else None
                        if isinstance(c, ast.ClassDef):
                            for later in [c, *_bases_of(c, self)]:
                                self._overrides.setdefault(id(later), set()).add(ANY_NAME)
        return self._overrides

    def not_requiring_grad(self, scope: ast.AST, test: ast.expr, truth: bool) -> frozenset | str:
        """The names a branch test in `scope` proves outside any graph (guards.py), looking into
        the run's own predicates (`if eligible(x, y):`)."""
        return not_requiring_grad(test, truth, self.imports.qualname, self._predicate_resolver(scope))

    def _predicate_resolver(self, scope: ast.AST):
        return lambda call, holds, depth: self.not_requiring_grad_of_call(scope, call, holds, depth)

    def not_requiring_grad_of_call(self, scope: ast.AST, call: ast.Call, holds: bool, depth: int
                                   ) -> frozenset | str | None:
        """What a call of the run's own predicate in `scope` evaluating to `holds` proves, in the
        names the call passes: what every return that can give `holds` proves; None when the
        callee is unknown or not a plain predicate."""
        found = self._predicate(scope, call)
        if found is None:
            return None
        fn, bound_self = found
        returns = predicate_returns(fn)
        if returns is None:
            return None
        owner = self.owner_of(fn)
        subst = bind_names(fn, call, bound_self)
        out: frozenset | str = GRAD_OFF  # no return gives `holds` yet: nothing to intersect
        for value in returns:
            if isinstance(value, ast.Constant) and bool(value.value) != holds:
                continue  # this way out never gives `holds`
            got = not_requiring_grad(value, holds, owner.imports.qualname, owner._predicate_resolver(fn), subst, depth)
            out = got if out == GRAD_OFF else (out if got == GRAD_OFF else out & got)  # type: ignore[operator]
        return out

    def _predicate(self, scope: ast.AST, call: ast.Call) -> tuple[ast.FunctionDef, bool] | None:
        """The run's own function a call in `scope` runs, when that is sure: a module-level
        function by its name (not rebound in the scope), or `self.method(...)` of the class."""
        func = call.func
        if isinstance(func, ast.Name):
            info = self.index.scopes.get(scope)
            if info is not None and func.id in info.bindings:
                return None
            _, obj = self.outside_name(scope, func.id)
            if isinstance(obj.module, tuple) and obj.module[0] == "function" and \
                    isinstance(obj.module[1], ast.FunctionDef):
                return obj.module[1], False
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            cls = self.enclosing_class(scope)
            if cls is None:
                return None
            method = self.method_of(cls, func.attr)
            if isinstance(method, ast.FunctionDef) and not any(
                    (dotted(d) or "") in ("staticmethod", "classmethod", "property") for d in method.decorator_list):
                return method, True
        return None

    def enclosing_class(self, scope: ast.AST) -> ast.ClassDef | None:
        parent = self.index.parent.get(scope)
        return parent if isinstance(parent, ast.ClassDef) else None

    def top_level_classes(self) -> dict[str, ast.ClassDef]:
        if self._classes is None:
            self._classes = {c.name: c for c in self.tree.body if isinstance(c, ast.ClassDef)}
        return self._classes

    def is_tensor_method(self, name: str) -> bool:
        """A method or attribute `torch.Tensor` has (in-place, out-of-place, view or not a tensor)."""
        tm = self.ops.tensor_methods
        return name in self.ops.methods or name in tm["fresh"] or name in tm["alias"] or name in tm["nontensor"] \
            or self.effects.method(name) is not None

    def too_many_for_tensor(self, call: ast.Call, name: str) -> bool:
        """Does `call` (`<x>.name(...)`) pass more positional arguments than `Tensor.name` takes
        (`semiring.dot(a, b, 1)`, `Tensor.dot` takes 1)? Then `x` is no tensor where the call runs."""
        bound = self.ops.method_max_positional.get(name)
        return bound is not None and not any(isinstance(a, ast.Starred) for a in call.args) and len(call.args) > bound

    def is_tensor_only_method(self, name: str) -> bool:
        """A method only tensors have (not numpy arrays, lists, dicts, strings, numbers): calling it
        is evidence that the receiver is a tensor."""
        only = getattr(self.ops, "tensor_only_methods", None)
        if only:
            return name in only
        row = self.ops.methods.get(name)
        return row is not None and row["kind"] != "nonmath" and name.endswith("_")

    def dtype_of_expr(self, node: ast.AST) -> str:
        q = self.imports.qualname(node) or ""
        name = q.rsplit(".", 1)[-1] if q.startswith("torch.") else ""
        if name in FLOAT_DTYPES:
            return "float"
        if name in INT_DTYPES:
            return "int"
        if name == "bool":
            return "bool"
        if name.startswith("complex") or name in ("cfloat", "cdouble"):
            return "complex"
        return "unknown"

    # ---- parameters and outside names ----------------------------------------------------------------
    def parameter_obj(self, fn: ast.AST, arg: ast.arg) -> Obj:
        shown = f"parameter `{arg.arg}`"
        reason = f"`{arg.arg}` is a parameter: the caller sees the in-place change"
        if arg.annotation is not None:
            kind = self.annotation_kind(arg.annotation)
            if kind == "tensor":
                # (the dtype an annotation names is no fact a fix may rest on: `attention_mask:
                # Optional[torch.FloatTensor]` is given long tensors (eval45 d23); an integer one says
                # the argument requires no grad: ScopeFlow._entry_state)
                return Obj(YES, "parameter", label=shown,
                           storage=frozenset({outside("parameter", arg.arg)}), nonlocal_reason=reason)
            if kind == "maybe":
                return Obj(MAYBE, "parameter", label=shown, storage=frozenset({outside("parameter", arg.arg)}),
                           nonlocal_reason=reason)
            if kind == "tensors":
                return Obj(NO, "tensors", label=shown, storage=frozenset({outside("parameter", arg.arg)}),
                           nonlocal_reason=reason)
            return self._annotated_value(arg.annotation, shown)
        args = fn.args  # type: ignore[attr-defined]
        if arg is args.vararg or arg is args.kwarg:
            return Obj(NO, "tensors", label=shown, nonlocal_reason=reason)
        if _non_tensor_default(args, arg):
            return Obj(NO, "other", label=shown)
        if self._joined_by_torch(fn, arg.arg) or arg.arg.endswith(LIST_SUFFIXES):
            # (and a name that says it: `x_list`, eval46 f8 and eval51 topomodelx's `x_list[i] = ...`)
            return Obj(NO, "tensors", label=shown, storage=frozenset({outside("parameter", arg.arg)}),
                       nonlocal_reason=reason)
        is_forward = isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == "forward"
        return Obj(YES if is_forward else MAYBE, "parameter", label=shown,
                   storage=frozenset({outside("parameter", arg.arg)}), nonlocal_reason=reason)

    def _joined_by_torch(self, fn: ast.AST, name: str) -> bool:
        """The parameter `name` is a sequence of tensors, not a tensor: the function passes it, never
        rebound, as the sequence `torch.cat`/`torch.stack` (and their kin) join, which raises on a
        tensor (eval46 avalanche: `for i, el in enumerate(xs): xs[i] = a[i] * el` then
        `torch.cat(xs, dim=1)`, where `xs[i] = ...` replaces a list item). Not a call under an `if`
        that tests the name (`if isinstance(x, list): y = torch.cat(x)`). One walk per function."""
        key = ("joined by torch", id(fn))
        got = self.memo.get(key)
        if got is None:
            self.index.ensure_indexed(fn)
            joined, bound = set(), set()
            for node in walk(fn):
                if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                    bound.add(node.id)  # (rebound or deleted somewhere, a nested scope's `nonlocal` included)
                elif isinstance(node, (ast.Global, ast.Nonlocal)):
                    bound.update(node.names)
                elif isinstance(node, ast.Call):
                    given = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "tensors"),
                                                                None)
                    if isinstance(given, ast.Name) and self.imports.qualname(node.func) in TENSOR_SEQUENCE_JOINS and \
                            not any(isinstance(a, (ast.If, ast.While, ast.IfExp)) and
                                    any(isinstance(n, ast.Name) and n.id == given.id for n in walk(a.test))
                                    for a in takewhile(lambda a: a is not fn, self.index.ancestors(node))):
                        joined.add(given.id)
            got = self.memo[key] = frozenset(joined - bound)
        return name in got

    def _annotated_value(self, ann: ast.AST, shown: str) -> Obj:
        """A non-tensor annotation: a number (`int`, `float`), or a container of numbers
        (`Tuple[int, int]`, `list[float]`, `Sequence[int]`): its elements are numbers too."""
        number = _number_annotation(ann)
        if number is not None:
            return Obj(NO, "scalar", number, label=shown)
        if isinstance(ann, ast.Subscript):
            base = (self.imports.qualname(ann.value) or dotted(ann.value) or "").rsplit(".", 1)[-1]
            args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            kinds = {_number_annotation(a) for a in args if not (isinstance(a, ast.Constant) and a.value is Ellipsis)}
            if base in CONTAINER_ANNOTATIONS and kinds and None not in kinds:
                kind = kinds.pop() if len(kinds) == 1 else "unknown"
                return Obj(NO, "container", label=shown, contents=frozenset({("const", kind if kind in
                                                                                ("int", "float", "bool") else "other")}))
        return Obj(NO, "other", label=shown)

    def annotation_kind(self, ann: ast.AST) -> str | None:
        """"tensor" (a tensor type, or Optional of one), "maybe" (a union of tensor and non-tensor
        types: `Union[np.ndarray, Tensor]`, `NdarrayOrTensor`), "tensors" (a container of tensors:
        its elements are the caller's), else None."""
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
            try:
                ann = ast.parse(ann.value.strip(), mode="eval").body
            except SyntaxError:
                return None
        members = self._union_members(ann)
        if len(members) > 1:
            kinds = [self.annotation_kind(m) for m in members if not _is_none(m)]
            if "tensor" in kinds or "maybe" in kinds:
                return "tensor" if all(k == "tensor" for k in kinds) else "maybe"
            return "tensors" if "tensors" in kinds else None
        if isinstance(ann, ast.Subscript):
            base = (self.imports.qualname(ann.value) or dotted(ann.value) or "").rsplit(".", 1)[-1]
            args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            if base == "Annotated":
                return self.annotation_kind(args[0])
            if base in CONTAINER_ANNOTATIONS:
                return "tensors" if any(self.annotation_kind(a) in ("tensor", "maybe") for a in args) else None
        names = {self.imports.qualname(n) or dotted(n) or "" for n in ast.walk(ann)
                 if isinstance(n, (ast.Name, ast.Attribute))}
        last = {n.rsplit(".", 1)[-1] for n in names}
        if any("OrTensor" in n or "TensorOr" in n or n.endswith("Like") for n in last):
            return "maybe"  # NdarrayOrTensor, TensorOrList, ArrayLike
        if any(n in TENSOR_ANNOTATIONS or "Tensor" in n.rsplit(".", 1)[-1] for n in names):
            return "tensor"
        return None

    def annotated_dtype(self, ann: ast.AST) -> str:
        """The dtype class a tensor annotation names: `torch.BoolTensor`, `LongTensor` (legacy
        types); jaxtyping's `Bool[Tensor, "b n"]`, `Int64[...]`, `Float[...]`; else "unknown"."""
        legacy = _legacy_tensor_dtype(ann)
        if legacy != "unknown":
            return legacy
        found = {_JAXTYPING_DTYPES.get(q[len("jaxtyping."):]) for n in ast.walk(ann) if isinstance(n, ast.Subscript)
                 and (q := self.imports.qualname(n.value) or "").startswith("jaxtyping.")}
        return found.pop() if len(found) == 1 and None not in found else "unknown"

    def _union_members(self, ann: ast.AST) -> list[ast.AST]:
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            return self._union_members(ann.left) + self._union_members(ann.right)
        if isinstance(ann, ast.Subscript):
            base = (self.imports.qualname(ann.value) or dotted(ann.value) or "").rsplit(".", 1)[-1]
            if base in ("Optional", "Union"):
                args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
                out = [m for a in args for m in self._union_members(a)]
                return out + ([ast.Constant(None)] if base == "Optional" else [])
        return [ann]

    def outside_name(self, scope: ast.AST, name: str) -> tuple[Key, Obj]:
        """A name the scope reads but does not bind: a module-level name, a closure variable, a builtin."""
        module_scope = self.index.scopes[self.tree]
        if scope is not self.tree and name not in module_scope.bindings and self._enclosing_binds(scope, name):
            return outside("closure", name), Obj(MAYBE, "global", label=f"`{name}` of an enclosing function",
                                                 nonlocal_reason=f"`{name}` belongs to an enclosing function")
        hit = self._module_names.get(name)
        if hit is not None:
            return hit
        binds = module_scope.bindings.get(name, [])
        key = outside("global", name)
        if binds and self.rebinding.global_name(name):  # `global pick; pick = ...`, `globals()[...] = ...`
            obj = Obj(MAYBE, "global", label=f"the global `{name}`",
                      nonlocal_reason=f"`{name}` is a global rebound elsewhere: other code sees the change")
        elif not binds:
            if name in BUILTIN_NAMES or name in __builtins__ if isinstance(__builtins__, dict) else \
                    hasattr(__builtins__, name):
                obj = Obj(NO, "builtin", label=f"`{name}`", module=("builtin", name))
            else:
                obj = Obj(MAYBE, "global", label=f"`{name}`", nonlocal_reason=f"`{name}` is a global")
        elif all(isinstance(b.stmt, (ast.Import, ast.ImportFrom)) for b in binds):
            found = self.resolve_import(name)
            if found is not None and isinstance(found, ast.ClassDef):
                obj = Obj(NO, "class", label=f"`{name}`", module=("class", found))
            elif found is not None:
                obj = Obj(NO, "function", label=f"`{name}`", module=("function", found))
            else:
                obj = Obj(NO, "import", label=f"`{name}`")
        elif len(binds) == 1 and isinstance(binds[0].stmt, ast.ClassDef):
            obj = Obj(NO, "class", label=f"`{name}`", module=("class", binds[0].stmt))
        elif len(binds) == 1 and isinstance(binds[0].stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            obj = Obj(NO, "function", label=f"`{name}`", module=("function", binds[0].stmt))
        elif len(binds) == 1 and self._parameter_table(name, binds[0].stmt):
            # `params = dict(model.named_parameters())`: what it holds are the model's parameters
            obj = Obj(NO, "parameter_table", label=f"the global `{name}`",
                      nonlocal_reason=f"`{name}` is a global: other code sees the change")
        elif len(binds) == 1 and (module := self._module_instance(binds[0].stmt)) is not None:
            # `act = nn.Sigmoid()` at module level (a script's modules): called, it is that module, as
            # `self.act` is (a forward hook or an `inplace` switch the file sets counts as there).
            obj = Obj(NO, "module", label=f"`{name}`", module=module)
        elif len(binds) == 1 and (cls := self._instance_of(binds[0].stmt)) is not None:
            # `ZERO = _Zero()`: an instance of one of the run's (non-module) classes.
            obj = Obj(NO, "instance", label=f"the global `{name}`", module=("instance", cls),
                      nonlocal_reason=f"`{name}` is a global: other code sees the change")
        else:
            obj = Obj(MAYBE, "global", label=f"the global `{name}`",
                      nonlocal_reason=f"`{name}` is a global: other code sees the change")
        self._module_names[name] = (key, obj)
        return key, obj

    def called_without_grad(self, fn: ast.AST) -> bool:
        """Does the run call `fn` only with autograd off: some calls of it are found, not too many,
        and each is inside a no-grad block or function (or one this holds for)? (`load()` under
        `@torch.no_grad()` calling `set_param(p, v)`, which copies into a parameter.)"""
        key = ("called without grad", id(fn))
        got = self.memo.get(key)
        if got is not None:
            return got
        self.memo[key] = False  # (recursion guard: a cycle of calls proves nothing)
        name = getattr(fn, "name", "")
        # Only a method or a private function (`_swap_tensors`; a public module-level helper is what
        # other files import and call, with autograd on: LH4) that the file uses by direct calls
        # alone: one also handed on (`apply(fn, x)`, `map`, `partial`, a hook, `getattr(obj, "fn")`)
        # may run anywhere (adversarial review LH2).
        method = isinstance(self.index.parent.get(fn), ast.ClassDef)
        if not (method or name.startswith("_")) or name.startswith("__") or _is_generator(fn):
            return False  # (a generator's body runs when iterated, in that grad mode: LH3)
        calls = self._candidate_calls(fn) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
            self.plain_decorators(fn) else []
        if not calls or self._handed_on(name):
            return False
        for c in calls[:MAX_CANDIDATE_CALLS + 1]:
            self.index.ensure_scope_of(c)  # (its ancestors, up to the decorators of its function)
        result = bool(calls) and len(calls) <= MAX_CANDIDATE_CALLS and all(self.grad_disabled(c) for c in calls)
        self.memo[key] = result
        return result

    def _handed_on(self, name: str) -> bool:
        """Is `name` read in the file as a value rather than called (`apply(scale, x)`, `partial(scale)`,
        `hooks.append(self.scale)`), or spelled in a string (`getattr(m, "scale")`)?"""
        self._calls_by_name()  # (the walk that finds them)
        return name in self._handed or (self.text is not None and name in self.text and bool(re.search(
            r"getattr\([^,()]+,\s*[\"']" + re.escape(name) + r"[\"']", self.text)))

    def module_alias(self, func: ast.AST) -> str | None:
        """`BatchNorm2d(c)` where the module says `BatchNorm2d = nn.BatchNorm2d` once (and nothing
        rebinds it): the torch name it stands for."""
        if not isinstance(func, ast.Name):
            return None
        binds = self.index.scopes[self.tree].bindings.get(func.id, [])
        if len(binds) != 1 or self.rebinding.global_name(func.id):
            return None
        stmt = binds[0].stmt
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Attribute)):
            return None
        q = self.imports.qualname(stmt.value)
        if q is None or not q.startswith("torch.") or "import *" in (self.text or "") or \
                self.bindings_around(self.scope_node(func), func.id):
            return None  # (a local or parameter of that name, or a star import, may be anything: X2, X3)
        return q

    def _parameter_table(self, name: str, stmt: ast.AST) -> bool:
        """`NAME = dict(m.named_parameters())` / `NAME = list(m.parameters())`, with the builtin, and
        nothing in the file storing into, deleting from or updating `NAME`'s items."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
            return False
        call = stmt.value
        if not (isinstance(call.func, ast.Name) and call.func.id in ("dict", "list") and len(call.args) == 1
                and not call.keywords and call.func.id not in self.index.scopes[self.tree].bindings
                and isinstance(call.args[0], ast.Call) and isinstance(call.args[0].func, ast.Attribute)
                and call.args[0].func.attr == ("named_parameters" if call.func.id == "dict" else "parameters")):
            return False
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == name and \
                    not isinstance(node.ctx, ast.Load):
                return False
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    isinstance(node.func.value, ast.Name) and node.func.value.id == name and \
                    node.func.attr not in ("keys", "items", "values", "get", "copy", "index", "count"):
                return False
            if isinstance(node, ast.Call) and any(isinstance(a, ast.Name) and a.id == name for a in node.args) and \
                    not (isinstance(node.func, ast.Name) and node.func.id in ("len", "print")):
                return False  # (handed to something that may change it)
        return True

    def _module_instance(self, stmt: ast.AST) -> ModuleInfo | None:
        """The torch or project module `NAME = nn.Sigmoid()` builds at module level, or None."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Call)):
            return None
        info = self.modules.info(stmt.value, None)
        return info if isinstance(info, ModuleInfo) and info.kind in ("torch", "project") else None

    def _instance_of(self, stmt: ast.AST) -> ast.ClassDef | None:
        """The class of `NAME = Cls(...)` when `Cls` is one of the run's classes (not a module)."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, ast.Call)):
            return None
        spelled = dotted(stmt.value.func)
        cls = (self.top_level_classes().get(spelled) or self.resolve_import(spelled)) if spelled else None
        if isinstance(cls, ast.ClassDef) and not self.owner_of(cls).is_module_class(cls):
            return cls
        return None

    def resolve_import(self, dotted_name: str) -> ast.AST | None:
        """The project class or function an imported name (or dotted chain: `layers.Mlp`) is, when
        a file of the run defines it."""
        if self.project is None:
            return None
        head, _, rest = dotted_name.partition(".")
        target = self.imports.names.get(head)
        if target is None:
            return None
        found = self.project.resolve(f"{target}.{rest}" if rest else target, self.path)
        return found[1] if found is not None else None

    def _enclosing_binds(self, scope: ast.AST, name: str) -> bool:
        node = self.index.parent.get(scope)
        while node is not None and node is not self.tree:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                info = self.index.scopes.get(node)
                if info is not None and name in info.bindings:
                    return True
            node = self.index.parent.get(node)
        return False

    def bindings_around(self, scope: ast.AST, name: str) -> list:
        """The bindings of `name` in the function `scope` and the functions around it (not the module)."""
        out: list = []
        node: ast.AST | None = scope
        while node is not None and node is not self.tree:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                self.index.ensure_indexed(node)
                info = self.index.scopes.get(node)
                if info is not None:
                    out += info.bindings.get(name, [])
            node = self.index.parent.get(node)
        return out

    # ---- attributes -----------------------------------------------------------------------------------
    def attribute_of(self, flow: ScopeFlow, node: ast.Attribute, key: Key, o: Obj | None) -> frozenset:
        """`<obj>.<attr>` for a non-tensor object `key` (a tensor's attributes are the flow's)."""
        attr = node.attr
        st = flow.st
        if attr == "__dict__":
            # The object's attributes as a dict: what is stored there is kept by the object.
            return flow._container(node, frozenset(), "dict")
        if o is None:
            return flow.new(node, Obj(MAYBE, "attribute", label=f"`.{attr}`",
                                      nonlocal_reason=f"`.{attr}` is an attribute"), grad=UNKNOWN)
        if o.origin == "self" and isinstance(o.module, tuple) and o.module[0] == "class":
            cls = o.module[1]
            config = o.module[2] if len(o.module) > 2 else ()
            owner = self.owner_of(cls)
            method = owner.method_of(cls, attr)
            overrides = owner.overrides_only(cls, attr) if method is not None and not self.rebinding.attribute(attr) \
                else None
            if overrides:
                # `self.forward_cell(x)` in a base class whose subclasses in the file override it: the
                # class's own or one of theirs runs, whichever the instance is (torchmodels, eval27)
                k = ("methods", id(cls), attr, key)
                st.objs[k] = Obj(NO, "method", label=f"`self.{attr}`", module=("methods", (method, *overrides), key))
                return frozenset({k})
            if method is not None and (owner.dispatched_elsewhere(cls, attr) or self.rebinding.attribute(attr)):
                return flow.new(node, Obj(MAYBE, "attribute", label=f"`self.{attr}`",
                                          nonlocal_reason=f"`self.{attr}` may be another callable at run time"),
                                grad=UNKNOWN)
            if method is not None:
                return _method_object(st, method, key, f"`self.{attr}`")
            k = outside("attr", f"{id(cls)}.{attr}")
            if k not in st.objs:
                facts = owner.class_attribute(cls, attr, config)
                if owner is not self and facts.origin == "module" and isinstance(facts.module, ModuleInfo) and \
                        self.rebinding.module_attribute(attr):  # replaced from this file (`m.act = ...`)
                    facts = facts._replace(module=ModuleInfo("container", parts=(facts.module, ModuleInfo("unknown"))))
                flow.add_outside(k, facts, _attr_grad(facts))
            return frozenset({k})
        if o.origin in ("class", "instance") and isinstance(o.module, tuple):
            # `Helpers.split(x)` (a static method), `norm(x)` on an instance: the run's own code.
            cls = o.module[1]
            owner = self.owner_of(cls)
            method = owner.method_of(cls, attr)
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and (
                    owner.dispatched_elsewhere(cls, attr) or self.rebinding.attribute(attr)):
                method = None  # patched on the class or an instance somewhere in the file: unknown
            if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bound = o.origin == "instance" and not _is_static_method(method) or _is_class_method(method)
                k = ("method", id(method), key) if bound else ("function", id(method))
                st.objs[k] = Obj(NO, "method" if bound else "function", label=f"`{dotted(node) or attr}`",
                                 module=("method", method, key) if bound else ("function", method))
                return frozenset({k})
        if o.origin == "module" and isinstance(o.module, ModuleInfo):
            info = o.module
            if attr in ("forward", "__call__"):
                return frozenset({key})
            if info.kind == "project" and isinstance(info.node, ast.ClassDef):
                owner = self.owner_of(info.node)
                method = owner.method_of(info.node, attr)
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    if owner.dispatched_elsewhere(info.node, attr) or self.rebinding.attribute(attr):
                        return flow.new(node, Obj(MAYBE, "attribute", label=f"`{dotted(node) or attr}`",
                                                  nonlocal_reason="may be another callable at run time"), grad=UNKNOWN)
                    return _method_object(st, method, key, f"`{dotted(node) or attr}`")
            if info.kind == "torch" and _is_parameter_name(attr):
                k = ("modattr", key, attr)
                st.objs[k] = Obj(YES, "nn_parameter", "float", leaf=True, label=f"`{dotted(node) or attr}`",
                                 storage=frozenset({k}), nonlocal_reason="a parameter of the module")
                st.grad[k] = YES
                return frozenset({k})
            if info.kind == "torch" and attr in TORCH_MODULE_BUFFERS:
                k = ("modattr", key, attr)
                st.objs[k] = Obj(YES, "buffer", label=f"`{dotted(node) or attr}`", storage=frozenset({k}))
                st.grad[k] = NO
                return frozenset({k})
            if attr in PARAMETER_ITERATORS or attr in SUBMODULE_ITERATORS:
                k = ("boundmethod", key, attr)
                st.objs[k] = Obj(NO, "method", label=f"`.{attr}`", module=("bound", key, attr))
                return frozenset({k})
        if o.origin == "import":
            k = ("importattr", key, attr)
            st.objs[k] = Obj(NO, "import", label=f"`{dotted(node) or attr}`")
            return frozenset({k})
        if o.origin in ("self", "module", "parameter", "global", "other", "unknown", "element") and \
                attr in PARAMETER_ITERATORS:
            k = ("boundmethod", key, attr)
            st.objs[k] = Obj(NO, "method", label=f"`.{attr}`", module=("bound", key, attr))
            return frozenset({k})
        if o.origin in ("scalar", "none", "builtin", "plain"):
            return frozenset({CONST_KEYS["other"]})
        if o.origin == "container":
            k = ("boundmethod", key, attr)
            st.objs[k] = Obj(NO, "method", label=f"`.{attr}`", module=("bound", key, attr))
            return frozenset({k})
        shown = dotted(node) or f".{attr}"
        return flow.new(node, Obj(MAYBE, "attribute", label=f"`{shown}`",
                                  nonlocal_reason=f"`{shown}` is an attribute: other code holding the object sees "
                                                  "the change"), grad=UNKNOWN)

    def class_attribute(self, cls: ast.ClassDef, attr: str, config: tuple = ()) -> Obj:
        """What `self.<attr>` may hold in `cls`: the join of every `self.<attr> = ...` in the class
        (and its same-file bases), and `register_buffer`/`register_parameter`. `config`: on an
        instance of exactly `cls` its constructor configured (config.py)."""
        if config:
            return self._configured_attribute(cls, attr, config)
        key = (id(cls), attr)
        hit = self._attrs.get(key)
        if hit is not None:
            return hit
        self._attrs[key] = Obj(MAYBE, "attribute", label=f"`self.{attr}`",
                               nonlocal_reason=f"`self.{attr}` is an attribute")  # guard
        assigns, registered = self._class_facts(cls)
        if attr in registered:
            obj = registered[attr]
        else:
            obj = None
            # (A subclass in the file may put something else there: `self.act = nn.Identity()`; a
            # class-level `act = nn.Identity()` is what an instance that never set it reads.)
            for value, method in assigns.get(attr, []) + self._subclass_assigns(cls, attr) + \
                    _class_level(cls, attr, assigns):
                o = self._site_value(value, cls, attr, method)
                if isinstance(value, ast.Call) and o.module is None and o.tensor != YES:
                    o = o._replace(module=_BUILT_BY_UNKNOWN)  # (joined with modules: one of another library)
                obj = o if obj is None else _attr_join(obj, o)
            if obj is not None and obj.module is _BUILT_BY_UNKNOWN:
                obj = obj._replace(module=None)
            if obj is None:
                obj = Obj(MAYBE, "attribute", label=f"`self.{attr}`",
                          nonlocal_reason=f"`self.{attr}` is an attribute: other code holding the object sees "
                                          "the change")
        if obj.origin == "module" and isinstance(obj.module, ModuleInfo) and (self._module_replaceable(cls, attr) or (
                obj.module.kind in ("sequential", "container") and not container_left_alone(cls, attr, self))):
            # `m.act = nn.Identity()` or `self.blocks.append(nn.Identity())` somewhere in the file:
            # those modules, or whatever was put there. (A tensor attribute is another reference
            # already: its fixes are unsafe anyway.)
            obj = obj._replace(module=_replaceable(obj.module))
        self._attrs[key] = obj
        return obj

    def classes_apart(self, cls: ast.ClassDef) -> frozenset:
        """Ids of the file's other top-level classes none of whose methods ever runs on an instance of
        `cls`: not `cls` or a class it derives from, and named in the file only by their own `class`
        statement and by calls that make an instance (`Other(...)`; not `Other.setup(self)`, `class
        D(Cls, Other)`, `forward = Other.forward`). What their methods do to their own `self.<attr>`
        (`self.layers.append(...)`: `layers` is a common name) is another object's. (A subclass of
        `cls` names `cls`; another file's classes are not looked at, as for `_subclass_assigns`.)"""
        key = ("classes apart", id(cls))
        got = self.memo.get(key)
        if got is None:
            named = self.memo.get("class names not called")
            if named is None:
                # (the names read other than as the function of a call: one walk of the file)
                classes = self.top_level_classes()
                calls = [n.func for n in walk(self.tree) if isinstance(n, ast.Call)] if classes else []
                built = {f.id for f in calls if isinstance(f, ast.Name) and f.id in classes}
                called = set(map(id, calls))
                named = self.memo["class names not called"] = (frozenset(
                    n.id for n in walk(self.tree) if isinstance(n, ast.Name) and n.id in classes and id(n) not in called),
                    frozenset(built))
            own = {id(cls), *(id(b) for b in self.bases_of(cls))}
            # (a class reached by other means than its name: a method bound by hand, the module's namespace)
            dynamic = any(w in (self.text or "") for w in ("MethodType", "globals(", "__get__"))
            # (only a class the file makes instances of: one it never names may be there for its methods
            # to be run on other objects, `Other.setup(obj)`, from elsewhere: adversarial review)
            got = self.memo[key] = frozenset(
                id(other) for other in self.top_level_classes().values()
                if id(other) not in own and other.name not in named[0] and other.name in named[1] and not dynamic)
        return got

    def own_self_site(self, stmt: ast.stmt, attr: str, apart: frozenset) -> bool:
        """Is `stmt` `self.<attr>.<method>(...)` in a method (undecorated) of one of the classes `apart`,
        `self` being that method's first parameter?"""
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and
                isinstance(call.func.value, ast.Attribute) and call.func.value.attr == attr and
                isinstance(call.func.value.value, ast.Name)):
            return False
        for cls in self.top_level_classes().values():
            if id(cls) not in apart:
                continue
            for method in cls.body:
                if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)) and not method.decorator_list and \
                        method.lineno <= stmt.lineno <= (method.end_lineno or method.lineno):
                    args = method.args.posonlyargs + method.args.args
                    return bool(args) and args[0].arg == call.func.value.value.id and not any(
                        isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)) and
                        n.lineno <= stmt.lineno <= (n.end_lineno or n.lineno) for b in method.body for n in walk(b))
        return False

    def _module_replaceable(self, cls: ast.ClassDef, attr: str) -> bool:
        """May `self.<attr>` be another module than its assignments say: the file puts one there
        (`m.act = ...`, `add_module`, `blocks.append`), or the class answers attribute reads itself
        (a `__getattr__`/`__getattribute__` override: `nn.Module` finds submodules through `__getattr__`)?"""
        r = self.rebinding
        if r.attribute(attr) or r.any_module_attr or attr in r.module_attrs or \
                self.method_of(cls, "__getattr__") is not None or self.method_of(cls, "__getattribute__") is not None:
            return True
        if attr not in r.mutated:
            return False
        # Changed after it was built: only by the `.append(...)`s of `__init__` the builder followed
        # into the empty container the class's one assignment built?
        sites = self._class_facts(cls)[0].get(attr, [])
        added = self.modules.added_modules(cls, attr) if len(sites) == 1 and _empty_call(sites[0][0]) else None
        followed = added[1] if added is not None else set()
        sites = [stmt for stmt in r.mutation_sites.get(attr, ()) if id(stmt) not in followed]
        if not sites:
            return False
        apart = self.classes_apart(cls)  # (`self.layers.append(...)` in another class's methods: its own list)
        return any(not self.own_self_site(stmt, attr, apart) for stmt in sites)

    def _site_value(self, value: ast.AST, cls: ast.ClassDef, attr: str, method: ast.AST | None) -> Obj:
        """`_attribute_value`, read with the imports of the file the assigning method is in (a base
        class may be another file's)."""
        ctx = self.owner_of(method) if method is not None else self
        return ctx._attribute_value(value, cls, attr, method)

    def _attribute_value(self, value: ast.AST, cls: ast.ClassDef, attr: str, method: ast.AST | None) -> Obj:
        shown = f"`self.{attr}`"
        reason = f"{shown} is an attribute: other code holding the object sees the change"
        module = self.modules.info(value, method)
        if module is not None:
            if module.kind in ("sequential", "container") and _empty_call(value):
                # `nn.Sequential()` then `add_module(...)`; `nn.ModuleList()` then `.append(...)` in `__init__`
                added = self.modules.added_modules(cls, attr)
                if added is not None and module.kind == "sequential":
                    module = ModuleInfo("sequential", parts=tuple(added[0]), node=module.node)
                elif added is not None:  # (alternatives: which one `self.blocks[i]` is, never "none")
                    members = members_of(added[0])
                    module = ModuleInfo("container", parts=tuple(dict.fromkeys(members)) or (UNKNOWN_MODULE,),
                                        node=module.node, order=tuple(added[0]))
            return Obj(NO, "module", label=shown, module=module)
        if isinstance(value, ast.IfExp):
            taken = self.modules.decided(value.test, method)
            if taken is not None:
                return self._attribute_value(value.body if taken else value.orelse, cls, attr, method)
            return _attr_join(self._attribute_value(value.body, cls, attr, method),
                              self._attribute_value(value.orelse, cls, attr, method))
        if self._plain(value, cls, method, 0):
            return Obj(NO, "plain", label=shown)
        if isinstance(value, ast.Constant) or isinstance(value, (ast.List, ast.Tuple, ast.Dict, ast.Set,
                                                                 ast.JoinedStr, ast.Lambda)):
            return Obj(NO, "other", label=shown)
        if isinstance(value, ast.Call):
            q = self.imports.qualname(value.func) or ""
            if q in PARAMETER_CLASSES:
                return Obj(YES, "nn_parameter", "float", leaf=not _frozen_parameter(value), label=shown,
                           nonlocal_reason=f"{shown} is an nn.Parameter")
            name = q.rsplit(".", 1)[-1]
            if q.startswith("torch.") and q.count(".") == 1 and (name in self.ops.torch_functions["factory"]
                                                               or name in LEGACY_CONSTRUCTORS):
                rg = next((k.value for k in value.keywords if k.arg == "requires_grad"), None)
                leaf = rg is not None and not (isinstance(rg, ast.Constant) and rg.value is False)
                return Obj(YES, "attribute", leaf=leaf, label=shown, nonlocal_reason=reason,
                           dtype="float" if name in ("zeros", "ones", "randn", "rand", "empty") else "unknown",
                           view_of="factory")
        return Obj(MAYBE, "attribute", label=shown, nonlocal_reason=reason)

    def _plain(self, expr: ast.AST, cls: ast.ClassDef, method: ast.AST | None, depth: int) -> bool:
        """Does `expr`, assigned to an attribute in `method`, certainly hold a plain Python value
        (numbers, strings, None, tuples and lists of them) and never a tensor? `self.scale =
        dim ** -0.5`, `self.kernel = (frames, size, size)` with `size: int`, `self.n = len(layers)`.
        Names count when they are the method's parameters annotated with a number or defaulting
        to a constant (as `parameter_obj` reads them), or locals every assignment of which is plain."""
        if depth > 4:
            return False
        plain = lambda e: self._plain(e, cls, method, depth + 1)  # noqa: E731
        if isinstance(expr, ast.Constant):
            return True
        if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
            return all(plain(e) for e in expr.elts)
        if isinstance(expr, ast.UnaryOp):
            return plain(expr.operand)
        if isinstance(expr, ast.BinOp):
            return plain(expr.left) and plain(expr.right)
        if isinstance(expr, ast.BoolOp):
            return all(plain(v) for v in expr.values)
        if isinstance(expr, ast.Compare):
            return plain(expr.left) and all(plain(c) for c in expr.comparators)
        if isinstance(expr, ast.IfExp):
            return plain(expr.body) and plain(expr.orelse)
        if isinstance(expr, ast.Subscript):
            return plain(expr.value) and plain(expr.slice)
        if isinstance(expr, ast.JoinedStr):
            return True
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and not expr.keywords and \
                expr.func.id in ("len", "int", "float", "bool", "str", "round"):
            # they return plain values whatever the argument (`int(t)` of a one-element tensor too)
            return expr.func.id != "round" or all(plain(a) for a in expr.args)  # round(t) is a tensor
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and not expr.keywords and \
                expr.func.id in ("min", "max", "abs") and expr.args:
            return all(plain(a) for a in expr.args)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            return self.class_attribute(cls, expr.attr).origin == "plain"
        if isinstance(expr, ast.Name) and isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = method.args
            for arg in args.posonlyargs + args.args + args.kwonlyargs:
                if arg.arg == expr.id:
                    if arg.annotation is not None:
                        return _number_annotation(arg.annotation) is not None
                    return _non_tensor_default(args, arg) and not isinstance(
                        parameter_default(args, arg), (ast.Dict, ast.Set))
            if args.vararg is not None and args.vararg.arg == expr.id or \
                    args.kwarg is not None and args.kwarg.arg == expr.id:
                return False
            values = [n.value for n in walk(method) if isinstance(n, ast.Assign)
                      and any(isinstance(t, ast.Name) and t.id == expr.id for t in n.targets)]
            rebound = any(isinstance(n, (ast.AugAssign, ast.AnnAssign, ast.For, ast.With, ast.NamedExpr))
                          and any(isinstance(t, ast.Name) and t.id == expr.id for t in walk(n))
                          for n in walk(method) if not isinstance(n, ast.Assign))
            return bool(values) and not rebound and all(plain(v) for v in values)
        return False

    def _class_facts(self, cls: ast.ClassDef) -> tuple[dict[str, list[ast.AST]], dict[str, Obj]]:
        hit = self._class_assigns.get(id(cls))
        if hit is not None:
            return hit
        self._class_assigns[id(cls)] = ({}, {})
        assigns: dict[str, list[tuple[ast.AST, ast.AST]]] = {}  # attr -> [(value, the method assigning it)]
        registered: dict[str, Obj] = {}
        for method, stmt in _method_statements(cls):
            n = stmt.value if isinstance(stmt, ast.Expr) else stmt
            if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None:
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]):
                    if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                        assigns.setdefault(t.attr, []).append((n.value, method))
                    elif isinstance(t, (ast.Tuple, ast.List)):  # `self.act, self.n = ...`: something unknown
                        for e in ast.walk(t):
                            if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id == "self":
                                assigns.setdefault(e.attr, []).append((_UNKNOWN_VALUE, method))
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Attribute):
                pass
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.args \
                    and n.func.attr in ("register_buffer", "register_parameter") \
                    and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str):
                name = n.args[0].value
                value = n.args[1] if len(n.args) > 1 else next((k.value for k in n.keywords if k.arg in
                                                                  ("tensor", "param")), None)
                if value is None or _is_none(value):
                    continue  # `register_parameter("bias", None)`: no tensor (the other assignments say)
                if n.func.attr == "register_buffer":
                    registered[name] = Obj(YES, "buffer", label=f"the buffer `self.{name}`")
                else:
                    registered[name] = Obj(YES, "nn_parameter", "float", leaf=True, label=f"`self.{name}`",
                                           nonlocal_reason=f"`self.{name}` is an nn.Parameter")
        by_name = self.top_level_classes()
        for base in cls.bases:
            spelled = dotted(base)
            other = (by_name.get(spelled) or self.resolve_import(spelled)) if spelled else None
            if isinstance(other, ast.ClassDef) and other is not cls:
                # (another file's base too: its `__init__` may set what a method here set before)
                base_assigns, base_registered = self.owner_of(other)._class_facts(other)
                for attr, values in base_assigns.items():
                    assigns[attr] = values + assigns.get(attr, [])
                registered = {**base_registered, **registered}
        self._class_assigns[id(cls)] = (assigns, registered)
        return assigns, registered

    # ---- instance configuration (config.py) -----------------------------------------------------------
    def constructor_config(self, cls: ast.ClassDef, call: ast.Call, known=None) -> tuple:
        """What `call`, building this file's class `cls`, fixes of that instance: (), when nothing."""
        init = self._own_init(cls)
        if init is None or not self.configurable(cls):
            return ()
        return bind_constructor(init, call, self._stable_params(init), known)

    def configurable(self, cls: ast.ClassDef, depth: int = 0) -> bool:
        """Is an instance built by calling `cls` exactly a `cls` whose attributes only the code this
        file shows sets? No metaclass, no `__new__`/`__setattr__`/`__getattr__`, and bases that are
        `nn.Module` or this file's classes of the same kind."""
        hit = self._configurable.get(id(cls))
        if hit is not None:
            return hit
        self._configurable[id(cls)] = False  # (recursion guard)
        ok = not cls.keywords and depth < 8 and not any(
            self.method_of(cls, name) is not None or any(_binds(s, name) for s in cls.body)
            for name in ("__new__", "__setattr__", "__getattr__", "__getattribute__", "__delattr__"))
        classes = self.top_level_classes()
        for base in cls.bases if ok else ():
            q = self.imports.qualname(base) or ""
            if q in ("torch.nn.Module", "torch.nn.modules.module.Module"):
                continue
            spelled = dotted(base)
            other = classes.get(spelled) if spelled else None
            if not isinstance(other, ast.ClassDef) or other is cls or not self.configurable(other, depth + 1):
                ok = False
        self._configurable[id(cls)] = ok
        return ok

    def stable_attribute(self, cls: ast.ClassDef, attr: str) -> bool:
        """Is `self.<attr>` one value through any run of a method of `cls` but `__init__`? Stored
        only in `__init__`s (the class's, its bases'), nothing else in the file stores or deletes an
        attribute of that name, no method or property has it, and the class sets attributes only
        as the file shows (`configurable`). (`if self.cholesky: ...` then `if not self.cholesky:`
        test one value.)"""
        assigns, registered = self._class_facts(cls)
        stores = assigns.get(attr, [])
        return bool(stores) and attr not in registered and self.configurable(cls) and \
            self.method_of(cls, attr) is None and not self.rebinding.attribute(attr) and \
            all(getattr(method, "name", None) == "__init__" for _, method in stores) and \
            self._attribute_stores(cls, attr) == len(stores)

    def stored_attributes(self, cls: ast.ClassDef) -> set[str]:
        """The names of the attributes the class's methods (and its bases' in the file) store on `self`."""
        return set(self._class_facts(cls)[0])

    @staticmethod
    def _own_init(cls: ast.ClassDef) -> ast.FunctionDef | None:
        init = None
        for stmt in cls.body:
            if _binds(stmt, "__init__"):
                init = stmt
        return init if isinstance(init, ast.FunctionDef) and not init.decorator_list else None

    def _stable_params(self, init: ast.FunctionDef) -> set[str]:
        hit = self._stable.get(id(init))
        if hit is None:
            self.index.ensure_indexed(init)
            info = self.index.scopes.get(init)
            nonlocal_names = {n for node in ast.walk(init) if isinstance(node, (ast.Nonlocal, ast.Global))
                              for n in node.names}
            hit = self._stable[id(init)] = set() if info is None else \
                single_binding_params(init, info.bindings) - nonlocal_names
        return hit

    def _live_sites(self, cls: ast.ClassDef, attr: str, config: tuple) -> list[tuple[ast.AST, ast.AST | None]]:
        """Each `self.<attr> = ...` an instance of exactly `cls` built with `config` may run (a
        subclass's never do), with the method running it (None: the class body)."""
        assigns, _ = self._class_facts(cls)
        init = self._own_init(cls)
        lookup = names_lookup(dict(config))
        live = []
        for value, method in assigns.get(attr, []) + _class_level(cls, attr, assigns):
            if method is init and init is not None:
                path = branch_path(self.index.parent.get(value), init, self.index.parent)
                if path is not None and dead_under(path, lookup):
                    continue
            live.append((value, method))
        return live

    def _configured_attribute(self, cls: ast.ClassDef, attr: str, config: tuple) -> Obj:
        key = (id(cls), attr, config)
        hit = self._attrs.get(key)  # type: ignore[arg-type]
        if hit is not None:
            return hit
        generic = self.class_attribute(cls, attr)
        _, registered = self._class_facts(cls)
        init = self._own_init(cls)
        if attr in registered or init is None:
            return generic
        self.index.ensure_indexed(init)
        sites = self._live_sites(cls, attr, config)
        if not sites:
            return generic
        before, self.modules.known = self.modules.known, (init, dict(config))
        try:
            obj = None
            for value, method in sites:
                o = self._site_value(value, cls, attr, method)
                if isinstance(value, ast.Call) and o.module is None and o.tensor != YES:
                    o = o._replace(module=_BUILT_BY_UNKNOWN)  # (joined with modules: one of another library)
                obj = o if obj is None else _attr_join(obj, o)
            if obj is not None and obj.module is _BUILT_BY_UNKNOWN:
                obj = obj._replace(module=None)
        finally:
            self.modules.known = before
        if obj.origin == "module" and isinstance(obj.module, ModuleInfo) and (self._module_replaceable(cls, attr) or (
                obj.module.kind in ("sequential", "container") and not container_left_alone(cls, attr, self))):
            obj = obj._replace(module=_replaceable(obj.module))
        self._attrs[key] = obj  # type: ignore[index]
        return obj

    def attribute_constant(self, cls: ast.ClassDef, attr: str, config: tuple):
        """The constant `self.<attr>` holds on an instance of exactly `cls` built with `config`, or
        UNDECIDED: stored once, in `__init__`, on a way the configuration takes; nothing else stores
        an attribute of that name; no method or property has it."""
        init = self._own_init(cls)
        assigns, registered = self._class_facts(cls)
        # (every store of the name is one of `__init__`'s `self.<attr> = ...`, of which the
        # configuration leaves exactly one: `if se: self.se = Gate(c)` / `else: self.se = None`)
        if init is None or attr in registered or self.method_of(cls, attr) is not None or \
                self.rebinding.attribute(attr) or any(method is not init for _, method in assigns.get(attr, [])) or \
                self._attribute_stores(cls, attr) != len(assigns.get(attr, [])):
            return UNDECIDED
        sites = self._live_sites(cls, attr, config)
        if len(sites) != 1 or sites[0][1] is not init:
            return UNDECIDED
        value = sites[0][0]
        path = branch_path(self.index.parent.get(value), init, self.index.parent)
        lookup = names_lookup(dict(config))
        if path is None or not live_under(path, lookup):
            return UNDECIDED
        while isinstance(value, ast.IfExp):  # `nn.Parameter(...) if kernel else None`, with `kernel` configured
            chosen = truth(value.test, lookup)
            if chosen is None:
                return UNDECIDED
            value = value.body if chosen else value.orelse
        c = constant(value)
        if c is UNDECIDED and isinstance(value, ast.Call):
            module = self.modules.info(value, init)
            if module is not None and (module.kind in ("torch", "sequential", "container") or (
                    module.kind == "project" and isinstance(module.node, ast.ClassDef) and not module.node.keywords
                    and self.owner_of(module.node).method_of(module.node, "__new__") is None)):
                return NOT_NONE  # (a module built there: whatever it is, it is not None)
            if (self.imports.qualname(value.func) or "") in PARAMETER_CLASSES:
                return NOT_NONE  # (`nn.Parameter(...)`: a tensor, not None)
        return lookup(value) if c is UNDECIDED else c

    def _attribute_stores(self, cls: ast.ClassDef, attr: str) -> int:
        """How many stores and deletions of an attribute named `attr` the class and its bases in the
        file make (on any object)."""
        n = 0
        for c in [cls, *_bases_of(cls, self)]:
            counts = self._stores.get(id(c))
            if counts is None:
                counts = self._stores[id(c)] = {}
                for node in ast.walk(c):
                    if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
                        counts[node.attr] = counts.get(node.attr, 0) + 1
            n += counts.get(attr, 0)
        return n

    def instance_test(self, flow: ScopeFlow, st: State, test: ast.AST) -> bool | None:
        """Is `test` true on every run of a method on its flow's configured instance (`if
        self.use_proj:`, `if self.nonlinear == "softmax":`), in state `st`? None: the facts do not say."""
        inst = flow.instance
        if inst is None:
            return None
        cls, config = inst
        me = flow.self_key

        def is_self(node: ast.AST) -> bool:
            return isinstance(node, ast.Name) and me is not None and st.env.get(node.id) == frozenset({me})

        def lookup(expr: ast.AST, depth: int = 0):
            if isinstance(expr, ast.Name) and expr.id not in flow.captured and depth < 4:
                # `w, b = self.weight, self.bias` then `if w is not None:` (physicsnemo's EDM Conv2d, eval28
                # R): a local name is None, or not, as every value its bindings give it is (one that
                # raises gives it none); anything else about it is not decided here
                binds = flow.info.bindings.get(expr.id, [])
                values = [_bound_value(b, expr.id) for b in binds]
                if not values or any(v is None for v in values):
                    return UNDECIDED
                seen = {_none_ness(lookup(v, depth + 1), v, is_self) for v in values} - {"raises"}
                return None if seen == {"none"} else NOT_NONE if seen == {"not none"} else UNDECIDED
            if isinstance(expr, ast.Constant) and depth:
                return expr.value
            if isinstance(expr, ast.IfExp) and depth:
                chosen = truth(expr.test, lambda e: lookup(e, depth + 1))
                return UNDECIDED if chosen is None else lookup(expr.body if chosen else expr.orelse, depth + 1)
            if isinstance(expr, ast.Call) and depth and isinstance(expr.func, ast.Attribute) and \
                    expr.func.attr in self.ops.tensor_methods["alias"] | self.ops.tensor_methods["fresh"]:
                # `self.weight.to(x.dtype)`: a tensor method of something not None returns a tensor
                return lookup(expr.func.value, depth + 1)
            if isinstance(expr, ast.Attribute) and is_self(expr.value):
                return self.owner_of(cls).attribute_constant(cls, expr.attr, config)
            if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "getattr" and \
                    "getattr" not in flow.locals and len(expr.args) in (2, 3) and not expr.keywords and \
                    is_self(expr.args[0]) and isinstance(expr.args[1], ast.Constant) and \
                    isinstance(expr.args[1].value, str):
                # `getattr(self, "sigmoid", False)`: the attribute, which the instance has (stored in `__init__`)
                return self.owner_of(cls).attribute_constant(cls, expr.args[1].value, config)
            return UNDECIDED
        return truth(test, lookup)

    # ---- modules ----------------------------------------------------------------------------------------
    def module_info(self, value: ast.AST, scope: ast.AST | None = None) -> ModuleInfo | None:
        """The module `value` builds (see modules.py)."""
        return self.modules.info(value, scope)

    def is_module_class(self, cls: ast.ClassDef, depth: int = 0) -> bool:
        for base in cls.bases:
            q = self.imports.qualname(base) or dotted(base) or ""
            if q.startswith("torch.nn.") or q in MODULE_BASES or q.rsplit(".", 1)[-1] in ("Module", "LightningModule"):
                return True
            if depth < 8 and (spelled := dotted(base)) is not None:
                other = self.top_level_classes().get(spelled) or self.resolve_import(spelled)
                if isinstance(other, ast.ClassDef) and other is not cls and \
                        self.owner_of(other).is_module_class(other, depth + 1):
                    return True
        return False

    def sliced_modules(self, flow: ScopeFlow, node: ast.AST, o: Obj) -> frozenset:
        """A slice of a module container: its modules, or the identity of an empty slice."""
        info = o.module if isinstance(o.module, ModuleInfo) else ModuleInfo("unknown")
        return flow.new(node, o._replace(module=ModuleInfo("container", parts=(info, SKIP))))

    def module_element(self, flow: ScopeFlow, node: ast.AST, key: Key, o: Obj) -> frozenset:
        info = o.module
        if not isinstance(info, ModuleInfo):
            return flow.new(node, Obj(MAYBE, "element", nonlocal_reason="an element of a container"), grad=UNKNOWN)
        if info.kind in ("container", "sequential") and info.parts:
            parts = _element_alternatives(info)
            at = _constant_index(node)
            if info.kind == "sequential" and at is not None and -len(info.parts) <= at < len(info.parts) and \
                    all(p.kind in ("torch", "project") for p in info.parts):
                # `self.block[1]` of `nn.Sequential(nn.BatchNorm2d(c), nn.LeakyReLU(inplace=True))`: the LeakyReLU
                parts = (info.parts[at],)
            members = parts if len(parts) == 1 else (ModuleInfo("container", parts=parts),)
            k = ("modelem", key)
            flow.st.objs[k] = Obj(NO, "module", label=f"an element of {o.label}", module=members[0])
            return frozenset({k})
        k = ("modelem", key)
        flow.st.objs[k] = Obj(NO, "module", label=f"an element of {o.label}", module=ModuleInfo("unknown"))
        return frozenset({k})

    # ---- calls -------------------------------------------------------------------------------------------
    def torch_call(self, flow: ScopeFlow, node: ast.Call, q: str, inputs: dict) -> frozenset:
        parts = q.split(".")
        name = parts[-1]
        eff = None
        if q in PARAMETER_CLASSES:
            src = flow.tensor_keys(inputs.get(0, frozenset()))
            storage = flow.st.storages(src)
            frozen = _frozen_parameter(node)
            k = flow.new(node, Obj(YES, "nn_parameter", "float", leaf=not frozen, label="an nn.Parameter",
                                   storage=storage, nonlocal_reason="an nn.Parameter"), grad=NO if frozen else YES)
            if src:
                flow.st.add_event("escaped", storage, _event(flow, "wrapped in an nn.Parameter that shares its memory"))
            return k
        if q in DETACHING_WRAPPERS and node.args and not isinstance(node.args[0], ast.Starred) and all(
                k.arg == "requires_grad" and isinstance(k.value, ast.Constant) and k.value.value is False
                for k in node.keywords) and len(node.args) == 1:
            src = flow.tensor_keys(inputs.get(0, frozenset()))
            if src:  # (`Variable(t)`: `t.detach()` by another name; with requires_grad=True a leaf: unknown)
                out = flow._view(node, src, "`Variable(...)`", keep_grad=False, origin="data")
                flow.version_shared |= out
                return out
        if q in BUFFER_CLASSES:
            src = flow.tensor_keys(inputs.get(0, frozenset()))
            storage = flow.st.storages(src)
            k = flow.new(node, Obj(YES, "buffer", label="an nn.Buffer", storage=storage or frozenset()), grad=NO)
            if src:
                flow.st.add_event("escaped", storage, _event(flow, "wrapped in an nn.Buffer that shares its memory"))
            return k
        if len(parts) >= 3 and parts[1] == "nn" and name[:1].isupper() and parts[2] not in ("functional", "init", "utils"):
            # A torch module keeps tensors it is built with (a loss's `weight=`, `nn.Embedding(_weight=)`,
            # `nn.ParameterList([...])`), through `.data`/`.detach()` views too.
            for v in inputs.values():
                flow._escape(v, f"kept by the `nn.{name}` built on line {node.lineno}")
            info = self.module_info(node, flow.scope)
            if info is not None:
                return flow.new(node, Obj(NO, "module", label=f"`nn.{name}`", module=info))
            return frozenset({CONST_KEYS["other"]})
        if parts[:3] == ["torch", "nn", "functional"]:
            ip = self.ops.functional["inplace_param"].get(name)
            inplace = ip is not None and inplace_arg(node, ip) is not None
            pattern = self.effects.call_pattern("functional", name, node,
                                                [i for i, v in inputs.items() if i != 0 and flow.tensor_keys(v)])
            eff = self.effects.functional(name, inplace, _may_return_input(self.ops, name, node), pattern)
            if eff is not None and ip is not None and not inplace and _flag_may_be_true(node, ip):
                # `F.relu(h, inplace=flag)`, `**opts`, `*args`: either (eval30 F4)
                both = self.effects.functional(name, True, _may_return_input(self.ops, name, node), pattern)
                if both is not None:
                    return flow.each_path([
                        lambda: flow.apply(node, eff, inputs, how="function"),
                        lambda: flow.apply(node, both, inputs, how="inplace_arg")], inputs)
            if eff is not None:
                return flow.apply(node, eff, inputs, how="inplace_arg" if inplace else "function")
        elif len(parts) == 2 and name in SPARSE_CONSTRUCTORS:
            # A sparse tensor on its arguments' memory: what writes one, writes the other.
            every = frozenset().union(*inputs.values()) if inputs else frozenset()
            return flow._opaque(node, every, f"the sparse tensor `torch.{name}` builds")
        elif len(parts) == 2 or (len(parts) == 3 and parts[1] in TORCH_FUNCTION_NAMESPACES):
            name = ".".join(parts[1:])  # (`torch.linalg.norm`: "linalg.norm" in the facts)
            tensor_args = [i for i, v in inputs.items() if i not in (0, "out") and flow.tensor_keys(v)]
            pattern = self.effects.call_pattern("torch", name, node, tensor_args)
            operands = sum(1 for i in tensor_args if isinstance(i, int)) if "*args" not in inputs else 1
            eff = self.effects.torch_function(name, pattern, operands)
            if eff is not None:
                out_kw = "out" in inputs and flow.tensor_keys(inputs["out"])
                # (with `out=`, the value is kept there though the call's own is dropped: its grad, which
                # decides whether `out=` raises, is the op's; `site_node` keeps it from looking dead)
                result = flow.apply(node, eff, {k: v for k, v in inputs.items() if k != "out"}, how="function",
                                    site_node=node if out_kw else None)
                if out_kw:
                    target = next(k.value for k in node.keywords if k.arg == "out")
                    flow._write(node, target, flow.tensor_keys(inputs["out"]), result, "out",
                                f"`torch.{name}(out=...)`")
                    return flow.tensor_keys(inputs["out"])
                return result
            if name in ("no_grad", "enable_grad", "inference_mode", "set_grad_enabled", "is_tensor", "is_grad_enabled",
                        "manual_seed", "device", "dtype", "Size", "get_default_dtype", "is_floating_point"):
                return frozenset({CONST_KEYS["other"]})
        return flow.unknown_call(node, None, inputs)

    def call_object(self, flow: ScopeFlow, node: ast.Call, key: Key, o: Obj | None, inputs: dict,
                    receiver: frozenset) -> frozenset:
        if o is None:
            return flow.unknown_call(node, None, inputs)
        if o.origin == "module" and isinstance(o.module, ModuleInfo):
            return self.module_call(flow, node, o.module, inputs)
        if o.origin == "class" and isinstance(o.module, tuple):
            cls = o.module[1]
            # An instance of one of the run's classes (a module too: `ProtoHead(protos)` stores
            # `self.protos = protos`); it may keep what it was built from.
            for v in inputs.values():
                flow._escape(v, f"kept by the `{cls.name}` built on line {node.lineno}")
            if self.owner_of(cls).is_module_class(cls):
                return flow.new(node, Obj(NO, "module", label=f"`{cls.name}`",
                                          module=ModuleInfo("project", cls.name, node=cls)))
            return flow.new(node, Obj(NO, "instance", label=f"a `{cls.name}`", module=("instance", cls)))
        if o.origin == "instance" and isinstance(o.module, tuple):
            cls = o.module[1]
            owner = self.owner_of(cls)
            call = owner.method_of(cls, "__call__") if not owner.dispatched_elsewhere(cls, "__call__") else None
            if isinstance(call, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return self.project_call(flow, node, call, {SELF: frozenset({key}), **inputs}, bound_self=True)
        if o.origin == "builtin" and isinstance(o.module, tuple):
            return self.builtin_call(flow, node, o.module[1], inputs)
        if o.origin == "method" and isinstance(o.module, tuple) and o.module[0] == "bound":
            _, recv, attr = o.module
            if attr in PARAMETER_ITERATORS:
                return flow.new(node, Obj(NO, "parameters", label=f"the model's `{attr}()`", module=("iter", attr)))
            return flow.unknown_call(node, None, {SELF: frozenset({recv}), **inputs})
        if o.origin == "method" and isinstance(o.module, tuple) and o.module[0] == "methods":
            _, methods, recv = o.module
            runs = [lambda m=m: self.project_call(flow, node, m, {SELF: frozenset({recv}), **inputs}, bound_self=True)
                    for m in methods]
            out = flow.each_path(runs, {SELF: frozenset({recv}), **inputs})  # (one site for every override)
            if _abstract(methods[0]):
                # An abstract method is there to be overridden, by classes this run may not show: what
                # the overrides here return counts (their saves), but it may be something else.
                why = f"returned by `self.{methods[0].name}`, an abstract method that other classes may override"
                for k in out:
                    o = flow.st.objs.get(k)
                    if o is not None and o.origin in ("fresh", "factory", "leaf"):
                        flow.st.objs[k] = o._replace(origin="unknown", nonlocal_reason=why)
            return out
        if o.origin == "method" and isinstance(o.module, tuple) and o.module[0] == "method":
            _, method, recv = o.module
            return self.project_call(flow, node, method, {SELF: frozenset({recv}), **inputs}, bound_self=True)
        if o.origin == "function" and isinstance(o.module, tuple) and o.module[0] == "function":
            fn = o.module[1]
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return self.project_call(flow, node, fn, inputs, bound_self=False)
        extra = {SELF: receiver} if receiver else {}
        return flow.unknown_call(node, None, {**extra, **inputs})

    def project_call(self, flow: ScopeFlow, node: ast.Call, fn: ast.AST, inputs: dict, bound_self: bool,
                     instance: tuple | None = None) -> frozenset:
        """A call of one of the file's functions or methods: its summary, applied here. A call
        whose value is dropped and that is given no tensor (`self.reset_parameters()`) cannot
        change what this scope's tensors are: no summary is needed."""
        if isinstance(self.index.parent.get(node), ast.Expr) and not any(
                flow.may_hold_tensor(v) for k, v in inputs.items() if k != SELF):
            flow.calls.setdefault(id(node), []).append((fn, inputs, flow.st.copy(), flow.detached_inputs(inputs)))
            return frozenset({CONST_KEYS["none"]})
        summary = self.owner_of(fn).summary(fn, instance)
        flow.calls.setdefault(id(node), []).append((fn, inputs, flow.st.copy(), flow.detached_inputs(inputs)))
        if summary is None:
            return flow.unknown_call(node, None, inputs)
        return apply_summary(flow, node, summary, fn, inputs, bound_self)

    def class_modules(self, cls: ast.ClassDef) -> list[tuple[str, ModuleInfo]]:
        """The class's module attributes (`self.drop = nn.Dropout(0.1)`) that are torch modules, with
        the members of containers among them."""
        assigns, _ = self._class_facts(cls)
        out = []
        for attr in assigns:
            o = self.class_attribute(cls, attr)
            if isinstance(o.module, ModuleInfo):
                todo = [o.module]
                while todo:
                    m = todo.pop()
                    if m.kind == "torch":
                        out.append((attr, m))
                    todo.extend(m.parts)
        return out

    def module_inputs(self, cls: ast.ClassDef, ctor: ast.AST) -> list[tuple[ast.Call, frozenset, str]]:
        """Every call of the module built by `ctor` in the class's methods: (call, what had saved
        its input, may the input require grad)."""
        out = []
        for m in cls.body:
            if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out += self.flow(m).module_inputs.get(id(ctor), {}).values()
        return out

    def summary(self, fn: ast.AST, instance: tuple | None = None) -> Summary | None:
        """The function's summary; None while it is being computed (recursion) or when it cannot be.
        `instance`: the summary of a method on one configured instance (config.py)."""
        key = id(fn) if instance is None else (id(fn), id(instance[0]), instance[1])
        if key in self._summaries:
            return self._summaries[key]
        if self._summary_depth >= MAX_SUMMARY_DEPTH:
            return None  # deep call chains: the innermost calls stay unknown (not cached: shallower asks later)
        self._summaries[key] = None  # recursion guard: a recursive call is an unknown call
        # Not an `async def` (its call returns a coroutine that holds the arguments and runs later)
        # nor one whose decorators may replace what a call does (`@lru_cache` returns the same
        # tensor to every caller): those calls stay unknown.
        if isinstance(fn, ast.FunctionDef) and not _is_generator(fn) and self.plain_decorators(fn):
            self.index.ensure_indexed(fn)
            if fn not in self.index.scopes:
                return None  # not this file's (its file was not found): an unknown call
            self._summary_depth += 1
            try:
                flow = self.flow(fn, instance)
                # (a flow cut short at its work budget saw only part of the function: what it did not
                # see may keep or return the arguments; a call of it stays unknown: adversarial review B1)
                self._summaries[key] = None if flow.approximate else summarize(flow)
            finally:
                self._summary_depth -= 1
        return self._summaries[key]

    def call_site_facts(self, fn: ast.AST) -> dict:
        """Parameter name -> (join of what the file's calls pass, may-require-grad, saved events),
        for a module-level function or a method called through `self`; {} when the calls cannot all
        be seen (or while they are being computed)."""
        key = id(fn)
        if key in self._site_facts:
            return self._site_facts[key]
        self._site_facts[key] = {}  # recursion guard
        if not self.plain_decorators(fn):
            return {}  # a decorator may pass the function other objects than its callers do
        calls = self._candidate_calls(fn)
        # (the other files of the directory, only for a helper this file does not call itself)
        outside = self._sibling_calls(fn) if not calls else []
        if not (calls or outside) or len(calls) + len(outside) > MAX_CANDIDATE_CALLS:
            return {}  # none, or too many to follow (a common method name): the parameters stay symbolic
        if self._handed_on(getattr(fn, "name", "")):
            return {}  # (`apply(scale, x)`, `map(self.f, xs)`: called from where the calls cannot be seen: LH2)
        lazy = _is_generator(fn)  # (its body runs when it is iterated, with whatever grad mode is on then: LH3)
        facts: dict = {}
        from outplace.analysis.summaries import _bind_arguments

        for call, (_, inputs, st, detached), where in [*((c, got, None) for c, got in self._calls_of(fn, calls)),
                                                        *outside]:
            bound = _bind_arguments(fn, inputs, bound_self=SELF in inputs)
            # A call made with autograd off (in a `@torch.no_grad()` forward): the callee builds no
            # graph from what it is given there (what was saved before the call still counts).
            off = (self if where is None else where[0]).grad_disabled(call) and not lazy
            rebound = self._rebinding_loop_call(call, st) if where is None else None
            for name, keys in bound.items():
                obj = st.facts(keys)
                # A list or tuple passed holds the caller's tensors: the parameter's parts are them.
                grad, saved = _passed(st, keys, call, fn, off, where, detached,
                                      rebound if rebound is not None and keys == rebound[0] else None)
                parts = _passed_parts(st, keys, call, fn, off, where, detached)
                old = facts.get(name)
                if old is None:
                    facts[name] = (obj, grad, saved, parts)
                else:
                    joined = None
                    if old[3] is not None and parts is not None and len(old[3]) == len(parts):
                        joined = tuple((_tri_or(a[0], b[0]), a[1] | b[1], _obj_join(a[2], b[2]))
                                       for a, b in zip(old[3], parts))
                    facts[name] = (obj if old[0] is None else (old[0] if obj is None else _obj_join(old[0], obj)),
                                   _tri_or(old[1], grad), old[2] | saved, joined)
        self._site_facts[key] = facts
        return facts

    def _rebinding_loop_call(self, call: ast.Call, st: State) -> tuple | None:
        """(the keys `x` holds at the call, storages, first line, last line) for `x = <call>(x)` at the
        top of a loop's body, where nothing else in the loop binds `x` and the call's arguments are
        plain names, and the result shares no memory with what `x` held before the loop (pypots
        totem, VQ-VAE residual stacks: `for i in range(n): x = self._layers[i](x)`): what `x` held
        before the loop is passed on the first iteration only, when nothing the loop's body saves
        from that line on had been saved yet; later iterations pass the previous result."""
        stmt = self.index.statement_of(call)
        if not (isinstance(stmt, ast.Assign) and stmt.value is call and len(stmt.targets) == 1 and
                isinstance(stmt.targets[0], ast.Name)):
            return None
        name = stmt.targets[0].id
        if not any(isinstance(a, ast.Name) and a.id == name for a in call.args) or \
                not all(isinstance(a, ast.Name) for a in [*call.args, *(k.value for k in call.keywords)]) or \
                any(isinstance(n, ast.Call) for n in walk(call.func)):
            return None
        loops = self.index.loops_around(call)[:1]
        if not loops or stmt not in getattr(loops[0], "body", []):
            return None
        loop = loops[0]
        if any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) and n is not stmt.targets[0]
               for n in walk(loop)) or any(isinstance(n, (ast.Global, ast.Nonlocal)) for n in walk(loop)):
            return None
        keys = st.env.get(name)
        caller = self.flow_with_callers(self.scope_node(call))
        got = caller.values.get(id(call))
        if not keys or got is None:
            return None
        roots = st.storages(frozenset(k for k in keys if not caller._made_in_loop(k, loop)))
        result = frozenset(s for k in got[0] if (o := got[1].get(k)) is not None for s in (*o.storage, *o.may_share))
        if not roots or not result.isdisjoint(roots):
            return None
        return keys, roots, call.lineno, loop.end_lineno

    def _sibling_calls(self, fn: ast.AST) -> list:
        """(call, (callee, inputs, state), (caller's FileContext, its file's name)) for the calls of a
        module-level function of this file made by the other files of its directory, each as its
        caller's flow (parameters symbolic) sees it."""
        if self.project is None or self.path is None or self.index.parent.get(fn) is not self.tree or \
                not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or fn.name.startswith("__"):
            return []
        out = []
        for ctx, call in self.project.sibling_calls(self.path, fn.name):
            caller = ctx.flow(ctx.scope_node(call))
            shown = os.path.basename(ctx.path or "")
            for got in caller.calls.get(id(call), ()):
                out.append((call, got, (ctx, shown)))
        return out

    def calls_resolving_to(self, path: str, name: str) -> list[ast.Call]:
        """This file's calls of the module-level function `name` defined in the file at `path`, as
        its imports resolve them (`from .utils import name`, `utils.name(...)`)."""
        if self.project is None:
            return []
        by_name, by_attr = self._calls_by_name()
        target = os.path.abspath(path)
        out = []
        for call in [*by_name.get(name, ()), *by_attr.get(name, ())]:
            spelled = dotted(call.func)
            node = self.resolve_import(spelled) if spelled else None
            owner = self.project.context_of(node) if node is not None else None
            if owner is not None and owner.path is not None and os.path.abspath(owner.path) == target and \
                    getattr(node, "name", None) == name and any(n is node for n in owner.tree.body):
                out.append(call)
        return out

    def _calls_of(self, fn: ast.AST, calls: list[ast.Call]):
        """(call, (fn, inputs, state)) for each candidate call its caller's flow resolved to `fn`."""
        for call in calls:
            caller = self.flow_with_callers(self.scope_node(call))
            for got in caller.calls.get(id(call), ()):
                if got[0] is fn:
                    yield call, got

    def _candidate_calls(self, fn: ast.AST) -> list[ast.Call]:
        """The file's calls that may call `fn` (its callers' flows then say which do): `name(...)`
        for a module-level function; `<anything>.name(...)` for a method; for `forward`, the calls
        of attributes and names that may hold the class's modules; for `__call__`, its instances'."""
        name = getattr(fn, "name", None)
        if name is None:
            return []
        parent = self.index.parent.get(fn)
        by_name, by_attr = self._calls_by_name()
        if parent is self.tree:
            return by_name.get(name, [])
        if not isinstance(parent, ast.ClassDef):
            return []
        out = list(by_attr.get(name, []))
        if name in ("forward", "__call__"):
            out += self._instance_calls(parent)
        return out

    def _instance_calls(self, cls: ast.ClassDef) -> list[ast.Call]:
        """Calls that may call an instance of `cls`: `self.<attr>(...)`/`self.<attr>[i](...)` where a
        class's attribute may hold one (directly or in a container), and `name(...)` where `name`
        is assigned `cls(...)`."""
        by_name, by_attr = self._calls_by_name()
        out: list[ast.Call] = []
        for other in self.top_level_classes().values():
            for attr, info in self._module_attributes(other):
                if _holds(info, cls):
                    out += self._self_calls(other, attr)
        for name in self._names_built_from().get(id(cls), ()):
            out += by_name.get(name, [])
        return out

    def _names_built_from(self) -> dict[int, set[str]]:
        """id(class) -> names assigned an instance of it (`criterion = Loss(...)`)."""
        if self._built_names is None:
            self._built_names = {}
            self._calls_by_name()  # the same walk collects the assignments
            for node in self._call_assigns:
                target = self.modules._definition(node.value.func)  # type: ignore[attr-defined]
                if isinstance(target, ast.ClassDef):
                    self._built_names.setdefault(id(target), set()).add(node.targets[0].id)  # type: ignore[attr-defined]
        return self._built_names

    def _maybe_inplace(self, info: ModuleInfo) -> bool:
        """May the torch module built at `info.node` (not with a literal `inplace=True`) write in
        place: a class that takes `inplace`, given a value that is not a literal there, or a file that
        sets `.inplace` on some object other than `self` (`self.act.inplace = True`, `m.inplace = True`)?"""
        index = self.ops.modules_inplace.get(info.cls or "")
        if index is None:
            return False
        ctor = info.node
        if isinstance(ctor, ast.Call):
            given = next((k.value for k in ctor.keywords if k.arg == "inplace"), None)
            if given is None and len(ctor.args) > index and not any(isinstance(a, ast.Starred) for a in ctor.args[:index + 1]):
                given = ctor.args[index]
            if given is not None and not isinstance(given, ast.Constant) or any(k.arg is None for k in ctor.keywords):
                return True  # (`inplace=flag`, `**opts`)
            if any(isinstance(a, ast.Starred) for a in ctor.args[:index + 1]):
                return True  # (`nn.ELU(*ARGS)`, `nn.ELU(*(1.0, True))`: eval30 F2c)
        hit = self.memo.get("sets inplace")
        if hit is None:
            hit = self.memo["sets inplace"] = self.text is None or _switches_inplace(self.tree, self.text)
        return hit

    def _module_attributes(self, cls: ast.ClassDef) -> list[tuple[str, ModuleInfo]]:
        got = self._module_attrs.get(id(cls))
        if got is None:
            assigns, _ = self._class_facts(cls)
            got = self._module_attrs[id(cls)] = [
                (attr, o.module) for attr in assigns
                if isinstance((o := self.class_attribute(cls, attr)).module, ModuleInfo)]
        return got

    def _self_calls(self, cls: ast.ClassDef, attr: str) -> list[ast.Call]:
        """Calls of `self.<attr>(...)` / `self.<attr>[i](...)` in the class (one walk per class)."""
        by_attr = self._self_call_index.get(id(cls))
        if by_attr is None:
            by_attr = self._self_call_index[id(cls)] = {}
            for node in walk(cls):
                if type(node) is ast.Call:
                    f = node.func
                    if type(f) is ast.Subscript:
                        f = f.value
                    if type(f) is ast.Attribute and type(f.value) is ast.Name and f.value.id == "self":
                        by_attr.setdefault(f.attr, []).append(node)
        return by_attr.get(attr, [])

    def self_loops(self, cls: ast.ClassDef, attr: str) -> list[ast.For]:
        """`for m in self.<attr>:` loops in the class (where its modules run, one after the other)."""
        return [n for n in walk(cls) if type(n) is ast.For and type(n.iter) is ast.Attribute
                and type(n.iter.value) is ast.Name and n.iter.value.id == "self" and n.iter.attr == attr]

    def _calls_by_name(self) -> tuple[dict[str, list[ast.Call]], dict[str, list[ast.Call]]]:
        """Every call in the file by callee: `name(...)`, and `<anything>.name(...)` (one walk per file)."""
        if self._call_index is None:
            by_name: dict[str, list[ast.Call]] = {}
            by_attr: dict[str, list[ast.Call]] = {}
            assigns = self._call_assigns = []
            callees: set[int] = set()
            handed = self._handed = set()  # names read as values, not called (`apply(f, x)`, `self.f` handed on)
            for node in walk(self.tree):  # (a call comes before its callee: parents first)
                t = type(node)
                if t is ast.Call:
                    f = node.func
                    callees.add(id(f))
                    if type(f) is ast.Name:
                        by_name.setdefault(f.id, []).append(node)
                    elif type(f) is ast.Attribute:
                        by_attr.setdefault(f.attr, []).append(node)
                elif t is ast.Assign and type(node.value) is ast.Call and len(node.targets) == 1 and \
                        type(node.targets[0]) is ast.Name:
                    assigns.append(node)
                elif t is ast.Name and type(node.ctx) is ast.Load and id(node) not in callees:
                    handed.add(node.id)
                elif t is ast.Attribute and type(node.ctx) is ast.Load and id(node) not in callees:
                    handed.add(node.attr)
            self._call_index = (by_name, by_attr)
        return self._call_index

    @staticmethod
    def contains(outer: ast.AST, inner: ast.AST) -> bool:
        return (outer.lineno, outer.col_offset) <= (inner.lineno, inner.col_offset) and \
            (inner.end_lineno, inner.end_col_offset) <= (outer.end_lineno, outer.end_col_offset)  # type: ignore

    def module_call(self, flow: ScopeFlow, node: ast.Call, info: ModuleInfo, inputs: dict,
                    written_expr: str | None = "first", part: int = 0, alternative: bool = False) -> frozenset:
        """`written_expr`: "first" when the module's input is the call's first argument; None inside
        an `nn.Sequential`, where it is the previous module's output. `part`: which of the modules
        one call runs this is (each allocates its result at a site of its own)."""
        out = self._module_call(flow, node, info, inputs, written_expr, part, alternative)
        rebindings = [self.rebinding]
        if info.kind == "project" and isinstance(info.node, ast.ClassDef) and self.owner_of(info.node) is not self:
            rebindings.append(self.owner_of(info.node).rebinding)  # (the class's own file: a hook in its `__init__`)
        if info.kind in ("torch", "project") and any(
                r.hooks or r.attribute("forward") or r.attribute("__call__") or r.attribute("__class__")
                or r.attribute("_call_impl") for r in rebindings):  # (`m._call_impl = wrap`: eval30 H4)
            # A forward hook registered in the file, or a `forward` (or `__class__`) put on a module at run time, may
            # replace what any module returns (with its input).
            related = frozenset().union(*inputs.values()) if inputs else frozenset()
            # ... and the hook is given the module's input and output: it may keep them (eval26 H2)
            flow._escape(related | out, f"given to the forward hooks this file registers (line {node.lineno}), "
                                        "which may keep it")
            out |= flow.new(flow.marker(node, 2000 + part), Obj(
                MAYBE, "unknown", label="a hooked module's result", may_share=flow.reach(related),
                nonlocal_reason="a forward hook may return something else"), grad=UNKNOWN)
        return out

    def _module_call(self, flow: ScopeFlow, node: ast.Call, info: ModuleInfo, inputs: dict,
                     written_expr: str | None, part: int, alternative: bool, either_way: bool = True) -> frozenset:
        site_node = flow.marker(node, 1000 + part) if part else None
        if info.kind == "torch" and either_way and not info.inplace and self._maybe_inplace(info):
            # `self.act.inplace = True` (or `m.inplace = True` in a loop over modules) somewhere in the
            # file, or `nn.ELU(inplace=flag)`: the module may write into its input and return it (eval29 F1)
            return flow.each_path([
                lambda i=i: self._module_call(flow, node, i, inputs, written_expr, part, alternative, False)
                for i in (info, replace(info, inplace=True))], inputs)
        if info.kind == "torch":
            pattern = self.effects.call_pattern("modules", info.cls or "", node, [
                p for p, v in inputs.items() if p != 0 and flow.tensor_keys(v)], ctor=info.node)
            eff = self.effects.module(info.cls or "", info.inplace, pattern)
            if eff is None:  # (`nn.Conv2DBatchNorm`: no such torch module)
                return flow.unknown_call(node, f"`nn.{info.cls}`", inputs, at=site_node)
            if alternative and eff.result == "view":
                # `self.head` is `nn.Conv2d(...)` or (pruned) `nn.Identity()`: which one ran decides whether
                # the result is the input; facts from one alternative must not meet the other's result.
                eff = replace(eff, result="maybe_same")
            first = node.args[0] if node.args and not isinstance(node.args[0], ast.Starred) else None
            if info.node is not None and info.cls in self.ops.modules_inplace:
                # What its input was when it ran: enough to judge `m.inplace = True` set elsewhere.
                arg = flow.tensor_keys(inputs.get(0, frozenset()))
                saved = frozenset(e for s in flow.st.storages(arg) for e in flow.st.saved.get(s, ()))
                flow.module_inputs.setdefault(id(info.node), {})[id(node)] = (node, saved, flow.grad_of(arg))
            return flow.apply(node, eff, inputs, how="module",
                              target=first if written_expr == "first" else _PREVIOUS_OUTPUT, ctor=info.node,
                              site_node=site_node)
        if info.kind == "sequential" and info.parts:
            # (one budget of paths for a chain and the chains nested in it: forks multiply)
            outer = flow.chain_paths
            if outer is None:
                flow.chain_paths = [1]
            try:
                return self._chain_call(flow, node, info.parts, 0, inputs.get(0, frozenset()), written_expr, part,
                                        flow.chain_paths)
            finally:
                flow.chain_paths = outer
        if info.kind == "container" and info.parts:
            # One of the members runs (`self.act` is `nn.ReLU()` or `nn.Identity()`; `self.blocks[i]`):
            # each from the same state, their states joined after.
            return flow.each_path([
                lambda i=i, member=member: self.module_call(flow, node, member, inputs, written_expr,
                                                            part=part * 100 + i + 1, alternative=len(info.parts) > 1)
                for i, member in enumerate(info.parts)])
        if info.kind == "function" and info.cls and not node.keywords and len(node.args) == 1 and \
                not isinstance(node.args[0], ast.Starred):
            # `self.act(x)` where `self.act = F.gelu` (or a partial of it): the function, on `x`.
            return self.torch_call(flow, node, info.cls, inputs)
        if info.kind == "project" and isinstance(info.node, ast.ClassDef):
            owner = self.owner_of(info.node)
            forward = owner.method_of(info.node, "forward")
            if owner.method_of(info.node, "__call__") is not None or owner.class_binds(info.node, "__call__"):
                forward = None  # the call runs the class's own `__call__`
            if isinstance(forward, (ast.FunctionDef, ast.AsyncFunctionDef)):
                # `self.block(x)` runs `Block.forward(block, x)`; its `self` is the module.
                module = ("module-instance", id(info.node), info.config)
                instance = (info.node, info.config) if info.config else None
                flow.st.objs.setdefault(module, Obj(NO, "self", label=f"a `{info.cls}`",
                                                    module=("class", info.node, info.config)))
                return owner.project_call(flow, node, forward, {SELF: frozenset({module}), **inputs},
                                          bound_self=True, instance=instance)
        out = flow.unknown_call(node, None, inputs, at=site_node)
        if info == UNKNOWN_MEMBER and not flow.grad_off():
            # A module the file does not show, held by a torch container, may have parameters: its output
            # may require grad whatever its input (`for layer in nn.Sequential(layers): v = layer(v)` on data, eval32 neuralclbf: it was
            # taken to need grad only where its input did, and the write after it judged harmless).
            flow.st.raise_grad(flow.st.storages(out), MAYBE)
        return out

    def _chain_call(self, flow: ScopeFlow, node: ast.Call, parts: tuple, start: int, x: frozenset,
                    written_expr: str | None, part: int, paths: list[int]) -> frozenset:
        """The modules of a chain from `parts[start]` on, applied to `x` in order. Where a member
        is one of several (an optional member: `if norm: layers.append(norm)`, a loop's members
        that may run no time), the rest of the chain runs once after each, and the paths are
        joined only at its end: what one path saved is not met by another path's value on the
        way (`conv` saved the input on the path that ran it; on the path that skipped everything
        the input reaches the in-place ReLU unsaved). At most MAX_CHAIN_PATHS paths; past that,
        the alternatives are joined where they stand."""
        for i in range(start, len(parts)):
            member = parts[i]
            written = None if i else written_expr
            forks = len(member.parts) if member.kind == "container" else 1
            if forks > 1 and i + 1 < len(parts) and paths[0] * forks <= MAX_CHAIN_PATHS:
                paths[0] *= forks

                def rest(i: int = i, j: int = 0, alternative: ModuleInfo = member) -> frozenset:
                    y = self.module_call(flow, node, alternative, {0: x}, written,
                                         part=(part * 100 + i + 1) * 100 + j + 1, alternative=True)
                    return self._chain_call(flow, node, parts, i + 1, y, written_expr, part, paths)

                return flow.each_path([lambda j=j, a=a: rest(j=j, alternative=a) for j, a in enumerate(member.parts)])
            x = self.module_call(flow, node, member, {0: x}, written_expr=written, part=part * 100 + i + 1)
        return x

    def _decorator_replaces(self, decorator: ast.expr) -> bool:
        """Is a class decorator a function of this file that may return something other than the
        class it is given? (One imported from elsewhere, a registry's, is taken to return it.)"""
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if not isinstance(target, ast.Name):
            return False
        binds = self.index.scopes[self.tree].bindings.get(target.id, [])
        fn = binds[0].stmt if len(binds) == 1 else None
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return bool(binds) and not all(isinstance(b.stmt, (ast.Import, ast.ImportFrom)) for b in binds)
        return not self._returns_what_it_decorates(decorator)

    def replacing_decorator(self, cls: ast.ClassDef) -> str | None:
        """The first decorator of `cls` or of a base the run defines that may put another class in
        its place (`@REG.register_module()` may return a subclass that sets other attributes), or
        the first change made to such a class after its statement, as written; None when each
        decorator is one that returns the class itself (`@dataclass`, `@final`) and none is changed."""
        for c in [cls, *_bases_of(cls, self)]:
            owner = self.owner_of(c)
            for d in c.decorator_list:
                target = d.func if isinstance(d, ast.Call) else d
                if owner.imports.qualname(target) not in PLAIN_CLASS_DECORATORS:
                    return f"is decorated with `@{ast.unparse(d)}`"
            patched = owner._class_patched(c)
            if patched is not None:
                return f"is changed after its definition (`{patched}`)"
            init = next((m for m in c.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and m.name == "__init__"), None)
            if init is not None and not owner.plain_decorators(init):
                return f"has an `__init__` decorated with `@{ast.unparse(init.decorator_list[0])}`"
        return None

    def _class_patched(self, cls: ast.ClassDef) -> str | None:
        """How the file changes the class after its statement, if it does: its name bound again
        (`M = swap(M)`), handed to a call (`swap(M)`, `setattr(M, ...)`), or an attribute of it
        stored (`M.__init__ = ...`). (`isinstance(x, M)`, `super(M, self)` and alike are reads.)"""
        name = cls.name
        if len(self.index.scopes[self.tree].bindings.get(name, [])) > 1:
            return f"{name} = ..."
        text = self.text
        if text is not None:
            named = self.memo.get("names stored into or passed")
            if named is None:  # (one pass over the text for every class: `M.x = ...`, `f(M)`, `g(a, M)`)
                named = self.memo["names stored into or passed"] = set(_STORED_OR_PASSED.findall(text))
            if not any(name in pair for pair in named):
                return None  # (the name is neither stored into nor handed to anything in the text)
        changes = self.memo.get("class changes")
        if changes is None:  # (one walk of the file, for every class: name -> the first change seen)
            changes = self.memo["class changes"] = {}
            for node in walk(self.tree):  # (any name: the ones of classes are looked up)
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and \
                        not isinstance(node.ctx, ast.Load):
                    changes.setdefault(node.value.id, node)
                elif isinstance(node, ast.Call) and node.args and \
                        not (isinstance(node.func, ast.Name) and node.func.id in _CLASS_READERS):
                    for a in node.args:
                        if isinstance(a, ast.Name):
                            changes.setdefault(a.id, node)
        node = changes.get(name)
        if node is None:
            return None
        if isinstance(node, ast.Attribute):
            return f"{name}.{node.attr} = ..."
        return f"{ast.unparse(node.func)}({name}, ...)"

    def plain_decorators(self, fn: ast.AST) -> bool:
        """Does every decorator of `fn` leave a call of it what the body does (`staticmethod`,
        `torch.no_grad()`, `torch.jit.script`...)? Any other may cache, wrap or replace it."""
        module_names = self.index.scopes[self.tree].bindings
        for d in getattr(fn, "decorator_list", ()):
            target = d.func if isinstance(d, ast.Call) else d
            q = self.imports.qualname(target)
            if q is None and isinstance(target, ast.Name) and target.id in BUILTIN_DECORATORS and \
                    target.id not in module_names:
                q = target.id  # the builtin, not a name the file binds
            if q not in PLAIN_DECORATORS and not self._returns_what_it_decorates(d):
                return False
        return True

    def dunders_defined(self) -> frozenset:
        """The operator, comparison and container methods (`__eq__`, `__rmul__`, `__contains__`...) that
        the classes of this file define: a tensor may be handed to one."""
        hit = self.memo.get("dunders defined")
        if hit is None:
            hit = self.memo["dunders defined"] = frozenset(
                stmt.name for c in self._file_classes() for stmt in c.body
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name.startswith("__") and
                stmt.name.endswith("__") and stmt.name not in _NOT_OPERATOR_DUNDERS)
        return hit

    def _returns_what_it_decorates(self, decorator: ast.expr) -> bool:
        """A decorator of this file that hands back the function it is given (`def register(f): REG[k] = f;
        return f`), or a factory of one (`@handler("Angles")` whose inner function returns its argument):
        a call of the decorated name runs the body (eval32 smee)."""
        factory = isinstance(decorator, ast.Call)
        target = decorator.func if factory else decorator
        if not isinstance(target, ast.Name):
            return False
        binds = self.index.scopes[self.tree].bindings.get(target.id, [])
        fn = binds[0].stmt if len(binds) == 1 else None
        if not isinstance(fn, ast.FunctionDef) or fn.decorator_list:
            return False
        if factory:
            inner = {s.name: s for s in fn.body if isinstance(s, ast.FunctionDef) and not s.decorator_list}
            returns = _own_returns(fn)
            return bool(returns) and isinstance(fn.body[-1], ast.Return) and all(
                isinstance(r.value, ast.Name) and r.value.id in inner and
                                         _returns_first_parameter(inner[r.value.id]) for r in returns)
        return _returns_first_parameter(fn)

    def method_of(self, cls: ast.ClassDef, name: str, depth: int = 0) -> ast.AST | None:
        """`cls.name` as Python finds it: the class's own (its last binding in the class body: a
        `prep = ...` after `def prep` wins), else its bases' (this file's or the run's)."""
        last = None
        for stmt in cls.body:
            if _binds(stmt, name):
                last = stmt
            elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)) and any(
                    _binds(inner, name) for inner in dispatch_statements([stmt]) if inner is not stmt):
                return None  # a `def` under an `if`/`try` in the class body: which one depends on the run
        if last is not None:
            return last if isinstance(last, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        if len(cls.bases) > 1 and depth < 8:
            # Several bases: Python's method resolution order decides; two different answers is unknown.
            found = []
            for base in cls.bases:
                spelled = dotted(base)
                other = (self.top_level_classes().get(spelled) or self.resolve_import(spelled)) if spelled else None
                if isinstance(other, ast.ClassDef) and other is not cls:
                    got = self.owner_of(other).method_of(other, name, depth + 1)
                    if got is not None and got not in found:
                        found.append(got)
            return found[0] if len(found) == 1 else None
        if depth < 8:
            for base in cls.bases:
                spelled = dotted(base)
                if spelled is None:
                    continue
                other = self.top_level_classes().get(spelled) or self.resolve_import(spelled)
                if isinstance(other, ast.ClassDef) and other is not cls:
                    found = self.owner_of(other).method_of(other, name, depth + 1)
                    if found is not None:
                        return found
        return None

    def owner_of(self, node: ast.AST) -> FileContext:
        """The file context a class or function belongs to (this one, or another file's)."""
        if self.project is not None:
            other = self.project.context_of(node)
            if other is not None:
                return other
        return self

    def builtin_call(self, flow: ScopeFlow, node: ast.Call, name: str, inputs: dict) -> frozenset:
        args = [inputs[i] for i in sorted(k for k in inputs if isinstance(k, int))]
        if name in ("id", "hash") and not (isinstance(node.func, ast.Name) and node.func.id == name):
            # `myid = id; myid(h)`: an identity read the judge's reading of the text (`id(h)`) cannot see
            # (eval30 I3): the tensor counts as handed to code that remembers it
            for v in args:
                flow._escape(v, f"its identity read through another name for `{name}` on line {node.lineno}")
        if name in ("len", "int", "hash", "id", "ord"):
            return frozenset({CONST_KEYS["int"]})
        if name == "float":
            return frozenset({CONST_KEYS["float"]})
        if name in ("bool", "isinstance", "issubclass", "hasattr", "callable", "any", "all"):
            return frozenset({CONST_KEYS["bool"]})
        if name == "range":
            return flow.new(node, Obj(NO, "range", label="a range"))
        if name == "type" and len(args) == 3:  # `type("K", (), {"t": h})`: a class whose namespace keeps them
            return flow._container(node, frozenset().union(*args), "class")
        if name in CONSUMING_BUILTINS:
            return frozenset({CONST_KEYS["other"]})
        if name in COMPUTING_BUILTINS:
            if name == "sum" and flow.overloads(frozenset().union(*args[1:], inputs.get("start", frozenset())), "add"):
                # `sum(xs, ZERO)`: the start's `__add__` decides what comes back.
                every = frozenset().union(*inputs.values()) if inputs else frozenset()
                return flow.new(node, Obj(MAYBE, "unknown", label="`sum` result", may_share=flow.reach(
                    every | flow._contents(args[0], node) if args else every)), grad=UNKNOWN)
            tensors = frozenset().union(*(flow.tensor_keys(a) for a in args)) if args else frozenset()
            if not tensors:
                keywords = [k for k in inputs if not isinstance(k, int)]
                if keywords and (name != "sum" or keywords != ["start"]):
                    return frozenset({CONST_KEYS["number"]})  # (`**opts`, or a keyword not folded here)
                # (`sum(xs, start=0j)`: the keyword start is folded as the positional one: eval30 N2)
                return frozenset({CONST_KEYS[_builtin_number(flow, name, [*args, *(inputs[k] for k in keywords)],
                                                             node)]})
            return flow.new(node, Obj(MAYBE, "fresh", label=f"`{name}` result"), grad=flow.grad_of(tensors))
        if name == "zip":
            return flow.new(node, Obj(NO, "zip", label="a zip", elems=tuple(args)))
        if name == "enumerate" and args:
            return flow.new(node, Obj(NO, "enumerate", label="an enumerate", elems=(args[0],)))
        if name == "map" and len(args) >= 2:
            # `map(f, xs)`: what `f` returns for each element, not the elements themselves; and `f`
            # may keep them (`map(box.append, [h])`: adversarial review K2).
            every = frozenset().union(*args)
            elements = frozenset().union(*(flow._contents(a, node) for a in args[1:]))
            flow._escape(elements, f"passed to the function `map` calls on line {node.lineno}")
            # (computed from the elements, most likely: in a graph where they may be)
            grad = flow.grad_of(flow.tensor_keys(elements))
            result = flow.new(flow.marker(node, 1), Obj(MAYBE, "unknown", label="what `map`'s function returned",
                                        may_share=flow.reach(every | elements),
                                        nonlocal_reason="returned by the function `map` calls"),
                              grad=grad if grad != NO else UNKNOWN)
            return flow._container(node, result, "map")
        key = inputs.get("key") if name in ("sorted", "min", "max") else args[0] if name == "filter" and args else None
        if key is not None and key != frozenset({CONST_KEYS["none"]}):
            # `min([h], key=f)`, `sorted(xs, key=cmp_to_key(f))`, `filter(f, xs)`: `f` is given each element
            # and may keep it (eval30 K1)
            iterables = args if name != "filter" else args[1:]
            elements = frozenset().union(*(flow._contents(a, node) for a in iterables)) if iterables else frozenset()
            flow._escape(elements, f"passed to the function `{name}` calls on line {node.lineno}")
        if name in CONTAINER_BUILTINS:
            contents: frozenset = frozenset()
            for a in args:
                contents |= flow._contents(a, node)
            for k, v in inputs.items():
                if not isinstance(k, int):  # `dict(k=y)`, `list(*parts)`: stored as they are
                    contents |= v
            return flow._container(node, contents, name)
        if name in ELEMENT_BUILTINS:
            if len(args) == 1:
                return flow._contents(args[0], node)
            out: frozenset = frozenset()
            for a in args:
                out |= a
            return out
        if name == "super":
            # `super().m(...)` runs a base's `m`, not this class's: nothing here resolves it.
            return frozenset({CONST_KEYS["other"]})
        attr_name = _static_attribute_name(node.args[1]) if name == "getattr" and len(node.args) >= 2 else None
        if attr_name is not None:
            # `getattr(m, "bias")`, `getattr(self.rnn, f"bias_hh_l{i}")`: an attribute of a known kind.
            fake = self._fake_attributes.get(id(node))
            if fake is None:
                fake = self._fake_attributes[id(node)] = ast.Attribute(
                    value=node.args[0], attr=attr_name, ctx=ast.Load(), lineno=node.lineno, col_offset=node.col_offset)
            out = frozenset()
            for k in args[0]:
                o = flow.obj(k)
                if o is not None and o.tensor == NO:
                    out |= self.attribute_of(flow, fake, k, o)
                else:
                    out |= flow.unknown_call(node, "`getattr`", inputs)
            return out | (args[2] if len(args) > 2 else frozenset())
        return flow.unknown_call(node, f"`{name}`", inputs)


# The written "expression" of an in-place module inside an nn.Sequential: the previous module's output.
_PREVIOUS_OUTPUT = ast.Name(id="the previous module's output", ctx=ast.Load())


def _holds(info: ModuleInfo, cls: ast.ClassDef) -> bool:
    """May a module of this kind be (or contain) an instance of the project class `cls`?"""
    todo = [info]
    while todo:
        m = todo.pop()
        if m.kind == "project" and m.node is cls:
            return True
        todo.extend(m.parts)
    return False


def _static_attribute_name(node: ast.AST) -> str | None:
    """A getattr name known before it runs: a string, or an f-string's text with each field as `0`
    (`f"bias_hh_l{i}"` -> "bias_hh_l0": enough to tell a parameter's name)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "0" for v in node.values)
    return None


def _number_annotation(ann: ast.AST) -> str | None:
    """`int` -> "int", `float` -> "float", `bool` -> "bool"; anything else None."""
    if isinstance(ann, ast.Name) and ann.id in ("int", "float", "bool"):
        return ann.id
    return None


_UNKNOWN_VALUE = ast.Name(id="<unknown>", ctx=ast.Load())  # a value outplace cannot see (a tuple target's part)


def _method_object(st: State, method: ast.AST, receiver: Key, label: str) -> frozenset:
    """`obj.method` of one of the run's classes: bound to `obj`, or the plain function when it is a
    `@staticmethod` (called through an instance, it gets no `self`)."""
    if _is_static_method(method):
        k = ("function", id(method))
        st.objs[k] = Obj(NO, "function", label=label, module=("function", method))
        return frozenset({k})
    k = ("method", id(method), receiver)
    st.objs[k] = Obj(NO, "method", label=label, module=("method", method, receiver))
    return frozenset({k})


def _is_static_method(fn: ast.AST) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in getattr(fn, "decorator_list", []))


def _is_class_method(fn: ast.AST) -> bool:
    # (`__class_getitem__` and `__init_subclass__` are class methods without the decorator: eval30 O4)
    return getattr(fn, "name", None) in ("__class_getitem__", "__init_subclass__") or \
        any(isinstance(d, ast.Name) and d.id == "classmethod" for d in getattr(fn, "decorator_list", []))


def _is_parameter_name(attr: str) -> bool:
    """`weight`, `bias`, `weight_ih_l0`, `bias_hh_l1_reverse`, `in_proj_weight`: a torch module's parameters."""
    return attr in TORCH_MODULE_PARAMETERS or attr.startswith(("weight_", "bias_")) or \
        attr.endswith(("_weight", "_bias"))


def _binds(stmt: ast.AST, name: str) -> bool:
    """Does a class-body statement bind `name` (an annotation without a value does not)?"""
    if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
        return False
    return name in _bound_names(stmt)


def _frozen_parameter(call: ast.AST) -> bool:
    """`nn.Parameter(t, requires_grad=False)` (or `False` second): a parameter outside any graph."""
    if not isinstance(call, ast.Call):
        return False
    flag = next((k.value for k in call.keywords if k.arg == "requires_grad"), None)
    if flag is None and len(call.args) >= 2:
        flag = call.args[1]
    return isinstance(flag, ast.Constant) and flag.value is False


def _bound_names(stmt: ast.AST) -> list[str]:
    """The names a class-body statement binds."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [stmt.name]
    if isinstance(stmt, ast.Assign):
        return [n.id for t in stmt.targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
        return [stmt.target.id]
    return []


# The legacy typed tensor classes used as annotations (`mask: torch.BoolTensor`): their dtype class.
_LEGACY_TENSOR_DTYPES = {"BoolTensor": "bool", "ByteTensor": "int", "CharTensor": "int", "ShortTensor": "int",
                         "IntTensor": "int", "LongTensor": "int", "FloatTensor": "float", "DoubleTensor": "float",
                         "HalfTensor": "float", "BFloat16Tensor": "float"}


# jaxtyping's dtype annotations (`Bool[Tensor, "b n"]`): the dtype class each admits.
_JAXTYPING_DTYPES = {"Bool": "bool", "Int": "int", "Integer": "int", "UInt": "int", "Int8": "int", "Int16": "int",
                     "Int32": "int", "Int64": "int", "UInt8": "int", "UInt16": "int", "UInt32": "int",
                     "UInt64": "int", "Float": "float", "Float16": "float", "Float32": "float", "Float64": "float",
                     "BFloat16": "float", "Complex": "complex", "Complex64": "complex", "Complex128": "complex"}


def _legacy_tensor_dtype(ann: ast.AST) -> str:
    """`torch.BoolTensor` -> "bool", `torch.LongTensor` -> "int" (also inside `Optional[...]`); else "unknown"."""
    found = {_LEGACY_TENSOR_DTYPES.get((dotted(n) or "").rsplit(".", 1)[-1]) for n in ast.walk(ann)
             if isinstance(n, (ast.Name, ast.Attribute)) and (dotted(n) or "").rsplit(".", 1)[-1] != "Optional"}
    found.discard(None)
    return found.pop() if len(found) == 1 else "unknown"


def _passed(st: State, keys: frozenset, call: ast.Call, fn: ast.AST, off: bool, where: tuple | None = None,
            detached: frozenset = frozenset(), first_pass: tuple | None = None) -> tuple[str, frozenset]:
    """What a call passes in `keys` (and what they hold): may it require grad in the callee (never
    under a call made with autograd off), and what had saved it before the call. `where`: (the
    caller's FileContext, its file's name) for a call made in another file. `detached`: the keys
    the caller knows are outside any graph (`x.detach()` shares the storage of `x`, not its graph;
    an integer tensor never requires grad either)."""
    storages = frozenset(s for o in st.reachable(keys) if o.tensor != NO for s in o.storage)
    graph = frozenset(s for o in st.reachable(frozenset(k for k in keys if k not in detached))
                      if o.tensor != NO and o.dtype not in INTEGRAL_DTYPES for s in o.storage)
    grad = NO
    for s in graph if not off else ():
        grad = _tri_or(grad, st.grad.get(s, UNKNOWN))
    of = f" of `{where[1]}`" if where is not None else ""
    called = f" in `{where[1]}`" if where is not None else ""
    # (`first_pass`: FileContext._rebinding_loop_call: what was saved of these storages from that line
    # to the loop's end was saved after the call that passed them)
    roots, first, last = first_pass[1:] if first_pass is not None else ((), 0, -1)
    # (a save whose op's only tensor inputs were what is passed built a graph only if that requires
    # grad: in the callee, the parameter's own level decides it, ARGUMENT_SOURCE; eval51 funasr
    # time_warp, written in the `else:` of `if x.requires_grad:`)
    saved = frozenset(Event(f"{e.what} (line {e.line}{of}) before `{getattr(fn, 'name', 'it')}` was called{called}",
                            call.lineno, e.grad,
                            ARGUMENT_SOURCE if e.sources and e.sources <= storages else frozenset())
                      for s in storages for e in st.saved.get(s, ())
                      if not (s in roots and first <= e.line <= last))
    return grad, saved


def _passed_parts(st: State, keys: frozenset, call: ast.Call, fn: ast.AST, off: bool, where: tuple | None = None,
                  detached: frozenset = frozenset()) -> tuple | None:
    """For a list or tuple literal passed (`parse([mel, gate])`): per position, (may-require-grad,
    what had saved it, what it is), so that unpacking the parameter sees each part's own history;
    None for anything else."""
    objs = [st.objs.get(k) for k in keys]
    if len(objs) != 1 or objs[0] is None or objs[0].elems is None or objs[0].origin != "container":
        return None
    out = []
    seen: set = set()
    for elem in objs[0].elems:
        what = st.facts(elem)
        shared = st.may_storages(elem)
        if what is None or not seen.isdisjoint(shared):
            return None  # (`parse([t, t])`, `parse([x, x[0]])`: the parts are one tensor, not apart)
        seen |= shared
        out.append((*_passed(st, elem, call, fn, off, where, detached), what))
    return tuple(out)


def _class_level(cls: ast.ClassDef, attr: str, assigns: dict) -> list[tuple[ast.AST, None]]:
    """A class-body `attr = ...` (what an instance that never set `self.attr` reads), where the
    methods assign it too."""
    if attr not in assigns:
        return []
    return [(stmt.value, None) for stmt in cls.body if isinstance(stmt, ast.Assign) and _binds(stmt, attr)]


def _own_returns(fn: ast.FunctionDef) -> list[ast.Return]:
    """The `return` statements of `fn` itself (not of functions or lambdas nested in it)."""
    out, todo = [], list(fn.body)
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Return):
            out.append(n)
        elif not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo += [c for c in ast.iter_child_nodes(n) if isinstance(c, ast.stmt)]
    return out


def _returns_first_parameter(fn: ast.FunctionDef) -> bool:
    """Does every way out of `fn` return its first parameter, unchanged (the name never bound again)?"""
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    if not params or any(isinstance(n, ast.Name) and n.id == params[0] and not isinstance(n.ctx, ast.Load)
                         or _changes_attribute_of(n, params[0]) for n in walk(fn)):
        return False  # (rebound, or changed: `fn.__code__ = ...`, `setattr(fn, ...)`: eval34 D1)
    returns = _own_returns(fn)
    # (the last statement a `return`: no way falls off the end and returns None)
    return bool(returns) and isinstance(fn.body[-1], ast.Return) and \
        all(isinstance(r.value, ast.Name) and r.value.id == params[0] for r in returns)


def _changes_attribute_of(node: ast.AST, name: str) -> bool:
    """`name.x = ...`, `del name.x`, `setattr(name, ...)`/`delattr`, `name.__dict__[...] = ...`."""
    if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load):
        base = node.value
    elif isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Attribute):
        base = node.value.value
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
            and node.args:
        base = node.args[0]
    else:
        return False
    return isinstance(base, ast.Name) and base.id == name


def _empty_call(value: ast.AST) -> bool:
    """`nn.ModuleList()`, `nn.Sequential()`, `nn.ModuleList([])`: a container built empty."""
    return isinstance(value, ast.Call) and not value.keywords and (not value.args or len(value.args) == 1 and isinstance(
        value.args[0], (ast.List, ast.Tuple)) and not value.args[0].elts)


# Special methods a tensor is never handed to by an operator, comparison or subscript.
_NOT_OPERATOR_DUNDERS = frozenset({"__init__", "__repr__", "__str__", "__hash__", "__len__", "__iter__", "__next__",
                                   "__enter__", "__exit__", "__call__", "__getattr__", "__getattribute__", "__setattr__",
                                   "__delattr__", "__new__", "__del__", "__post_init__", "__init_subclass__",
                                   "__getstate__", "__setstate__", "__reduce__", "__bool__", "__index__", "__int__",
                                   "__float__", "__format__", "__sizeof__", "__dir__", "__class_getitem__"})
# In `_overridden`'s sets: a subclass may bind any name (a base or metaclass the file cannot see into).
ANY_NAME = "*"
# Bases and metaclasses that bind no method a subclass's instances would find first.
_BASES_BINDING_NO_METHOD = frozenset({"object", "abc.ABC", "abc.ABCMeta", "typing.Generic", "typing.Protocol"})


def _bases_of(cls: ast.ClassDef, ctx: FileContext) -> list[ast.ClassDef]:
    """The classes `cls` derives from, transitively, that this file or the run defines."""
    out: list[ast.ClassDef] = []
    todo = [cls]
    while todo and len(out) < 32:
        c = todo.pop()
        for b in c.bases:
            spelled = dotted(b)
            found = (ctx.top_level_classes().get(spelled) or ctx.resolve_import(spelled)) if spelled else None
            if isinstance(found, ast.ClassDef) and found is not cls and found not in out:
                out.append(found)
                todo.append(found)
    return out


def _builtin_number(flow: ScopeFlow, name: str, args: list, node: ast.AST) -> str:
    """The kind of number `abs`/`round`/`sum`/`pow` of numbers returns (CONST_KEYS' name): `abs(3 + 4j)`
    is a float, `sum([1j, 2])` complex, `round(x)` an int; "number" where it is not known."""
    def kind(value: frozenset) -> str:
        o = flow.facts(value) if value else None
        return o.dtype if o is not None and o.is_scalar and o.dtype in ("bool", "int", "float", "complex", "real") \
            else "number"
    if not args:
        return "number"
    first = kind(args[0])
    if name == "abs":
        return {"bool": "int", "int": "int", "float": "float", "complex": "float", "real": "real"}.get(first, "number")
    if name == "round":
        return "int" if len(args) == 1 else first if first in ("int", "float", "real") else "number"
    if name == "pow":
        return number_result(first, kind(args[1]), ast.Pow(), node) if len(args) == 2 else "number"
    # sum: the elements added to the start (0 unless given), as `+` of numbers makes them; of a display
    # only (`sum([1, 0.5])`): a list or dict reached by name may have been changed by a helper, an alias
    # or a closure, and a dict adds its keys (eval30 N3, N4).
    first_arg = node.args[0] if isinstance(node, ast.Call) and node.args else None
    if not isinstance(first_arg, (ast.List, ast.Tuple, ast.Set)):
        return "number"  # (only a display says what it holds: a list reached by name may have been changed)
    for k in args[0]:
        o = flow.obj(k)
        if o is None or o.origin != "container":
            return "number"
    total = "int"
    elements = flow._held_shallow(args[0]) - args[0]  # (read only: a sum makes no element objects)
    for k in (kind(elements), *(kind(a) for a in args[1:])):
        total = number_result(total, k, ast.Add(), node)
    return total


def _is_generator(fn: ast.AST) -> bool:
    from outplace.analysis.scopes import walk

    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in walk(fn) if not isinstance(n, ast.Lambda))


def _event(flow: ScopeFlow, what: str):
    from outplace.analysis.model import Event

    return Event(what, flow._line)


def _text(node: ast.Call) -> str:
    return dotted(node.func) or ast.unparse(node.func)[:40]


def _attr_grad(o: Obj) -> str:
    if o.leaf:
        return YES
    if o.origin == "nn_parameter":  # not a leaf: `nn.Parameter(t, requires_grad=False)`
        return NO
    if o.origin == "buffer" or o.view_of == "factory":
        return NO
    return UNKNOWN


def _bound_value(binding, name: str) -> ast.expr | None:
    """The expression a plain assignment binds `name` to: `w = e`, `w, b = e, f` (None: another kind of
    binding, a parameter, a loop target, an unpacking of something else)."""
    stmt = binding.stmt
    if binding.kind not in ("assign", "opaque") or not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
        return None  # (an unpacking is an "opaque" binding of its statement)
    target, value = stmt.targets[0], stmt.value
    if isinstance(target, ast.Name) and target.id == name:
        return value
    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts) and \
            not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts)):
        for t, v in zip(target.elts, value.elts):
            if isinstance(t, ast.Name) and t.id == name:
                return v
    return None


def _none_ness(found, value: ast.expr, is_self) -> str:
    """"none", "not none", "raises" (a tensor method called on None: the binding never completes) or "?"."""
    if found is None:
        calls_method = isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
        return "raises" if calls_method else "none"
    return "not none" if found is NOT_NONE else "?"


# `self.<attr> = Other(...)`, a call of something the analysis does not know, in `class_attribute`'s
# join: joined with torch or project modules it is taken as a module of another library, so that
# `self.linear = nn.Linear(...) if c else MuReadout(...)` still runs the Linear on one path (eval31 m2,
# graphium: the Linear's save was lost); alone it stays what it was (an unknown value).
_BUILT_BY_UNKNOWN = ModuleInfo("unknown", "built by an unknown call")


def _attr_join(a: Obj, b: Obj) -> Obj:
    from outplace.analysis.model import obj_join

    if a.module is _BUILT_BY_UNKNOWN and b.module is _BUILT_BY_UNKNOWN:
        return obj_join(a, b)._replace(module=_BUILT_BY_UNKNOWN)
    if a.module is _BUILT_BY_UNKNOWN or b.module is _BUILT_BY_UNKNOWN:
        known = b if a.module is _BUILT_BY_UNKNOWN else a
        if known.origin == "module" and isinstance(known.module, ModuleInfo):
            return Obj(NO, "module", label=known.label, module=ModuleInfo("container", parts=(known.module, UNKNOWN_MODULE)))
        a, b = (a._replace(module=None) if a.module is _BUILT_BY_UNKNOWN else a,
                b._replace(module=None) if b.module is _BUILT_BY_UNKNOWN else b)
    if a.origin == "module" and b.origin == "module" and isinstance(a.module, ModuleInfo) and \
            isinstance(b.module, ModuleInfo) and a.module != b.module:
        return Obj(NO, "module", label=a.label, module=ModuleInfo("container", parts=(a.module, b.module)))
    return obj_join(a, b)


def _module_args(call: ast.Call) -> list[ast.AST]:
    out: list[ast.AST] = []
    for a in call.args:
        if isinstance(a, (ast.List, ast.Tuple)):
            out += a.elts
        elif isinstance(a, ast.ListComp):
            out.append(a.elt)
        elif isinstance(a, ast.Dict):
            out += [v for v in a.values]
        elif isinstance(a, ast.Starred):
            out.append(ast.Name(id="?", ctx=ast.Load()))
        else:
            out.append(a)
    return out


def _method_statements(cls: ast.ClassDef):
    """(method, statement) for every statement of the class's methods (nested blocks included)."""
    for method in cls.body:
        if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for stmt in _statements(method):
                yield method, stmt


def _statements(node: ast.AST):
    todo = [node]
    while todo:
        current = todo.pop()
        for fieldname in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(current, fieldname, None) or ():
                if isinstance(child, ast.stmt):
                    yield child
                todo.append(child)


# Unannotated parameters whose name says they hold a list (`x_list`, `feat_lists`): sequences, not tensors.
LIST_SUFFIXES = ("_list", "_lists")
# torch functions whose first argument is a sequence of tensors (a tensor there raises a TypeError:
# "argument 'tensors' must be tuple of Tensors, not Tensor").
TENSOR_SEQUENCE_JOINS = frozenset({"torch.cat", "torch.concat", "torch.concatenate", "torch.stack", "torch.hstack",
                                   "torch.vstack", "torch.dstack", "torch.column_stack", "torch.row_stack"})


def _non_tensor_default(args: ast.arguments, arg: ast.arg) -> bool:
    default = parameter_default(args, arg)
    if isinstance(default, ast.Constant):
        return default.value is not None
    return isinstance(default, (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.UnaryOp))


def parameter_default(args: ast.arguments, arg: ast.arg) -> ast.AST | None:
    positional = args.posonlyargs + args.args
    if arg in positional:
        i = positional.index(arg) - (len(positional) - len(args.defaults))
        return args.defaults[i] if i >= 0 else None
    if arg in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(arg)]
    return None


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None or (isinstance(node, ast.Name) and node.id == "None")


def _may_return_input(ops: OpTable, name: str, call: ast.Call) -> str:
    """Whether `F.<name>(...)` returns its input here: "view" (always: a view or the input itself),
    "maybe" (the call may meet a measured condition: `training=False`, `p=0.0`, or an argument
    pattern the table only knows as "args"), or "no"."""
    conditions = ops.may_alias_input.get("functional", {}).get(name, frozenset()) - {"inplace=True"}
    if "always" in conditions:
        return "view"
    maybe = "args" in conditions  # (a positional pattern the table only knows as "args")
    for cond in conditions - {"args"}:
        key, _, value = cond.partition("=")
        given = next((k.value for k in call.keywords if k.arg == key), None)
        if given is None:
            continue
        if isinstance(given, ast.Constant) and (str(given.value) == value or given.value == _number(value)):
            return "view"  # the measured condition, spelled out: it returns its input (`training=False`)
        if not isinstance(given, ast.Constant):
            maybe = True  # (a value only the run knows)
    return "maybe" if maybe else "no"


def _number(text: str) -> object:
    try:
        return float(text)
    except ValueError:
        return text


# `self.act.inplace = True`, `m.inplace = flag`, `setattr(m, "inplace", ...)`: not `self.inplace = ...`
# (a project module's own flag).
def _flag_may_be_true(call: ast.Call, index: int) -> bool:
    """Is a call's `inplace` flag (keyword, or position `index`) something other than a literal: a name,
    an expression, `**opts`, or a `*args` that may reach its position?"""
    for k in call.keywords:
        if k.arg == "inplace":
            return not isinstance(k.value, ast.Constant)
        if k.arg is None:
            return True
    for i, a in enumerate(call.args[:index + 1]):
        if isinstance(a, ast.Starred):
            return True
        if i == index:
            return not isinstance(a, ast.Constant)
    return False


def _switches_inplace(tree: ast.Module, text: str) -> bool:
    """May code in the file switch a module built elsewhere to in place: a store into `.inplace` on anything
    but `self` in any spelling (`m.inplace = True`, `m.inplace: bool = True`, `(m.inplace) = 1`,
    `m.inplace |= flag`, across a line continuation), the name `'inplace'` as a string (`setattr(m,
    'inplace', ...)`, `m.__dict__['inplace'] = ...`, `object.__setattr__(m, 'inplace', ...)`), a
    constructor run again with it (`m.__init__(inplace=True)`, `type(m).__init__(m, inplace=True)`), or
    `__setstate__`? Only the statements on lines that say `inplace` are read (eval30 F2a/F2b: a regex
    over the text missed most of these spellings, and matched comments)."""
    if "inplace" not in text:
        return False
    if "__setstate__" in text:
        return True
    lines, line = [], 1
    for m in re.finditer(r"inplace", text):
        line += text.count("\n", lines[-1][1] if lines else 0, m.start())
        lines.append((line, m.start()))
    from outplace.analysis.dispatch import _statements_on

    for node in _statements_on(tree, sorted({n for n, _ in lines}) if "\r" not in text else None):
        if isinstance(node, ast.Attribute) and node.attr == "inplace" and not isinstance(node.ctx, ast.Load) and \
                not (isinstance(node.value, ast.Name) and node.value.id == "self"):
            return True
        if isinstance(node, ast.Constant) and node.value == "inplace":
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__" and \
                any(k.arg == "inplace" for k in node.keywords) and not (
                    isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name)
                    and node.func.value.func.id == "super"):
            return True
    return False


def _abstract(fn: ast.AST) -> bool:
    """A method whose body only raises `NotImplementedError` (or is `...`/`pass`, after a docstring)."""
    body = [s for s in getattr(fn, "body", []) if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                                       and isinstance(s.value.value, str))]
    if not body:
        return True
    if len(body) != 1:
        return False
    s = body[0]
    if isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and s.value.value is ...):
        return True
    if isinstance(s, ast.Raise) and s.exc is not None:
        exc = s.exc.func if isinstance(s.exc, ast.Call) else s.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _constant_index(node: ast.AST) -> int | None:
    """The int `node[i]` indexes with, where `i` is a literal (`[0]`, `[-1]`)."""
    index = node.slice if isinstance(node, ast.Subscript) else None
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub) and isinstance(index.operand, ast.Constant):
        value = index.operand.value
        return -value if type(value) is int else None
    return index.value if isinstance(index, ast.Constant) and type(index.value) is int else None


def _element_alternatives(info: ModuleInfo) -> tuple:
    """What an element of the module `info` may be: an nn.Sequential's members (never the chain
    itself), a module list's items; where the attribute may have been replaced (REPLACED), an
    element of what it was or of anything."""
    if info.kind == "container" and info.cls == REPLACED:
        out: list = []
        for p in info.parts:
            out += _element_alternatives(p) if p.kind in ("container", "sequential") and p.parts else [UNKNOWN_MODULE]
        return tuple(dict.fromkeys(out))
    if info.kind == "sequential":
        return tuple(members_of(list(info.parts)))
    return info.parts


def _replaceable(module: ModuleInfo) -> ModuleInfo:
    """What an attribute may hold where the file may put another module there or change its items
    (`m.act = nn.Identity()`, `self.body.add_module("0", m)`, `self.body[0] = m`): that module or any
    other; a chain's members each may be replaced by another or be gone."""
    if module.kind == "sequential" and module.parts:
        # (each member one by one, a loop iteration's group opened: `del self.body[0]` takes one)
        module = ModuleInfo("sequential", parts=tuple(
            ModuleInfo("container", parts=(p, UNKNOWN_MODULE, SKIP)) for p in members_of(list(module.parts))),
            node=module.node)
    return ModuleInfo("container", REPLACED, parts=(module, UNKNOWN_MODULE))


REPLACED = "<maybe replaced>"  # the `cls` of what `_replaceable` wraps: the module, or any other
