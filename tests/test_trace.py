"""`outplace trace` end to end, and the pytest plugin: a training script whose bug static analysis cannot
see is traced, `fix --facts --unsafe-fixes` repairs it and the harness proves the repair; a trace keeps
writes that broke nothing apart from those that did; `pytest --outplace` adds diagnose's report to a
failing test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from outplace.diagnose.command import torch_available
from outplace.diagnose.trace import parse_command
from outplace.runtime_facts import load

pytestmark = pytest.mark.skipif(not torch_available(), reason="torch is not installed")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "trace"


def outplace(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=600)


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    work = tmp_path_factory.mktemp("trace")
    for name in ("train.py", "fine.py"):
        shutil.copy(FIXTURES / name, work / name)
    runs = {
        "train": outplace("trace", "-o", "facts.json", "--", sys.executable, "train.py", cwd=work),
        "fine": outplace("trace", "-o", "fine.json", "--", "python", "fine.py", cwd=work),
    }
    return work, runs


def test_round_trip_trace_then_fix_with_facts_repairs_what_check_cannot_see(traced):
    work, runs = traced
    r = runs["train"]
    assert r.returncode == 1, r.stderr  # the program fails at backward; the facts are written all the same
    assert "1 broke backward" in r.stderr and "facts written to facts.json" in r.stderr
    assert outplace("check", "--hazard", "all", "--no-cache", "train.py", cwd=work).returncode == 0  # sees nothing
    r = outplace("check", "--facts", "facts.json", "train.py", cwd=work)
    assert r.returncode == 1 and "train.py:22:9: OP101 [*] `g /= ...`" in r.stdout, r.stdout + r.stderr
    assert "breaks: in the traced run (once) backward needed the values this write overwrote" in r.stdout
    original = (work / "train.py").read_text()
    r = outplace("fix", "--facts", "facts.json", "--unsafe-fixes", "train.py", cwd=work)
    fixed = (work / "train.py").read_text()
    assert fixed == original.replace("        g /= self.temperature", "        g = g / self.temperature"), r.stderr
    # Proven by the harness: the rewrite runs, and its values and gradients are the oracle's.
    (work / "original.py").write_text(original)
    r = outplace("verify", "original.py", "--against", "train.py", cwd=work)
    assert r.returncode == 0 and "fixed" in r.stdout, r.stdout + r.stderr
    # A second trace of the fixed script: no write breaks backward any more.
    r = outplace("trace", "-o", "after.json", "--", "python", "train.py", cwd=work)
    assert r.returncode == 0 and "(0 broke backward" in r.stderr, r.stderr


def test_the_facts_file_says_what_each_write_was(traced):
    work, runs = traced
    facts = load(work / "facts.json")
    [entry] = facts.files.values()
    [site] = entry.sites
    assert (site.span, site.op, site.form, site.count) == ((22, 8, 22, 29), "div_", "/=", 1)  # backward fails at the first step
    assert (site.tensor, site.requires_grad, site.saved, site.broke, site.dtypes) == (
        "yes", "yes", "yes", "yes", ("float32",))
    assert site.shapes == ((16, 8),) and site.saved_by[0].op == "sigmoid"
    assert [o.kind for o in site.operands] == ["scalar"]
    r = runs["fine"]
    assert r.returncode == 1 and "(0 broke backward, 1 refused by torch)" in r.stderr, r.stderr
    doc = json.loads((work / "fine.json").read_text())
    sites = {s["span"][0]: s for s in doc["files"]["fine.py"]["sites"]}
    assert set(sites) == {7, 12}  # the update under no_grad (line 9) is not a traced write
    assert (sites[7]["saved"], sites[7]["broke"], sites[7]["requires_grad"]) == ("no", "no", "yes")
    assert (sites[12]["error"], sites[12]["leaf"]) == ("leaf", "yes")


def test_commands_trace_understands(tmp_path):
    script = tmp_path / "s.py"
    script.write_text("pass\n")
    assert parse_command(["--", "python3", "-m", "pkg.mod", "--x"]) == ("pkg.mod", ["--x"], True)
    assert parse_command(["python", "-u", str(script), "a"]) == (str(script), ["a"], False)
    assert parse_command([str(script), "b"]) == (str(script), ["b"], False)
    pytest_script = shutil.which("pytest")
    if pytest_script:
        assert parse_command(["pytest", "-x"]) == (pytest_script, ["-x"], False)
    for bad in ([], ["python", "-c", "print(1)"], ["/bin/sh", "-c", "true"], ["no-such-program-here"]):
        with pytest.raises(ValueError):
            parse_command(bad)


def test_pytest_plugin_adds_the_culprit_report_to_a_failing_test():
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            "fixtures/diagnose/pytest_suite/test_model.py"]
    env = {**os.environ, "NO_COLOR": "1"}
    r = subprocess.run([*args, "--outplace"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert "1 failed, 1 passed" in r.stdout, r.stdout + r.stderr
    report = r.stdout.split("outplace diagnose", 1)[1]
    assert "fixtures/diagnose/pytest_suite/test_model.py:17:9: `+=` (`add_`)" in report
    assert "overwrote the tensor saved by `sigmoid`" in report
    assert "-        g += 1" in report and "+        g = g + 1" in report
    plain = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert "1 failed, 1 passed" in plain.stdout and "outplace diagnose" not in plain.stdout
