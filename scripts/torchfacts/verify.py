"""Measure the facts of the call sweep and the shape facts again, another way, and compare them with
the checked-in table (``python scripts/verify_optable.py --facts``).

* The call sweep runs again (the same cases, `calls.run`), but the tensors autograd saves are seen
  by a ``saved_tensors_hooks`` pack hook while each call runs instead of being read from the
  autograd nodes' ``_saved_*`` attributes and confirmed by writing (`probe.measure_by_hooks`).
  From it: `saves_inputs` (and its conditional lists), `saves_output` / `output_not_saved`,
  `may_alias_input` / `no_input_alias`, `no_grad_output` and the modules of `shape_preserving`
  must come out exactly as checked in.
* `shape_preserving` (methods, torch, functional) and `keepdim_reductions` are tried on other
  shapes ((5, 2), (2, 2, 3), size-1 dims) and float16: every listed name must still obey its law
  (names no call could exercise there are counted, not failed).
* `tensor_only_methods` is recomputed.

Returns every disagreement as one line; none means the table is what torch says.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import torch

from . import calls, probe
from .aliasing import build_input_aliasing
from .common import load_op_db
from .grad import build_no_grad_output
from .saving import build_saves_inputs, build_saves_output
from .shapes import keepdim_kind, module_shape_preserving, shape_run
from .tensor_only import build_tensor_only_methods

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
    calls.run(names, op_db, table["functional"]["inplace_param"], table["modules_inplace"], probe.measure_by_hooks)
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
    modules, _ = module_shape_preserving(names["modules"])
    _diff("shape_preserving.modules", table["shape_preserving"]["modules"], modules, out)
    probe.reset()
    return out


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
    return out, unexercised
