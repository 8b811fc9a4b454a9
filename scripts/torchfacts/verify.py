"""Measure the facts of the call sweep and the shape facts again, another way, and compare them with
the checked-in table (``python scripts/verify_optable.py --facts``).

* The call sweep runs again (the same cases, `calls.run`), but the tensors autograd saves are seen
  by a ``saved_tensors_hooks`` pack hook while each call runs instead of being read from the
  autograd nodes' ``_saved_*`` attributes and confirmed by writing (`probe.measure_by_hooks`).
  From it: `saves_inputs` (and its conditional lists), `saves_output` / `output_not_saved`,
  `saved_output_positions` (positions seen by the hook alone, without writing into each),
  `tuple_returns`, `inplace_written_saved` (the hook saw a tensor on the written tensor's
  storage, instead of a write into it failing backward), `may_alias_input` / `no_input_alias`,
  `no_grad_output`, `overlapping_results`, the modules of `shape_preserving` and `saved_when` (each call again with one
  input at a time requiring grad, seen by the hook) must come out exactly as checked in.
* `tuple_returns` of builtin Tensor methods and torch functions against their aten overloads:
  each length (or a single tensor) must be what some overload returns, 0 only where one returns
  `Tensor[]` or the overloads' counts differ.
* `pattern_args`, `mode_defaults` and `return_flags` are recomputed; each `dim` right after the tensor is exercised
  (op(x, 1) must equal op(x, dim=1)).
* `shape_preserving` (methods, torch, functional) and `keepdim_reductions` are tried on other
  shapes ((5, 2), (2, 2, 3), size-1 dims) and float16: every listed name must still obey its law
  (names no call could exercise there are counted, not failed).
* `tensor_only_methods` is recomputed.
* `method_max_positional`: one argument more than each bound is refused for its count, and no bound
  exceeds what aten's schemas allow (`arity.check_method_max_positional`).

Returns every disagreement as one line; none means the table is what torch says.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from . import calls, probe, saved_when
from .aliasing import build_input_aliasing
from .common import attempt, load_op_db
from .grad import build_no_grad_output
from .overlap import build_overlapping_results
from .patterns import python_params, build_mode_defaults, build_pattern_args, return_flags
from .saving import (build_inplace_written_saved, build_saved_output_positions, build_saves_inputs, build_saves_output,
                     inplace_names)
from .schemas import SCHEMAS
from .reflected import check_reflected_scalar_saves
from .tuples import build_tuple_grad_positions, build_tuple_returns
from .shapes import keepdim_kind, module_shape_preserving, shape_run
from .tensor_only import build_tensor_only_methods
from .arity import check_method_max_positional

VERIFY_SHAPES = ((5, 2), (1,), (2, 2, 3), (1, 1), (4, 1, 2), (1, 3, 1))
VERIFY_DTYPES = (torch.float32, torch.float64, torch.float16)
VERIFY_KEEPDIM_SHAPES = ((5, 2), (2, 2, 3), (1, 1, 3), (2, 1))


def _classes(groups: dict[str, list[str]]) -> dict[str, str]:
    return {name: cls for cls, names in groups.items() for name in names}


def table_names(table: dict) -> dict[str, list[str]]:
    return calls.names_by_category(_classes(table["tensor_methods"]), _classes(table["torch_functions"]))


def _diff(label: str, want: Any, got: Any, out: list[str]) -> None:
    """One line per key that differs (recursing through dicts), `want` the checked-in value."""
    if isinstance(want, dict) and isinstance(got, dict):
        for k in sorted(set(want) | set(got)):
            _diff(f"{label}.{k}", want.get(k), got.get(k), out)
    elif isinstance(want, list) and isinstance(got, list) and all(isinstance(v, str) for v in want + got):
        missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
        if missing or extra:
            out.append(f"{label}: table has {missing or '-'} that the measurement lacks; measured {extra or '-'} "
                       "that the table lacks")
    elif want != got:
        out.append(f"{label}: table {want!r}, measured {got!r}")


def check_sweep(table: dict, op_db: list) -> list[str]:
    names = table_names(table)
    probe.reset()
    saved_when.reset()
    calls.run(names, op_db, table["functional"]["inplace_param"], table["modules_inplace"],
              saved_when.measuring(by_hooks=True))
    out: list[str] = []
    rows, conditional, _ = build_saves_inputs(names)
    _diff("saves_inputs", table["saves_inputs"], rows, out)
    _diff("saves_inputs_conditional", table["saves_inputs_conditional"], conditional, out)
    saves, not_saved = build_saves_output(names)
    _diff("saves_output", table["saves_output"], saves, out)
    _diff("output_not_saved", table["output_not_saved"], not_saved, out)
    may, never, _ = build_input_aliasing(names)
    _diff("may_alias_input", table["may_alias_input"], may, out)
    _diff("no_input_alias", table["no_input_alias"], never, out)
    no_grad, _ = build_no_grad_output(names)
    _diff("no_grad_output", table["no_grad_output"], no_grad, out)
    overlapping, _ = build_overlapping_results(names)
    _diff("overlapping_results", table["overlapping_results"], overlapping, out)
    modules, _ = module_shape_preserving(names["modules"])
    _diff("shape_preserving.modules", table["shape_preserving"]["modules"], modules, out)
    saved, saved_conditional, _ = build_saved_output_positions(names)
    _diff("saved_output_positions", table["saved_output_positions"], saved, out)
    _diff("saved_output_positions_conditional", table["saved_output_positions_conditional"], saved_conditional, out)
    tuples, tuples_conditional, _ = build_tuple_returns(names)
    _diff("tuple_returns", table["tuple_returns"], tuples, out)
    _diff("tuple_returns_conditional", table["tuple_returns_conditional"], tuples_conditional, out)
    _diff("tuple_grad_positions", table["tuple_grad_positions"], build_tuple_grad_positions(tuples)[0], out)
    written, _ = build_inplace_written_saved(names, inplace_names(table["methods"], table["functions"],
                                                                  table["functional"]))
    _diff("inplace_written_saved", table["inplace_written_saved"], written, out)
    when, when_conditional, _ = saved_when.build_saved_when(names)
    _diff("saved_when", table["saved_when"], when, out)
    _diff("saved_when_conditional", table["saved_when_conditional"], when_conditional, out)
    probe.reset()
    saved_when.reset()
    return out


# --------------------------------------------------------------------------------------------------
# tuple_returns against the aten schemas; pattern_args by calling
# --------------------------------------------------------------------------------------------------

def schema_return_counts(name: str) -> set[int]:
    """How many tensors each aten overload of `name` returns (0: a list of tensors), out= and
    tensor-free overloads aside."""
    counts = set()
    for sch in SCHEMAS.get(name, ()):
        if any(a.alias_info is not None and a.alias_info.is_write and a.kwarg_only for a in sch.arguments):
            continue
        types = [str(r.type) for r in sch.returns]
        if not any("Tensor" in t for t in types + [str(a.type) for a in sch.arguments]):
            continue
        counts.add(0 if any(t.startswith("List[Tensor") for t in types) else len(types))
    return counts


def check_tuple_returns(table: dict, unexercised: list[str]) -> list[str]:
    """Each measured length of a builtin Tensor method or torch function must be the return count of
    one of its aten overloads (0: one returning a list, or overloads of different counts), and a
    single tensor must be what some overload returns.  Python-level names (no overload of that
    name) are counted in `unexercised`."""
    out: list[str] = []
    for cat in ("methods", "torch"):
        for name, row in table["saved_output_positions"][cat].items():
            counts = schema_return_counts(name)
            if not counts or python_level(cat, name):
                unexercised.append(f"tuple_returns.{cat}.{name}")
                continue
            tuples = table["tuple_returns"][cat].get(name, {p: None for p in row})
            flags = set(table["pattern_args"][cat].get(name, {})) - {"dim"}
            for pattern, n in tuples.items():
                if pattern in ("flags", "any") and "flags" in tuples and not flags:
                    # A flag torch's argument parser handles (nonzero's as_tuple) calls another op.
                    unexercised.append(f"tuple_returns.{cat}.{name}.{pattern}")
                    continue
                fits = (1 in counts if n is None else
                        (0 in counts or len(counts - {1}) > 1) if n == 0 else n in counts)
                if not fits:
                    out.append(f"tuple_returns.{cat}.{name}.{pattern}: table {n!r}, aten overloads return "
                               f"{sorted(counts)} tensors (0: a list)")
    return out


def python_level(category: str, name: str) -> bool:
    """A Python function (or a boolean dispatch) stands between the call and the aten op."""
    return python_params(calls.op_fn(category, name) if category != "methods" else getattr(torch.Tensor, name),
                          skip_first=False) is not None


def check_pattern_args(table: dict, unexercised: list[str]) -> list[str]:
    """`pattern_args` and `return_flags` are recomputed; then each first-position `dim` (the argument
    right after the tensor) is exercised: op(x, 1) and op(x, dim=1) on a (3, 4) float tensor must
    give the same result (or both raise)."""
    out: list[str] = []
    _diff("pattern_args", table["pattern_args"], build_pattern_args(table_names(table)), out)
    _diff("return_flags", table["return_flags"], sorted(return_flags()), out)
    _diff("mode_defaults", table["mode_defaults"], build_mode_defaults(table_names(table)), out)
    first = {"methods": "0", "torch": "1", "functional": "1"}
    for cat, key in first.items():
        fn_of = calls.op_fn
        for name, args in table["pattern_args"][cat].items():
            if args.get("dim") != [key]:
                continue
            fn = fn_of(cat, name)
            x = torch.linspace(0.1, 0.9, 12).reshape(3, 4)
            by_position, e1 = attempt(lambda: fn(x.clone(), 1))
            by_keyword, e2 = attempt(lambda: fn(x.clone(), dim=1))
            if e1 is not None and e2 is not None:
                unexercised.append(f"pattern_args.{cat}.{name}")
            elif (e1 is None) != (e2 is None) or not _same(by_position, by_keyword):
                out.append(f"pattern_args.{cat}.{name}: op(x, 1) and op(x, dim=1) differ")
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b) or a.isnan().any())
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b)


def check_shapes(table: dict, unexercised: list[str]) -> list[str]:
    out: list[str] = []
    inplace_param = table["functional"]["inplace_param"]
    for cat in ("methods", "torch", "functional"):
        for name in table["shape_preserving"][cat]:
            limit = calls.inplace_position(inplace_param, name) if cat == "functional" else None
            run = shape_run(cat, name, limit, VERIFY_SHAPES, VERIFY_DTYPES)
            if run.violation:
                out.append(f"shape_preserving.{cat}.{name}: {run.violation} changed the shape or dtype")
            elif not run.shapes:
                unexercised.append(f"shape_preserving.{cat}.{name}")
    for cat, rows in table["keepdim_reductions"].items():
        for name, kind in rows.items():
            got, proof = keepdim_kind(calls.op_fn(cat, name), VERIFY_KEEPDIM_SHAPES, VERIFY_DTYPES)
            if got is None and not proof:
                unexercised.append(f"keepdim_reductions.{cat}.{name}")
            elif got != kind:
                out.append(f"keepdim_reductions.{cat}.{name}: table {kind!r}, measured {got!r} ({proof})")
    return out


def verify_facts(table: dict, log: Callable[[str], None] = lambda m: None) -> tuple[list[str], list[str]]:
    """(disagreements, rows no new input could exercise)."""
    t0 = time.monotonic()
    if table["torch_version"] != torch.__version__.split("+")[0]:
        return [f"the table was measured on torch {table['torch_version']}, this is {torch.__version__}"], []
    out = check_sweep(table, load_op_db())
    log(f"call sweep (saved tensors by pack hook) compared in {time.monotonic() - t0:.1f} s")
    unexercised: list[str] = []
    out += check_shapes(table, unexercised)
    log(f"shape facts on other shapes and float16 compared in {time.monotonic() - t0:.1f} s")
    _diff("tensor_only_methods", table["tensor_only_methods"], build_tensor_only_methods(), out)
    out += check_method_max_positional(table["method_max_positional"])
    out += check_reflected_scalar_saves(table["reflected_scalar_saves"])
    out += check_tuple_returns(table, unexercised)
    out += check_pattern_args(table, unexercised)
    log(f"tuple_returns against aten schemas, pattern_args by calling, in {time.monotonic() - t0:.1f} s")
    return out, unexercised
