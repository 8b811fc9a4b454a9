"""What outplace knows about torch's operators, read from the checked-in `data/optable.json`.

The table is measured from torch itself by `scripts/generate_optable.py` (see that script for how
each field is decided); outplace never imports torch.  Every field mirrors a key of the JSON:

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
  (measured without keyword arguments: `div(..., rounding_mode=...)` stays integral).
- `saves_output`: `{"methods", "torch", "functional", "modules"}` -> names (Tensor methods,
  `torch.*` functions, `torch.nn.functional` functions, `torch.nn` module classes) measured to have
  autograd save a tensor they return (`exp`, `sigmoid`, `softmax`, `F.relu`, `nn.Tanh`...): an
  in-place write into that output breaks a later backward.  Conservative: an op is listed when any
  measured input made it save (`pow` with a tensor exponent, `max` without dim, `sort`'s indices,
  `inplace=True`, `return_indices=True`...; the notes say which).
- `output_not_saved`: the same four keys -> names measured never to save what they return (`mul`,
  `add`, `matmul`, `F.linear`, `nn.Conv2d`...): an in-place write into their untouched output is
  harmless to autograd (whatever it does to an input the output aliases is a separate question).
  A name in neither mapping could not be run: unknown.
- `notes`: measurements that contradicted an expectation (for humans; no code should parse them).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Mapping

Row = Mapping[str, Any]


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
    saves_output: Mapping[str, frozenset[str]]
    output_not_saved: Mapping[str, frozenset[str]]
    notes: tuple[str, ...]


def _frozen_rows(rows: dict[str, dict[str, Any]]) -> Mapping[str, Row]:
    return MappingProxyType({name: MappingProxyType(dict(row)) for name, row in rows.items()})


def _frozen_sets(groups: dict[str, list[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType({key: frozenset(names) for key, names in groups.items()})


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
        saves_output=_frozen_sets(data["saves_output"]),
        output_not_saved=_frozen_sets(data["output_not_saved"]),
        notes=tuple(data.get("notes", ())),
    )


@functools.cache
def load_optable() -> OpTable:
    """The checked-in table, loaded once per process."""
    text = resources.files("outplace").joinpath("data/optable.json").read_text(encoding="utf-8")
    return parse_optable(json.loads(text))
