"""Every command the README shows runs, as written, in a copy of the repository with safe inputs.

The commands are parsed from the README itself (fenced `sh` blocks, and indented blocks' lines that
start with a program and, for `outplace`, a subcommand), so a command added to the README without a
case here fails `test_every_readme_command_has_a_case`. Two are not run here, for a reason stated in
their case: the test command itself (that is this suite: `.ci/run` runs it, from the README, in a
fresh virtualenv) and the `pip install` in front of commands (it would repoint this environment's
editable install at the copy; its effect, every `dev` requirement installed, is checked instead).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SUBCOMMANDS = {"check", "fix", "rule", "rules", "verify", "diagnose", "trace", "lsp"}
PROGRAMS = {"outplace", "python", "cat", "pip"}

pytestmark = pytest.mark.slow


def readme_commands(text: str) -> list[str]:
    """Command lines of the README, in order."""
    commands, fence = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip()
            continue
        if fence is not None:
            if fence in ("sh", "bash", "console", "shell") and stripped and not stripped.startswith("#"):
                commands.append(stripped)
            continue
        if line.startswith("    ") and _is_command(stripped):
            commands.append(stripped)
    return commands


def _is_command(line: str) -> bool:
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        return False
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        words = words[1:]  # VAR=value prefixes
    if not words or words[0] not in PROGRAMS:
        return False
    return words[0] != "outplace" or (len(words) > 1 and words[1] in SUBCOMMANDS)


# ---- the sandbox ---------------------------------------------------------------------------------------------

TRAIN = '''"""A training script with an in-place write that breaks backward."""
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=2)
args = parser.parse_args()
torch.manual_seed(0)
w = torch.randn(4, requires_grad=True)
for _ in range(args.epochs):
    y = torch.sigmoid(w * 2)
    y *= 2
    y.sum().backward()
'''
TEST_MODEL = '''import torch


def test_model():
    x = torch.randn(3, requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()
'''
KEEP_RUNNABLE = ("exp_add.py", "exp_add.fixed.py", "sigmoid_mul.py", "sigmoid_mul.fixed.py", "README.md")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Path:
    """A copy of the repository, plus the files the README's examples name."""
    root = tmp_path_factory.mktemp("readme") / "repo"
    shutil.copytree(REPO, root, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".bench", "__pycache__", "*.egg-info", ".venv", ".outplace_cache", ".pytest_cache"))
    _inputs(root)
    (root / "tests" / "test_model.py").write_text(TEST_MODEL)
    # `verify fixtures/runnable`: a few of the cases (tests/test_harness.py verifies them all).
    for p in (root / "fixtures" / "runnable").iterdir():
        if p.name not in KEEP_RUNNABLE:
            p.unlink()
    return root


def _inputs(root: Path) -> None:
    """The example files the README's commands name, as they are before any command fixed them."""
    gated = (REPO / "examples" / "gated_mlp.py").read_text()
    for name in ("src/model.py", "model.py", "bug.py"):
        (root / name).write_text(gated)
    (root / "bug_fixed.py").write_text(gated.replace("g *= 2", "g = g * 2").replace("h.mul_(g)", "h = h.mul(g)"))
    (root / "train.py").write_text(TRAIN)


@dataclass
class Case:
    codes: tuple[int, ...]  # exit codes the README's description allows
    check: Callable[[Path, subprocess.CompletedProcess], None] = lambda root, r: None
    why_not_run: str | None = None
    env: dict = field(default_factory=dict)


def _no_empty_python_files(root: Path) -> None:
    for p in (root / "src").rglob("*.py"):
        text = p.read_text()
        assert text.strip(), f"{p} was emptied"
        ast.parse(text)


def _libcst_fixed(rule_fixed: str) -> Callable[[Path, subprocess.CompletedProcess], None]:
    def check(root: Path, r: subprocess.CompletedProcess) -> None:
        _no_empty_python_files(root)
        assert rule_fixed in (root / "src" / "model.py").read_text(), r.stderr
        assert b"Failed to codemod 0 files" in r.stderr
    return check


def _fixed(path: str, text: str) -> Callable[[Path, subprocess.CompletedProcess], None]:
    def check(root: Path, r: subprocess.CompletedProcess) -> None:
        assert text in (root / path).read_text(), r.stderr
    return check


