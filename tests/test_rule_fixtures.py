"""Golden fixtures for every rule: fixtures/rules/<CODE>/<mode>_<case>.py.

The file-name prefix says how it is run:
  safe_*     default settings          -> <name>.fixed.py is the expected output
  unsafe_*   --unsafe-fixes            -> <name>.fixed.py
  clone_*    --unsafe-fixes --clone    -> <name>.fixed.py
  clean_*    must produce no finding at all and stay byte-for-byte unchanged
and <name>.findings.txt is the expected `check` output for that input (with the same settings), each
finding followed by its hazard level and why, as `check` prints them. Every hazard level is
reported here (`--hazard all`): the fixtures pin what each rule rewrites and how it judges the
write; which levels a user sees by default is the CLI's business (tests/test_cli.py).

Every fixed output must parse, and fixing it again must change nothing (idempotence).
Regenerate the expectations after a deliberate change with OUTPLACE_UPDATE_FIXTURES=1: every file
it rewrites fails its test (the output is never compared with itself), then read the diff of the
expected files. What the snapshots cannot catch (a wrong expected output, regenerated) the runs in
test_rule_golden_runs.py do: each golden and its .fixed.py run under torch and must agree.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from outplace.engine import check_source, fix_source
from outplace.findings import HAZARDS
from outplace.report import finding_line
from outplace.settings import Settings

ROOT = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
UPDATE = os.environ.get("OUTPLACE_UPDATE_FIXTURES") == "1"
MODES = {
    "safe": Settings(hazards=HAZARDS),
    "unsafe": Settings(unsafe_fixes=True, hazards=HAZARDS),
    "clone": Settings(unsafe_fixes=True, clone=True, hazards=HAZARDS),
    "clean": Settings(unsafe_fixes=True, clone=True),  # nothing the default reports: no write that breaks backward
}


def _report_line(name: str, f) -> str:
    return finding_line(name, f) + (f"\n    {f.hazard}: {f.why}" if f.why else "")


def _inputs() -> list[Path]:
    return sorted(p for p in ROOT.glob("OP*/*.py") if not p.name.endswith(".fixed.py"))


def _settings(path: Path) -> Settings:
    return MODES[path.name.split("_", 1)[0]]


@pytest.mark.parametrize("path", _inputs(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_fixture(path: Path) -> None:
    source = path.read_text()
    settings = _settings(path)
    findings = check_source(source, settings)
    mode = path.name.split("_", 1)[0]
    if mode == "clean":
        assert [finding_line(path.name, f) for f in findings] == []
        assert fix_source(source, settings).output == source
        return
    assert findings, "a fixture that fixes something must have findings"
    assert any(f.code == path.parent.name for f in findings), "the rule under test must fire"

    report = "".join(_report_line(path.name, f) + "\n" for f in findings)
    fixed = fix_source(source, settings).output
    expected_fixed, expected_report = path.with_suffix(".fixed.py"), path.with_suffix(".findings.txt")
    if UPDATE:
        # Never compare the output with itself: write what changed, and fail so it gets reviewed.
        stale = [p.name for p, text in ((expected_fixed, fixed), (expected_report, report))
                 if not p.exists() or p.read_text() != text]
        expected_fixed.write_text(fixed)
        expected_report.write_text(report)
        assert not stale, f"regenerated {stale}: review `git diff fixtures/rules`, then run without the variable"
    assert report == expected_report.read_text()
    assert fixed == expected_fixed.read_text()
    ast.parse(fixed)
    assert fix_source(fixed, settings).output == fixed, "fix is not idempotent"
    if mode == "unsafe":
        assert fix_source(source, MODES["safe"]).output == source, "an unsafe_* fixture has a safe fix"


def test_every_rule_has_fixtures_of_both_kinds() -> None:
    from outplace.codemods import RULES

    for rule in RULES:
        names = [p.name for p in (ROOT / rule.code).glob("*.py")]
        assert any(n.startswith("clean_") for n in names), f"{rule.code} has no must-not-touch fixture"
        assert any(n.startswith(("safe_", "unsafe_", "clone_")) and not n.endswith(".fixed.py") for n in names), \
            f"{rule.code} has no fix fixture"
