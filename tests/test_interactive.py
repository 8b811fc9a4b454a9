"""Review mode: `outplace fix --interactive` (hunk by hunk, like `git add -p`) and `outplace fix --diff`."""

from __future__ import annotations

import ast
import io
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from terminal import on_a_terminal

from outplace.engine import fix_source
from outplace.interactive import Quit, review_file, split_hunks
from outplace.findings import HAZARDS
from outplace.settings import Settings

SOURCE = '''import torch


def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = torch.exp(x)  # exp saves its output for backward
    y.add_(w)
    torch.relu_(y)
    return y


def g(x: torch.Tensor) -> torch.Tensor:
    z = x * 3
    torch.add(z, 1,
              out=z)
    torch.sigmoid_(z)
    return z
'''
# The four fixes, by the line each rewrites, as `--unsafe-fixes` applies them.
FIXED_LINES = {
    "OP102": "    y = y.add(w)\n",
    "OP103": "    y = torch.relu(y)\n",
    "OP105": "    z = torch.add(z, 1)\n",
    "OP103b": "    z = torch.sigmoid(z)\n",
}
ORIGINAL_LINES = {
    "OP102": "    y.add_(w)\n",
    "OP103": "    torch.relu_(y)\n",
    "OP105": "    torch.add(z, 1,\n              out=z)\n",
    "OP103b": "    torch.sigmoid_(z)\n",
}


def _fixed(settings: Settings = Settings(hazards=HAZARDS, unsafe_fixes=True)):
    result = fix_source(SOURCE, settings)
    assert result.changed
    return result


def _review(answers: str, old: str = SOURCE, result=None):
    result = result or _fixed()
    out = io.StringIO()
    text = review_file("pkg/model.py", old, result.output, result.applied, input_stream=io.StringIO(answers),
                       output=out)
    return text, out.getvalue()


def test_each_fix_is_its_own_hunk_with_code_and_safety():
    result = _fixed()
    hunks = split_hunks(SOURCE, result.output, result.applied)
    assert [[f.code for f in h.findings] for h in hunks] == [["OP102"], ["OP103"], ["OP105"], ["OP103"]]
    assert [h.safe for h in hunks] == [False, True, False, False]
    _, shown = _review("n\nn\nn\nn\n")
    assert shown.startswith("--- a/pkg/model.py\n+++ b/pkg/model.py\n@@ -3,7 +3,7 @@\n")
    assert "-    y.add_(w)\n+    y = y.add(w)\n" in shown
    assert "OP102 [unsafe fix: " in shown and "OP103 [safe fix] line 7: `torch.relu_(y)`" in shown
    assert "(1/4) Apply this unsafe fix to pkg/model.py [y,n,a,d,q,?]? " in shown
    assert "(2/4) Apply this fix to pkg/model.py" in shown
    # The two-line `out=` statement is one hunk: no answer can leave half of it rewritten.
    assert "-    torch.add(z, 1,\n-              out=z)\n+    z = torch.add(z, 1)\n" in shown
    assert "\x1b[" not in shown  # not a terminal: no colour


@pytest.mark.parametrize("answers", list(itertools.product("yn", repeat=4)))
def test_exactly_the_accepted_hunks_are_applied(answers):
    text, _ = _review("".join(a + "\n" for a in answers))
    ast.parse(text)
    for answer, key in zip(answers, ("OP102", "OP103", "OP105", "OP103b")):
        assert (FIXED_LINES[key] in text) == (answer == "y")
        assert (ORIGINAL_LINES[key] in text) == (answer == "n")
    if answers == tuple("yyyy"):
        assert text == _fixed().output
    if answers == tuple("nnnn"):
        assert text == SOURCE


def test_all_and_done_answer_for_the_rest_of_the_file():
    text, shown = _review("n\na\n")
    assert text == _fixed().output.replace(FIXED_LINES["OP102"], ORIGINAL_LINES["OP102"])
    assert "(3/4)" not in shown
    text, shown = _review("y\nd\n")
    assert text == SOURCE.replace(ORIGINAL_LINES["OP102"], FIXED_LINES["OP102"])
    assert "(3/4)" not in shown


