"""`saved_when`: per op and argument pattern, which inputs must require grad for autograd to save each
input (and the result).

Autograd saves a tensor only when a derivative formula that reads it will run, that is when some
input whose gradient needs it requires grad: `a * b` saves `b` only for `a`'s gradient and `a` only
for `b`'s; `a / b` saves `b` for either gradient but `a` only for `b`'s; `F.linear(x, w)` saves `x`
only for `w`'s.  So `x * noise`, with `noise` a mask outside the graph, saves nothing at all.

Measured on the call sweep's own calls (`calls.run`): each call whose inputs require grad under
more than one input key runs again once per such key with only that key's tensors requiring grad
(`only_grad`: the others detached in place; a module's parameters, key ``"params"``, count as an
input), measured as the sweep measures (`probe.observe`: introspection and the direct write check
for the generator; the pack hook for the verifier).  A call with a single such key is its own
single run.  Per (category, name, pattern), for each saved input key (and RETURN for the result):
the union over the pattern's calls of the keys whose single runs saved it, where a saved input no
single run explains (saved only when two inputs require grad together) adds every key of that call.
The row is conditional when on some call it is not exact: for some key, "saved when only `g`
requires grad" (or "saved when all do") is not what the union says.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field, replace
from typing import Any

from .calls import CATEGORIES, Case, Measure
from .common import examples, note, tensors_in
from .patterns import ALL_PATTERNS
from .probe import RECORDS, Observation, observe
from .saving import with_names, in_pattern
from .schemas import positional_names

RETURN = "return"  # the key of the result in a row: a Python keyword, so never a parameter's name


@dataclass
class Run:
    """One call of the sweep with every input requiring grad (`full`, the sweep's own
    observation), and the same call with only one input key requiring grad, per key."""

    full: Observation
    singles: dict[str, Observation] = field(default_factory=dict)


RUNS: dict[tuple[str, str], list[Run]] = collections.defaultdict(list)


def reset() -> None:
    RUNS.clear()


def grad_keys(inputs: dict[str, Any]) -> list[str]:
    """The input keys holding a tensor that requires grad (a module's parameters: "params")."""
    return sorted(k for k, v in inputs.items() if any(t.requires_grad for t in tensors_in(v)))


def _stop_grad(t: Any) -> None:
    if t.is_leaf:
        t.requires_grad_(False)
    else:
        t.detach_()  # the sweep's inputs are clones of leaves: not views, so this detaches in place


def only_grad(case: Case, keep: str) -> Case:
    """The same call, with only the tensors under input key `keep` requiring grad."""
    def make() -> tuple[Any, dict[str, Any]]:
        call, inputs = case.make()
        for k, v in inputs.items():
            if k != keep:
                for t in tensors_in(v):
                    if t.requires_grad:
                        _stop_grad(t)
        return call, inputs
    return replace(case, make=make)


def measuring(by_hooks: bool) -> Measure:
    """The sweep's measure (into `probe.RECORDS`), and then each single-key run (into `RUNS`)."""
    scratch: dict[tuple[str, str], list[Observation]] = collections.defaultdict(list)

    def measure(case: Case) -> bool:
        full = observe(case, by_hooks, RECORDS)
        if full is None or not full.differentiable or case.int_only:
            return full is not None
        try:
            keys = grad_keys(case.make()[1])
        except Exception:  # noqa: BLE001 - observe built it once already
            keys = []
        run = Run(full)
        if len(keys) == 1:
            run.singles[keys[0]] = full
        elif len(keys) > 1:
            for key in keys:
                single = observe(only_grad(case, key), by_hooks, scratch)
                if single is not None and single.differentiable:
                    run.singles[key] = single
        if run.singles:
            RUNS[case.key].append(run)
        scratch.clear()
        return True
    return measure


def saved_keys(obs: Observation) -> frozenset[str]:
    """The input keys a call saved, and RETURN when it saved a tensor it returned."""
    return obs.saved_inputs | ({RETURN} if obs.output_saved else frozenset())


def run_keys(run: Run) -> frozenset[str]:
    """The keys a call could save: its inputs holding a tensor, and its result."""
    return frozenset(run.full.input_direct) | {RETURN}


def when_of(run: Run) -> tuple[dict[str, set[str]], bool]:
    """(saved key -> the keys whose single run saved it, whether some save needed more than one
    key: then it is charged to every key of the call)."""
    when: dict[str, set[str]] = collections.defaultdict(set)
    for g, obs in run.singles.items():
        for k in saved_keys(obs):
            when[k].add(g)
    joint = False
    for k in saved_keys(run.full) - set(when):
        when[k] = set(run.singles)
        joint = True
    return when, joint


def exact(run: Run, row: dict[str, set[str]]) -> bool:
    """On this call, each key is saved with only `g` requiring grad exactly when the row names
    `g`, and with every input requiring grad exactly when the row names one of them."""
    full = saved_keys(run.full)
    for k in run_keys(run):
        wanted = row.get(k, set())
        if any((k in saved_keys(obs)) != (g in wanted) for g, obs in run.singles.items()):
            return False
        if (k in full) != bool(wanted & set(run.singles)):
            return False
    return True


def _named(row: dict[str, set[str]], names: dict[str, str]) -> dict[str, list[str]]:
    """Keys and values under every key a call may pass them by (`saving.with_names`)."""
    out: dict[str, set[str]] = collections.defaultdict(set)
    for k, gs in row.items():
        for alias in with_names(frozenset({k}), names) if k != RETURN else [k]:
            out[alias].update(with_names(frozenset(gs), names))
    return {k: sorted(v) for k, v in sorted(out.items())}


def build_saved_when(names: dict[str, list[str]]) -> tuple[dict, dict, dict]:
    """(saved_when, saved_when_conditional, evidence).

    saved_when: category -> name -> pattern -> saved key (an input key, or RETURN) -> the input
    keys of which one must require grad for it to be saved; a pattern none of whose calls had an
    input requiring grad is left out.  saved_when_conditional: category -> pattern -> the names
    whose row is not exact on every call (`exact`).  Evidence: per pattern, the first call (by
    label) whose inputs had more than one key requiring grad, and what each single run saved."""
    rows: dict[str, dict[str, dict[str, dict[str, list[str]]]]] = {}
    conditional: dict[str, dict[str, list[str]]] = {}
    evidence: dict[str, dict[str, dict[str, str]]] = {}
    joint_saves: list[str] = []
    for cat in CATEGORIES:
        rows[cat], evidence[cat] = {}, {}
        conditional[cat] = {p: [] for p in ALL_PATTERNS}
        for name in names[cat]:
            runs = sorted(RUNS.get((cat, name), []), key=lambda r: r.full.case.label)
            if not runs:
                continue
            signature = positional_names(cat, name)
            row: dict[str, dict[str, list[str]]] = {}
            proofs: dict[str, str] = {}
            for pattern in ALL_PATTERNS:
                mine = [r for r in runs if in_pattern(r.full, pattern)]
                if not mine:
                    continue
                union: dict[str, set[str]] = collections.defaultdict(set)
                for r in mine:
                    when, joint = when_of(r)
                    if joint:
                        joint_saves.append(f"{cat}.{name}: {r.full.case.label}")
                    for k, gs in when.items():
                        union[k] |= gs
                row[pattern] = _named(union, signature)
                if not all(exact(r, union) for r in mine):
                    conditional[cat][pattern].append(name)
                several = next((r for r in mine if len(r.singles) > 1), None)
                if several is not None:
                    proofs[pattern] = f"{several.full.case.label}: " + "; ".join(
                        f"only {g}: {sorted(saved_keys(o)) or 'nothing'}" for g, o in sorted(several.singles.items()))
            rows[cat][name] = row
            if proofs:
                evidence[cat][name] = proofs
    if joint_saves:
        note("saved_when: saved only when more than one input required grad (charged to every input of the call, "
             "conditional): " + examples(sorted(set(joint_saves)), 12))
    return rows, conditional, evidence
