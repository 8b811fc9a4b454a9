"""`tuple_returns`: which calls return a tuple (or list) rather than one tensor, and its length, per
argument pattern, from the call sweep's observations (`probe.RECORDS`).

Per name and pattern (`saving.in_pattern`), over every measured call that returned a tensor
somewhere: the length of the tuple when every such call returned one of the same length; 0
(variable length) when the lengths differed or some aten overload of the name returns a list of
tensors (``Tensor[]``: split, unbind, meshgrid...: the number of arguments or the sizes decide);
None when every call returned a single tensor.  A name is listed only when some call returned a
tuple; a pattern is conditional when some of its calls returned a tuple and others a tensor
(``x.max()`` and ``x.max(1)`` meet in "any").

`tuple_grad_positions`: for a fixed-length tuple, per pattern, the positions holding a tensor that
required grad after some call whose inputs did (`max(1)`: [0], the values; the indices never do).
A node of autograd is reached in backward only through its outputs that require grad: a call whose
such outputs are all dropped at once (`x.max(1)[1]`) saves nothing that any backward reads.
Patterns without such a call are left out (unknown).
"""

from __future__ import annotations

from .calls import CATEGORIES
from .common import note
from .patterns import ALL_PATTERNS
from .probe import RECORDS
from .saving import in_pattern
from .schemas import SCHEMAS


def returns_list(name: str) -> bool:
    """Some aten overload of `name` (out= aside) returns a list of tensors."""
    return any(
        any(str(r.type).startswith("List[Tensor") or str(r.type) == "Tensor[]" for r in s.returns)
        for s in SCHEMAS.get(name, ())
        if not any(a.alias_info is not None and a.alias_info.is_write and a.kwarg_only for a in s.arguments)
    )


def tuple_length(lengths: set[int], variable: bool) -> int | None:
    if not lengths:
        return None
    return 0 if variable or len(lengths) > 1 else next(iter(lengths))


def build_tuple_returns(names: dict[str, list[str]]) -> tuple[dict, dict, dict]:
    """(tuple_returns, tuple_returns_conditional, evidence)."""
    rows: dict[str, dict[str, dict[str, int | None]]] = {}
    conditional: dict[str, dict[str, list[str]]] = {}
    evidence: dict[str, dict[str, dict[str, str]]] = {}
    by_schema: list[str] = []
    for cat in CATEGORIES:
        rows[cat], evidence[cat] = {}, {}
        conditional[cat] = {p: [] for p in ALL_PATTERNS}
        for name in names[cat]:
            calls = sorted(RECORDS.get((cat, name), []), key=lambda o: o.case.label)
            if not any(o.returned is not None for o in calls):
                continue
            variable = cat != "modules" and returns_list(name)
            row: dict[str, int | None] = {}
            proofs: dict[str, str] = {}
            for pattern in ALL_PATTERNS:
                mine = [o for o in calls if in_pattern(o, pattern)]
                if not mine:
                    continue
                lengths = {o.returned for o in mine if o.returned is not None}
                row[pattern] = tuple_length(lengths, variable)  # type: ignore[arg-type]
                if lengths and any(o.returned is None for o in mine):
                    conditional[cat][pattern].append(name)
                first = next((o for o in mine if o.returned is not None), None)
                if first is not None:
                    proofs[pattern] = f"{first.case.label} -> {first.returned}"
                if variable and len(lengths) == 1:
                    by_schema.append(f"{cat}.{name}")
            rows[cat][name] = row
            evidence[cat][name] = proofs
    if by_schema:
        note("tuple_returns: every measured call returned the same length, yet an aten overload returns "
             "Tensor[] (classified variable length, 0): " + ", ".join(sorted(set(by_schema))))
    return rows, conditional, evidence


def build_tuple_grad_positions(returns: dict) -> tuple[dict, dict]:
    """(tuple_grad_positions, evidence) for the fixed-length rows of `returns` (build_tuple_returns)."""
    rows: dict[str, dict[str, dict[str, list[int]]]] = {}
    evidence: dict[str, dict[str, dict[str, str]]] = {}
    for cat, names in returns.items():
        rows[cat], evidence[cat] = {}, {}
        for name, by_pattern in names.items():
            calls = sorted(RECORDS.get((cat, name), []), key=lambda o: o.case.label)
            row: dict[str, list[int]] = {}
            proofs: dict[str, str] = {}
            for pattern, n in by_pattern.items():
                if not n:
                    continue  # a single tensor, or a list whose length varies
                mine = [o for o in calls if in_pattern(o, pattern) and o.differentiable and o.returned == n]
                if not mine:
                    continue
                row[pattern] = sorted(set().union(*(o.grad_positions for o in mine)))
                proofs[pattern] = f"{len(mine)} differentiable calls, e.g. {mine[0].case.label}"
            if row:
                rows[cat][name], evidence[cat][name] = row, proofs
    return rows, evidence
