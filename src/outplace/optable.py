"""What outplace knows about torch's operators, read from the checked-in `data/optable.json`.

The table is measured from torch itself by `scripts/generate_optable.py` (the modules of
`scripts/torchfacts/` say how each field is decided); outplace never imports torch.  Every field
mirrors a key of the JSON:

- `methods`: in-place `Tensor` methods (`"add_"`) -> row with `kind` ("twin", "equivalent",
  "random", "view", "nonmath"), `twin` (out-of-place method name or None), `dtype` ("same",
  "bool_result", "int_widens", "int_to_float", "unknown") and `template` (an expression with
  `{self}`, `{args}` (the call's argument text) and `{arg0}` (its first argument), or None).
- `functions`: in-place `torch.*_` functions -> row with `twin` (None: no out-of-place function,
  or not math such as `detach_`) and `dtype`.
- `functional`: `{"inplace_param": {F name: positional index of inplace}, "inplace_functions":
  {"relu_": "relu", ...}}`.
- `modules_inplace`: `torch.nn` class -> positional index of `inplace` in `__init__` (self excluded).
- `tensor_methods`: `{"fresh", "alias", "nontensor"}` -> names of public Tensor methods/properties.
- `torch_functions`: `{"fresh", "alias", "nontensor", "factory"}` -> public torch callables.  The
  four sets are disjoint: a factory (`zeros`, `rand_like`...) also returns a fresh tensor but is
  only listed under "factory".  A name in no set is unknown.
- `float_only`: out-of-place method names whose result is floating even for integer input
  (measured without keyword arguments: `div(..., rounding_mode=...)` stays integral), or that
  raise on integer and bool input and return floating results on float input (`softmax`, `mean`).
- `bool_to_int`: out-of-place method names whose result is an integer tensor for bool input (`sum`,
  `cumsum`, `prod`: a count); their result has the dtype of the input otherwise.
- `saves_output`: `{"methods", "torch", "functional", "modules"}` -> names (Tensor methods,
  `torch.*` functions, `torch.nn.functional` functions, `torch.nn` module classes) measured to have
  autograd save a tensor they return (`exp`, `sigmoid`, `softmax`, `F.relu`, `nn.Tanh`...): an
  in-place write into that output breaks a later backward.  Conservative: an op is listed when any
  measured input made it save (`pow` with a tensor exponent, `max` without dim, `sort`'s indices,
  `inplace=True`, `return_indices=True`...; the notes say which).  Per argument pattern and
  tuple position: `saved_output_positions`.
- `output_not_saved`: the same four keys -> names measured never to save what they return (`mul`,
  `add`, `matmul`, `F.linear`, `nn.Conv2d`...): an in-place write into their untouched output is
  harmless to autograd (whatever it does to an input the output aliases is a separate question).
  A name in neither mapping could not be run: unknown.
- `saves_inputs`: the same four keys -> name -> pattern -> *input keys* autograd saved for backward
  (an in-place write into a saved input breaks a later backward; through `kron` it silently changes
  the gradient).  Input keys: `"self"` (a method's receiver), `"0"`, `"1"`... (positional arguments:
  after the receiver for methods, from the first argument for functions; a module's forward
  inputs), a keyword argument's name, and for modules `"params"` (the module's own parameters) and
  `"buffers"` (its buffers: BatchNorm's running stats).  Each positional input also appears under
  its parameter name where the signature (Python-level) or every aten overload (builtins) names it,
  so both `F.linear(x, w)` and `F.linear(x, weight=w)` find `"1"`/`"weight"`.  Patterns: `"any"`:
  the union over every measured call without `inplace=True` (tensor arguments float and requiring
  grad, non-leaf; generic, OpInfo and ModuleInfo samples; modules in train() and eval());
  the other patterns (below): the calls of that argument pattern (`x * 2` ("scalar") saves
  nothing, `x.pow(2)` saves `"self"`, `x.max(1)` ("dim") nothing: its indices are saved, an output).
  A pattern is absent when none of its calls ran; a name is absent when nothing ran.  Use
  `saved_inputs()`.
- `saves_inputs_conditional`: the four keys -> pattern -> names whose calls of that pattern did not
  all save the same inputs (dims, flags, train/eval, which argument was a tensor): the set in
  `saves_inputs` is their union, "may save".
- `may_alias_input`: `{"functional", "modules"}` -> name -> conditions under which a measured call
  returned its input itself or a tensor sharing its storage (a module's parameters are not its
  input): `"always"` (every call: `nn.Identity`, `nn.Flatten`), `"inplace=True"`, `"p=0.0"`,
  `"training=False"` (calls or constructions with that keyword), `"train"`/`"eval"` (a module
  without those keywords, in that mode: `nn.Dropout` in eval()), `"args"` (a functional on some
  other argument pattern: `F.dropout(x, 0.5, False)`; `F.alpha_dropout`'s `training` defaults to
  False).  Use `may_return_input()` / `modules_returning_input()`.
- `no_input_alias`: the same two keys -> names no measured call returned an input or a view of one.
- `tensor_only_methods`: public `torch.Tensor` attribute names that no reference type has (numpy
  arrays and scalars, Python's builtins, `pathlib.Path`, `nn.Module`, distributions, optimizers,
  storages...): `x.<name>` is evidence that `x` is a tensor.
- `method_max_positional`: public `torch.Tensor` method name -> the most positional arguments a call
  takes after the tensor, where torch bounds it (measured: a call with too many is refused for its
  count): `semiring.dot(a, b, 1)` cannot be `Tensor.dot`, which takes 1.
- `shape_preserving`: the four keys -> names whose every measured call with a floating input and
  only Python-scalar arguments returned one dense tensor of the input's exact shape and dtype
  (`exp`, `mul` by a scalar, `clamp`, `softmax`, `cumsum`, `F.relu`, `nn.ReLU`, `nn.LayerNorm`...):
  `x op= f(x, 2)` cannot broadcast or promote `x`.
- `keepdim_reductions`: `{"methods", "torch"}` -> name -> `"tensor"` or `"tuple"` (values first,
  `max`/`median`): `op(x, dim=d, keepdim=True)` keeps `x.ndim` with size 1 in the reduced dims and
  `x`'s floating dtype; with `dim` by position no dim is ever other than 1 or `x`'s.
- `no_grad_output`: the four keys -> names whose result never required grad although an input did
  (comparisons, `argmax`, `argsort`, integer conversions, `detach`, `new_zeros`...; not `sign` or
  `round`: their result is in the graph with a zero gradient).
- `overlapping_results`: the four keys -> names some measured call of which returned a tensor whose
  elements share memory locations (`expand`, `broadcast_to`, `as_strided` with a zero stride):
  writing it in place raises where out of place computes.
- `complex_traps`: `{"methods", "functions", "functional"}` -> in-place name -> how its two forms part
  on a complex64 tensor (one raises, or the dtypes differ: `abs_`, `nan_to_num_` with grad,
  `F.silu(inplace=True)` with grad): a rewrite of one is safe only on an integer or bool tensor.
- `layout_changing`: `{"methods", "functions", "functional"}` -> in-place names whose out-of-place
  form returns other strides than the tensor had (`tril`, `cumsum`, `masked_fill`, `scatter`...: a
  contiguous result of a non-contiguous input): a later read of the layout would see the change.
- Argument patterns, the classes of calls the per-pattern facts tell apart, each call in the first
  that applies: `"inplace"`: the call (a module: its construction) passes `inplace=True`;
  `"flags"`: a return flag (`return_flags`) passed True, by keyword or at its position
  (`pattern_args`; a module: in its construction); `"modes"`: a mode argument (`mode`,
  `reduction`) other than its default (`mode_defaults`), by keyword or at its position
  (`pattern_args`; not modules): `F.pad(x, p, mode="reflect")` saves its input, the default
  constant padding does not; `"tensors"`: a tensor operand besides the
  receiver / first argument / forward input (tensors inside a list passed as that argument,
  `torch.cat([a, b])`, do not count); `"dim"`: a `dim` argument that is not a tensor nor None,
  by keyword or at a position `pattern_args` lists (not modules); `"scalar"`: the rest (every
  other operand a Python number or non-tensor).  `"any"`: every call but `inplace=True` ones.
  Lookups of a pattern not measured for a name fall back to `"any"` (never for "inplace").
- `return_flags`: the keyword names that make a call's pattern "flags" when passed True
  (`return_indices`, `return_counts`, `return_inverse`, `as_tuple`, `get_infos`...).
- `mode_defaults`: `methods`/`torch`/`functional` -> name -> mode parameter -> its default string
  (`F.pad`: `{"mode": "constant"}`; `F.ctc_loss`: `{"reduction": "mean"}`).
- `pattern_args`: the four keys -> name -> parameter (`"dim"`, a return flag, a mode) -> the input keys
  (`"0"`, `"1"`... as in `saves_inputs`) where it may be passed by position (empty:
  keyword-only).  For modules: positions in the constructor's arguments.
- `saved_output_positions`: the four keys -> name -> pattern -> the positions of what the call
  returns that autograd saved: `[0]` for a single saved tensor, a tuple's positions (`max` "dim":
  `[1]`, the indices; `sort`: `[1]`; `nn.MaxPool2d` "flags" (`return_indices=True`): `[1]`,
  "scalar": `[]`); `[]`: nothing returned is saved (`torch.max(a, b)`, `x.pow(2)`).  Measured like
  `saves_output` (whose lists stay the union over every pattern), each tuple position also by
  writing into it alone.  Use `saved_outputs()` / `saved_output()`;
  `saved_output_positions_conditional` (the four keys -> pattern -> names) lists the names whose
  calls of that pattern did not all save the same positions.
- `tuple_returns`: the four keys -> name -> pattern -> the length of the tuple (or list) the calls
  returned, 0 where it varies (`split`, `unbind`, `meshgrid`, `unique` with both flags,
  `nonzero(as_tuple=True)`: lengths differed or an aten overload returns `Tensor[]`), null where
  they returned a single tensor; only names with some tuple result (`max`, `sort`, `topk`,
  `nn.LSTM` (`(output, (h, c))`: 2), `nn.MultiheadAttention`, `nn.LSTMCell`...).
  `tuple_returns_conditional`: names whose calls of that pattern returned a tuple on some calls
  and a tensor on others.  Use `returns_tuple()`.
- `tuple_grad_positions`: the four keys -> name -> pattern -> the positions of a fixed-length
  returned tuple that held a tensor requiring grad after a call whose inputs did (`max(1)`: [0];
  its indices never do).  Autograd reaches a node only through such outputs: a call that drops
  them all at once (`x.max(1)[1]`) saves nothing a backward reads.  Use `grad_positions()`.
- `reflected_scalar_saves`: operator (`ast` class name: "Div", "Sub", "Pow"...) -> what of
  `number <op> tensor` a later in-place write into breaks backward, of "operand" (the tensor) and
  "result": Python runs the tensor's reflected method (`y.__rtruediv__(c)` = `y.reciprocal() * c`,
  which saves only a tensor of its own), not the tensor-first op.  Use `reflected_saves()`.
- `inplace_written_saved`: the four keys -> in-place name -> pattern -> whether autograd saved the
  tensor the call wrote (after the call, writing into it again makes backward fail: `sigmoid_`,
  `exp_`, `pow_(y)`, `F.relu(x, inplace=True)` ("inplace")) or not (`pow_(2)` saves a copy of the
  original `self`, `mul_(w)` saves `w`).  In-place methods, `torch.*_` and `F.*_` functions under
  their call patterns; functionals and modules with `inplace=` under "inplace".  Use
  `inplace_saves_written()`.
- `saved_when`: the four keys -> name -> pattern -> saved key -> the input keys of which at least
  one must require grad for autograd to save it.  Saved keys: the input keys of `saves_inputs`
  (a module's `"params"` included) and RETURN (`"return"`, a tensor the call returns, any
  position).  Autograd saves a tensor only for a derivative formula that reads it: `a * b` saves
  `b` only when `a` requires grad (`{"self": ["0", "other"], "0": ["self"], ...}`), `a / b` saves
  `b` when either does, `F.linear(x, w)` saves `x` only for `w`, `nn.Linear` saves its input
  only for its `"params"` (frozen, never), `exp` saves its result when `self` requires grad.  A
  key that is never saved is absent (`{}`: nothing saved).  Measured by running each call of the
  sweep with only one input key requiring grad at a time; where a save needed several inputs
  together, every input of that call is listed.  Keys and values are spelled both ways as in
  `saves_inputs` ("1" and "weight").  OpTable field: `saved_when_rows`; use `saved_when()`.
- `saved_when_conditional`: the four keys -> pattern -> names whose `saved_when` row is a union,
  not exact on every measured call (a save needed two inputs together, or calls disagreed: dims,
  modes, dtypes): "may save when any of those requires grad".  Use `saved_when_conditionally()`.
- `notes`: measurements that contradicted an expectation (for humans; no code should parse them).

Every fact is measured on torch `torch_version` (CPU) by `scripts/generate_optable.py`; the call
or sample that proved each row of the measured families above is in `data/optable_evidence.json`
(provenance for humans and reviews; never loaded here).  `scripts/verify_optable.py --facts`
measures them again another way and fails on any disagreement.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Callable, Mapping

Row = Mapping[str, Any]

# The argument patterns of the per-pattern facts (module docstring), most specific first; "any" is
# the union of all but "inplace".
PATTERNS = ("any", "inplace", "flags", "modes", "tensors", "dim", "scalar")
# The key of what a call returns in a `saved_when` row (a keyword: never a parameter's name).
RETURN = "return"


@dataclass(frozen=True)
class OpTable:
    torch_version: str
    methods: Mapping[str, Row]
    functions: Mapping[str, Row]
    functional: Mapping[str, Mapping[str, Any]]
    modules_inplace: Mapping[str, int]
    tensor_methods: Mapping[str, frozenset[str]]
    torch_functions: Mapping[str, frozenset[str]]
    float_only: frozenset[str]
    bool_to_int: frozenset[str]
    saves_output: Mapping[str, frozenset[str]]
    output_not_saved: Mapping[str, frozenset[str]]
    saves_inputs: Mapping[str, Mapping[str, Mapping[str, frozenset[str]]]]
    saves_inputs_conditional: Mapping[str, Mapping[str, frozenset[str]]]
    may_alias_input: Mapping[str, Mapping[str, frozenset[str]]]
    no_input_alias: Mapping[str, frozenset[str]]
    tensor_only_methods: frozenset[str]
    method_max_positional: Mapping[str, int]
    shape_preserving: Mapping[str, frozenset[str]]
    keepdim_reductions: Mapping[str, Mapping[str, str]]
    no_grad_output: Mapping[str, frozenset[str]]
    overlapping_results: Mapping[str, frozenset[str]]
    complex_traps: Mapping[str, Mapping[str, str]]
    layout_changing: Mapping[str, frozenset[str]]
    return_flags: frozenset[str]
    pattern_args: Mapping[str, Mapping[str, Mapping[str, tuple[str, ...]]]]
    mode_defaults: Mapping[str, Mapping[str, Mapping[str, str]]]
    saved_output_positions: Mapping[str, Mapping[str, Mapping[str, frozenset[int]]]]
    saved_output_positions_conditional: Mapping[str, Mapping[str, frozenset[str]]]
    tuple_returns: Mapping[str, Mapping[str, Mapping[str, int | None]]]
    tuple_returns_conditional: Mapping[str, Mapping[str, frozenset[str]]]
    tuple_grad_positions: Mapping[str, Mapping[str, Mapping[str, frozenset[int]]]]
    reflected_scalar_saves: Mapping[str, frozenset[str]]
    inplace_written_saved: Mapping[str, Mapping[str, Mapping[str, bool]]]
    saved_when_rows: Mapping[str, Mapping[str, Mapping[str, Mapping[str, frozenset[str]]]]]
    saved_when_conditional: Mapping[str, Mapping[str, frozenset[str]]]
    notes: tuple[str, ...]

    def _input_pattern(self, scalar_operands: bool, inplace: bool, pattern: str | None) -> str:
        if pattern is not None:
            return pattern
        return "inplace" if inplace else "scalar" if scalar_operands else "any"

    def saved_inputs(self, category: str, name: str, scalar_operands: bool = False,
                     inplace: bool = False, pattern: str | None = None) -> frozenset[str] | None:
        """The input keys autograd may save when `category.name` runs (see `saves_inputs`), or
        None when nothing measured says.  `scalar_operands`: every argument but the receiver /
        first argument / forward input is a Python number or another non-tensor (and no dim or
        return flag is given); `inplace`: the call (or the module's construction) passes
        `inplace=True`; `pattern` (one of PATTERNS) overrides both."""
        row = self.saves_inputs.get(category, {}).get(name)
        return None if row is None else row.get(self._input_pattern(scalar_operands, inplace, pattern))

    def saves_inputs_conditionally(self, category: str, name: str, scalar_operands: bool = False,
                                   inplace: bool = False, pattern: str | None = None) -> bool:
        """Whether `saved_inputs()` is a union over calls that saved different inputs ("may save")."""
        pattern = self._input_pattern(scalar_operands, inplace, pattern)
        return name in self.saves_inputs_conditional.get(category, {}).get(pattern, frozenset())

    # ---- per argument pattern (PATTERNS) ----------------------------------------------------------
    def _row(self, family: Mapping[str, Mapping[str, Mapping[str, Any]]], category: str, name: str,
             pattern: str) -> tuple[Any, str] | None:
        """(the value for `pattern`, the pattern it was read from): the pattern's own where measured,
        else "any" (the union over every call without inplace=True)."""
        row = family.get(category, {}).get(name)
        if row is None:
            return None
        for p in (pattern, "any") if pattern != "inplace" else (pattern,):
            if p in row:
                return row[p], p
        return None

    def saved_outputs(self, category: str, name: str, pattern: str = "any") -> frozenset[int] | None:
        """Which positions of what a `pattern` call of `category.name` returns autograd may save: 0
        for a single tensor (`exp`); for a tuple its positions (`x.max(1)` -> {1}, the indices;
        `torch.sort` -> {1}; `F.max_pool2d(x, 2, return_indices=True)` -> {1}); empty when none
        (`torch.max(a, b)`, `x.pow(2)`, `nn.MaxPool2d(2)`).  None: nothing measured says."""
        got = self._row(self.saved_output_positions, category, name, pattern)
        return None if got is None else got[0]

    def saved_output(self, category: str, name: str, pattern: str = "any") -> bool | None:
        """Whether autograd may save a tensor a `pattern` call returns (any position); None: unknown."""
        got = self.saved_outputs(category, name, pattern)
        return None if got is None else bool(got)

    def saves_output_conditionally(self, category: str, name: str, pattern: str = "any") -> bool:
        """Whether `saved_outputs()` is a union over calls that saved different positions."""
        got = self._row(self.saved_output_positions, category, name, pattern)
        return got is not None and name in self.saved_output_positions_conditional.get(category, {}).get(
            got[1], frozenset())

    def returns_tuple(self, category: str, name: str, pattern: str = "any") -> int | None:
        """The length of the tuple a `pattern` call returns (0: variable, `split`, `unbind`,
        `unique` with several flags), or None: a single tensor, or unknown (see
        `returns_tuple_conditionally` for calls that return either)."""
        got = self._row(self.tuple_returns, category, name, pattern)
        return None if got is None else got[0]

    def returns_tuple_conditionally(self, category: str, name: str, pattern: str = "any") -> bool:
        """Some measured `pattern` calls returned a tuple and others a single tensor (`x.max()` and
        `x.max(1)` both in "any")."""
        got = self._row(self.tuple_returns, category, name, pattern)
        return got is not None and name in self.tuple_returns_conditional.get(category, {}).get(got[1], frozenset())

    def grad_positions(self, category: str, name: str, pattern: str = "any") -> frozenset[int] | None:
        """The positions of the tuple a `pattern` call returns that may hold a tensor requiring
        grad; None: not measured (a single tensor, a list, or no differentiable call)."""
        got = self._row(self.tuple_grad_positions, category, name, pattern)
        return None if got is None else got[0]

    def reflected_saves(self, operator: str) -> frozenset[str] | None:
        """For `number <operator> tensor`: which of "operand" and "result" autograd saves; None:
        not measured (no derivative)."""
        return self.reflected_scalar_saves.get(operator)

    def inplace_saves_written(self, category: str, name: str, pattern: str = "any") -> bool | None:
        """For an in-place call (an in-place method, a `torch.*_` or `F.*_` function; "inplace" for
        `inplace=True` functionals and modules): True when autograd saved the written tensor itself,
        so a later write into it breaks backward (`sigmoid_` saves its result, `pow_(y)` too);
        False when what it saved is a copy of the original or nothing of it (`pow_(2)`, `mul_`,
        `add_`).  None: not an in-place call, or not measured."""
        got = self._row(self.inplace_written_saved, category, name, pattern)
        return None if got is None else got[0]

    def saved_when(self, category: str, name: str, pattern: str = "any") -> Mapping[str, frozenset[str]] | None:
        """Per key a `pattern` call of `category.name` may save (input keys as in `saves_inputs`,
        RETURN for its result): the input keys of which one must require grad for autograd to
        save it (`x * w`: "self" only when "0"/"other" does).  A key absent is never saved.
        None: nothing measured says."""
        got = self._row(self.saved_when_rows, category, name, pattern)
        return None if got is None else got[0]

    def saved_when_conditionally(self, category: str, name: str, pattern: str = "any") -> bool:
        """Whether `saved_when()` is a union over calls that did not all save alike ("may save")."""
        got = self._row(self.saved_when_rows, category, name, pattern)
        return got is not None and name in self.saved_when_conditional.get(category, {}).get(got[1], frozenset())

    def may_return_input(self, category: str, name: str, inplace: bool = False) -> bool | None:
        """Whether a `functional`/`modules` call may return its input or a view of it; `inplace`:
        the call (or construction) passes `inplace=True`.  None: nothing measured says."""
        conditions = self.may_alias_input.get(category, {}).get(name)
        if conditions is not None:
            return bool(conditions - {"inplace=True"}) or (inplace and "inplace=True" in conditions)
        return False if name in self.no_input_alias.get(category, frozenset()) else None

    def modules_returning_input(self) -> frozenset[str]:
        """torch.nn classes whose forward may return its input or a view of it without
        `inplace=True` (nn.Identity, nn.Flatten, nn.Dropout in eval()...)."""
        return frozenset(n for n, c in self.may_alias_input.get("modules", {}).items() if c - {"inplace=True"})


def _frozen_rows(rows: dict[str, dict[str, Any]]) -> Mapping[str, Row]:
    return MappingProxyType({name: MappingProxyType(dict(row)) for name, row in rows.items()})


def _frozen_sets(groups: dict[str, list[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({key: frozenset(names) for key, names in groups.items()})


def _per_name(data: dict[str, dict[str, dict[str, Any]]], convert: Callable[[Any], Any]
              ) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """category -> name -> key -> value, read-only, each value converted."""
    return MappingProxyType({cat: MappingProxyType({name: MappingProxyType({k: convert(v) for k, v in row.items()})
                                                    for name, row in rows.items()})
                             for cat, rows in data.items()})


def parse_optable(data: dict[str, Any]) -> OpTable:
    """Build the read-only table from the decoded JSON (a KeyError names a missing key)."""
    return OpTable(
        torch_version=data["torch_version"],
        methods=_frozen_rows(data["methods"]),
        functions=_frozen_rows(data["functions"]),
        functional=_frozen_rows(data["functional"]),
        modules_inplace=MappingProxyType(dict(data["modules_inplace"])),
        tensor_methods=_frozen_sets(data["tensor_methods"]),
        torch_functions=_frozen_sets(data["torch_functions"]),
        float_only=frozenset(data["float_only"]),
        bool_to_int=frozenset(data["bool_to_int"]),
        saves_output=_frozen_sets(data["saves_output"]),
        output_not_saved=_frozen_sets(data["output_not_saved"]),
        saves_inputs=MappingProxyType({cat: MappingProxyType({name: _frozen_sets(row) for name, row in rows.items()})
                                       for cat, rows in data["saves_inputs"].items()}),
        saves_inputs_conditional=MappingProxyType({cat: _frozen_sets(groups)
                                                   for cat, groups in data["saves_inputs_conditional"].items()}),
        may_alias_input=MappingProxyType({cat: _frozen_sets(rows) for cat, rows in data["may_alias_input"].items()}),
        no_input_alias=_frozen_sets(data["no_input_alias"]),
        tensor_only_methods=frozenset(data["tensor_only_methods"]),
        method_max_positional=MappingProxyType(dict(data["method_max_positional"])),
        shape_preserving=_frozen_sets(data["shape_preserving"]),
        keepdim_reductions=MappingProxyType({cat: MappingProxyType(dict(rows))
                                             for cat, rows in data["keepdim_reductions"].items()}),
        no_grad_output=_frozen_sets(data["no_grad_output"]),
        overlapping_results=_frozen_sets(data["overlapping_results"]),
        complex_traps=MappingProxyType({cat: MappingProxyType(dict(rows)) for cat, rows in data["complex_traps"].items()}),
        layout_changing=_frozen_sets(data["layout_changing"]),
        return_flags=frozenset(data["return_flags"]),
        pattern_args=_per_name(data["pattern_args"], tuple),
        mode_defaults=_per_name(data["mode_defaults"], str),
        saved_output_positions=_per_name(data["saved_output_positions"], frozenset),
        saved_output_positions_conditional=MappingProxyType(
            {cat: _frozen_sets(groups) for cat, groups in data["saved_output_positions_conditional"].items()}),
        tuple_returns=_per_name(data["tuple_returns"], lambda v: v),
        tuple_grad_positions=_per_name(data["tuple_grad_positions"], frozenset),
        reflected_scalar_saves=MappingProxyType({k: frozenset(v) for k, v in data["reflected_scalar_saves"].items()}),
        tuple_returns_conditional=MappingProxyType(
            {cat: _frozen_sets(groups) for cat, groups in data["tuple_returns_conditional"].items()}),
        inplace_written_saved=_per_name(data["inplace_written_saved"], bool),
        saved_when_rows=_per_name(data["saved_when"], _frozen_sets),
        saved_when_conditional=MappingProxyType(
            {cat: _frozen_sets(groups) for cat, groups in data["saved_when_conditional"].items()}),
        notes=tuple(data.get("notes", ())),
    )


@functools.cache
def load_optable() -> OpTable:
    """The checked-in table, loaded once per process."""
    text = resources.files("outplace").joinpath("data/optable.json").read_text(encoding="utf-8")
    return parse_optable(json.loads(text))
