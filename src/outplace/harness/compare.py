"""The verdict: how the rewritten run relates to the original (and to the oracle).

Pure Python, no torch: the tensor-by-tensor differences are computed inside a worker
(`tensordiff.py`) and arrive here as `Difference` objects.

Verdicts (issue 3):

- ``fixed``     the original raised an in-place autograd error; the rewritten ran; its forward values
                and gradients equal the oracle's (the original re-run with every saved tensor cloned,
                design.md §4). When the oracle cannot run past the error either (leaf and view errors
                are raised *at the op*, not at backward) there is no reference gradient: the verdict
                is still ``fixed`` and a note says the gradients were not verified.
- ``preserved`` the original did not raise an in-place error; both ran (or both stopped the same way:
                same exception type and message, same exit code); values and gradients identical.
- ``changed``   values, dtype, shape or gradients differ, a recorded tensor went missing, or the
                rewritten ran to the end where the original raised an ordinary error (a rewrite must
                never turn code that raised into code that silently computes, design.md §3).
- ``broken``    the rewritten raised (or hung, or crashed) where the original did not, or stopped
                differently; this includes raising an in-place error the original did not raise.
- ``unfixed``   the original raised an in-place error and the rewritten still raises one.
- ``inconclusive`` nothing (or not everything) could be compared, so no claim is made: the original
                timed out or ran out of memory; both runs crashed the same way, or stopped the same
                way before recording anything; both ran but recorded nothing; the rewritten ran past
                the original's in-place error but then timed out, or ran out of memory where the
                original did not; some recorded tensor was over the record budget (unless another
                already differs: ``changed``); the comparison itself ran out of memory; values differ
                but the two runs drew their random numbers through different ops (off the CPU, in-place
                and out-of-place dropout use different kernels), so they could not have matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from outplace.harness.results import (
    BROKEN,
    CHANGED,
    CRASH,
    ERROR,
    EXIT,
    FIXED,
    INCONCLUSIVE,
    MEMORY,
    PRESERVED,
    TIMEOUT,
    UNFIXED,
    Difference,
    Outcome,
)

# Substrings of the errors autograd raises for in-place writes, as torch 2.13 prints them, with the
# class we report. Order matters: the leaf-view text contains the leaf text.
INPLACE_ERRORS: tuple[tuple[str, str], ...] = (
    # A tensor saved for backward was overwritten (raised at backward).
    ("modified by an inplace operation", "saved"),
    # w[0] = 1, w.view(-1).add_(1) on a leaf that requires grad (raised at the op).
    ("a view of a leaf Variable that requires grad is being used in an in-place operation", "leaf-view"),
    # x += 1 on a leaf that requires grad (raised at the op).
    ("a leaf Variable that requires grad is being used in an in-place operation", "leaf"),
    # "Output 0 of UnbindBackward0 is a view and is being modified inplace. ...",
    # "A view was created in no_grad mode and is being modified inplace with grad mode enabled. ...",
    # "Output 0 of X is a view of a view which was created in no_grad mode and is being modified inplace ..."
    ("is being modified inplace", "view"),
    # "... is a view and its base or another view of its base has been modified inplace ..."
    ("has been modified inplace", "view"),
    ("modifies inplace an input that is a view", "view"),
    # torch.add(a, b, out=c) with an argument that requires grad: out= is an in-place write too.
    ("functions with out=... arguments don't support automatic differentiation", "out"),
    ("Inplace update to inference tensor outside InferenceMode", "inference"),
)


def classify_inplace_error(message: str) -> str | None:
    """The in-place autograd error class of an exception message, or None for any other error."""
    for needle, kind in INPLACE_ERRORS:
        if needle in message:
            return kind
    return None


_HEX = re.compile(r"0x[0-9a-fA-F]+")
_VERSION = re.compile(r"is at version \d+; expected version \d+ instead")
# An in-place op and its out-of-place twin refuse the same input with their own names
# (`aten::floor_divide_` / `aten::floor_divide`, `t_()` / `t()`): the same failure.
_INPLACE_NAME = re.compile(r"\b(aten::[A-Za-z]\w*?)_\b|\b([A-Za-z]\w*?)_(?=\(\))")


def normalize_message(message: str, filename: str | None = None) -> str:
    """An error message with run-specific details blanked, for deciding whether two errors are the same."""
    text = message
    if filename:
        text = text.replace(filename, "<script>")
    text = _HEX.sub("0x?", text)
    text = _INPLACE_NAME.sub(lambda m: m.group(1) or m.group(2), text)
    return _VERSION.sub("is at version ?; expected version ? instead", text)


def same_outcome(a: Outcome, b: Outcome) -> bool:
    """Did two runs stop the same way (same status, same exception type and message, same exit code)?"""
    if a.status != b.status:
        return False
    if a.status == ERROR:
        if a.error is None or b.error is None:
            return a.error is b.error
        if a.error.type != b.error.type:
            return False
        if a.error.inplace or b.error.inplace:
            return a.error.inplace == b.error.inplace
        return a.error.normalized == b.error.normalized
    if a.status in (EXIT, CRASH):
        return a.exit_code == b.exit_code
    return True


def needs_oracle(original: Outcome) -> bool:
    return original.inplace_error is not None


@dataclass(frozen=True)
class ComparisonPlan:
    reference: str  # "original" | "oracle": which run's records the rewritten run is compared with
    scope: str  # "all": every record of the reference | "events": only those recorded as they happened


def plan_comparison(original: Outcome, rewritten: Outcome, oracle: Outcome | None) -> ComparisonPlan | None:
    """Which records the verdict needs compared, or None when the outcomes alone decide it."""
    if original.inplace_error:
        if rewritten.inplace_error or not rewritten.completed:
            return None  # unfixed / broken
        if oracle is not None and oracle.completed and oracle.has_records:
            return ComparisonPlan("oracle", "all")
        # No reference gradients: compare what the original recorded before it raised.
        return ComparisonPlan("original", "events") if original.has_records else None
    if rewritten.inplace_error:
        return None  # broken
    if original.status in (TIMEOUT, MEMORY) or rewritten.status == MEMORY:
        return None  # inconclusive
    if original.completed:
        return ComparisonPlan("original", "all") if rewritten.completed and original.has_records else None
    if same_outcome(original, rewritten) and original.has_records and rewritten.has_records:
        return ComparisonPlan("original", "all")  # both raised / exited the same way: compare the state
    return None


@dataclass
class Decision:
    verdict: str
    reason: str
    reference: str | None = None
    differences: list[Difference] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def decide(
    original: Outcome,
    rewritten: Outcome,
    oracle: Outcome | None = None,
    differences: list[Difference] | None = None,
    plan: ComparisonPlan | None = None,
    not_compared: list[str] | None = None,
) -> Decision:
    """The verdict for one case from its runs' outcomes and the differences `plan` asked for.

    `rewritten is original` when the rewrite changed nothing and one run stood for both;
    `not_compared`: recorded tensors the comparison had to leave out (over the record budget).
    """
    decision = _decide(original, rewritten, oracle, differences, plan, not_compared)
    if decision.verdict == CHANGED:
        reference = oracle if decision.reference == "oracle" and oracle is not None else original
        why = _random_draws_differ(reference, rewritten, decision.reference or "original")
        if why:
            return Decision(INCONCLUSIVE, f"{decision.reason}; but {why}", decision.reference,
                            decision.differences, decision.notes)
    return decision


def _random_draws_differ(reference: Outcome, rewritten: Outcome, name: str) -> str | None:
    """Why the two runs' random numbers cannot agree, or None when both drew the same way (or were not listed)."""
    if reference.random_draws is None or rewritten.random_draws is None:
        return None
    if reference.random_draws == rewritten.random_draws and not any(
        op == "(more)" for op, _ in reference.random_draws
    ):
        return None
    ref, new = reference.random_draws, rewritten.random_draws
    i = next((i for i, (a, b) in enumerate(zip(ref, new)) if a != b), min(len(ref), len(new)))
    lead = "the same draws, then " if i else ""
    return (f"the runs drew random numbers through different ops ({name}: {lead}{_draws(ref[i:])}; "
            f"rewritten: {lead}{_draws(new[i:])}), which do not draw the same numbers here: the values could "
            "not have matched; compare on the CPU (--device cpu)")


