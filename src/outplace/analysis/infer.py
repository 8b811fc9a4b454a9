"""What an expression is, statically: a tensor or not, where it came from, and its dtype class.

Origins, from harmless to observable:
  factory   a fresh tensor from a creation op (`torch.zeros`, `empty_like`): not in any graph yet
  fresh     a new tensor produced by a differentiable op: nothing else refers to it
  leaf      created with `requires_grad=True`: in-place on it raises at the op
  view      may share storage with another tensor (`x[0]`, `x.view(...)`, `x.to(...)`, `b = a`)
  parameter a function parameter (the caller holds it)
  nn_parameter  an `nn.Parameter` (a leaf; `self.w = self.w + x` raises TypeError: never rebound)
  attribute an attribute (`self.h`): other methods and the caller can see it
  global    a module-level name written from a function
  data      reached through `.data` / `.grad` (intentional, never rewritten)
  buffer    a registered buffer (`self.register_buffer`): state updates are intentional
  unknown   a tensor of unknown provenance

and, for things that are not tensors, "scalar", "none", "module", "other", "import" (a name bound
by an import statement), or "tensors" (a container of the caller's tensors, from an annotation like
`list[Tensor]`: its elements are "parameter").
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from outplace.analysis.imports import ImportMap, dotted
from outplace.analysis.scopes import Binding, Scope, ScopeIndex, pos, walk
from outplace.optable import OpTable

# Worst first: joining two infos keeps the more observable origin.
ORIGIN_RANK = {o: i for i, o in enumerate(
    ["data", "buffer", "nn_parameter", "parameter", "attribute", "global", "view", "unknown", "leaf", "fresh", "factory"])}

# Annotations naming a tensor type: any name containing "Tensor" (Tensor, FloatTensor, TensorLike,
# jaxtyping's Float[Tensor, ...]) and these.
TENSOR_ANNOTATIONS = {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}
# Generic types whose arguments are what they hold, not what they are: `dict[str, Tensor]` is no tensor.
CONTAINER_ANNOTATIONS = {"list", "List", "dict", "Dict", "tuple", "Tuple", "set", "Set", "frozenset", "FrozenSet",
                         "Sequence", "MutableSequence", "Mapping", "MutableMapping", "Iterable", "Iterator",
                         "Generator", "Collection", "Callable", "Type", "type", "DefaultDict", "defaultdict",
                         "OrderedDict", "Deque", "deque", "ModuleList", "ParameterList", "ParameterDict"}
FLOAT_DTYPES = {"float", "float16", "float32", "float64", "half", "double", "bfloat16", "float8_e4m3fn",
                "float8_e5m2"}
INT_DTYPES = {"int", "int8", "int16", "int32", "int64", "long", "short", "uint8", "uint16", "uint32", "uint64"}
FLOAT_CAST_METHODS = {"float", "double", "half", "bfloat16"}
INT_CAST_METHODS = {"long", "int", "short", "byte", "char"}
COMPARE_METHODS = {"eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf", "isfinite", "logical_and",
                   "logical_or", "logical_not", "logical_xor", "isclose", "isneginf", "isposinf", "signbit"}
# torch.nn modules whose forward may return its input (or a view of it) instead of a new tensor.
ALIASING_MODULES = {"Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                    "FeatureAlphaDropout", "Flatten", "Unflatten"}
# The legacy typed constructors and the dtype class of what they make.
LEGACY_CONSTRUCTORS = {"Tensor": "float", "FloatTensor": "float", "DoubleTensor": "float", "HalfTensor": "float",
                       "BFloat16Tensor": "float", "LongTensor": "int", "IntTensor": "int", "ShortTensor": "int",
                       "CharTensor": "int", "ByteTensor": "int", "BoolTensor": "bool"}
FACTORY_METHODS = {"new_empty", "new_zeros", "new_ones", "new_full", "new_tensor", "new_empty_strided"}
FLOAT_FACTORIES = {"rand", "randn", "rand_like", "randn_like", "linspace", "logspace", "normal", "empty",
                   "zeros", "ones", "eye", "randperm_float"}  # default dtype float when no dtype= is given


@dataclass(frozen=True)
class Info:
    tensor: bool
    origin: str = "unknown"  # see module docstring; "scalar"/"none"/"module"/"other"/"import"/"tensors" for non-tensors
    dtype: str = "unknown"  # "float" | "int" | "bool" | "complex" | "unknown"
    root: str | None = None  # for views/aliases: the dotted name they alias (`x` for `x[0]`)

    @property
    def is_scalar(self) -> bool:
        return self.origin == "scalar"


UNKNOWN = Info(False)
NONE = Info(False, "none")
IMPORTED = Info(False, "import")


def join(a: Info | None, b: Info | None) -> Info | None:
    if a is None:
        return b
    if b is None:
        return a
    if a.origin == "none":
        return b
    if b.origin == "none":
        return a
    if a.tensor != b.tensor:
        return UNKNOWN
    if not a.tensor:
        if a.is_scalar and b.is_scalar:
            return Info(False, "scalar", a.dtype if a.dtype == b.dtype else "unknown")
        return a if a == b else UNKNOWN
    origin = min(a.origin, b.origin, key=lambda o: ORIGIN_RANK.get(o, 0))
    return Info(True, origin, a.dtype if a.dtype == b.dtype else "unknown", a.root if a.root == b.root else None)


def never_a_tensor_element(value: ast.AST) -> bool:
    """`cache[i] = "Rep"`, `slots[i] = None`: a tensor cannot store a string or None, so what is
    subscripted is a container (diffusers' VAE feature caches)."""
    if isinstance(value, ast.Constant):
        return value.value is None or isinstance(value.value, (str, bytes))
    return isinstance(value, (ast.JoinedStr, ast.Dict))


def _non_tensor_default(args: ast.arguments, arg: ast.arg) -> bool:
    """`def forward(self, x, feat_idx=[0], scale=1.0, mode="bilinear")`: a default that is a literal
    other than None says what the parameter is (`mask=None` says nothing)."""
    positional = args.posonlyargs + args.args
    default = None
    if arg in positional:
        i = positional.index(arg) - (len(positional) - len(args.defaults))
        default = args.defaults[i] if i >= 0 else None
    elif arg in args.kwonlyargs:
        default = args.kw_defaults[args.kwonlyargs.index(arg)]
    if isinstance(default, ast.Constant):
        return default.value is not None
    return isinstance(default, (ast.List, ast.Tuple, ast.Dict, ast.Set, ast.JoinedStr, ast.UnaryOp))


def _all_imports(bindings: list[Binding] | None) -> bool:
    return bool(bindings) and all(isinstance(b.stmt, (ast.Import, ast.ImportFrom)) for b in bindings)


def _either(a: str | None, b: str | None) -> str | None:
    """The annotation kind of a union: a tensor if any member is one."""
    return "tensor" if "tensor" in (a, b) else (a or b)


def promote(a: Info, b: Info, op: ast.operator | None = None) -> str:
    """The dtype class of `a <op> b` where at least one side is a tensor."""
    if isinstance(op, ast.Div):
        return "float" if "complex" not in (a.dtype, b.dtype) else "complex"
    kinds = {a.dtype, b.dtype}
    if "unknown" in kinds:
        # A python scalar never lifts a float tensor's dtype class.
        if "float" in kinds and (a.is_scalar or b.is_scalar) and {a.dtype, b.dtype} - {"float"} <= {"int", "bool"}:
            return "float"
        return "unknown"
    for k in ("complex", "float", "int", "bool"):
        if k in kinds:
            return k
    return "unknown"


class Inference:
    def __init__(self, tree: ast.Module, index: ScopeIndex, imports: ImportMap, ops: OpTable) -> None:
        self.tree, self.index, self.imports, self.ops = tree, index, imports, ops
        self._busy: set[int] = set()
        self._memo: dict[tuple[int, int], Info] = {}
        self._cut = False  # set when the recursion guard cut a computation short
        self._attr_infos: dict[tuple[ast.ClassDef, str], Info] = {}
        self._facts: dict[ast.ClassDef, tuple[dict[str, list[ast.Assign]], dict[str, Info]]] = {}
        self._classes: dict[str, ast.ClassDef] | None = None
        self._container_names: dict[int, set[str]] = {}  # scope id -> names that hold a str or None
        self._params: dict[ast.arg, Info] = {}

    # ---- names ----------------------------------------------------------------------------------
    def name_info(self, name: str, at: ast.AST, scope: Scope | None = None) -> Info:
        scope = scope or self.index.scope_for(at)
        bindings, _ = self.index.reaching(scope, name, at)
        if not bindings:
            if scope.is_function and not scope.bindings.get(name) and _all_imports(
                    self.index.scopes[self.tree].bindings.get(name)):
                return IMPORTED  # a module-level import used in a function
            if scope.is_function and name in scope.declared_global:
                return Info(True, "global") if self._global_is_tensor(name) else UNKNOWN
            if scope.is_function and not scope.bindings.get(name) and self._global_is_tensor(name):
                return Info(True, "global")
            return UNKNOWN
        if _all_imports(bindings):
            # A module, class or function (`from transformers import initialization as init`;
            # `init.normal_(w)` is that module's function), not a tensor.
            return IMPORTED
        out: Info | None = None
        for b in bindings:
            out = join(out, self.binding_info(b, scope))
        out = out or UNKNOWN
        if scope.is_function and name in scope.declared_global and out.tensor:
            out = Info(True, "global", out.dtype)
        return out

    def binding_info(self, b: Binding, scope: Scope) -> Info | None:
        key = id(b.node)
        if key in self._busy:
            self._cut = True
            return None  # a binding that depends on itself (`x = x * 2` in a loop): neutral
        self._busy.add(key)
        try:
            if b.kind == "param":
                return self.param_info(scope, b.name)
            if b.kind == "assign" and b.value is not None:
                info = self.info(b.value, scope)
                if isinstance(b.value, ast.Name) and info.tensor:
                    # `b = a`: two names, one tensor.
                    return Info(True, _worse(info.origin, "view"), info.dtype, b.value.id)
                return info
            return UNKNOWN
        finally:
            self._busy.discard(key)

    def param_info(self, scope: Scope, name: str) -> Info:
        arg = scope.params[name]
        if arg not in self._params:
            self._params[arg] = self._param_info(scope, name, arg)
        return self._params[arg]

    def _param_info(self, scope: Scope, name: str, arg: ast.arg) -> Info:
        fn = scope.node
        ann = arg.annotation
        if ann is not None:
            kind = self._annotation_kind(ann)
            if kind == "tensor":
                return Info(True, "parameter")
            return Info(False, "tensors") if kind == "tensors" else UNKNOWN
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name == "forward":
            first = (fn.args.posonlyargs + fn.args.args)[:1]
            if (not first or first[0].arg != name) and arg is not fn.args.vararg and arg is not fn.args.kwarg \
                    and not _non_tensor_default(fn.args, arg) and not self._stores_non_tensor(scope, name):
                return Info(True, "parameter")
        return UNKNOWN

    def _stores_non_tensor(self, scope: Scope, name: str) -> bool:
        """Does the scope store a string or None into `name[...]` (`feat_cache[idx] = "Rep"`)? Then
        `name` is a container, whatever else is stored in it. One pass per scope (indexed whole,
        as every scope whose parameters are asked about is)."""
        names = self._container_names.get(id(scope))
        if names is None:
            names = self._container_names[id(scope)] = {
                t.value.id for a in self.index.by_type[ast.Assign]
                if self.index.scope_of.get(a) is scope and len(a.targets) == 1
                and isinstance(t := a.targets[0], ast.Subscript) and isinstance(t.value, ast.Name)
                and never_a_tensor_element(a.value)}
        return name in names

    def _annotation_kind(self, ann: ast.AST) -> str | None:
        """"tensor" when the annotation says a tensor (`Tensor`, `Optional[Tensor]`, `Tensor | None`,
        jaxtyping's `Float[Tensor, "b n"]`), "tensors" for a container of them (`dict[str, Tensor]`,
        `list[Tensor]`: its elements are the caller's tensors, the container itself is none), else None."""
        if isinstance(ann, ast.Constant) and isinstance(ann.value, str):  # "torch.Tensor"
            try:
                ann = ast.parse(ann.value.strip(), mode="eval").body
            except SyntaxError:
                return None
        if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
            return _either(self._annotation_kind(ann.left), self._annotation_kind(ann.right))
        if isinstance(ann, ast.Subscript):
            base = (self.imports.qualname(ann.value) or dotted(ann.value) or "").rsplit(".", 1)[-1]
            args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
            if base in ("Optional", "Union"):
                kind = None
                for a in args:
                    kind = _either(kind, self._annotation_kind(a))
                return kind
            if base == "Annotated":
                return self._annotation_kind(args[0])
            if base in CONTAINER_ANNOTATIONS:
                return "tensors" if any(self._annotation_kind(a) for a in args) else None
        names = {self.imports.qualname(n) or dotted(n) or "" for n in ast.walk(ann) if isinstance(n, (ast.Name, ast.Attribute))}
        if any(n in TENSOR_ANNOTATIONS or "Tensor" in n.rsplit(".", 1)[-1] for n in names):
            return "tensor"
        return None

    def _global_is_tensor(self, name: str) -> bool:
        module_scope = self.index.scopes[self.tree]
        binds = module_scope.bindings.get(name, [])
        if not binds:
            return False
        return all(b.kind == "assign" and b.value is not None and self.info(b.value, module_scope).tensor
                   for b in binds if b.kind != "aug")

    # ---- expressions ----------------------------------------------------------------------------
    def info(self, node: ast.AST, scope: Scope | None = None) -> Info:
        """What `node` is. Memoised, except results cut short by the recursion guard (a binding
        that depends on itself), which may be less precise than a fresh computation."""
        key = (id(node), id(scope))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        scope = scope or self.index.scope_for(node)
        m = getattr(self, "_" + type(node).__name__, None)
        outer_cut, self._cut = self._cut, False
        result = m(node, scope) if m else UNKNOWN
        if not self._cut:
            self._memo[key] = result
        self._cut = outer_cut or self._cut
        return result

    def _Constant(self, node: ast.Constant, scope: Scope) -> Info:
        v = node.value
        if v is None:
            return NONE
        if isinstance(v, bool):
            return Info(False, "scalar", "bool")
        if isinstance(v, int):
            return Info(False, "scalar", "int")
        if isinstance(v, float):
            return Info(False, "scalar", "float")
        if isinstance(v, complex):
            return Info(False, "scalar", "complex")
        return Info(False, "other")

    def _UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Info:
        inner = self.info(node.operand, scope)
        if isinstance(node.op, ast.Not):
            return Info(False, "other")
        if inner.is_scalar:
            return inner
        if inner.tensor:
            return Info(True, "fresh", inner.dtype)
        return UNKNOWN

    def _Name(self, node: ast.Name, scope: Scope) -> Info:
        return self.name_info(node.id, node, scope)

    def _NamedExpr(self, node: ast.NamedExpr, scope: Scope) -> Info:
        return self.info(node.value, scope)

    def _IfExp(self, node: ast.IfExp, scope: Scope) -> Info:
        return join(self.info(node.body, scope), self.info(node.orelse, scope)) or UNKNOWN

    def _BinOp(self, node: ast.BinOp, scope: Scope) -> Info:
        left, right = self.info(node.left, scope), self.info(node.right, scope)
        if left.tensor or right.tensor:
            return Info(True, "fresh", promote(left, right, node.op))
        if left.is_scalar and right.is_scalar:
            return Info(False, "scalar", "unknown")
        return UNKNOWN

    def _Compare(self, node: ast.Compare, scope: Scope) -> Info:
        if len(node.ops) == 1 and not isinstance(node.ops[0], (ast.Is, ast.IsNot, ast.In, ast.NotIn)):
            if self.info(node.left, scope).tensor or self.info(node.comparators[0], scope).tensor:
                return Info(True, "fresh", "bool")
        return Info(False, "other")

    def _Subscript(self, node: ast.Subscript, scope: Scope) -> Info:
        base = self.info(node.value, scope)
        if base.tensor:
            return Info(True, _worse(base.origin, "view"), base.dtype, self.root_of(node.value, scope))
        if base.origin == "tensors":  # an element of the caller's `list[Tensor]`: the caller's tensor
            return Info(True, "parameter")
        return UNKNOWN

    def _Attribute(self, node: ast.Attribute, scope: Scope) -> Info:
        if node.attr in ("data", "grad"):
            return Info(True, "data")
        base_node = node.value
        if isinstance(base_node, ast.Name) and base_node.id == "self":
            return self.self_attr_info(node, scope)
        base = self.info(base_node, scope)
        if base.tensor:
            if node.attr in ("T", "mT", "H", "mH", "real", "imag"):
                return Info(True, _worse(base.origin, "view"), base.dtype, self.root_of(base_node, scope))
            return Info(False, "other")
        return UNKNOWN

    def _Call(self, node: ast.Call, scope: Scope) -> Info:
        func = node.func
        q = self.imports.qualname(func)
        ops = self.ops
        if q is not None and q.startswith("torch"):
            return self._torch_call(node, q, scope)
        if isinstance(func, ast.Attribute):
            method = func.attr
            recv = self.info(func.value, scope)
            if method in ops.methods:  # an in-place method returns its receiver
                return recv if recv.tensor else UNKNOWN
            if recv.origin in ("module", "passthrough_module"):
                return Info(True, "fresh", "float") if method in ("forward", "__call__") else UNKNOWN
            if recv.tensor:
                return self._method_result(node, recv, method, scope)
            if method in FACTORY_METHODS and method != "new_tensor":  # `x.new_zeros(n)`: a tensor-only API
                return Info(True, "factory")
            return UNKNOWN
        callee = self.info(func, scope)
        if callee.origin == "module":
            return Info(True, "fresh", "float")
        if callee.origin == "passthrough_module":  # nn.Identity, Dropout, ReLU(inplace=True)...
            return Info(True, "view", "unknown", self.root_of(node.args[0], scope) if node.args else None)
        return UNKNOWN

    def _torch_call(self, node: ast.Call, q: str, scope: Scope) -> Info:
        ops = self.ops
        parts = q.split(".")
        name = parts[-1]
        if q in ("torch.nn.Parameter", "torch.nn.parameter.Parameter"):
            return Info(True, "nn_parameter", "float")
        if len(parts) >= 3 and parts[1] == "nn" and parts[2] not in ("functional", "init", "utils") and name[:1].isupper():
            inplace = self._module_inplace(node, name)
            return Info(False, "passthrough_module" if (name in ALIASING_MODULES or inplace) else "module")
        if parts[:3] == ["torch", "nn", "functional"]:
            if name in ops.functional["inplace_param"] and inplace_arg(node, ops.functional["inplace_param"][name]) is not None:
                first = self.info(node.args[0], scope) if node.args else UNKNOWN
                return first if first.tensor else Info(True, "unknown")
            if name in ops.functional["inplace_functions"]:
                first = self.info(node.args[0], scope) if node.args else UNKNOWN
                return first if first.tensor else Info(True, "unknown")
            return Info(True, "fresh", "float")
        if name in LEGACY_CONSTRUCTORS and parts[1] in (name, "cuda"):
            # torch.Tensor(3, 4), torch.FloatTensor([1, 2]): a new tensor; given a tensor it may share it.
            if any(self.info(a, scope).tensor for a in node.args):
                return UNKNOWN
            return Info(True, "factory", LEGACY_CONSTRUCTORS[name])
        if len(parts) != 2:
            return UNKNOWN
        if name in ops.torch_functions["factory"]:
            return self._factory(node, name, scope)
        if name in ops.functions:  # torch.relu_(x) returns x
            first = self.info(node.args[0], scope) if node.args else UNKNOWN
            return first if first.tensor else Info(True, "unknown")
        if name in ops.torch_functions["nontensor"]:
            return Info(False, "other")
        dtype = self._args_dtype(node, scope)
        if name in ops.float_only:
            dtype = "float"
        elif name in COMPARE_METHODS:
            dtype = "bool"
        if name in ops.torch_functions["alias"]:
            root = self.root_of(node.args[0], scope) if node.args else None
            return Info(True, "view", dtype, root)
        if name in ops.torch_functions["fresh"]:
            if any(k.arg == "out" for k in node.keywords):
                return Info(True, "view", dtype)
            return Info(True, "fresh", dtype)
        return UNKNOWN

    def _factory(self, node: ast.Call, name: str, scope: Scope) -> Info:
        dtype = "unknown"
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if "dtype" in kw:
            dtype = self.dtype_of_expr(kw["dtype"])
        elif name.endswith("_like") and node.args:
            dtype = self.info(node.args[0], scope).dtype
        elif name in FLOAT_FACTORIES:
            dtype = "float"
        elif name in ("full",) and len(node.args) >= 2:
            dtype = self.info(node.args[1], scope).dtype
        elif name in ("tensor", "as_tensor") and node.args and isinstance(node.args[0], (ast.List, ast.Tuple)):
            dtype = _literal_list_dtype(node.args[0])
        rg = kw.get("requires_grad")
        if isinstance(rg, ast.Constant) and rg.value is True:
            return Info(True, "leaf", dtype)
        if rg is not None and not isinstance(rg, ast.Constant):
            return Info(True, "leaf", dtype)  # may require grad
        return Info(True, "factory", dtype)

    def _method_result(self, node: ast.Call, recv: Info, method: str, scope: Scope) -> Info:
        ops = self.ops
        root = self.root_of(node.func.value, scope)  # type: ignore[attr-defined]
        if method in ops.tensor_methods["nontensor"]:
            return Info(False, "other")
        if method == "requires_grad_":
            return Info(True, "leaf", recv.dtype)
        if method in FACTORY_METHODS:  # `x.new_zeros(...)`: a fresh buffer, not in any graph
            return Info(True, "factory", recv.dtype if method != "new_tensor" else "unknown")
        dtype = recv.dtype
        if method in FLOAT_CAST_METHODS:
            dtype = "float"
        elif method in INT_CAST_METHODS:
            dtype = "int"
        elif method == "bool" or method in COMPARE_METHODS:
            dtype = "bool"
        elif method == "to":
            dtype = next((self.dtype_of_expr(a) for a in [*node.args, *(k.value for k in node.keywords if k.arg == "dtype")]
                          if self.dtype_of_expr(a) != "unknown"), recv.dtype)
        elif method in ops.float_only:
            dtype = "float" if recv.dtype != "complex" else "complex"
        if method in ("clone",):
            return Info(True, "fresh" if recv.origin != "data" else "data", dtype)
        if method in ("detach",) and recv.origin == "leaf":
            return Info(True, "view", dtype, root)
        if method in ops.tensor_methods["alias"]:
            return Info(True, _worse(recv.origin, "view"), dtype, root)
        if method in ops.tensor_methods["fresh"]:
            return Info(True, "fresh" if recv.origin != "data" else "data", dtype)
        return UNKNOWN

    def _module_inplace(self, node: ast.Call, cls: str) -> bool:
        idx = self.ops.modules_inplace.get(cls)
        return idx is not None and inplace_arg(node, idx) is not None

    def _args_dtype(self, node: ast.Call, scope: Scope) -> str:
        out = None
        for a in node.args:
            i = self.info(a, scope)
            if i.tensor:
                out = i.dtype if out in (None, i.dtype) else "unknown"
        return out or "unknown"

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

    # ---- classes ----------------------------------------------------------------------------------
    def enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        for anc in self.index.ancestors(node):
            if isinstance(anc, ast.ClassDef):
                return anc
        return None

    def self_attr_info(self, node: ast.Attribute, scope: Scope) -> Info:
        """What `self.<attr>` is, from the class's `self.<attr> = ...` assignments and
        `register_buffer`/`register_parameter` calls (computed for this attribute only)."""
        cls = self.enclosing_class(node)
        if cls is None:
            return UNKNOWN
        key = (cls, node.attr)
        if key in self._attr_infos:
            return self._attr_infos[key]
        self._attr_infos[key] = UNKNOWN  # recursion guard while computing
        assigns, registered = self._class_facts(cls)
        if node.attr in registered:
            info: Info | None = registered[node.attr]
        else:
            # Assignments that do not read the attribute first (`self.h = torch.zeros(3)`); their
            # join is the provisional answer while the self-referential ones are computed
            # (`self.h = self.h.to(device)`), as a fixed point would start.
            mine = [a for a in assigns.get(node.attr, []) if not _reads_attr(a.value, node.attr)]
            later = [a for a in assigns.get(node.attr, []) if _reads_attr(a.value, node.attr)]
            info = None
            for group in (mine, later):
                for assign in group:
                    info = join(info, self._assigned_attr_info(assign))
                self._attr_infos[key] = info or UNKNOWN
        self._attr_infos[key] = info or UNKNOWN
        return self._attr_infos[key]

    def _assigned_attr_info(self, assign: ast.Assign) -> Info:
        self.index.ensure_scope_of(assign)
        value = self.info(assign.value, self.index.scope_for(assign))
        if value.origin in ("module", "passthrough_module"):
            return value
        if value.tensor:
            return Info(True, "nn_parameter" if value.origin == "nn_parameter" else "attribute", value.dtype)
        return Info(False, "other")

    def _class_facts(self, cls: ast.ClassDef) -> tuple[dict[str, list[ast.Assign]], dict[str, Info]]:
        """`self.<attr> = ...` statements by attr, and registered buffers and parameters: the class's
        own (one walk) and those of its base classes defined in the same file (`super().__init__()`
        runs theirs), all of them: what the attribute may hold."""
        if cls not in self._facts:
            self._facts[cls] = ({}, {})  # guards a cycle of same-named classes
            assigns, registered = self._own_class_facts(cls)
            by_name = self._top_level_classes()
            for base in cls.bases:
                if isinstance(base, ast.Name) and by_name.get(base.id) not in (None, cls):
                    base_assigns, base_registered = self._class_facts(by_name[base.id])
                    for attr, stmts in base_assigns.items():
                        # Not the base's `self.h = self.h.to(d)`: evaluated in the base class, its
                        # `self.h` would be the base's idea of it, not this class's.
                        inherited = [a for a in stmts if not _reads_attr(a.value, attr)]
                        if inherited:
                            assigns[attr] = inherited + assigns.get(attr, [])
                    registered = {**base_registered, **registered}
            self._facts[cls] = (assigns, registered)
        return self._facts[cls]

    def _top_level_classes(self) -> dict[str, ast.ClassDef]:
        if self._classes is None:
            self._classes = {c.name: c for c in self.tree.body if isinstance(c, ast.ClassDef)}
        return self._classes

    def _own_class_facts(self, cls: ast.ClassDef) -> tuple[dict[str, list[ast.Assign]], dict[str, Info]]:
        """One walk of the class's statements."""
        assigns: dict[str, list[ast.Assign]] = {}
        registered: dict[str, Info] = {}
        for stmt in _statements(cls):  # both are statements: no need to visit expressions
            n = stmt.value if isinstance(stmt, ast.Expr) else stmt
            if isinstance(n, ast.Assign) and len(n.targets) == 1:
                t = n.targets[0]
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self":
                    assigns.setdefault(t.attr, []).append(n)
            elif isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.args \
                    and n.func.attr in ("register_buffer", "register_parameter") \
                    and isinstance(n.args[0], ast.Constant) and isinstance(n.args[0].value, str):
                kind = "buffer" if n.func.attr == "register_buffer" else "nn_parameter"
                registered[n.args[0].value] = Info(True, kind)
        return assigns, registered

    def module_class(self, func: ast.AST) -> str | None:
        """`self.bn` (assigned `nn.BatchNorm2d(...)` in the class) or a local `bn = nn.BatchNorm2d()`
        -> "BatchNorm2d"; None when the callee is not a known torch.nn module."""
        value = None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self":
            cls = self.enclosing_class(func)
            if cls is None:
                return None
            assigns = self._class_facts(cls)[0].get(func.attr, [])
            value = assigns[0].value if len(assigns) == 1 else None
        elif isinstance(func, ast.Name):
            scope = self.index.scope_for(func)
            binds, _ = self.index.reaching(scope, func.id, func)
            value = binds[0].value if len(binds) == 1 and binds[0].kind == "assign" else None
        if isinstance(value, ast.Call):
            q = self.imports.qualname(value.func) or ""
            if q.startswith("torch.nn.") and q.count(".") in (2, 3):
                return q.rsplit(".", 1)[-1]
        return None

    # ---- roots -------------------------------------------------------------------------------------
    def root_of(self, node: ast.AST, scope: Scope) -> str | None:
        """The name whose storage `node` may share: `x` for `x[0].view(-1)`."""
        while True:
            if isinstance(node, ast.Name):
                info = self.name_info(node.id, node, scope)
                return info.root or node.id
            if isinstance(node, ast.Subscript):
                node = node.value
            elif isinstance(node, ast.Attribute):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                node = node.func.value
            else:
                return None


def _reads_attr(value: ast.AST, attr: str) -> bool:
    """Does `value` read `self.<attr>`?"""
    return any(isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.value, ast.Name)
               and n.value.id == "self" for n in walk(value))


