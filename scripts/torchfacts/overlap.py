"""`overlapping_results`: ops that may return a tensor whose elements share memory locations
(`expand`, `broadcast_to`, `as_strided` with a zero stride, `Tensor.unfold` with overlapping
windows), from the call sweep's observations: a name is listed when some measured call returned a
strided tensor with internal overlap (`torch._debug_has_internal_overlap`).

Writing such a tensor in place raises ("more than one element of the written-to tensor refers to a
single memory location"), or for some ops writes one location twice; out of place it computes: a
rewrite would change what the program does, so the analysis offers none as safe.
"""

from __future__ import annotations

from .calls import CATEGORIES
from .probe import RECORDS


def build_overlapping_results(names: dict[str, list[str]]) -> tuple[dict, dict]:
    out: dict[str, list[str]] = {}
    evidence: dict[str, dict[str, str]] = {}
    for cat in CATEGORIES:
        out[cat], evidence[cat] = [], {}
        for name in names[cat]:
            calls = [o for o in RECORDS.get((cat, name), []) if o.overlaps]
            if calls:
                out[cat].append(name)
                evidence[cat][name] = min(o.case.label for o in calls)
    return out, evidence