def _draws(draws: list[list]) -> str:
    if not draws:
        return "none"
    shown = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in draws[:2])
    return shown + (f" (+{len(draws) - 2} more)" if len(draws) > 2 else "")


def _decide(
    original: Outcome,
    rewritten: Outcome,
    oracle: Outcome | None,
    differences: list[Difference] | None,
    plan: ComparisonPlan | None,
    not_compared: list[str] | None,
) -> Decision:
    diffs = list(differences or [])
    skipped = list(not_compared or [])
    notes: list[str] = []
    ref = plan.reference if plan else None

    if original.inplace_error:
        if rewritten.inplace_error:
            return Decision(UNFIXED, f"the rewritten still raises the in-place error: {rewritten.error.short()}")
        if rewritten.status in (TIMEOUT, MEMORY):
            return Decision(INCONCLUSIVE, "the original raised an in-place error; the rewritten ran past it but "
                            f"{rewritten.describe()}: nothing to compare")
        if not rewritten.completed:
            return Decision(
                BROKEN, f"the original raised an in-place error; the rewritten {rewritten.describe()} instead"
            )
        if plan is None or plan.reference != "oracle":
            why = oracle.describe() if oracle is not None else "was not run"
            notes.append(
                "gradients not verified: the oracle (original with saved tensors cloned) "
                f"{why}; only values recorded before the original's error were compared"
            )
        if diffs:
            return Decision(CHANGED, _diff_reason(diffs, ref), ref, diffs, notes)
        if skipped:
            return Decision(INCONCLUSIVE, _skipped_reason(skipped), ref, diffs, notes)
        what = "values and gradients equal the oracle's" if ref == "oracle" else "the rewritten ran"
        return Decision(FIXED, f"original {original.error.short(80)}; {what}", ref, diffs, notes)

    if rewritten.inplace_error:
        return Decision(
            BROKEN, f"the rewritten raises an in-place error the original did not: {rewritten.error.short()}"
        )

    if original.status in (TIMEOUT, MEMORY):
        also = "" if rewritten is original else f" (the rewritten {rewritten.describe()})"
        return Decision(INCONCLUSIVE, f"the original {original.describe()}: nothing to compare with{also}")

    if original.completed:
        if rewritten.status == MEMORY:
            return Decision(INCONCLUSIVE, "the original ran; the rewritten ran out of memory: nothing to compare")
        if not rewritten.completed:
            return Decision(BROKEN, f"the original ran; the rewritten {rewritten.describe()}")
        return _compared(diffs, skipped, ref, notes, "both ran; values and gradients identical",
                         _nothing_compared(original, rewritten, oracle, plan))

    # The original stopped without an in-place error: an ordinary exception, sys.exit(n) or a crash.
    if same_outcome(original, rewritten):
        return _compared(diffs, skipped, ref, notes, f"both {original.describe()}; recorded values identical",
                         _nothing_compared(original, rewritten, oracle, plan))
    if rewritten.status == MEMORY:
        return Decision(INCONCLUSIVE, f"the original {original.describe()}; the rewritten ran out of memory")
    if rewritten.completed:
        diffs.insert(
            0,
            Difference(None, "outcome", detail=f"the original {original.describe()}; the rewritten ran to the end"),
        )
        return Decision(CHANGED, diffs[0].detail, ref, diffs, notes)
    return Decision(BROKEN, f"the original {original.describe()}; the rewritten {rewritten.describe()}")


