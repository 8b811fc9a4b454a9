"""What a call into torch does to its arguments, from the checked-in torch facts (`optable.json`).

The dataflow pass asks one question per call it recognises: what is the `Effect`? Where does the
result come from (a new tensor, a view of an input, the input itself, a factory buffer, not a
tensor), which input does it write in place, which inputs and outputs does autograd save for
backward, can the result require grad, what is its dtype class. Everything here is read from the
op table, which `scripts/generate_optable.py` measures from torch; nothing imports torch.

A name the table does not know has no effect record: the pass then treats the call like any
unknown call (it may return, keep or save any argument).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace

from outplace.optable import OpTable

# What an argument position means in `Effect.saves` / `Effect.writes` / `Effect.source`:
# "self" is a method's receiver; ints are positional arguments; "*" is every tensor input.
SELF = "self"
ALL = "*"


@dataclass(frozen=True)
class Effect:
    result: str  # fresh | view | maybe_same | same | factory | nontensor | tuple_views | unknown
    label: str  # how messages name the op: "`sigmoid`", "`nn.Linear`"
    source: str | int | None = None  # for view/same: which input the result shares storage with
    writes: str | int | None = None  # which input it writes in place
    saves: frozenset | None = frozenset()  # inputs autograd may save; None: unknown (may save any)
    saves_maybe: bool = False  # the saved inputs depend on arguments (dims, flags, train/eval): "may save"
    saves_output: bool = False
    grad: bool = True  # False: the result never requires grad (comparisons, indices, detach)
    dtype: str | None = None  # float | int | bool | complex | "same" (as the source) | None (from inputs)
    parameterized: bool = False  # a module with parameters: its output is in the graph whatever its input


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
# Ops returning several views of one input: writing into one in place raises when the input
# requires grad ("... is a view and is being modified inplace. This view is the output of a
# function that returns multiple views").
MULTI_VIEW = {"chunk", "split", "unbind", "split_with_sizes", "tensor_split", "hsplit", "vsplit", "dsplit",
              "unsafe_chunk", "unsafe_split"}
# Creation methods on a tensor: a new buffer whatever the receiver.
FACTORY_METHODS = {"new_empty", "new_zeros", "new_ones", "new_full", "new_tensor", "new_empty_strided"}
# Results that are no tensor but share the tensor's memory: a write is visible through them.
STORAGE_SHARING = {"numpy", "untyped_storage", "storage", "_typed_storage", "__array__", "__dlpack__"}
FLOAT_FACTORIES = {"rand", "randn", "rand_like", "randn_like", "linspace", "logspace", "normal", "empty", "zeros",
                   "ones", "eye", "full"}
# Legacy typed constructors and the dtype class of what they make.
LEGACY_CONSTRUCTORS = {"Tensor": "float", "FloatTensor": "float", "DoubleTensor": "float", "HalfTensor": "float",
                       "BFloat16Tensor": "float", "LongTensor": "int", "IntTensor": "int", "ShortTensor": "int",
                       "CharTensor": "int", "ByteTensor": "int", "BoolTensor": "bool"}
# torch.nn modules with parameters that autograd does not save (so `saves_inputs` cannot show them).
# tests/test_torchfacts_analysis.py checks each against torch.
PARAMETERIZED_WITHOUT_SAVING = frozenset({"Embedding", "EmbeddingBag"})
PARAMETER_CLASSES = {"torch.nn.Parameter", "torch.nn.parameter.Parameter"}


class TorchEffects:
    """Effect lookups over one op table (cached per name)."""

    def __init__(self, ops: OpTable) -> None:
        self.ops = ops
        self._cache: dict[tuple, Effect | None] = {}

    # ---- Tensor methods ---------------------------------------------------------------------------
    def method(self, name: str, scalar_operands: bool = False) -> Effect | None:
        key = ("m", name, scalar_operands)
        if key not in self._cache:
            self._cache[key] = self._method(name, scalar_operands)
        return self._cache[key]

    def _method(self, name: str, scalar_operands: bool) -> Effect | None:
        ops = self.ops
        label = f"`{name}`"
        row = ops.methods.get(name)
        if row is not None:  # an in-place method: writes and returns its receiver
            if row["kind"] == "nonmath":
                return Effect("same", label, source=SELF) if name == "requires_grad_" else None
            saves, maybe = self._saved("methods", name, scalar_operands)
            return Effect("same", label, source=SELF, writes=SELF, saves=saves, saves_maybe=maybe,
                          saves_output=name in ops.saves_output["methods"], dtype="same")
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
            return Effect("tuple_views", label, source=SELF, grad=True, dtype="same")
        if name in classes["alias"]:
            return Effect("view", label, source=SELF, grad=not no_grad, dtype=dtype or "same")
        if name in classes["fresh"]:
            return self._fresh("methods", name, label, scalar_operands, no_grad,
                               dtype or ("int" if name in INDEX_RESULT else None))
        return None

    def _fresh(self, category: str, name: str, label: str, scalar: bool, no_grad: bool, dtype: str | None,
               inplace: bool = False) -> Effect:
        saves, maybe = self._saved(category, name, scalar, inplace)
        return Effect("fresh", label, saves=saves, saves_maybe=maybe,
                      saves_output=name in self.ops.saves_output[category], grad=not no_grad, dtype=dtype)

    # ---- torch.* functions --------------------------------------------------------------------------
    def torch_function(self, name: str, scalar_operands: bool = False) -> Effect | None:
        key = ("t", name, scalar_operands)
        if key not in self._cache:
            self._cache[key] = self._torch_function(name, scalar_operands)
        return self._cache[key]

    def _torch_function(self, name: str, scalar_operands: bool) -> Effect | None:
        ops = self.ops
        label = f"`torch.{name}`"
        classes = ops.torch_functions
        if name in LEGACY_CONSTRUCTORS:
            return Effect("factory", label, grad=False, dtype=LEGACY_CONSTRUCTORS[name])
        if name in classes["factory"]:
            return Effect("factory", label, grad=False, dtype="float" if name in FLOAT_FACTORIES else None)
        row = ops.functions.get(name)
        if row is not None:  # torch.relu_(x): writes and returns its first argument
            if not row.get("twin"):
                return None
            saves, maybe = self._saved("torch", name, scalar_operands)
            return Effect("same", label, source=0, writes=0, saves=saves, saves_maybe=maybe,
                          saves_output=name in ops.saves_output["torch"], dtype="same")
        if name in classes["nontensor"]:
            return Effect("nontensor", label, grad=False)
        dtype = "bool" if name in COMPARE_RESULT else ("float" if name in ops.float_only else None)
        no_grad = name in ops.no_grad_output["torch"]
        if name in MULTI_VIEW:
            return Effect("tuple_views", label, source=0, dtype="same")
        if name in classes["alias"]:
            return Effect("view", label, source=0, grad=not no_grad, dtype=dtype or "same")
        if name in classes["fresh"]:
            return self._fresh("torch", name, label, scalar_operands, no_grad,
                               dtype or ("int" if name in INDEX_RESULT else None))
        return None

    # ---- torch.nn.functional ----------------------------------------------------------------------
    def functional(self, name: str, inplace: bool, returns_input: str = "no") -> Effect | None:
        """`returns_input`: "view" / "maybe" / "no": whether this call may return its input (the
        caller reads the measured conditions, `training=False`, `p=0.0`..., off the call)."""
        ops = self.ops
        label = f"`F.{name}`"
        saves_out = name in ops.saves_output["functional"]
        if name in ops.functional["inplace_functions"] or (inplace and name in ops.functional["inplace_param"]):
            saves, maybe = self._saved("functional", name, False, inplace=True)
            return Effect("same", label, source=0, writes=0, saves=saves, saves_maybe=maybe,
                          saves_output=saves_out, dtype="same")
        measured = name in ops.saves_inputs.get("functional", {}) or name in ops.saves_output["functional"] \
            or name in ops.output_not_saved["functional"]
        if not measured:
            return None
        if returns_input != "no":
            saves, maybe = self._saved("functional", name, False)
            return Effect("view" if returns_input == "view" else "maybe_same", label, source=0, saves=saves,
                          saves_maybe=maybe, dtype="same")
        return self._fresh("functional", name, label, False, name in ops.no_grad_output["functional"], "same")

    # ---- torch.nn modules ---------------------------------------------------------------------------
    def returns_input(self, cls: str) -> bool:
        """May a torch.nn module of this class return its input (or a view of it) without `inplace=True`?"""
        return bool(self.ops.may_alias_input.get("modules", {}).get(cls, frozenset()) - {"inplace=True"})

    def module(self, cls: str, inplace: bool) -> Effect:
        eff = self._module(cls, inplace)
        rows = self.ops.saves_inputs.get("modules", {}).get(cls, {})
        if cls in PARAMETERIZED_WITHOUT_SAVING or any("params" in keys for keys in rows.values()):
            eff = replace(eff, parameterized=True)
        return eff

    def _module(self, cls: str, inplace: bool) -> Effect:
        ops = self.ops
        label = f"`nn.{cls}`"
        saves_out = cls in ops.saves_output["modules"]
        if inplace and cls in ops.modules_inplace and ops.may_return_input("modules", cls, inplace=True) is not False:
            saves, maybe = self._saved("modules", cls, False, inplace=True)
            return Effect("same", label, source=0, writes=0, saves=saves, saves_maybe=maybe,
                          saves_output=saves_out, dtype="same")
        saves, maybe = self._saved("modules", cls, False)
        conditions = ops.may_alias_input.get("modules", {}).get(cls, frozenset()) - {"inplace=True"}
        if "always" in conditions:  # nn.Identity, nn.Flatten: the input itself or a view of it
            return Effect("view", label, source=0, saves=saves, saves_maybe=maybe, saves_output=saves_out,
                          dtype="same")
        if conditions:  # nn.Dropout in eval() or with p=0
            return Effect("maybe_same", label, source=0, saves=saves, saves_maybe=maybe, saves_output=saves_out,
                          dtype="same")
        if ops.may_return_input("modules", cls) is None and saves is None:
            return Effect("fresh", label, saves=None, saves_maybe=True, saves_output=True)  # not measured
        return Effect("fresh", label, saves=saves, saves_maybe=maybe, saves_output=saves_out)

    # ---- saved inputs ---------------------------------------------------------------------------------
    def _saved(self, category: str, name: str, scalar_operands: bool, inplace: bool = False
               ) -> tuple[frozenset | None, bool]:
        """Which inputs autograd may save (measured), and whether that depends on the arguments.
        None: not measured for this pattern (then any input may be saved)."""
        got = self.ops.saved_inputs(category, name, scalar_operands, inplace)
        if got is None and scalar_operands:
            got = self.ops.saved_inputs(category, name, False, inplace)  # the general pattern covers it
        if got is None:
            return None, True
        keys = frozenset(SELF if a == "self" else (int(a) if a.isdigit() else a) for a in got
                         if a not in ("params", "buffers"))
        return keys, self.ops.saves_inputs_conditionally(category, name, scalar_operands, inplace)


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
