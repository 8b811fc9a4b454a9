"""From cases to verdicts: schedule the runs on a worker pool, compare, decide.

Each (case, device) is a small flow on one `WorkerPool.map`, spread over all workers:

1. the original and the rewritten run — a rewrite identical to the original is not run twice, its
   original's outcome stands for both;
2. the oracle (original under cloning saved-tensor hooks), queued as soon as the original raised an
   in-place autograd error;
3. the record comparison the verdict needs (`compare.plan_comparison`), queued as soon as the runs
   are in; then the case's record files are deleted.

Follow-up tasks run before new cases start, so only a few cases' records exist at any time (each
run records at most `WorkerPool.record_mb`): the temporary space stays bounded however many cases.
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
    INCONCLUSIVE,
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
    not_compared: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    compare_error: str | None = None
    compare_memory: bool = False  # the comparison ran out of memory
    waiting: set[str] = field(default_factory=set)  # runs not answered yet
    records: list[str] = field(default_factory=list)


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

    flow = _Flow(pool, options)
    try:
        pool.map(flow.start([s for _, s in slots]), flow.on_answer)
    finally:
        flow.delete_records([s for _, s in slots])

    for ci, slot in slots:
        results[ci, slot.device] = _judge(slot, options, pool.memory_mb)
    order = {d: i for i, d in enumerate(options.devices)}
    return [results[k] for k in sorted(results, key=lambda k: (k[0], order[k[1]]))]


class _Flow:
    """The tasks of every slot, in the order `WorkerPool.map` numbers them, and what follows each answer."""

    def __init__(self, pool: WorkerPool, options: Options) -> None:
        self.pool = pool
        self.options = options
        self.owners: list[tuple[_Slot, str]] = []  # task index -> (slot, "original"|"rewritten"|"oracle"|"compare")

    def start(self, slots: list[_Slot]) -> list[Task]:
        tasks = []
        for slot in slots:
            tasks.append(self._run(slot, "original"))
            if slot.case.rewritten != slot.case.source:
                tasks.append(self._run(slot, "rewritten"))
        return tasks

    def on_answer(self, index: int, answer: dict) -> list[Task]:
        slot, what = self.owners[index]
        if what == "compare":
            self._take_comparison(slot, answer)
            self.delete_records([slot])
            return []
        setattr(slot, what, to_outcome(answer))
        slot.waiting.discard(what)
        follow: list[Task] = []
        if what == "original":
            if slot.case.rewritten == slot.case.source:
                slot.rewritten = slot.original
                slot.notes.append("the rewrite changed nothing: one run stands for both")
            if compare.needs_oracle(slot.original):
                follow.append(self._run(slot, "oracle"))
        if not slot.waiting:
            follow.extend(self._comparison(slot))
        return follow

    def _run(self, slot: _Slot, which: str) -> Task:
        case = slot.case
        record_path = self.pool.new_record_path()
        slot.records.append(record_path)
        slot.waiting.add(which)
        self.owners.append((slot, which))
        rewritten = which == "rewritten"
        request = {
            "op": "run",
            "path": case.abspath,
            "filename": case.rewritten_filename if rewritten else case.abspath,
            "source": case.rewritten if rewritten else case.source,
            "mode": case.mode,
            "device": slot.device,
            # Off the CPU an op's in-place and out-of-place kernels may draw different random numbers.
            "random_draws": slot.device != "cpu",
            "oracle": which == "oracle",
            "record_path": record_path,
            "memory_mb": self.pool.memory_mb or None,
            "record_mb": self.pool.record_mb or None,
            "seed": self.options.seed,
        }
        return Task(request, self.options.timeout)

    def _comparison(self, slot: _Slot) -> list[Task]:
        slot.plan = compare.plan_comparison(slot.original, slot.rewritten, slot.oracle)
        ref = slot.oracle if slot.plan and slot.plan.reference == "oracle" else slot.original
        new = slot.rewritten
        if slot.plan is None or ref is new:  # the outcomes decide; or one run stood for both
            self.delete_records([slot])
            return []
        self.owners.append((slot, "compare"))
        request = {
            "op": "compare",
            "ref": {"path": ref.record_path, "entries": [e.to_json() for e in ref.entries]},
            "new": {"path": new.record_path, "entries": [e.to_json() for e in new.entries]},
            "rtol": self.options.rtol,
            "atol": self.options.atol,
            "scope": slot.plan.scope,
            "memory_mb": self.pool.memory_mb or None,
        }
        return [Task(request, COMPARE_TIMEOUT)]

    @staticmethod
    def _take_comparison(slot: _Slot, answer: dict) -> None:
        if "differences" in answer:
            slot.differences = [Difference.from_json(d) for d in answer["differences"]]
            slot.not_compared = list(answer.get("not_compared") or [])
        else:
            slot.compare_memory = bool(answer.get("memory"))
            slot.compare_error = answer.get("error") or f"the comparison {answer.get('failure', 'failed')}"

    @staticmethod
    def delete_records(slots: list[_Slot]) -> None:
        for slot in slots:
            for path in slot.records:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            slot.records.clear()


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
            output_dropped=int(answer.get("output_dropped") or 0),
        )
    if "status" not in answer:  # the worker itself failed on this request: a harness bug
        return Outcome(status=CRASH, notes=[f"harness error: {answer.get('error', answer)}"[:2000]])
    return Outcome.from_json(answer)


def _judge(slot: _Slot, options: Options, memory_mb: int | None = None) -> CaseResult:
    case = slot.case
    notes = list(slot.notes)
    if slot.compare_memory:
        cap = f" of {memory_mb} MB" if memory_mb else ""
        return _entry(case, slot.device, options, INCONCLUSIVE,
                      f"comparing the records ran out of memory (the cap{cap}): {slot.compare_error}", slot=slot)
    if slot.compare_error is not None:
        return _entry(case, slot.device, options, ERROR_ENTRY, f"comparing the records failed: {slot.compare_error}",
                      slot=slot)
    for outcome in (slot.original, slot.rewritten, slot.oracle):
        bug = next((n for n in outcome.notes if n.startswith("harness error")), None) if outcome else None
        if bug is not None:
            return _entry(case, slot.device, options, ERROR_ENTRY, bug, slot=slot)
    decision = compare.decide(slot.original, slot.rewritten, slot.oracle, slot.differences, slot.plan,
                              slot.not_compared)
    notes.extend(decision.notes)
    for which in ("original", "rewritten", "oracle"):
        outcome = getattr(slot, which)
        if outcome is None or (which == "rewritten" and slot.rewritten is slot.original):
            continue  # one run stood for both: said once
        if outcome.status == TIMEOUT and options.timeout:
            notes.append(f"the {which} run was stopped after {options.timeout:g}s")
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