def _dev_extra_installed(root: Path, r: subprocess.CompletedProcess) -> None:
    """What `pip install -e ".[dev]"` guarantees: every requirement of the dev extra is installed."""
    import importlib.metadata as md

    from packaging.requirements import Requirement

    missing = []
    for req in md.requires("outplace") or []:
        parsed = Requirement(req)
        if parsed.marker is None or not parsed.marker.evaluate({"extra": "dev"}):
            continue
        name = parsed.name
        if name == "outplace":  # outplace[lsp]: its own extras
            continue
        try:
            version = md.version(name)
        except md.PackageNotFoundError:
            missing.append(req)
            continue
        if version not in parsed.specifier and not parsed.specifier.contains(version, prereleases=True):
            missing.append(f"{req} (have {version})")
    assert not missing, f"not installed: {missing}"


TEST_COMMAND = "python -m pytest -q"
CASES: dict[str, Case] = {
    'pip install -e ".[dev]" && outplace fix --diff examples/': Case((1,), lambda root, r: (
        _dev_extra_installed(root, r), _assert_in(b"--- a/examples/gated_mlp.py", r.stdout))),
    f'pip install -e ".[dev]" && {TEST_COMMAND}': Case((0,), why_not_run="the suite itself; .ci/run runs it"),
    "outplace check src/": Case((1,), lambda root, r: _assert_in(b"src/model.py:18:9: OP101", r.stdout)),
    "outplace check --hazard all src/": Case((1,), lambda root, r: _assert_in(b"    breaks: `g` was saved by", r.stdout)),
    "outplace fix --diff src/": Case((1,), lambda root, r: _assert_in(b"+        g = g * 2", r.stdout)),
    "outplace fix src/": Case((1,), _fixed("src/model.py", "g = g * 2")),
    "outplace fix --unsafe-fixes --clone src/model.py": Case((0,), _fixed("src/model.py", "h = h.mul(g)")),
    "cat model.py | outplace fix - --stdin-filename model.py": Case((1,), lambda root, r: _assert_in(
        b"g = g * 2", r.stdout)),
    "outplace rules": Case((0,), lambda root, r: _assert_in(b"OP101", r.stdout)),
    "python -m libcst.tool codemod commands.AugmentedAssignCommand src/": Case((0,), _libcst_fixed("g = g * 2")),
    "python -m libcst.tool codemod commands.InplaceArgumentCommand --unsafe-fixes src/": Case(
        (0,), lambda root, r: _no_empty_python_files(root)),
    "outplace verify examples/": Case((1,), lambda root, r: _assert_in(b"fixed", r.stdout)),
    "outplace verify --unsafe-fixes examples/": Case((0,), lambda root, r: _assert_in(b"fixed", r.stdout)),
    "outplace verify bug.py --against bug_fixed.py": Case((0,), lambda root, r: _assert_in(b"fixed", r.stdout)),
    "outplace verify fixtures/runnable --device all --json report.json": Case((0,), lambda root, r: json.loads(
        (root / "report.json").read_text())),
    "outplace diagnose train.py -- --epochs 1": Case((1,), lambda root, r: _assert_in(b"train.py:13", r.stdout + r.stderr)),
    "outplace diagnose -m pytest tests/test_model.py": Case((1,), lambda root, r: _assert_in(
        b"test_model.py:7", r.stdout + r.stderr)),
    "outplace diagnose --fix train.py": Case((0, 1), _fixed("train.py", "y = y * 2")),
    "outplace diagnose --fix --unsafe-fixes train.py": Case((0, 1), _fixed("train.py", "y = y * 2")),
    "outplace trace -- python train.py --epochs 1": Case((1,), lambda root, r: _assert_in(
        b'"broke": "yes"', (root / "outplace-facts.json").read_bytes())),
    "outplace check --facts outplace-facts.json train.py": Case((1,), lambda root, r: _assert_in(
        b"train.py:13:5: OP101", r.stdout)),
    "outplace fix --facts outplace-facts.json --unsafe-fixes train.py": Case((0, 1), _fixed("train.py", "y = y * 2")),
    "python -m pytest --outplace tests/test_model.py": Case((1,), lambda root, r: _assert_in(
        b"outplace diagnose: a tensor saved for backward was modified in place", r.stdout)),
    TEST_COMMAND: Case((0,), why_not_run="the suite itself; .ci/run runs the README's test command"),
    "outplace check --output-format full src/": Case((1,), lambda root, r: (
        _assert_in(b"src/model.py:18:9: OP101", r.stdout), _assert_in(b"^^^^^^ OP101", r.stdout))),
    "outplace check --statistics src/": Case((1,), lambda root, r: _assert_in(b"\tOP101\t[*] augmented-assign",
                                                                               r.stdout)),
    "outplace check --output-format sarif src/ > outplace.sarif": Case((1,), lambda root, r: _assert_equal(
        json.loads((root / "outplace.sarif").read_text())["version"], "2.1.0")),
    "outplace check examples/train_gated.ipynb": Case((1,), lambda root, r: _assert_in(
        b"examples/train_gated.ipynb:cell 3:10:9: OP101", r.stdout)),
    "outplace fix --diff examples/train_gated.ipynb": Case((1,), lambda root, r: _assert_in(
        b"--- a/examples/train_gated.ipynb:cell 3\n", r.stdout)),
    "outplace verify examples/train_gated.ipynb": Case((0,), lambda root, r: _assert_in(b"fixed", r.stdout)),
    "outplace diagnose examples/train_gated.ipynb": Case((1,), lambda root, r: _assert_in(
        b"examples/train_gated.ipynb:cell 3:10:9", r.stdout)),
    "outplace check --add-noqa src/": Case((0,), _fixed("src/model.py", "g *= 2  # the in-place write that breaks "
                                                                         "backward  # noqa: OP101")),
    "OUTPLACE_UPDATE_FIXTURES=1 python -m pytest tests/test_rule_fixtures.py": Case(
        (0,), lambda root, r: _same_tree(REPO / "fixtures" / "rules", root / "fixtures" / "rules")),
    "python scripts/generate_optable.py": Case((0,), lambda root, r: _assert_equal(
        json.loads((root / "src/outplace/data/optable.json").read_text()),
        json.loads((REPO / "src/outplace/data/optable.json").read_text()))),
    "python scripts/verify_optable.py --facts": Case((0,), lambda root, r: _assert_in(
        b"0 disagreements", r.stdout + r.stderr)),
}


