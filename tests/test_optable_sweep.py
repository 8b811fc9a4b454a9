"""The op table proves itself (issue 3), fast subset: every row the fixer rewrites runs in place and
as outplace rewrites it, on the same inputs, and the two must agree unless the fix says why not.

`scripts/verify_optable.py` does the work (`check_row`: write the call out, let the engine rewrite
it, run both on layout-preserving copies, compare); here it runs on

* a deterministic grid per row: float32 / int64 / bool x 0-dim, contiguous (3, 4), transposed
  view, strided slice x operand of the same shape / of a smaller shape that broadcasts / a Python
  scalar (where the op takes one);
* a few derandomized hypothesis draws per row (shapes, layouts, NaN/inf values, operands that
  broadcast, grow the receiver or promote its dtype, op-specific arguments).

A case is a BUG when the rewrite changes the result (raises where the original worked, computes
where it raised, another dtype, shape or value) and the fix is nevertheless offered as safe.
BUGs already known are listed in KNOWN_BUGS, each with a strict xfail reproducer below: the day
one is fixed, its xfail passes and fails the run, and the entry must go.
The full sweep (every OpInfo sample, every CPU dtype, 50 draws per row) is
`python scripts/verify_optable.py --full`.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = 5  # hypothesis draws per row and form


def _load_verifier():
    name = "verify_optable"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "verify_optable.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


V = _load_verifier()
ROWS, SKIPPED = V.table_rows()
DTYPES = V.CI_DTYPES


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reductions and RNG streams must not depend on the thread count
    yield
    torch.set_num_threads(threads)


# --- known table/rule bugs ------------------------------------------------------------------------

@dataclass(frozen=True)
class KnownBug:
    label: str
    reason: str
    matches: Callable[[object], bool]  # Outcome -> is this that bug?
    reproducer: Callable[[], object]  # -> Outcome of one minimal case


def _bool_square(section: str, name: str) -> Callable[[], object]:
    return lambda: V.check_row(section, name, {"twin": "square", "dtype": "same"}, torch.tensor([True, False]))


def _complex_abs(section: str, name: str) -> Callable[[], object]:
    return lambda: V.check_row(section, name, {}, torch.tensor([3 + 4j, -1j]))


# Bugs the sweep found and that are fixed (DTYPE_TRAPS in codemods/op102_inplace_method.py, the
# dtype= check in rewrite.py, the compile() guard in engine.py): each reproducer must stay fixed.
REGRESSIONS = [
    KnownBug(
        "methods.abs_",
        "abs_ on a complex tensor raises ('In-place abs is not supported for complex tensors'), abs() "
        "returns the real magnitude; the row says dtype 'same' (the generator probes no complex dtype)",
        lambda o: o.outcome == "inplace_raises_only" and o.x_dtype.startswith("complex"),
        _complex_abs("methods", "abs_")),
    KnownBug(
        "methods.absolute_",
        "as abs_: absolute_ raises on complex tensors, absolute() returns real values",
        lambda o: o.outcome == "inplace_raises_only" and o.x_dtype.startswith("complex"),
        _complex_abs("methods", "absolute_")),
    KnownBug(
        "functions.abs_",
        "as abs_: torch.abs_ raises on complex tensors, torch.abs returns real values",
        lambda o: o.outcome == "inplace_raises_only" and o.x_dtype.startswith("complex"),
        _complex_abs("functions", "abs_")),
    KnownBug(
        "methods.square_",
        "square_ on a bool tensor raises, square() returns int64; the row says dtype 'same', so the "
        "fix is offered as safe (generator note: 'in-place raises but out-of-place returns torch.int64')",
        lambda o: o.outcome == "inplace_raises_only" and o.x_dtype == "bool",
        _bool_square("methods", "square_")),
    KnownBug(
        "functions.square_",
        "torch.square_ on a bool tensor raises, torch.square returns int64; the row says dtype 'same'",
        lambda o: o.outcome == "inplace_raises_only" and o.x_dtype == "bool",
        _bool_square("functions", "square_")),
    KnownBug(
        "methods.float_power_",
        "float_power_ raises unless the receiver is float64/complex128, float_power returns float64; "
        "the row says int_to_float, so a receiver known to be float32 gets a safe fix",
        lambda o: o.outcome == "inplace_raises_only" and o.x_dtype in ("float32", "float16", "bfloat16"),
        lambda: V.check_row("methods", "float_power_", {}, torch.tensor([0.5, 2.0]), (2.0,))),
    KnownBug(
        "methods.cumsum_",
        "OP102 appends dtype=x.dtype to a call that already passes dtype=: `x.cumsum(0, dtype=torch.float32, "
        "dtype=x.dtype)` does not compile (ast.parse accepts it, compile() does not)",
        lambda o: o.outcome == "outofplace_raises_only" and "keyword argument repeated" in o.detail,
        lambda: V.check_row("methods", "cumsum_", {}, torch.ones(3), (0,), {"dtype": torch.float32})),
    KnownBug(
        "methods.cumprod_",
        "as cumsum_: `x.cumprod_(0, dtype=...)` is rewritten with a repeated dtype keyword",
        lambda o: o.outcome == "outofplace_raises_only" and "keyword argument repeated" in o.detail,
        lambda: V.check_row("methods", "cumprod_", {}, torch.ones(3), (0,), {"dtype": torch.float32})),
]
KNOWN_BUGS: list[KnownBug] = []  # bugs found but not fixed yet: excused in the sweeps, xfail below
KNOWN = {k.label: k for k in KNOWN_BUGS}


def unexpected_bugs(outcomes: list) -> list:
    bad = []
    for o in outcomes:
        known = KNOWN.get(o.label)
        if o.verdict == "BUG" and not (known and known.matches(o)):
            bad.append(o)
    return bad


def _report(outcomes: list) -> str:
    return "\n".join(o.reproducer() for o in outcomes[:5])




@pytest.mark.parametrize("bug", REGRESSIONS, ids=lambda k: k.label)
def test_fixed_bug_stays_fixed(bug: KnownBug) -> None:
    outcome = bug.reproducer()
    assert outcome.verdict != "BUG", outcome.reproducer()


# Only while some bug is known: a parametrisation over an empty list is a test that cannot fail.
if KNOWN_BUGS:
    @pytest.mark.parametrize("bug", [pytest.param(k, id=k.label, marks=pytest.mark.xfail(strict=True, reason=k.reason))
                                     for k in KNOWN_BUGS])
    def test_known_bug(bug: KnownBug) -> None:
        outcome = bug.reproducer()
        assert outcome.verdict != "BUG", outcome.reproducer()

    @pytest.mark.parametrize("bug", KNOWN_BUGS, ids=lambda k: k.label)
    def test_known_bug_is_what_its_entry_says(bug: KnownBug) -> None:
        """A known bug's signature matches its reproducer (so it excuses that bug and no other)."""
        outcome = bug.reproducer()
        assert outcome.label == bug.label
        assert outcome.verdict != "BUG" or bug.matches(outcome), outcome.reproducer()


