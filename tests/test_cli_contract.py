"""The README's CLI contract, each clause checked both ways (a test that would pass on a broken CLI
is no test): exit codes of --diff/--check when nothing would change, --exit-zero, -q, --clone,
--exclude, and colour only on a terminal and never with NO_COLOR (through a real pty)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from terminal import on_a_terminal

# A caller passes a tensor that requires grad: the write breaks backward (reported by default).
CALL = "\n\nf(torch.ones(3, requires_grad=True).exp())\n"
BAD = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n    return y\n" + CALL
GOOD = BAD.replace("y *= 2", "y = y * 2")
UNSAFE_ONLY = "import torch\n\n\ndef f(x: torch.Tensor):\n    x += 1\n    return x\n" + CALL
CLONE = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y[:, 0] = 0\n    return y\n" + CALL
ANSI = b"\x1b["


def run(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    env = {k: v for k, v in env.items() if v is not None}  # None: unset it
    return subprocess.run([sys.executable, "-m", "outplace", *args, "--no-cache"], cwd=cwd, capture_output=True,
                          env=env, timeout=120)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name, text in {"bad.py": BAD, "good.py": GOOD, "unsafe.py": UNSAFE_ONLY, "clone.py": CLONE}.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("flag", ["--diff", "--check"])
def test_diff_and_check_exit_0_when_nothing_would_change(tree: Path, flag: str) -> None:
    for name in ("good.py", "unsafe.py"):  # clean; only an unsafe fix, held back
        r = run("fix", flag, name, cwd=tree)
        assert (r.returncode, r.stdout) == (0, b""), (name, r.stderr)
    r = run("fix", flag, "bad.py", cwd=tree)
    assert r.returncode == 1 and r.stdout
    assert (tree / "bad.py").read_text() == BAD  # --diff and --check write nothing


def test_exit_zero_keeps_the_findings_and_exits_0(tree: Path) -> None:
    plain = run("check", "bad.py", cwd=tree)
    r = run("check", "--exit-zero", "bad.py", cwd=tree)
    assert plain.returncode == 1 and r.returncode == 0
    assert r.stdout == plain.stdout and b"OP101" in r.stdout


def test_quiet_drops_the_summary_only(tree: Path) -> None:
    loud, quiet = run("check", "bad.py", cwd=tree), run("check", "-q", "bad.py", cwd=tree)
    assert b"files scanned" in loud.stderr or b"file scanned" in loud.stderr
    assert quiet.stderr == b"" and quiet.stdout == loud.stdout and quiet.returncode == loud.returncode == 1


def test_clone_allows_clone_before_write_fixes(tree: Path) -> None:
    without = run("fix", "--diff", "--unsafe-fixes", "clone.py", cwd=tree)
    with_clone = run("fix", "--diff", "--unsafe-fixes", "--clone", "clone.py", cwd=tree)
    assert without.returncode == 0 and without.stdout == b""
    assert with_clone.returncode == 1 and b"+    y = y.clone()" in with_clone.stdout


def test_exclude_and_extend_exclude_skip_matching_files(tree: Path) -> None:
    (tree / "legacy").mkdir()
    (tree / "legacy" / "old.py").write_text(BAD)
    everything = run("check", ".", cwd=tree).stdout.decode()
    assert "legacy/old.py" in everything and "bad.py" in everything
    for option in ("--exclude", "--extend-exclude"):
        out = run("check", option, "legacy", ".", cwd=tree).stdout.decode()
        assert "legacy/old.py" not in out and "bad.py:" in out, option
    out = run("check", "--extend-exclude", "bad.py", ".", cwd=tree).stdout.decode()
    assert "bad.py:" not in out.replace("legacy/", "") and "legacy/old.py" in out


def _on_a_terminal(args: list[str], cwd: Path, env: dict) -> bytes:
    return on_a_terminal([sys.executable, "-m", "outplace", *args, "--no-cache"], cwd, env)


@pytest.mark.parametrize("args", [["check", "bad.py"], ["fix", "--diff", "bad.py"]], ids=["check", "diff"])
def test_colour_on_a_terminal_and_never_with_no_color(tree: Path, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    coloured = _on_a_terminal(args, tree, {**env, "TERM": "xterm-256color"})
    assert b"OP101" in coloured or b"+    y = y * 2" in coloured
    assert ANSI in coloured, "no colour on a terminal"
    plain = _on_a_terminal(args, tree, {**env, "TERM": "xterm-256color", "NO_COLOR": "1"})
    assert ANSI not in plain, plain
    assert b"OP101" in plain or b"y = y * 2" in plain
    piped = run(*args, cwd=tree, env={"NO_COLOR": None})  # not a terminal: no colour even without NO_COLOR
    assert ANSI not in piped.stdout + piped.stderr


def test_a_long_run_shows_a_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    for i in range(60):  # the bar starts at 50 files
        (tmp_path / f"m{i:02d}.py").write_text(BAD)
    bar = "━".encode()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    shown = _on_a_terminal(["check", "-q", "."], tmp_path, {**env, "TERM": "xterm-256color"})
    assert bar in shown and shown.count(b"OP101") == 60
    piped = run("check", "-q", ".", cwd=tmp_path, env={"NO_COLOR": None})
    assert bar not in piped.stderr + piped.stdout and piped.stdout.count(b"OP101") == 60
