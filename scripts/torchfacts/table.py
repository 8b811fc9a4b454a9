"""The whole table: every fact family in order, the printed summary, and the command line."""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path
from typing import Iterable

import torch

from . import calls, probe, saved_when
from .common import DEFAULT_OUTPUT, load_op_db, note, rendered_notes
from .inplace import (build_functional, build_functions, build_methods, build_modules_inplace,
                      opinfo_value_check, verify_equivalents, verify_random)
from .returns import apply_measured_aliasing, bool_to_int_methods, build_tensor_methods, build_torch_functions, \
    float_only_methods
from .aliasing import build_input_aliasing
from .grad import build_no_grad_output
from .complex_traps import build_complex_traps
from .layout import build_layout_changing
from .overlap import build_overlapping_results
from .patterns import build_mode_defaults, build_pattern_args, return_flags
from .saving import (build_inplace_written_saved, build_saved_output_positions, build_saves_inputs, build_saves_output,
                     inplace_names)
from .shapes import build_keepdim_reductions, build_shape_preserving
from .tensor_only import build_tensor_only_methods
from .arity import build_method_max_positional
from .reflected import build_reflected_scalar_saves
from .tuples import build_tuple_grad_positions, build_tuple_returns

DESCRIPTION = "Generate src/outplace/data/optable.json from the installed torch."

# --------------------------------------------------------------------------------------------------

def group(classes: dict[str, str], keys: Iterable[str]) -> dict[str, list[str]]:
    return {k: sorted(n for n, c in classes.items() if c == k) for k in keys}


