"""What a call into torch does to its arguments, from the checked-in torch facts (`optable.json`).

The dataflow pass asks one question per call it recognises: what is the `Effect`? Where does the
result come from (a new tensor, a view of an input, the input itself, a factory buffer, not a
tensor; a tuple of what length), which input does it write in place, which inputs and outputs
(which positions of a returned tuple) does autograd save for backward, can the result require
grad, what is its dtype class. The answers depend on the call's argument pattern
(`TorchEffects.call_pattern`: `torch.max(a, b)` saves its inputs, `torch.max(x)` its result,
`torch.max(x, 1)` its indices), classified exactly as the generator classified the calls it
measured. Everything here is read from the op table, which `scripts/generate_optable.py`
measures from torch; nothing imports torch.

A name the table does not know has no effect record: the pass then treats the call like any
unknown call (it may return, keep or save any argument).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Collection, Mapping

from outplace.optable import OpTable

# What an argument position means in `Effect.saves` / `Effect.writes` / `Effect.source`:
# "self" is a method's receiver; ints are positional arguments; "*" is every tensor input.
SELF = "self"
ALL = "*"
PARAMS = "params"  # in `Effect.saved_when`: a module's own parameters (require grad unless frozen)


@dataclass(frozen=True)
class Effect:
    result: str  # fresh | view | maybe_same | same | factory | nontensor | tuple_views | unknown
    label: str  # how messages name the op: "`sigmoid`", "`nn.Linear`"
    source: str | int | None = None  # for view/same: which input the result shares storage with
    writes: str | int | None = None  # which input it writes in place
    saves: frozenset | None = frozenset()  # inputs autograd may save; None: unknown (may save any)
    saves_maybe: bool = False  # the saved inputs depend on arguments (dims, flags, train/eval): "may save"
    # Per saved input (and "return", the result): the inputs of which one must require grad for autograd
    # to save it (`a * b` saves `a` only when `b` requires grad; PARAMS: a module's own parameters);
    # None: unknown (saved whenever any input requires grad).
    saved_when: Mapping[str | int, frozenset[str | int]] | None = None
    saved_when_maybe: bool = False  # a union over calls that did not all save alike: "may save"
    # Autograd may save a tensor the call returns (a tuple: any of its positions; an in-place op: the
    # written tensor, after the write), for this call's argument pattern.
    saves_output: bool = False
    grad: bool = True  # False: the result never requires grad (comparisons, indices, detach)
    dtype: str | None = None  # float | int | bool | complex | "same" (as the source) | None (from inputs)
    parameterized: bool = False  # a module with parameters: its output is in the graph whatever its input
    # Which positions of the returned tuple autograd may save ({0}: the single tensor result; `x.max(1)`:
    # {1}, the indices); None: unknown (any position may be saved).
    saved_outputs: frozenset[int] | None = frozenset()
    saves_output_maybe: bool = False  # the saved positions depend on arguments: "may save"
    # The call returns a tuple (or list) of this length, 0: a variable length (`split`, `unbind`);
    # None: a single tensor, or unknown.
    returns_tuple: int | None = None
    returns_tuple_maybe: bool = False  # some calls of this pattern return a single tensor instead
    # The positions of that tuple that may hold a tensor requiring grad (`x.max(1)`: {0}, the values);
    # None: unknown. A call dropping all of them at once (`x.max(1)[1]`) leaves a node nothing reaches.
    grad_positions: frozenset[int] | None = None
    overlaps: bool = False  # the result may have elements sharing one memory location (`expand`)
    bool_to_int: bool = False  # a bool input gives an integer result (`sum`, `cumsum`: optable.bool_to_int)
    multi_output: bool = False  # tuple_views: the parts are "several views of one call" (MULTI_VIEW_WRITE_RAISES)


# Functions that return a view of their operand only when given one tensor (`einsum("ij->ji", x)`);
# with several they compute a new tensor (`einsum("bd,cd->bc", q, k)`): asserted on torch by
# scripts/torchfacts/returns.py and tests/test_optable.py.
ONE_OPERAND_ALIAS = frozenset({"einsum"})


# Constructors of sparse tensors, which keep the memory of the tensors they are given (`values`,
# `indices`) rather than copy it: asserted on torch by scripts/torchfacts/returns.py and
# tests/test_optable.py.
SPARSE_CONSTRUCTORS = frozenset({"sparse_coo_tensor", "sparse_csr_tensor", "sparse_csc_tensor", "sparse_bsr_tensor",
                                 "sparse_bsc_tensor", "sparse_compressed_tensor"})


# Python operators, as the tensor methods they call.
BINOP_METHODS = {
    ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floor_divide",
    ast.Mod: "remainder", ast.Pow: "pow", ast.MatMult: "matmul", ast.BitAnd: "bitwise_and",
    ast.BitOr: "bitwise_or", ast.BitXor: "bitwise_xor", ast.LShift: "bitwise_left_shift",
    ast.RShift: "bitwise_right_shift",
}
COMPARE_RESULT = {"eq", "ne", "lt", "le", "gt", "ge", "isnan", "isinf", "isfinite", "logical_and", "logical_or",
                  "logical_not", "logical_xor", "isclose", "isneginf", "isposinf", "signbit", "greater",
                  "greater_equal", "less", "less_equal", "not_equal", "isin", "isreal"}
INDEX_RESULT = {"argmax", "argmin", "argsort", "argwhere", "nonzero", "bucketize", "searchsorted", "bincount",
                "count_nonzero", "unique", "unique_consecutive", "histc", "multinomial"}
FLOAT_CASTS = {"float": "float", "double": "float", "half": "float", "bfloat16": "float", "long": "int", "int": "int",
               "short": "int", "byte": "int", "char": "int", "bool": "bool", "cfloat": "complex", "cdouble": "complex"}
# Ops returning several views of one input (a tuple of views: each shares the input's memory).
MULTI_VIEW = {"chunk", "split", "unbind", "split_with_sizes", "tensor_split", "hsplit", "vsplit", "dsplit",
              "unsafe_chunk", "unsafe_split"}
# Of those, the ones autograd marks "one of several views of one call": writing into one in place
# raises when the input requires grad ("... is a view and is being modified inplace. This view is the
# output of a function that returns multiple views"). `tensor_split`, `hsplit`/`vsplit`/`dsplit` and
# the `unsafe_` ones return plain views, writable in place (tests/test_torchfacts.py checks both ways).
MULTI_VIEW_WRITE_RAISES = {"chunk", "split", "unbind", "split_with_sizes"}
# Creation methods on a tensor: a new buffer whatever the receiver.
FACTORY_METHODS = {"new_empty", "new_zeros", "new_ones", "new_full", "new_tensor", "new_empty_strided"}
# Results that are no tensor but share the tensor's memory: a write is visible through them.
STORAGE_SHARING = {"numpy", "untyped_storage", "storage", "_typed_storage", "__array__", "__dlpack__"}
FLOAT_FACTORIES = {"rand", "randn", "rand_like", "randn_like", "linspace", "logspace", "normal", "empty", "zeros",
                   "ones", "eye", "full"}
# torch functions that return their input itself when not training (`torch.dropout(x, p, False) is
# x`); their positional `train` cannot be read statically, so the result may be the input.
# tests/test_torchfacts.py checks each against torch.
RETURN_INPUT_UNLESS_TRAINING = {"dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"}
# Factories that wrap the memory they are given (an ndarray, a buffer, another tensor) instead of
# copying it: `torch.from_numpy(t.numpy())` is `t`'s storage. Checked in tests/test_torchfacts.py.
MEMORY_WRAPPING_FACTORIES = {"from_numpy", "frombuffer"}
# The legacy wrapper: `torch.autograd.Variable(t)` / `Variable(t, requires_grad=False)` is a new tensor object
# on `t`'s memory and version counter, outside the graph, like `t.detach()` (eval32 dplc).
DETACHING_WRAPPERS = {"torch.autograd.Variable", "torch.autograd.variable.Variable"}
# Legacy typed constructors and the dtype class of what they make (given a tensor or an ndarray of
# their dtype, they wrap its memory too: `torch.Tensor(t)` shares `t`'s storage).
LEGACY_CONSTRUCTORS = {"Tensor": "float", "FloatTensor": "float", "DoubleTensor": "float", "HalfTensor": "float",
                       "BFloat16Tensor": "float", "LongTensor": "int", "IntTensor": "int", "ShortTensor": "int",
                       "CharTensor": "int", "ByteTensor": "int", "BoolTensor": "bool"}
# torch.nn modules with parameters that autograd does not save (so `saves_inputs` cannot show them).
# tests/test_torchfacts_analysis.py checks each against torch.
PARAMETERIZED_WITHOUT_SAVING = frozenset({"Embedding", "EmbeddingBag"})
PARAMETER_CLASSES = {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}
BUFFER_CLASSES = {"torch.nn.Buffer", "torch.nn.parameter.Buffer"}  # `nn.Buffer(t)`: shares t's memory too


def _as_pattern(pattern: str | bool) -> str:
    """An argument pattern (optable.PATTERNS); the boolean `scalar_operands` of earlier callers
    reads as "scalar" (True) or "any" (False)."""
    if isinstance(pattern, bool):
        return "scalar" if pattern else "any"
    return pattern


def _key(key: str) -> str | int:
    """An input key of the op table as the analysis spells it: a position as an int."""
    return int(key) if key.isdigit() else key


def _literal(node: ast.AST, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


def _starred(node: ast.Call) -> bool:
    """`*args` or `**kwargs` in the call: any argument may be in them."""
    return any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)


class TorchEffects:
    """Effect lookups over one op table (cached per name and argument pattern)."""

    def __init__(self, ops: OpTable) -> None:
        self.ops = ops
        self._cache: dict[tuple, Effect | None] = {}

    # ---- argument patterns ------------------------------------------------------------------------
    def call_pattern(self, category: str, name: str, node: ast.Call | None, tensor_args: Collection[int | str],
                     ctor: ast.AST | None = None) -> str:
        """The argument pattern of a call of `category.name` (optable.PATTERNS, the generator's
        classification of the measured calls): "flags" / "tensors" / "dim" / "scalar", or "any"
        when the arguments cannot tell (a return flag that is not a literal, `*args`/`**kwargs`
        where a flag or `dim` may hide, a module whose construction is out of sight).  A `dim`
        that is not the literal None counts as given.  `node`: the call (for a method, `node.args` follow the receiver); `tensor_args`:
        its argument keys (positions as in `node.args`, keyword names) that may hold a tensor, the
        receiver / first argument excluded; `ctor`: for a module, its constructor call (where
        `return_indices=True` is passed).  `inplace=True` is the caller's to check ("inplace")."""
        args = self.ops.pattern_args.get(category, {}).get(name, {})
        flags = self._flags(category, name, args, ctor if category == "modules" else node)
        if flags is None:
            return "any"
        if flags:
            return "flags"
        mode = self._other_mode(category, name, args, node)
        if mode is None:
            return "any"
        if mode:
            return "modes"
        if tensor_args:
            return "tensors"
        if node is None or category == "modules":
            return "scalar"
        if "dim" in args and _starred(node):
            return "any"
        dims = [k.value for k in node.keywords if k.arg == "dim"]
        dims += [node.args[int(i)] for i in args.get("dim", ()) if int(i) < len(node.args)]
        return "dim" if any(not _literal(d, None) for d in dims) else "scalar"

    def _other_mode(self, category: str, name: str, args: Mapping[str, tuple[str, ...]], node: ast.AST | None
                    ) -> bool | None:
        """Whether the call passes a mode (`mode=`, `reduction=`) other than its default (the "modes"
        pattern); None: cannot tell (a value that is not a literal, `*args`/`**kwargs` where one may hide)."""
        defaults = self.ops.mode_defaults.get(category, {}).get(name)
        if not defaults or not isinstance(node, ast.Call) or category == "modules":
            return False
        if any(k.arg is None for k in node.keywords):
            return None
        given = [(p, k.value) for k in node.keywords if (p := k.arg) in defaults]
        starred = next((j for j, a in enumerate(node.args) if isinstance(a, ast.Starred)), None)
        for p in defaults:
            for i in args.get(p, ()):
                if starred is not None and int(i) >= starred:
                    return None  # `F.pad(x, *spec)`: the mode may be in there
                if int(i) < len(node.args):
                    given.append((p, node.args[int(i)]))
        other = False
        for p, v in given:
            if not (isinstance(v, ast.Constant) and isinstance(v.value, str)):
                return None
            other = other or v.value != defaults[p]
        return other

    def _flags(self, category: str, name: str, args: Mapping[str, tuple[str, ...]], node: ast.AST | None
               ) -> bool | None:
        """Whether `node` (a call; a module's constructor) passes a return flag True; None: cannot tell."""
        flag_names = self.ops.return_flags
        # Flags matter where the class or function has one, or where measured calls passed one (as_tuple).
        has_flags = any(p in flag_names for p in args) or "flags" in self.ops.saved_output_positions.get(
            category, {}).get(name, {})
        if not isinstance(node, ast.Call):  # a module built where we cannot see: only its class can tell
            return None if category == "modules" and has_flags else False
        values = [k.value for k in node.keywords if k.arg in flag_names]
        for param, keys in args.items():
            if param in flag_names:
                values += [node.args[int(i)] for i in keys if int(i) < len(node.args)]
        if any(_literal(v, True) for v in values):
            return True
        if has_flags and (_starred(node) or not all(_literal(v, False) or _literal(v, None) for v in values)):
            return None
        return False

    # ---- Tensor methods ---------------------------------------------------------------------------
    def method(self, name: str, pattern: str | bool = "any") -> Effect | None:
        """`pattern`: the call's argument pattern (`call_pattern`; a bool: scalar operands or not)."""
        key = ("m", name, _as_pattern(pattern))
        if key not in self._cache:
            self._cache[key] = self._method(name, key[2])
        return self._cache[key]

    def _method(self, name: str, pattern: str) -> Effect | None:
        ops = self.ops
        label = f"`{name}`"
        row = ops.methods.get(name)
        if row is not None:  # an in-place method: writes and returns its receiver
            if row["kind"] == "nonmath":
                return Effect("same", label, source=SELF) if name == "requires_grad_" else None
            return self._inplace("methods", name, label, SELF, pattern)
        if name in FACTORY_METHODS:
            return Effect("factory", label, grad=False, dtype="same" if name != "new_tensor" else None)
        if name in STORAGE_SHARING:
            return Effect("view", label, source=SELF, grad=False, dtype="same")
        classes = ops.tensor_methods
        if name in classes["nontensor"]:
            return Effect("nontensor", label, grad=False)
        dtype = FLOAT_CASTS.get(name)
        if name in COMPARE_RESULT:
            dtype = "bool"
        elif name in ops.float_only:
            dtype = "float"
        no_grad = name in ops.no_grad_output["methods"]
        if name in MULTI_VIEW:
            return Effect("tuple_views", label, source=SELF, grad=True, dtype="same",
                          multi_output=name in MULTI_VIEW_WRITE_RAISES, **self._tuple("methods", name, pattern))
        if name in classes["alias"]:
            return Effect("view", label, source=SELF, grad=not no_grad, dtype=dtype or "same",
                          overlaps=name in ops.overlapping_results["methods"], **self._outputs("methods", name, pattern))
        if name in classes["fresh"]:
            return self._fresh("methods", name, label, pattern, no_grad,
                               dtype or ("int" if name in INDEX_RESULT else None))
        return None

    def _fresh(self, category: str, name: str, label: str, pattern: str, no_grad: bool, dtype: str | None
               ) -> Effect:
        saves, maybe = self._saved(category, name, pattern)
        return Effect("fresh", label, saves=saves, saves_maybe=maybe, grad=not no_grad, dtype=dtype,
                      bool_to_int=name in self.ops.bool_to_int,
                      **self._saved_when(category, name, pattern), **self._outputs(category, name, pattern))

    def _inplace(self, category: str, name: str, label: str, written: str | int, pattern: str) -> Effect:
        """An op that writes input `written` in place and returns it.  What autograd saves of the
        written tensor is saved after the write: where the facts say it is a copy of the original
        (`pow_(2)`, `mul_(w)`), `written` is not among the saved inputs and the output is not saved."""
        saves, maybe = self._saved(category, name, pattern)
        outputs = self._outputs(category, name, pattern)
        written_saved = self.ops.inplace_saves_written(category, name, pattern)
        if written_saved is False:
            if saves is not None:  # position 0 of the in-place functions and modules is named "input"
                saves = saves - ({written, "input"} if written == 0 else {written})
            outputs.update(saves_output=False, saved_outputs=frozenset(), saves_output_maybe=False)
        elif written_saved:
            outputs.update(saves_output=True, saved_outputs=frozenset({0}))
        return Effect("same", label, source=written, writes=written, saves=saves, saves_maybe=maybe,
                      dtype="same", **self._saved_when(category, name, pattern), **outputs)

    # ---- torch.* functions --------------------------------------------------------------------------
    def torch_function(self, name: str, pattern: str | bool = "any", operands: int = 1) -> Effect | None:
        """`pattern`: the call's argument pattern (`call_pattern`; a bool: scalar operands or not).
        `operands`: how many arguments after the first hold a tensor (einsum's operands follow its
        equation: ONE_OPERAND_ALIAS)."""
        several = operands > 1 and name in ONE_OPERAND_ALIAS
        key = ("t", name, _as_pattern(pattern), several)
        if key not in self._cache:
            self._cache[key] = self._torch_function(name, key[2], several)
        return self._cache[key]

    def _torch_function(self, name: str, pattern: str, several: bool = False) -> Effect | None:
        ops = self.ops
        label = f"`torch.{name}`"
        classes = ops.torch_functions
        if name in LEGACY_CONSTRUCTORS:  # flow.apply: given anything but sizes, it may wrap it
            return Effect("factory", label, grad=False, dtype=LEGACY_CONSTRUCTORS[name])
        if name in MEMORY_WRAPPING_FACTORIES:
            return Effect("view", label, source=0, grad=False)
        if name in RETURN_INPUT_UNLESS_TRAINING:
            saves, maybe = self._saved("torch", name, pattern)
            return Effect("maybe_same", label, source=0, saves=saves, saves_maybe=maybe, dtype="same",
                          **self._saved_when("torch", name, pattern), **self._outputs("torch", name, pattern))
        if name in classes["factory"]:
            return Effect("factory", label, grad=False, dtype="float" if name in FLOAT_FACTORIES else None)
        row = ops.functions.get(name)
        if row is not None:  # torch.relu_(x): writes and returns its first argument
            if not row.get("twin"):
                return None
            return self._inplace("torch", name, label, 0, pattern)
        if name in classes["nontensor"]:
            return Effect("nontensor", label, grad=False)
        dtype = "bool" if name in COMPARE_RESULT else ("float" if name in ops.float_only else None)
        no_grad = name in ops.no_grad_output["torch"]
        if name in MULTI_VIEW:
            return Effect("tuple_views", label, source=0, dtype="same", multi_output=name in MULTI_VIEW_WRITE_RAISES,
                          **self._tuple("torch", name, pattern))
        if name in classes["alias"]:
            saves, maybe = self._saved("torch", name, pattern)
            if several:  # `einsum("bd,cd->bc", q, k)`: computed, never a view of `q`
                return self._fresh("torch", name, label, pattern, no_grad, dtype)
            if saves:
                # May return a view (`einsum("ij->ji", x)`) but also computes and saves its
                # tensor inputs (`einsum("bd,cd->bc", q, k)` saves both): a new tensor that may
                # share memory with the first of them.
                source = min((p for p in saves if isinstance(p, int)), default=0)
                return Effect("maybe_same", label, source=source, saves=saves, saves_maybe=maybe, grad=not no_grad,
                              dtype=dtype or "same", **self._saved_when("torch", name, pattern),
                              **self._outputs("torch", name, pattern))
            return Effect("view", label, source=0, grad=not no_grad, dtype=dtype or "same",
                          overlaps=name in ops.overlapping_results["torch"], **self._outputs("torch", name, pattern))
        if name in classes["fresh"]:
            return self._fresh("torch", name, label, pattern, no_grad,
                               dtype or ("int" if name in INDEX_RESULT else None))
        return None

    # ---- torch.nn.functional ----------------------------------------------------------------------
    def functional(self, name: str, inplace: bool, returns_input: str = "no", pattern: str = "any"
                   ) -> Effect | None:
        """`returns_input`: "view" / "maybe" / "no": whether this call may return its input (the
        caller reads the measured conditions, `training=False`, `p=0.0`..., off the call).
        `pattern`: the call's argument pattern (`call_pattern`) when it does not pass inplace=True."""
        ops = self.ops
        label = f"`F.{name}`"
        if name in ops.functional["inplace_functions"]:  # F.relu_(x): every call writes in place
            return self._inplace("functional", name, label, 0, pattern)
        if inplace and name in ops.functional["inplace_param"]:
            return self._inplace("functional", name, label, 0, "inplace")
        measured = name in ops.saves_inputs.get("functional", {}) or name in ops.saves_output["functional"] \
            or name in ops.output_not_saved["functional"]
        if not measured:
            return None
        if returns_input != "no":
            saves, maybe = self._saved("functional", name, pattern)
            return Effect("view" if returns_input == "view" else "maybe_same", label, source=0, saves=saves,
                          saves_maybe=maybe, dtype="same", **self._saved_when("functional", name, pattern),
                          **self._outputs("functional", name, pattern))
        return self._fresh("functional", name, label, pattern, name in ops.no_grad_output["functional"], "same")

    # ---- torch.nn modules ---------------------------------------------------------------------------
    def returns_input(self, cls: str) -> bool:
        """May a torch.nn module of this class return its input (or a view of it) without `inplace=True`?"""
        return bool(self.ops.may_alias_input.get("modules", {}).get(cls, frozenset()) - {"inplace=True"})

    def module(self, cls: str, inplace: bool, pattern: str = "any") -> Effect | None:
        """`pattern`: the call's argument pattern (`call_pattern` with the constructor call) when
        the module was not built with inplace=True. None: torch 2.13 has no such module (the
        facts measured every `torch.nn` module): a call of it is a call of something unknown."""
        eff = self._module(cls, inplace, pattern)
        if eff is None:
            return None
        rows = self.ops.saves_inputs.get("modules", {}).get(cls, {})
        if cls in PARAMETERIZED_WITHOUT_SAVING or any("params" in keys for keys in rows.values()):
            eff = replace(eff, parameterized=True)
        if eff.dtype is None and eff.writes is None and eff.result == "fresh" and (
                eff.parameterized or cls.lower() in self.ops.float_only):
            # Float weights (`nn.Linear`), or the module computes a float-only function (`nn.Sigmoid`):
            # its output is floating (an integer input raises).
            eff = replace(eff, dtype="float")
        return eff

    def _module(self, cls: str, inplace: bool, pattern: str) -> Effect | None:
        ops = self.ops
        label = f"`nn.{cls}`"
        if inplace and cls in ops.modules_inplace and ops.may_return_input("modules", cls, inplace=True) is not False:
            return self._inplace("modules", cls, label, 0, "inplace")
        saves, maybe = self._saved("modules", cls, pattern)
        outputs = {**self._saved_when("modules", cls, pattern), **self._outputs("modules", cls, pattern)}
        conditions = ops.may_alias_input.get("modules", {}).get(cls, frozenset()) - {"inplace=True"}
        if "always" in conditions:  # nn.Identity, nn.Flatten: the input itself or a view of it
            return Effect("view", label, source=0, saves=saves, saves_maybe=maybe, dtype="same", **outputs)
        if conditions:  # nn.Dropout in eval() or with p=0
            return Effect("maybe_same", label, source=0, saves=saves, saves_maybe=maybe, dtype="same", **outputs)
        if ops.may_return_input("modules", cls) is None and saves is None:  # not measured: not a torch.nn module
            return None
        return Effect("fresh", label, saves=saves, saves_maybe=maybe, **outputs)

    # ---- what is saved, what is returned --------------------------------------------------------------
    def _saved(self, category: str, name: str, pattern: str) -> tuple[frozenset | None, bool]:
        """Which inputs autograd may save (measured), and whether that depends on the arguments.
        None: not measured for this pattern (then any input may be saved)."""
        ops = self.ops
        got = ops.saved_inputs(category, name, pattern=pattern)
        if got is None and pattern != "inplace":
            pattern = "any"  # the general pattern covers every call
            got = ops.saved_inputs(category, name, pattern=pattern)
        if got is None:
            return None, True
        keys = frozenset(_key(a) for a in got if a not in (PARAMS, "buffers"))
        return keys, ops.saves_inputs_conditionally(category, name, pattern=pattern)

    def _saved_when(self, category: str, name: str, pattern: str) -> dict:
        """The Effect fields on which inputs must require grad for each to be saved (measured per
        pattern, "any" where the pattern was not; None: not measured)."""
        row = self.ops.saved_when(category, name, pattern)
        if row is None:
            return {"saved_when": None, "saved_when_maybe": False}
        return {"saved_when": {_key(k): frozenset(_key(g) for g in gs) for k, gs in row.items()},
                "saved_when_maybe": self.ops.saved_when_conditionally(category, name, pattern)}

    def _outputs(self, category: str, name: str, pattern: str) -> dict:
        """The Effect fields on what autograd saves of the result and whether it is a tuple.  Not
        measured: the result may be saved (the legacy union list decides where it names the op)."""
        ops = self.ops
        positions = ops.saved_outputs(category, name, pattern)
        if positions is None:
            listed = name in ops.saves_output.get(category, frozenset())
            return {"saves_output": listed, "saved_outputs": None if listed else frozenset(),
                    "saves_output_maybe": listed, **self._tuple(category, name, pattern)}
        return {"saves_output": bool(positions), "saved_outputs": positions,
                "saves_output_maybe": ops.saves_output_conditionally(category, name, pattern),
                **self._tuple(category, name, pattern)}

    def _tuple(self, category: str, name: str, pattern: str) -> dict:
        return {"returns_tuple": self.ops.returns_tuple(category, name, pattern),
                "returns_tuple_maybe": self.ops.returns_tuple_conditionally(category, name, pattern),
                "grad_positions": self.ops.grad_positions(category, name, pattern)}


def inplace_arg(call: ast.Call, index: int) -> str | int | None:
    """Where a literal true `inplace` is passed: "inplace" (keyword), its positional index, or None.
    torch tests the flag's truth (`if inplace:`), so `inplace=1`, `'y'` or `...` are in place too (eval30 F3)."""
    for k in call.keywords:
        if k.arg == "inplace":
            return "inplace" if truthy_constant(k.value) else None
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        if truthy_constant(call.args[index]):
            return index
    return None


def truthy_constant(node: ast.AST) -> bool:
    """A literal that is true (`True`, `1`, `'y'`): what torch's `if inplace:` takes as in place."""
    return isinstance(node, ast.Constant) and bool(node.value)
