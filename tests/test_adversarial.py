"""The adversarial suite (fixtures/adversarial/, issue 13): programs shaped like library code where a
fix that looks safe changes behaviour through an alias, a container, a dtype, or a side effect.

Each case says on its first line the verdict a *correct* engine must get (``# expect:``), and above
its one interesting write a hand-made rewrite:

- ``# naive: CODE``            the fix a naive engine would call safe; it must change behaviour
                               (``changed`` or ``broken``): proof the case has teeth;
- ``# certainly wrong: CODE``  (``certain/``) the rewrite that must never be offered, not even with
                               ``--unsafe-fixes``; it must change behaviour too;
- ``# fix: CODE``              (``expect: fixed`` cases) the correct fix; it must give ``fixed``.

Modes: every case under the folder in default (safe) mode, as ``outplace verify
fixtures/adversarial/`` runs them; ``clone/`` also with ``--clone``; ``certain/`` also with
``--unsafe-fixes`` and with ``--unsafe-fixes --clone``, where check must offer no fix for the
certainly-wrong write either.

Cases today's engine gets wrong are listed in XFAIL_TODAY (strict): when the engine gets one right it
XPASSes, and the entry must be removed. All runs go through one batch on the shared warm pool.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from outplace.engine import check_source
from outplace.harness.cases import collect_cases, read_expectation, rewrite_with_engine
from outplace.harness.command import torch_available
from outplace.harness.pipeline import Options, run_cases
from outplace.harness.testing import pair, shared_pool
from outplace.findings import HAZARDS
from outplace.settings import Settings

pytestmark = pytest.mark.skipif(not torch_available(), reason="torch is not installed")

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "adversarial"

MODES = {
    "default": Settings(hazards=HAZARDS),
    "clone": Settings(hazards=HAZARDS, clone=True),
    "unsafe": Settings(hazards=HAZARDS, unsafe_fixes=True),
    "unsafe+clone": Settings(hazards=HAZARDS, unsafe_fixes=True, clone=True),
}
# Which modes each folder runs in, besides default.
FOLDER_MODES = {"": ("default",), "clone": ("default", "clone"), "certain": ("default", "unsafe", "unsafe+clone")}

# What today's engine gets wrong: (mode, case path relative to fixtures/adversarial) -> what happens.
# Strict xfail: a case the engine gets right XPASSes and fails, so remove it from here then.
# Every case the engine before the dataflow core got wrong (52 runs: `changed` in default mode, a
# "certainly wrong" rewrite offered under --unsafe-fixes) it now gets right; a case that regresses
# fails outright. Add an entry here only for a known, explained gap, as (mode, case) -> reason.
XFAIL_TODAY: dict[tuple[str, str], str] = {}

_MARKER = re.compile(r"^(?P<indent>[ \t]*)# (?P<kind>naive|certainly wrong|fix): (?P<code>.+)$", re.MULTILINE)
_ORIGINAL_RAISES = re.compile(r"^# original-raises: (\w+)", re.MULTILINE)
_NEEDS_NUMPY = re.compile(r"^\s*(?:import numpy|from numpy)|\.numpy\(\)", re.MULTILINE)
HAVE_NUMPY = importlib.util.find_spec("numpy") is not None


@dataclass(frozen=True)
class Case:
    rel: str  # path relative to ROOT, "/"-separated
    path: Path
    source: str

    @property
    def folder(self) -> str:
        return self.rel.rsplit("/", 1)[0] if "/" in self.rel else ""

    @property
    def expected(self) -> str | None:
        return read_expectation(self.source)

    @property
    def marker(self) -> re.Match[str] | None:
        return _MARKER.search(self.source)

    @property
    def written_line(self) -> int:
        """1-based line of the write the marker describes (the line after the marker)."""
        return self.source.count("\n", 0, self.marker.start()) + 2

    def hand_rewrite(self) -> str:
        """The source with the marked write replaced by the marker's code."""
        m = self.marker
        lines = self.source.split("\n")
        i = self.written_line - 1
        lines[i] = m.group("indent") + m.group("code")
        return "\n".join(lines)

    @property
    def needs_numpy(self) -> bool:
        return _NEEDS_NUMPY.search(self.source) is not None


def _cases() -> list[Case]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        if "." in path.stem:  # NAME.TAG.py: a hand-made rewrite, as verify skips them
            continue
        out.append(Case(path.relative_to(ROOT).as_posix(), path, path.read_text(encoding="utf-8")))
    return out


CASES = _cases()
RUNS = [(mode, case) for case in CASES for mode in FOLDER_MODES[case.folder]]


