"""Hierarchical configuration (like ruff), `--config`, `extend`, `per-file-ignores`; file-level
`# outplace: noqa`, `--add-noqa`, unused `noqa` warnings; what the other fix modes would do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from outplace.config import ConfigError, find_config, find_project_root, load_settings
from outplace.engine import check_source_full
from outplace.settings import Settings
from outplace.suppression import add_noqa

BREAKS = '''import torch
import torch.nn as nn


class Gate(nn.Module):
    def forward(self, x):
        y = torch.sigmoid(x)
        y *= 2{comment}
        return y
'''
# OP106 has no fix without --clone; OP102's fix is unsafe (`w` may broadcast).
TWO_MODES = '''import torch
import torch.nn as nn


class M(nn.Module):
    def forward(self, x, w):
        y = torch.exp(x)
        y[:, 0] = 0
        h = torch.tanh(x)
        h.mul_(w)
        return y + h
'''


def breaks(comment: str = "") -> str:
    return BREAKS.format(comment=comment)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def codes(r: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    out = []
    for line in r.stdout.splitlines():
        if not line.startswith(" "):
            path, _, rest = line.partition(":")
            out.append((path, rest.split(": ", 1)[1].split()[0]))
    return out


# ---- discovery -------------------------------------------------------------------------------------------------

def test_a_pyproject_without_the_table_does_not_stop_discovery(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.outplace]\nignore = ['OP101']\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text("[project]\nname = 'sub'\n")
    (sub / "m.py").write_text(breaks())
    assert find_config([sub / "m.py"]) == tmp_path / "pyproject.toml"
    assert find_project_root([sub / "m.py"]) == tmp_path
    r = run("check", "m.py", cwd=sub)
    assert r.returncode == 0 and codes(r) == [], r.stdout  # the root's ignore reaches the sub-project


def test_outplace_toml_wins_over_pyproject_in_the_same_directory(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.outplace]\nignore = ['OP101']\n")
    (tmp_path / ".outplace.toml").write_text("select = ['OP1']\n")
    assert find_config([tmp_path]) == tmp_path / ".outplace.toml"
    assert load_settings(tmp_path).ignore == ()


def test_each_file_gets_its_closest_configuration(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.outplace]\n")
    (tmp_path / "a.py").write_text(breaks())
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "outplace.toml").write_text("ignore = ['OP101']\n")
    (legacy / "b.py").write_text(breaks())
    r = run("check", ".", cwd=tmp_path)
    assert codes(r) == [("a.py", "OP101")], r.stdout + r.stderr
    # --config gives every file the same settings.
    (tmp_path / "strict.toml").write_text("select = ['OP']\n")
    r = run("check", "--config", "strict.toml", ".", cwd=tmp_path)
    assert codes(r) == [("a.py", "OP101"), ("legacy/b.py", "OP101")]


def test_extend_reads_the_base_then_overrides(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.outplace]\nignore = ['OP104']\nclone = true\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text("[tool.outplace]\nextend = '../pyproject.toml'\nclone = false\n")
    s = load_settings(sub)
    assert (s.ignore, s.clone) == (("OP104",), False)
    (tmp_path / "pyproject.toml").write_text("[tool.outplace]\nextend = 'sub/pyproject.toml'\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_settings(sub)
    (sub / "pyproject.toml").write_text("[tool.outplace]\nextend = 'missing.toml'\n")
    with pytest.raises(ConfigError, match="'extend': 'missing.toml' is not a file"):
        load_settings(sub)


def test_per_file_ignores(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.outplace.per-file-ignores]\n"tests/*" = ["OP101"]\n'
                                             '"scratch_*.py" = ["OP1"]\n')
    for rel in ("src/m.py", "tests/t.py", "tests/deep/t.py", "scratch_x.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(breaks())
    r = run("check", ".", cwd=tmp_path)
    assert codes(r) == [("src/m.py", "OP101")], r.stdout + r.stderr
    # The cache is keyed by content: the same bytes elsewhere still get their own answer.
    assert codes(run("check", ".", cwd=tmp_path)) == [("src/m.py", "OP101")]
    (tmp_path / "pyproject.toml").write_text('[tool.outplace.per-file-ignores]\n"tests/*" = ["E501"]\n')
    r = run("check", ".", cwd=tmp_path)
    assert r.returncode == 2 and "'E501' (for 'tests/*') is not a rule code" in r.stderr


def test_per_file_ignores_take_hazard_levels_and_keep_the_hazard_selection(tmp_path):
    """A hazard word in `per-file-ignores` hides that level in the files it matches; elsewhere the
    configuration's `hazards` stand."""
    inplace = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = x * 2\n    y += 1\n    return y\n"
    (tmp_path / "pyproject.toml").write_text('[tool.outplace]\nhazards = ["all"]\n'
                                             '[tool.outplace.per-file-ignores]\n"scripts/*" = ["inplace", "Breaks"]\n')
    for rel in ("src/m.py", "scripts/s.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(inplace)
    (tmp_path / "scripts" / "b.py").write_text(breaks())
    s = load_settings(tmp_path)
    assert s.hazards == ("breaks", "inplace", "nograd")
    assert s.for_file(tmp_path / "scripts/s.py").hazards == ("nograd",)
    assert s.for_file(tmp_path / "src/m.py") == s
    r = run("check", ".", cwd=tmp_path)
    assert codes(r) == [("src/m.py", "OP101")], r.stdout + r.stderr
    assert "hidden" not in r.stderr  # ignored on purpose, not hidden by the selection
    r = run("check", "--hazard", "breaks", ".", cwd=tmp_path)
    assert codes(r) == [] and "1 inplace finding hidden" in r.stderr  # src/m.py's, not scripts/s.py's


# ---- suppression ------------------------------------------------------------------------------------------------

def test_file_level_noqa():
    assert check_source_full("# outplace: noqa\n" + breaks()).findings == []
    assert check_source_full(breaks() + "# outplace: noqa: OP106\n").findings != []
    assert check_source_full(breaks() + "  # outplace: noqa: OP101\n").findings == []
    # Not on a line of its own: not a file-level directive.
    assert check_source_full(breaks(comment="  # outplace: noqa")).findings != []


def test_unused_noqa_codes_of_ours_are_reported(tmp_path):
    source = breaks(comment="  # noqa: OP101, OP106, E501") + 'x = "# noqa: OP103"\n# outplace: noqa: OP105\n'
    checked = check_source_full(source)
    assert checked.findings == []
    assert [(u.line, u.code, u.file_level) for u in checked.unused_noqa] == [(11, "OP105", True), (8, "OP106", False)]
    # A noqa that suppresses a finding of a hidden hazard level is used.
    inplace = "import torch\n\ndef f(x: torch.Tensor):\n    y = x * 2\n    y += 1{}\n    return y\n"
    both = Settings(hazards=("breaks", "inplace"))
    assert [(f.code, f.hazard) for f in check_source_full(inplace.format(""), both).findings] == [("OP101", "inplace")]
    assert check_source_full(inplace.format("  # noqa: OP101"), Settings()).unused_noqa == []
    (tmp_path / "m.py").write_text(source)
    r = run("check", "m.py", cwd=tmp_path)
    assert "m.py:8:17: warning: unused noqa code OP106: no OP106 finding on this line" in r.stderr
    assert "2 unused noqa codes" in r.stderr and r.returncode == 0


def test_add_noqa_then_nothing_is_reported(tmp_path):
    (tmp_path / "m.py").write_text(breaks(comment="  # scale"))
    (tmp_path / "n.py").write_text(TWO_MODES)
    r = run("check", "--add-noqa", ".", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "added 3 noqa codes to 2 files" in r.stderr
    assert (tmp_path / "m.py").read_text() == breaks(comment="  # scale  # noqa: OP101")
    r = run("check", ".", cwd=tmp_path)
    assert r.returncode == 0 and codes(r) == [] and "unused" not in r.stderr


def test_add_noqa_suppresses_what_check_reported_through_another_file(tmp_path):
    """The write breaks backward only because of what `gate` (another file) returns: --add-noqa's
    second look at the file reads the project as `check` did."""
    (tmp_path / "helpers.py").write_text("import torch\n\n\ndef gate(x):\n    return torch.sigmoid(x)\n")
    model = ("import torch\n\nfrom helpers import gate\n\n\ndef f(x):\n    y = gate(x)\n    y *= 2\n    return y\n"
             "\n\nf(torch.ones(3, requires_grad=True))\n")
    (tmp_path / "model.py").write_text(model)
    assert check_source_full(model).findings == []  # the file alone shows nothing
    assert codes(run("check", ".", cwd=tmp_path)) == [("model.py", "OP101")]
    r = run("check", "--add-noqa", ".", cwd=tmp_path)
    assert "added 1 noqa code to 1 file" in r.stderr, r.stderr
    assert "    y *= 2  # noqa: OP101\n" in (tmp_path / "model.py").read_text()
    assert codes(run("check", ".", cwd=tmp_path)) == []


def test_add_noqa_extends_existing_codes_and_leaves_strings_alone():
    from outplace.findings import Finding

    source = 'a = 1  # noqa: OP106\ns = """x\ny"""\nb = 2 + \\\n    3\n'
    f = lambda line: Finding("OP101", "m", line, 1, line, 2)  # noqa: E731
    new, skipped = add_noqa(source, [f(1), f(2), f(4)])
    assert new == 'a = 1  # noqa: OP106, OP101\ns = """x\ny"""\nb = 2 + \\\n    3\n'
    assert skipped == [2, 4]
    # A "# noqa" inside a string literal is not the line's directive: the real one is added after it.
    assert add_noqa('s = "# noqa: OP106"\n', [f(1)]) == ('s = "# noqa: OP106"  # noqa: OP101\n', [])


# ---- adoption: the other modes ------------------------------------------------------------------------------------

def test_summary_tells_what_the_other_modes_would_fix(tmp_path):
    (tmp_path / "m.py").write_text(TWO_MODES)
    r = run("check", "m.py", cwd=tmp_path)
    assert "1 unsafe fix held back (use --unsafe-fixes); 1 more fix with --clone" in r.stderr, r.stderr
    r = run("check", "--show-fixes", "m.py", cwd=tmp_path)
    listed = r.stdout.split("Fixes in other modes:\n")[1].splitlines()
    assert [(line.split(":")[1], line.rsplit("[with ", 1)[1]) for line in listed] == [
        ("8", "--clone]"), ("10", "--unsafe-fixes]")]
    r = run("fix", "--show-fixes", "--clone", "--unsafe-fixes", "m.py", cwd=tmp_path)
    assert "Fixed:\n  m.py: 1 × OP102, 1 × OP106\n" in r.stdout, r.stdout + r.stderr