def inplace_arg(call: ast.Call, index: int) -> str | int | None:
    """Where `inplace=True` is passed: "inplace" (keyword), its positional index, or None."""
    for k in call.keywords:
        if k.arg == "inplace":
            return "inplace" if isinstance(k.value, ast.Constant) and k.value.value is True else None
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        a = call.args[index]
        if isinstance(a, ast.Constant) and a.value is True:
            return index
    return None


def _statements(node: ast.AST):
    """Every statement nested in `node`'s blocks (bodies of defs, ifs, loops, with, try), no expressions."""
    todo = [node]
    while todo:
        current = todo.pop()
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(current, field, None) or ():
                if isinstance(child, ast.stmt):
                    yield child
                todo.append(child)


def _literal_list_dtype(node: ast.AST) -> str:
    """`[1.0, 2.0]` -> float, `[[1, 2]]` -> int: the dtype torch.tensor infers from Python numbers."""
    kinds = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Constant):
            kinds.add(type(n.value))
        elif not isinstance(n, (ast.List, ast.Tuple, ast.UnaryOp, ast.USub, ast.UAdd, ast.Load)):
            return "unknown"
    if kinds - {int, float, bool}:
        return "unknown"
    return "float" if float in kinds else "int" if int in kinds else "bool" if kinds else "unknown"


def _worse(a: str, b: str) -> str:
    return min(a, b, key=lambda o: ORIGIN_RANK.get(o, 0))


def literal_number(node: ast.AST) -> bool:
    """`2`, `-0.5`, `1e-3`: a python number literal."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


__all__ = ["Info", "Inference", "join", "literal_number", "pos", "UNKNOWN"]