def _param(mode: str, case: Case):
    marks = []
    if case.needs_numpy and not HAVE_NUMPY:
        marks.append(pytest.mark.skip(reason="numpy is not installed (the case runs numpy input)"))
    reason = XFAIL_TODAY.get((mode, case.rel))
    if reason is not None:
        marks.append(pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"today's engine: {reason}"))
    return pytest.param(mode, case, id=f"{mode}:{case.rel}", marks=marks)


@pytest.fixture(scope="session")
def results(tmp_path_factory):
    """Every verdict the tests need, from one batch: the engine's rewrite of each case in each of
    its modes, and each hand-made marker rewrite. Keys: (mode, rel) and ("hand", rel)."""
    runnable = [c for c in CASES if HAVE_NUMPY or not c.needs_numpy]
    keys, specs = [], []
    for mode in MODES:
        batch = [c for c in runnable if mode in FOLDER_MODES[c.folder]]
        mode_specs = [collect_cases([c.path])[0] for c in batch]
        rewrite_with_engine(mode_specs, MODES[mode])
        keys += [(mode, c.rel) for c in batch]
        specs += mode_specs
    tmp = tmp_path_factory.mktemp("adversarial")
    for c in runnable:
        if c.marker is None:
            continue
        rewrite = tmp / c.rel.replace("/", "__")
        rewrite.write_text(c.hand_rewrite(), encoding="utf-8")
        keys.append(("hand", c.rel))
        specs.append(pair(c.path, rewrite))
    return dict(zip(keys, run_cases(shared_pool(), specs, Options())))


def _explain(result) -> tuple:
    return (result.verdict, result.reason, [d.short() for d in result.differences][:4])


def _assert_original_as_declared(case: Case, result) -> None:
    """The case must not hold vacuously: its original runs to the end (or raises what the case
    declares, or raises the in-place error for an `expect: fixed` case)."""
    original = result.original
    declared = _ORIGINAL_RAISES.search(case.source)
    if declared:
        assert original.status == "error" and original.error.type == declared.group(1), original.error
    elif case.expected == "fixed":
        assert original.inplace_error is not None, original.error
    else:
        assert original.completed, original.error and original.error.short()


# ---- the suite itself -------------------------------------------------------------------------------


def test_suite_shape():
    top = [c for c in CASES if c.folder == ""]
    assert len(top) >= 40
    assert {c.folder for c in CASES} == set(FOLDER_MODES)
    for case in CASES:
        assert case.expected in ("preserved", "fixed"), case.rel
        assert "A correct engine" in case.source, f"{case.rel}: say what a correct engine must do"
        assert len(_MARKER.findall(case.source)) == 1, f"{case.rel}: exactly one marker line"
        kind = case.marker.group("kind")
        if case.folder == "certain":
            assert kind == "certainly wrong" and case.expected == "preserved", case.rel
        else:
            assert kind == ("fix" if case.expected == "fixed" else "naive"), case.rel
    names = {(mode, c.rel) for mode, c in RUNS}
    stale = set(XFAIL_TODAY) - names
    assert not stale, f"XFAIL_TODAY names cases or modes that do not exist: {sorted(stale)}"


@pytest.mark.parametrize("case", [pytest.param(c, id=c.rel, marks=[pytest.mark.skip(reason="numpy is not installed")]
                                               if c.needs_numpy and not HAVE_NUMPY else [])
                                  for c in CASES if c.marker is not None])
def test_hand_rewrite_has_teeth(results, case):
    """The naive or certainly-wrong rewrite changes behaviour; the marked correct fix fixes."""
    result = results["hand", case.rel]
    _assert_original_as_declared(case, result)
    if case.marker.group("kind") == "fix":
        assert result.verdict == "fixed", _explain(result)
    else:
        assert result.verdict in ("changed", "broken"), _explain(result)


# ---- the engine ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode,case", [_param(mode, case) for mode, case in RUNS])
def test_engine_verdict(results, mode, case):
    """Safe modes: never changed or broken, and the verdict a correct engine gets. --unsafe-fixes on
    certain/: the program's behaviour is preserved and no fix is offered for the certainly-wrong write."""
    result = results[mode, case.rel]
    _assert_original_as_declared(case, result)
    assert result.verdict not in ("changed", "broken"), _explain(result)
    assert result.verdict == case.expected, _explain(result)
    if case.folder == "certain" and MODES[mode].unsafe_fixes:
        offered = [f for f in check_source(case.source, MODES[mode], path=case.rel)
                   if f.fix is not None and f.line <= case.written_line <= f.end_line]
        assert not offered, [(f.code, f.fix.applicability.value, f.message) for f in offered]
