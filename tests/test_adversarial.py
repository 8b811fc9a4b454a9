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
from outplace.settings import Settings

pytestmark = pytest.mark.skipif(not torch_available(), reason="torch is not installed")

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "adversarial"

MODES = {
    "default": Settings(),
    "clone": Settings(clone=True),
    "unsafe": Settings(unsafe_fixes=True),
    "unsafe+clone": Settings(unsafe_fixes=True, clone=True),
}
# Which modes each folder runs in, besides default.
FOLDER_MODES = {"": ("default",), "clone": ("default", "clone"), "certain": ("default", "unsafe", "unsafe+clone")}

# What today's engine gets wrong: (mode, case path relative to fixtures/adversarial) -> what happens.
# Strict xfail: a case the engine gets right XPASSes and fails, so remove it from here then.
XFAIL_TODAY: dict[tuple[str, str], str] = {
    ("default", "builtin_max_alias.py"): "changed: `max()` returns an operand; the fix is called safe",
    ("default", "builtin_min_alias.py"): "changed: `min()` returns an operand; the fix is called safe",
    ("default", "chained_assign_detr.py"): "changed: `q = k = ...` binds one tensor to two names",
    ("default", "closure_getter_alias.py"): "changed: a closure returned the tensor before the write",
    ("default", "default_arg.py"): "changed: a default argument holds the tensor",
    ("default", "dictcomp_heads.py"): "changed: a dict comprehension stored the tensor",
    ("default", "distribution_keeps_loc.py"): "changed: torch.distributions.Normal keeps `loc` itself",
    ("default", "dropout_eval_returns_input.py"): "changed: F.dropout(training=False) returns its input",
    ("default", "genexp_lazy_rows.py"): "changed: a generator expression holds row views of the tensor",
    ("default", "getattr_default.py"): "changed: getattr(obj, name, default) returns the default object",
    ("default", "ifexp_alias.py"): "changed: `a if c else b` may return the other name's tensor",
    ("default", "index_assign_rows_kept.py"): "changed: a comprehension kept row views; masked_fill is called safe",
    ("default", "inplace_result_alias.py"): "changed: F.relu(h, inplace=True) returns `h`",
    ("default", "jit_annotate.py"): "changed: torch.jit.annotate returns its argument",
    ("default", "keepdim_norm_fresh.py"): "unfixed: a keepdim norm of the target itself is not proven safe yet",
    ("default", "lambda_default_capture.py"): "changed: a lambda default holds the tensor",
    ("default", "listcomp_views.py"): "changed: a list comprehension kept views of the tensor",
    ("default", "maybe_numpy_masked_fill.py"): "broken: .masked_fill is inserted on a maybe-numpy value",
    ("default", "nested_function_stores.py"): "changed: calling a closure that stores the tensor",
    ("default", "numpy_shares.py"): "changed: .cpu().numpy() shares the storage",
    ("default", "or_operand_write.py"): "changed: `h = hx or base` makes `h` an alias of `base`",
    ("default", "parameter_shares.py"): "changed: nn.Parameter(w) shares w's storage",
    ("default", "resnet_chained_identity_relu.py"): "changed: `identity = out = ...` then F.relu(out, inplace=True)",
    ("default", "same_statement_cat.py"): "changed: the rewrite drops the write the second read sees",
    ("default", "same_statement_read.py"): "changed: the rewrite drops the write the second read sees",
    ("default", "tensordataset_shares.py"): "changed: TensorDataset keeps the tensor itself",
    ("default", "walrus_append.py"): "changed: `outs.append(last := ...)` puts the tensor in a list",
    ("clone", "clone/listcomp_index_clone.py"): "changed: a clone cuts the write off the kept row views",
    ("clone", "clone/maybe_numpy_clone.py"): "broken: .clone() is inserted on a maybe-numpy value",
    ("unsafe", "certain/augmentation_mutates_argument.py"): "offered: rebinding the argument the helper mutates",
    ("unsafe", "certain/chained_read_after_write.py"): "offered: one out-of-place chain reads the old tensor",
    ("unsafe", "certain/ema_shadow_model.py"): "offered: rebinding the loop variable over EMA parameters",
    ("unsafe", "certain/list_elements_clamped.py"): "offered: rebinding the loop variable over list elements",
    ("unsafe", "certain/mask_helper_mutates_argument.py"): "offered: rebinding the argument the helper masks",
    ("unsafe", "certain/normalize_through_views.py"): "offered: rebinding the loop variable over views",
    ("unsafe", "certain/rows_through_iteration.py"): "offered: rebinding the loop variable over rows",
    ("unsafe", "certain/running_stats_in_dict.py"): "offered: rebinding a name taken from a container",
    ("unsafe", "certain/sgd_frozen_copy_without_no_grad.py"): "offered: rebinding the loop variable over parameters",
    ("unsafe", "certain/sgd_helper_called_under_no_grad.py"): "offered: rebinding the loop variable over parameters",
    ("unsafe", "certain/sgd_param_groups_decorated_caller.py"): "offered: rebinding the loop variable over param_groups",
}
# With --unsafe-fixes --clone, everything that fails with --unsafe-fixes alone, and the list slice.
XFAIL_TODAY.update({("unsafe+clone", case): reason for (mode, case), reason in list(XFAIL_TODAY.items())
                    if mode == "unsafe"})
XFAIL_TODAY[("unsafe+clone", "certain/list_slice_clone.py")] = "offered: .clone() on a list (a slice of List[Tensor])"

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