def test_unexpected_bugs_excuses_only_a_matching_known_bug(monkeypatch) -> None:
    """The excuse mechanism itself, whether or not a bug is known today."""
    outcome = V.Outcome("methods.square_", "inplace_raises_only", "BUG", "", "x.square_()", "x = x.square()", (),
                        "x = torch.tensor([True])", "test", "bool")
    assert outcome.verdict == "BUG" and unexpected_bugs([outcome]) == [outcome]
    entry = KnownBug(outcome.label, "test", lambda o: o.x_dtype == "bool", lambda: outcome)
    monkeypatch.setitem(KNOWN, outcome.label, entry)
    assert unexpected_bugs([outcome]) == []
    monkeypatch.setitem(KNOWN, outcome.label, KnownBug(outcome.label, "test", lambda o: False, lambda: outcome))
    assert unexpected_bugs([outcome]) == [outcome]


# --- the rows -----------------------------------------------------------------------------------

def test_rows_are_every_row_the_fixer_rewrites() -> None:
    table = V.load_optable()
    labels = {r.label for r in ROWS}
    by_section: dict[str, int] = {}
    for r in ROWS:
        by_section[r.section] = by_section.get(r.section, 0) + 1
    assert by_section == {"methods": 149, "functions": 69, "functional.inplace_functions": 8,
                          "functional.inplace_param": 19, "modules_inplace": 19}
    for name, row in table.methods.items():
        rewritten = row["kind"] in ("twin", "view") or bool(row["template"])
        assert (f"methods.{name}" in labels) == rewritten, name
    assert {f"functions.{n}" for n, r in table.functions.items() if r["twin"]} <= labels
    assert sum(len(v) for v in SKIPPED.values()) == 18  # 12 non-math, fill_diagonal_, 5 functions without twin
    for r in ROWS:  # every row has an argument spec (draw_case raises KeyError otherwise)
        V.draw_case(r, V.Gen(V.RandomChoices(0), DTYPES))