def test_quit_keeps_what_was_accepted_before_it():
    with pytest.raises(Quit) as stop:
        _review("y\nq\n")
    assert stop.value.text == SOURCE.replace(ORIGINAL_LINES["OP102"], FIXED_LINES["OP102"])
    with pytest.raises(Quit) as stop:  # the end of the input stops the review, like q
        _review("y\n")
    assert stop.value.text == SOURCE.replace(ORIGINAL_LINES["OP102"], FIXED_LINES["OP102"])


def test_unknown_answer_shows_help_and_asks_again():
    text, shown = _review("maybe\nY\nn\nn\nn\n")
    assert "a - apply this fix and all later fixes in the file" in shown
    assert shown.count("(1/4) Apply") == 2
    assert text == SOURCE.replace(ORIGINAL_LINES["OP102"], FIXED_LINES["OP102"])


def test_crlf_and_missing_final_newline_survive():
    old = SOURCE.replace("\n", "\r\n").rstrip("\r\n")
    result = fix_source(old, Settings(hazards=HAZARDS, unsafe_fixes=True))
    text, shown = _review("y\nn\ny\ny\n", old=old, result=result)
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    assert not text.endswith("\n")
    assert "y = y.add(w)\r\n" in text and "torch.relu_(y)\r\n" in text
    assert "\\ No newline at end of file" in shown


# ---- through the command line ----------------------------------------------------------------------------

def _run(args, cwd: Path, stdin: str = "", text: bool = True):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, input=stdin if text else stdin.encode(),
                          text=text, capture_output=True, env=env, timeout=60)


def test_cli_interactive_is_scriptable_through_stdin(tmp_path: Path):
    # Every hazard level: nothing calls `f` and `g` here, so nothing shows that their writes break backward.
    (tmp_path / "pyproject.toml").write_text("[tool.outplace]\nunsafe-fixes = true\nhazards = [\"all\"]\n")
    (tmp_path / "a.py").write_text(SOURCE)
    (tmp_path / "b.py").write_text(SOURCE)
    proc = _run(["fix", "--interactive", "a.py", "b.py"], tmp_path, stdin="y\nn\nn\ny\nq\n")
    assert "(1/4) Apply this unsafe fix to a.py" in proc.stdout, proc.stderr
    a = (tmp_path / "a.py").read_text()
    assert a == SOURCE.replace(ORIGINAL_LINES["OP102"], FIXED_LINES["OP102"]).replace(
        ORIGINAL_LINES["OP103b"], FIXED_LINES["OP103b"])
    assert (tmp_path / "b.py").read_text() == SOURCE  # q on its first hunk: b.py is left alone


GIT = shutil.which("git")


@pytest.mark.skipif(GIT is None, reason="needs git")
@pytest.mark.parametrize("variant", ["lf", "crlf", "no-final-newline"])
def test_diff_is_a_patch_git_apply_accepts(tmp_path: Path, variant: str):
    source = SOURCE
    if variant == "crlf":
        source = SOURCE.replace("\n", "\r\n")
    elif variant == "no-final-newline":
        source = SOURCE + "    torch.tanh_(z)"
    path = tmp_path / "pkg" / "model.py"
    path.parent.mkdir()
    path.write_bytes(source.encode())
    subprocess.run([GIT, "init", "-q"], cwd=tmp_path, check=True)
    proc = _run(["fix", "--diff", "--hazard", "all", "pkg/model.py"], tmp_path, text=False)  # bytes: keep the \r\n
    assert proc.returncode == 1, proc.stderr  # something would change
    assert b"\x1b[" not in proc.stdout  # not a terminal: plain text
    assert proc.stdout.startswith(b"--- a/pkg/model.py\n+++ b/pkg/model.py\n@@ ")
    assert path.read_bytes() == source.encode()  # --diff writes nothing
    patch = tmp_path / "fix.patch"
    patch.write_bytes(proc.stdout)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run([GIT, "apply", "--check", str(patch)], cwd=tmp_path, check=True, env=env)
    subprocess.run([GIT, "apply", str(patch)], cwd=tmp_path, check=True, env=env)
    assert path.read_bytes() == fix_source(source, Settings(hazards=HAZARDS)).output.encode()


def test_diff_is_coloured_on_a_terminal(tmp_path: Path):
    (tmp_path / "model.py").write_text(SOURCE)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    shown = on_a_terminal([sys.executable, "-m", "outplace", "fix", "--diff", "--hazard", "all", "model.py"], tmp_path,
                          env).decode()
    assert "\x1b[" in shown and "torch.relu(y)" in shown
