"""Every rule golden is also a runnable differential case: a wrong golden fails here.

fixtures/rules/<CODE>/<mode>_<name>.py ends with runnable examples, one per scenario:

    def case_scale():  # expect: fixed
        x = torch.randn(4, 8, requires_grad=True)
        return scale(x)

    if __name__ == "__main__":  # expect: fixed
        ...                     # module-level code, run as a script

For each scenario this test makes the harness's entry point of it (the `def case_NAME():` line
becomes `def outplace_case():`, nothing else moves; a `__main__` block runs in script mode) in the
golden and in its `.fixed.py`, and runs both through `outplace verify A --against B`'s pipeline
(values, dtype, shape, gradients, or the same exception). The verdict must be the one the line
states. Fixit-style: the rule's own examples are its tests, and the snapshot test
(test_rule_fixtures.py) checks the .fixed.py is what the engine writes today.

- `safe_*` goldens: every scenario is `fixed` or `preserved` (a safe fix never changes behaviour).
- `unsafe_*`/`clone_*`: scenarios show both where the fix is right (`fixed`, `preserved`) and why it
  is unsafe (`changed`: an alias saw the write, the caller's tensor is no longer updated, ...).
- `clean_*`: no rewrite; the original runs (`preserved`) or raises the in-place error outplace
  leaves alone on purpose (`unfixed`).
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from outplace.engine import check_source
from outplace.harness.command import torch_available
from outplace.harness.results import VERDICTS
from outplace.harness.testing import shared_pool, verify_pairs
from outplace.settings import Settings

pytestmark = pytest.mark.skipif(not torch_available(), reason="torch is not installed")

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
CASE = re.compile(r"^def (case_\w+)\(\):\s*#\s*expect:\s*(\w+)", re.MULTILINE)
MAIN = re.compile(r"^if __name__ == \"__main__\":\s*#\s*expect:\s*(\w+)", re.MULTILINE)
NOT_RUNNABLE = re.compile(r"^# not runnable: (.+)$", re.MULTILINE)
SETTINGS = {"safe": Settings(), "unsafe": Settings(unsafe_fixes=True),
            "clone": Settings(unsafe_fixes=True, clone=True), "clean": Settings(unsafe_fixes=True, clone=True)}


@dataclass(frozen=True)
class Scenario:
    golden: Path
    name: str  # case_NAME, or "__main__"
    expect: str

    @property
    def id(self) -> str:
        return f"{self.golden.parent.name}/{self.golden.stem}::{self.name}"

    @property
    def mode(self) -> str:
        return self.golden.name.split("_", 1)[0]

    def missing_imports(self) -> list[str]:
        """Top-level imports this environment lacks (numpy is not a test dependency)."""
        tree = ast.parse(self.golden.read_text(encoding="utf-8"))
        roots = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
        roots |= {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
        return sorted(r for r in roots if importlib.util.find_spec(r) is None)

    def source(self, text: str) -> str:
        """`text` with this scenario as the harness's entry point (line numbers unchanged)."""
        if self.name == "__main__":
            return text
        new, n = re.subn(rf"^def {self.name}\(\):", "def outplace_case():", text, flags=re.MULTILINE)
        assert n == 1, f"{self.id}: `def {self.name}():` not found exactly once"
        return new


def goldens() -> list[Path]:
    return sorted(p for p in ROOT.glob("OP*/*.py") if not p.name.endswith(".fixed.py"))


def scenarios_of(golden: Path) -> list[Scenario]:
    text = golden.read_text(encoding="utf-8")
    found = [Scenario(golden, name, expect) for name, expect in CASE.findall(text)]
    found += [Scenario(golden, "__main__", expect) for expect in MAIN.findall(text)]
    return found


SCENARIOS = [s for g in goldens() for s in scenarios_of(g)]


def test_every_golden_is_runnable_or_says_why_not() -> None:
    for golden in goldens():
        text = golden.read_text(encoding="utf-8")
        assert scenarios_of(golden) or NOT_RUNNABLE.search(text), f"{golden.name} has no runnable case"
        for s in scenarios_of(golden):
            assert s.expect in VERDICTS, f"{s.id}: `expect: {s.expect}` is not a verdict"
    fixing = [g for g in goldens() if not g.name.startswith("clean_")]
    assert all(scenarios_of(g) for g in fixing), "every golden with fixes must run"


def _top_level_owner(tree: ast.Module, line: int) -> str | None:
    for node in tree.body:
        if node.lineno <= line <= node.end_lineno:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                return node.name
            return "__main__" if isinstance(node, ast.If) else None
    return None


@pytest.mark.parametrize("golden", [g for g in goldens() if not g.name.startswith("clean_")],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_finding_is_exercised_by_a_case(golden: Path) -> None:
    """Each function, class or script block holding a finding is named by some scenario, so no fix
    in a golden goes unexecuted."""
    text = golden.read_text(encoding="utf-8")
    tree = ast.parse(text)
    bodies = {node.name: ast.get_source_segment(text, node) for node in tree.body
              if isinstance(node, ast.FunctionDef) and node.name.startswith("case_")}
    main = [s for s in scenarios_of(golden) if s.name == "__main__"]
    settings = SETTINGS[golden.name.split("_", 1)[0]]
    for finding in check_source(text, settings):
        if finding.fix is None:
            continue  # reported without a fix: nothing is rewritten, nothing to run
        owner = _top_level_owner(tree, finding.line)
        if owner is None:  # module-level code outside the __main__ block runs on import in every case
            assert bodies, golden.name
            continue
        if owner == "__main__":
            assert main, f"{golden.name}:{finding.line}: module-level fix with no `__main__` scenario"
            continue
        assert any(re.search(rf"\b{owner}\b", body) for body in bodies.values()), \
            f"{golden.name}:{finding.line}: no case calls `{owner}`"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("golden_runs")
    pairs = []
    for i, s in enumerate(SCENARIOS):
        if s.missing_imports():
            continue
        original = s.golden.read_text(encoding="utf-8")
        fixed_path = s.golden.with_suffix(".fixed.py")
        fixed = original if s.mode == "clean" else fixed_path.read_text(encoding="utf-8")
        a, b = tmp / f"g{i:03d}_{s.golden.stem}.py", tmp / f"g{i:03d}_{s.golden.stem}_fixed.py"
        a.write_text(s.source(original), encoding="utf-8")
        b.write_text(s.source(fixed), encoding="utf-8")
        pairs.append((a, b))
    ids = [s.id for s in SCENARIOS if not s.missing_imports()]
    return dict(zip(ids, verify_pairs(shared_pool(), pairs)))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_golden_scenario_verdict(results, scenario: Scenario) -> None:
    if scenario.missing_imports():
        pytest.skip(f"needs {', '.join(scenario.missing_imports())}")
    r = results[scenario.id]
    why = (r.reason, [d.short() for d in r.differences], r.original and r.original.describe(),
           r.rewritten and r.rewritten.describe())
    assert r.verdict == scenario.expect, why
    if scenario.mode == "safe":
        assert r.verdict in ("fixed", "preserved"), "a safe fix changed behaviour"
    if r.verdict == "fixed":
        assert r.original.inplace_error is not None and r.rewritten.status == "ok", why
    if r.verdict == "preserved" and scenario.mode != "clean":
        assert r.original.status == r.rewritten.status, why
    if scenario.mode == "clean" and r.verdict == "preserved":
        assert r.original.completed, f"the clean example itself fails: {r.original.describe()}"
    if r.original.completed:
        assert r.rewritten.entries, "nothing was recorded: the case computed nothing to compare"