def _assert_in(needle: bytes, haystack: bytes) -> None:
    assert needle in haystack, haystack[-2000:]


def _assert_equal(a, b) -> None:
    assert a == b


def _same_tree(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def _normal(command: str) -> str:
    return re.sub(r"\s+", " ", command.split("  #")[0].strip())


def test_every_readme_command_has_a_case() -> None:
    shown = [_normal(c) for c in readme_commands(README.read_text())]
    assert len(shown) >= 15, shown
    assert sorted(set(shown)) == sorted(CASES), "README commands and the cases here differ"


def test_the_test_command_is_what_ci_runs() -> None:
    text = README.read_text()
    block = text.split("<!-- test-command -->", 1)[1].split("```", 2)[1]
    assert block.splitlines()[1:] == [f'pip install -e ".[dev]" && {TEST_COMMAND}']
    assert "<!-- test-command -->" in (REPO / ".ci" / "run").read_text()


# Run in README order: later commands see what earlier ones did, as a reader following along would.
ORDER = [c for c in dict.fromkeys(_normal(c) for c in readme_commands(README.read_text()))]


@pytest.mark.parametrize("command", ORDER)
def test_readme_command_runs(sandbox: Path, command: str) -> None:
    case = CASES.get(command)
    assert case is not None, f"no case for README command {command!r}"
    if case.why_not_run:
        assert TEST_COMMAND in command
        return
    runnable = command.split("&&", 1)[1].strip() if command.startswith("pip install") else command
    _inputs(sandbox)  # each command starts from the unfixed examples
    env = {**os.environ, "NO_COLOR": "1", **case.env}
    env.pop("OUTPLACE_UPDATE_FIXTURES", None)
    r = subprocess.run(["bash", "-c", runnable], cwd=sandbox, capture_output=True, env=env, timeout=600)
    assert r.returncode in case.codes, (command, r.returncode, r.stderr[-3000:].decode(errors="replace"))
    # diagnose and trace run a failing program: its own traceback is part of their output.
    ran_program = any(word in command.split() for word in ("diagnose", "trace"))
    assert b"Traceback (most recent call last)" not in r.stderr or ran_program, r.stderr[-3000:]
    case.check(sandbox, r)
