"""`no_grad_output`: ops whose result never requires grad, even when an input does (comparisons,
``argmax``, integer-valued results, ``detach``...), from the call sweep's observations.

A name is listed when it ran on at least one call with a floating input that requires grad and no
tensor any such call returned requires grad.  Calls on integer inputs (never part of a graph) are
no evidence.  A name whose result required grad on any call is out (``sign``, ``round``, ``floor``:
their gradient is zero, yet their result is part of the graph).
"""

from __future__ import annotations

from .calls import CATEGORIES
from .probe import RECORDS


def build_no_grad_output(names: dict[str, list[str]]) -> tuple[dict, dict]:
    out: dict[str, list[str]] = {}
    evidence: dict[str, dict[str, str]] = {}
    for cat in CATEGORIES:
        out[cat], evidence[cat] = [], {}
        for name in names[cat]:
            calls = [o for o in RECORDS.get((cat, name), []) if o.differentiable and not o.case.int_only]
            if calls and not any(o.requires_grad for o in calls):
                out[cat].append(name)
                evidence[cat][name] = f"{len(calls)} calls, e.g. {min(o.case.label for o in calls)}"
    return out, evidence