def generate() -> tuple[dict, dict]:
    """(the table, the evidence: per new fact, the call or sample that proved it)."""
    t0 = time.monotonic()
    methods = build_methods()
    functions = build_functions(methods)
    verify_equivalents()
    verify_random()
    op_db = load_op_db()
    compared = opinfo_value_check(op_db, methods)
    untested = sorted(n for n, r in methods.items() if r["kind"] in ("twin", "view") and not compared[n])
    note(f"opinfo: compared in-place and out-of-place values on {sum(compared.values())} samples of "
         f"{len(compared)} methods; no OpInfo samples for: {', '.join(untested)}")
    methods_cls = build_tensor_methods()
    torch_cls = build_torch_functions()
    apply_measured_aliasing(op_db, methods_cls, torch_cls)
    functional = build_functional()
    modules_inplace = build_modules_inplace()
    t1 = time.monotonic()
    names = calls.names_by_category(methods_cls, torch_cls)
    probe.reset()
    saved_when.reset()
    calls.run(names, op_db, functional["inplace_param"], modules_inplace, saved_when.measuring(by_hooks=False))
    print(f"call sweep measured in {time.monotonic() - t1:.1f} s", file=sys.stderr)
    saves, not_saved = build_saves_output(names)
    saves_inputs, saves_inputs_conditional, inputs_evidence = build_saves_inputs(names)
    may_alias, no_alias, alias_evidence = build_input_aliasing(names)
    no_grad, grad_evidence = build_no_grad_output(names)
    overlapping, overlap_evidence = build_overlapping_results(names)
    saved_outputs, saved_outputs_conditional, saved_outputs_evidence = build_saved_output_positions(names)
    returns_tuple, returns_tuple_conditional, tuple_evidence = build_tuple_returns(names)
    grad_positions, grad_positions_evidence = build_tuple_grad_positions(returns_tuple)
    reflected, reflected_evidence = build_reflected_scalar_saves()
    written, written_evidence = build_inplace_written_saved(names, inplace_names(methods, functions, functional))
    when, when_conditional, when_evidence = saved_when.build_saved_when(names)
    t2 = time.monotonic()
    shape_preserving, shape_evidence = build_shape_preserving(names, functional["inplace_param"])
    keepdim, keepdim_evidence = build_keepdim_reductions(names)
    print(f"shape facts measured in {time.monotonic() - t2:.1f} s", file=sys.stderr)
    version = torch.__version__.split("+")[0]
    table = {
        "torch_version": version,
        "methods": methods,
        "functions": functions,
        "functional": functional,
        "modules_inplace": modules_inplace,
        "tensor_methods": group(methods_cls, ("fresh", "alias", "nontensor")),
        "torch_functions": group(torch_cls, ("fresh", "alias", "nontensor", "factory")),
        "float_only": float_only_methods(methods_cls),
        "bool_to_int": bool_to_int_methods(methods_cls),
        "saves_output": saves,
        "output_not_saved": not_saved,
        "saves_inputs": saves_inputs,
        "saves_inputs_conditional": saves_inputs_conditional,
        "may_alias_input": may_alias,
        "no_input_alias": no_alias,
        "tensor_only_methods": build_tensor_only_methods(),
        "method_max_positional": build_method_max_positional(),
        "shape_preserving": shape_preserving,
        "keepdim_reductions": keepdim,
        "no_grad_output": no_grad,
        "overlapping_results": overlapping,
        "complex_traps": build_complex_traps(methods, functions, functional),
        "layout_changing": build_layout_changing(methods, functions, functional),
        "return_flags": sorted(return_flags()),
        "pattern_args": build_pattern_args(names),
        "mode_defaults": build_mode_defaults(names),
        "saved_output_positions": saved_outputs,
        "saved_output_positions_conditional": saved_outputs_conditional,
        "tuple_returns": returns_tuple,
        "tuple_returns_conditional": returns_tuple_conditional,
        "tuple_grad_positions": grad_positions,
        "reflected_scalar_saves": reflected,
        "inplace_written_saved": written,
        "saved_when": when,
        "saved_when_conditional": when_conditional,
        "notes": rendered_notes(),
    }
    evidence = {
        "torch_version": version,
        "saves_inputs": inputs_evidence,
        "may_alias_input": alias_evidence,
        "no_grad_output": grad_evidence,
        "overlapping_results": overlap_evidence,
        "shape_preserving": shape_evidence,
        "keepdim_reductions": keepdim_evidence,
        "saved_output_positions": saved_outputs_evidence,
        "tuple_returns": tuple_evidence,
        "tuple_grad_positions": grad_positions_evidence,
        "reflected_scalar_saves": reflected_evidence,
        "inplace_written_saved": written_evidence,
        "saved_when": when_evidence,
    }
    print(f"generated in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return table, evidence


def saves_for_others(row: dict[str, dict[str, list[str]]]) -> bool:
    """Some pattern saves an input only when another input requires grad (`mul`, `F.linear`)."""
    return any(k != saved_when.RETURN and k not in when for keys in row.values() for k, when in keys.items())


def summary(table: dict) -> str:
    lines = [f"torch {table['torch_version']}"]
    m = table["methods"]
    lines.append(f"methods: {len(m)}  kind {dict(sorted(collections.Counter(r['kind'] for r in m.values()).items()))}")
    lines.append(f"  dtype {dict(sorted(collections.Counter(r['dtype'] for r in m.values()).items()))}")
    f = table["functions"]
    lines.append(f"functions: {len(f)}  dtype {dict(sorted(collections.Counter(r['dtype'] for r in f.values()).items()))}"
                 f"  without twin {sorted(n for n, r in f.items() if r['twin'] is None)}")
    fn = table["functional"]
    lines.append(f"functional: inplace= {len(fn['inplace_param'])}, F.*_ {len(fn['inplace_functions'])}")
    lines.append(f"modules_inplace: {len(table['modules_inplace'])}")
    lines.append("tensor_methods: " + ", ".join(f"{k} {len(v)}" for k, v in table["tensor_methods"].items()))
    lines.append("torch_functions: " + ", ".join(f"{k} {len(v)}" for k, v in table["torch_functions"].items()))
    lines.append(f"float_only: {len(table['float_only'])}")
    for key in ("saves_output", "output_not_saved", "no_grad_output", "overlapping_results", "shape_preserving", "keepdim_reductions",
                "may_alias_input", "no_input_alias"):
        lines.append(f"{key}: " + ", ".join(f"{k} {len(v)}" for k, v in table[key].items()))
    rows = table["saves_inputs"]
    lines.append("saves_inputs: " + ", ".join(
        f"{k} {len(v)} ({sum(1 for r in v.values() if r['any'])} save an input)" for k, v in rows.items()))
    lines.append("saved_output_positions: " + ", ".join(
        f"{k} {len(v)} ({sum(1 for r in v.values() if any(r.values()))} save a returned tensor)"
        for k, v in table["saved_output_positions"].items()))
    lines.append("tuple_returns: " + ", ".join(f"{k} {len(v)}" for k, v in table["tuple_returns"].items()))
    lines.append("inplace_written_saved: " + ", ".join(
        f"{k} {len(v)} ({sum(1 for r in v.values() if any(r.values()))} save the written tensor)"
        for k, v in table["inplace_written_saved"].items()))
    lines.append("saved_when: " + ", ".join(
        f"{k} {len(v)} ({sum(1 for r in v.values() if saves_for_others(r))} save an input only for another's "
        "gradient)" for k, v in table["saved_when"].items()) + "; conditional: " + ", ".join(
        f"{k} {len(set().union(*v.values()))}" for k, v in table["saved_when_conditional"].items()))
    lines.append("pattern_args: " + ", ".join(f"{k} {len(v)}" for k, v in table["pattern_args"].items()))
    lines.append(f"tensor_only_methods: {len(table['tensor_only_methods'])}")
    lines.append(f"method_max_positional: {len(table['method_max_positional'])}")
    lines.append(f"notes: {len(table['notes'])}")
    return "\n".join(lines)


def evidence_path(output: Path) -> Path:
    """Where the evidence goes: next to the table (`optable.json` -> `optable_evidence.json`)."""
    return output.with_name(output.stem + "_evidence" + output.suffix)


def dump(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help="where to write the JSON (the evidence goes next to it, *_evidence.json)")
    ns = parser.parse_args(argv)
    table, evidence = generate()
    ns.output.parent.mkdir(parents=True, exist_ok=True)
    ns.output.write_text(dump(table), encoding="utf-8")
    evidence_path(ns.output).write_text(dump(evidence), encoding="utf-8")
    print(summary(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
