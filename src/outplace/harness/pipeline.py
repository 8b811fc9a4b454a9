"""From cases to verdicts: schedule the runs on a worker pool, compare, decide.

Three rounds of `WorkerPool.map`, each spread over all workers:

1. the original and the rewritten of every (case, device) — a rewrite identical to the original is
   not run twice, its original's outcome stands for both;
2. the oracle (original under cloning saved-tensor hooks) of every case whose original raised an
   in-place autograd error;
3. the record comparisons the verdicts need (`compare.plan_comparison`).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from outplace.harness import compare
from outplace.harness.cases import CaseSpec
from outplace.harness.results import (
    CRASH,
    ERROR_ENTRY,
    SKIPPED,
    TIMEOUT,
    CaseResult,
    Difference,
    Outcome,
)
from outplace.harness.runner import Task, WorkerPool

COMPARE_TIMEOUT = 600.0


@dataclass
class Options:
    devices: tuple[str, ...] = ("cpu",)
    rtol: float = 0.0
    atol: float = 0.0
    timeout: float | None = 60.0
    seed: int = 0

    @property
    def exact(self) -> bool:
        return self.rtol == 0 and self.atol == 0

    def tolerance(self) -> dict:
        return {"rtol": self.rtol, "atol": self.atol, "exact": self.exact}


@dataclass
class _Slot:
    case: CaseSpec
    device: str
    original: Outcome | None = None
    rewritten: Outcome | None = None
    oracle: Outcome | None = None
    plan: compare.ComparisonPlan | None = None
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    compare_error: str | None = None


def cuda_note(info: dict) -> str:
    return (
        "CUDA skipped: torch.cuda.is_available() is False in the harness workers "
        f"(torch {info.get('torch', '?')})"
    )


def run_cases(pool: WorkerPool, cases: list[CaseSpec], options: Options) -> list[CaseResult]:
    """Verdicts for every case on every requested device, in case order then device order."""
    info = pool.info or pool.start()
    results: dict[tuple[int, str], CaseResult] = {}
    slots: list[tuple[int, _Slot]] = []
    for ci, case in enumerate(cases):
        for device in options.devices:
            if case.engine_error is not None or case.rewritten is None:
                results[ci, device] = _entry(case, device, options, ERROR_ENTRY, case.engine_error or "no rewrite")
            elif device == "cuda" and not info.get("cuda"):
                results[ci, device] = _entry(case, device, options, SKIPPED, cuda_note(info))
            else:
                slots.append((ci, _Slot(case, device)))

    record_paths: list[str] = []
    try:
        _round_runs(pool, [s for _, s in slots], options, record_paths)
        _round_oracles(pool, [s for _, s in slots if compare.needs_oracle(s.original)], options, record_paths)
        _round_compares(pool, [s for _, s in slots], options)
    finally:
        for path in record_paths:
            with contextlib.suppress(OSError):
                os.unlink(path)

    for ci, slot in slots:
        results[ci, slot.device] = _judge(slot, options)
    order = {d: i for i, d in enumerate(options.devices)}
    return [results[k] for k in sorted(results, key=lambda k: (k[0], order[k[1]]))]


def _run_task(pool: WorkerPool, slot: _Slot, which: str, options: Options, record_paths: list[str]) -> Task:
    case = slot.case
    record_path = pool.new_record_path()
    record_paths.append(record_path)
    rewritten = which == "rewritten"
    request = {
        "op": "run",
        "path": case.abspath,
        "filename": case.rewritten_filename if rewritten else case.abspath,
        "source": case.rewritten if rewritten else case.source,
        "mode": case.mode,
        "device": slot.device,
        "oracle": which == "oracle",
        "record_path": record_path,
        "memory_mb": pool.memory_mb or None,
        "seed": options.seed,
    }
    return Task(request, options.timeout)


def _round_runs(pool: WorkerPool, slots: list[_Slot], options: Options, record_paths: list[str]) -> None:
    tasks: list[Task] = []
    index: list[tuple[_Slot, str]] = []
    for slot in slots:
        tasks.append(_run_task(pool, slot, "original", options, record_paths))
        index.append((slot, "original"))
        if slot.case.rewritten != slot.case.source:
            tasks.append(_run_task(pool, slot, "rewritten", options, record_paths))
            index.append((slot, "rewritten"))
    for (slot, which), answer in zip(index, pool.map(tasks)):
        setattr(slot, which, to_outcome(answer))
    for slot in slots:
        if slot.rewritten is None:
            slot.rewritten = slot.original
            slot.notes.append("the rewrite changed nothing: one run stands for both")


def _round_oracles(pool: WorkerPool, slots: list[_Slot], options: Options, record_paths: list[str]) -> None:
    if not slots:
        return
    tasks = [_run_task(pool, slot, "oracle", options, record_paths) for slot in slots]
    for slot, answer in zip(slots, pool.map(tasks)):
        slot.oracle = to_outcome(answer)


def _round_compares(pool: WorkerPool, slots: list[_Slot], options: Options) -> None:
    tasks: list[Task] = []
    todo: list[_Slot] = []
    for slot in slots:
        slot.plan = compare.plan_comparison(slot.original, slot.rewritten, slot.oracle)
        if slot.plan is None:
            continue
        ref = slot.oracle if slot.plan.reference == "oracle" else slot.original
        new = slot.rewritten
        if ref is new:
            continue  # one run stood for both: nothing can differ
        tasks.append(
            Task(
                {
                    "op": "compare",
                    "ref": {"path": ref.record_path, "entries": [e.to_json() for e in ref.entries]},
                    "new": {"path": new.record_path, "entries": [e.to_json() for e in new.entries]},
                    "rtol": options.rtol,
                    "atol": options.atol,
                    "scope": slot.plan.scope,
                },
                COMPARE_TIMEOUT,
            )
        )
        todo.append(slot)
    if not tasks:
        return
    for slot, answer in zip(todo, pool.map(tasks)):
        if "differences" in answer:
            slot.differences = [Difference.from_json(d) for d in answer["differences"]]
        else:
            slot.compare_error = answer.get("error") or f"the comparison {answer.get('failure', 'failed')}"


def to_outcome(answer: dict) -> Outcome:
    """A worker's answer to a run request (or the pool's failure answer) as an Outcome."""
    failure = answer.get("failure")
    if failure is not None:
        code = answer.get("exit_code")
        return Outcome(
            status=TIMEOUT if failure == "timeout" else CRASH,
            exit_code=None if failure == "timeout" else code,
            duration_s=float(answer.get("elapsed_s") or 0.0),
            output_tail=answer.get("output_tail", ""),
        )
    if "status" not in answer:  # the worker itself failed on this request: a harness bug
        return Outcome(status=CRASH, notes=[f"harness error: {answer.get('error', answer)}"[:2000]])
    return Outcome.from_json(answer)


def _judge(slot: _Slot, options: Options) -> CaseResult:
    case = slot.case
    notes = list(slot.notes)
    if slot.compare_error is not None:
        return _entry(case, slot.device, options, ERROR_ENTRY, f"comparing the records failed: {slot.compare_error}",
                      slot=slot)
    for outcome in (slot.original, slot.rewritten, slot.oracle):
        bug = next((n for n in outcome.notes if n.startswith("harness error")), None) if outcome else None
        if bug is not None:
            return _entry(case, slot.device, options, ERROR_ENTRY, bug, slot=slot)
    decision = compare.decide(slot.original, slot.rewritten, slot.oracle, slot.differences, slot.plan)
    notes.extend(decision.notes)
    for which in ("original", "rewritten", "oracle"):
        outcome = getattr(slot, which)
        if outcome is not None and outcome.status == TIMEOUT and options.timeout:
            notes.append(f"the {which} run was stopped after {options.timeout:g}s")
        if outcome is not None and not (which == "rewritten" and slot.rewritten is slot.original):
            notes.extend(f"{which}: {n}" for n in outcome.notes)
    return CaseResult(
        path=case.path,
        device=slot.device,
        verdict=decision.verdict,
        reason=decision.reason,
        against=case.against,
        mode=case.mode,
        expected=case.expected,
        original=slot.original,
        rewritten=slot.rewritten,
        oracle=slot.oracle,
        reference=decision.reference,
        differences=decision.differences,
        tolerance=options.tolerance(),
        notes=notes,
    )


def _entry(case: CaseSpec, device: str, options: Options, verdict: str, reason: str, slot: _Slot | None = None):
    return CaseResult(
        path=case.path,
        device=device,
        verdict=verdict,
        reason=reason,
        against=case.against,
        mode=case.mode,
        expected=case.expected,
        original=slot.original if slot else None,
        rewritten=slot.rewritten if slot else None,
        oracle=slot.oracle if slot else None,
        tolerance=options.tolerance(),
        notes=[reason] if verdict == SKIPPED else [],
    )
