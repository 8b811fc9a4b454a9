"""The pre-commit hooks of `.pre-commit-hooks.yaml`, run by `pre-commit try-repo` on scratch repos.

The hook repository is this working tree as it is (committed or not), copied into a temporary git
repository. pre-commit builds the hooks' virtualenv under a temporary PRE_COMMIT_HOME; outside a
virtualenv the test lets it see the installed packages (libcst, typer, setuptools) instead of
downloading them, so it needs no network. $HOME and the XDG directories point into the temp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")
GIT = shutil.which("git")
pytestmark = [pytest.mark.skipif(GIT is None, reason="needs git"), pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent

FIXABLE = '''import torch


def f(x: torch.Tensor) -> torch.Tensor:
    y = torch.exp(x)  # exp saves its output for backward
    torch.relu_(y)
    return y


f(torch.ones(3, requires_grad=True))
'''
CLEAN = '''import torch


def f(x: torch.Tensor) -> torch.Tensor:
    return torch.relu(x * 2)
'''


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(home / "pre-commit"),
        "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"), "XDG_STATE_HOME": str(home / "state"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    env.pop("PRE_COMMIT", None)
    if sys.prefix == sys.base_prefix:
        # Not in a virtualenv: the hook's virtualenv may use this interpreter's packages, so
        # `pip install .` finds libcst and typer installed and builds without downloading anything.
        env.update({"VIRTUALENV_SYSTEM_SITE_PACKAGES": "1", "PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"})
    return env


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env) -> Path:
    """This working tree (tracked and untracked, not ignored files) as a fresh one-commit repository."""
    listed = subprocess.run([GIT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, env=env)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    target = tmp_path_factory.mktemp("hook-repo")
    for name in listed.stdout.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert (target / ".pre-commit-hooks.yaml").is_file()
    _git(target, env, "init", "-q")
    _git(target, env, "add", "-A")
    _git(target, env, "commit", "-q", "-m", "hooks")
    return target


def _git(cwd: Path, env: dict, *args: str) -> None:
    subprocess.run([GIT, *args], cwd=cwd, env=env, check=True, capture_output=True)


def _scratch(tmp_path: Path, env: dict, files: dict[str, str]) -> Path:
    repo = tmp_path / "scratch"
    repo.mkdir()
    _git(repo, env, "init", "-q")
    for name, text in files.items():
        (repo / name).write_text(text)
    _git(repo, env, "add", *files)
    return repo


def _try_repo(repo: Path, hook_repo: Path, env: dict) -> subprocess.CompletedProcess:
    """Both hooks, on the staged files (try-repo builds the hooks' environment anew each time: ~10 s)."""
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "--color", "never"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_hooks_report_and_rewrite_a_staged_file(tmp_path: Path, hook_repo: Path, env: dict):
    repo = _scratch(tmp_path, env, {"model.py": FIXABLE, "notes.txt": "torch.relu_(y)\n"})
    proc = _try_repo(repo, hook_repo, env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    check, _, fix = out.partition("outplace fix....")
    assert "outplace check" in check and "Failed" in check and "model.py:6:5: OP103" in check, out
    assert "Failed" in fix and "files were modified by this hook" in fix, out
    assert (repo / "model.py").read_text() == FIXABLE.replace("    torch.relu_(y)\n", "    y = torch.relu(y)\n")
    assert (repo / "notes.txt").read_text() == "torch.relu_(y)\n"  # not Python: not passed to the hooks


def test_a_repo_with_no_findings_passes(tmp_path: Path, hook_repo: Path, env: dict):
    repo = _scratch(tmp_path, env, {"model.py": CLEAN})
    proc = _try_repo(repo, hook_repo, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("Passed") == 2
    assert (repo / "model.py").read_text() == CLEAN
