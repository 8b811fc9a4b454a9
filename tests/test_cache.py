"""The results cache is only a shortcut: `check` says the same with and without it, with 1 job or many."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def check(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outplace", "check", "--format", "json", *args],
                          cwd=cwd, capture_output=True, timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    # Enough files to go through the process pool; fixtures give varied findings (and one bad file).
    for i, src in enumerate(sorted((REPO / "fixtures" / "rules").glob("OP*/*.py"))):
        if not src.name.endswith(".fixed.py"):
            (tmp_path / f"f{i:02d}_{src.name}").write_text(src.read_text())
    (tmp_path / "broken.py").write_text("import torch\ndef f(:\n")
    return tmp_path


def test_same_results_with_and_without_cache_and_jobs(tree: Path) -> None:
    reference = check(tree, "--no-cache", "-j", "1")
    assert reference.returncode == 2  # findings and one unparsable file
    assert reference.stdout.count(b'"code"') > 20
    for args in (["--no-cache", "-j", "2"], ["-j", "2"], ["-j", "1"], ["-j", "2"]):  # cold, then warm cache
        r = check(tree, *args)
        assert (r.returncode, r.stdout) == (reference.returncode, reference.stdout), args
        assert r.stderr.splitlines()[-1] == reference.stderr.splitlines()[-1]
    assert any((tree / ".outplace_cache").glob("check-*.pickle"))


def test_changed_file_is_analysed_again(tree: Path) -> None:
    target = next(tree.glob("*clean_*.py"))
    assert check(tree).returncode == 2
    target.write_text(target.read_text() + "\n\ndef extra(x: torch.Tensor):\n    y = torch.exp(x)\n    y += 1\n")
    r = check(tree)
    assert f'"path": "{target.name}"'.encode() in r.stdout


def test_settings_have_their_own_cache(tree: Path) -> None:
    everything = check(tree)
    only_op101 = check(tree, "--select", "OP101")
    assert only_op101.stdout != everything.stdout
    assert b'"code": "OP102"' not in only_op101.stdout
    assert check(tree).stdout == everything.stdout


def test_corrupt_cache_is_a_miss(tree: Path) -> None:
    reference = check(tree)
    for f in (tree / ".outplace_cache").glob("check-*.pickle"):
        f.write_bytes(b"not a pickle")
    assert check(tree).stdout == reference.stdout


def test_cache_dir_from_environment(tree: Path, tmp_path_factory) -> None:
    elsewhere = tmp_path_factory.mktemp("cache")
    check(tree, env={"OUTPLACE_CACHE_DIR": str(elsewhere)})
    assert any(elsewhere.glob("check-*.pickle"))
    assert not (tree / ".outplace_cache").exists()