def _nothing_compared(original: Outcome, rewritten: Outcome, oracle: Outcome | None,
                      plan: ComparisonPlan | None) -> str | None:
    """Why no recorded value could be compared, or None when some was."""
    if rewritten is original:  # one run stood for both: identical by construction, if it recorded at all
        return None if original.has_records else f"the run {original.describe()}: nothing recorded"
    if plan is None:
        return f"both runs {original.describe()}: nothing recorded to compare"
    reference = oracle if plan.reference == "oracle" and oracle is not None else original
    if not any(plan.scope == "all" or e.phase == "event" for e in reference.entries):
        return (f"the {plan.reference} recorded nothing to compare "
                "(no backward call, no tensor or number in its globals)")
    return None


def _compared(diffs: list[Difference], skipped: list[str], ref: str | None, notes: list[str], same: str,
              nothing: str | None) -> Decision:
    if diffs:
        return Decision(CHANGED, _diff_reason(diffs, ref), ref, diffs, notes)
    if nothing is not None:
        return Decision(INCONCLUSIVE, nothing, ref, diffs, notes)
    if skipped:
        return Decision(INCONCLUSIVE, _skipped_reason(skipped), ref, diffs, notes)
    return Decision(PRESERVED, same, ref, diffs, notes)


def _skipped_reason(skipped: list[str]) -> str:
    names = ", ".join(skipped[:3]) + (f" (+{len(skipped) - 3} more)" if len(skipped) > 3 else "")
    return f"{len(skipped)} recorded tensor(s) over the record budget were not compared: {names}"


def _diff_reason(diffs: list[Difference], reference: str | None) -> str:
    head = "; ".join(d.headline() for d in diffs[:2])
    more = f" (+{len(diffs) - 2} more)" if len(diffs) > 2 else ""
    against = f" vs the {reference}" if reference else ""
    return f"{head}{more}{against}"