@functools.lru_cache(maxsize=None)
def grid(label: str, dtype: torch.dtype) -> tuple:
    ref = next(r for r in ROWS if r.label == label)
    return tuple(case.check() for case in V.grid_cases(ref, (dtype,)))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: str(d).removeprefix("torch."))
@pytest.mark.parametrize("label", [r.label for r in ROWS])
def test_grid(label: str, dtype: torch.dtype) -> None:
    outcomes = grid(label, dtype)
    assert outcomes
    bad = unexpected_bugs(list(outcomes))
    assert not bad, _report(bad)


@pytest.mark.parametrize("label", [r.label for r in ROWS])
def test_every_row_is_exercised(label: str) -> None:
    """At least one grid case ran the rewrite (the original worked, or only one side raised)."""
    outcomes = [o for d in DTYPES for o in grid(label, d)]
    assert any(o.outcome in V.COMPARED for o in outcomes), {o.outcome for o in outcomes}


@pytest.mark.parametrize("ref", ROWS, ids=[r.label for r in ROWS])
def test_hypothesis(ref) -> None:
    for form in ref.forms:
        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def check(data) -> None:
            case = V.draw_case(ref, V.Gen(V.HypothesisChoices(data), DTYPES), form, "hypothesis")
            outcome = case.check()
            assert not unexpected_bugs([outcome]), outcome.reproducer()

        check()


# --- the checker itself ---------------------------------------------------------------------------

def test_a_wrong_rewrite_is_caught() -> None:
    """check_row compares with what the engine emits: a safe fix that changes values is a BUG."""
    # add_ with an int tensor operand on a float receiver: flagged (tensor operand), values equal.
    o = V.check_row("methods", "add_", {}, torch.ones(2, 3), (torch.ones(3, dtype=torch.int64),))
    assert (o.outcome, o.verdict) == ("equal", "ok") and o.rewritten == "x = x.add(a0)"
    # A receiver the operand grows: in place raises, out of place broadcasts; the fix is unsafe.
    o = V.check_row("methods", "add_", {}, torch.ones(3), (torch.ones(2, 3),))
    assert (o.outcome, o.verdict) == ("shape_differs", "flagged") and o.reasons
    # exp_ on int64: the fix is unsafe (not known to be floating).
    o = V.check_row("methods", "exp_", {}, torch.arange(3))
    assert (o.outcome, o.verdict) == ("inplace_raises_only", "flagged")
    # comparisons keep the receiver's dtype through the cast the fixer adds.
    o = V.check_row("methods", "lt_", {}, torch.tensor([0.5, 1.5]), (1,))
    assert (o.outcome, o.rewritten) == ("equal", "x = x.lt(1).to(x.dtype)")
    # compare() itself: values, dtypes and NaN positions.
    x = torch.tensor([1.0, float("nan")])
    assert V.compare(x, x, None, x.clone(), None)[0] == "equal"
    assert V.compare(x, x, None, torch.tensor([2.0, float("nan")]), None)[0] == "value_differs"
    assert V.compare(x, x, None, x.double(), None)[0] == "dtype_differs"
    assert V.compare(x, None, RuntimeError("no"), x, None)[0] == "inplace_raises_only"
    assert V.compare(x, x, None, None, RuntimeError("no"))[0] == "outofplace_raises_only"


def test_replica_keeps_the_layout() -> None:
    base = torch.arange(24.0).reshape(4, 6)
    for t in (base.t(), base[:, ::2], base[1:, 2:], torch.tensor(3.0)):
        r = V.replica(t)
        assert r.stride() == t.stride() and r.storage_offset() == t.storage_offset() and torch.equal(r, t)
        assert r.untyped_storage().data_ptr() != t.untyped_storage().data_ptr()
