"""`check` and `fix` never import torch (README: "The fixer never imports torch").

Each command runs in a subprocess whose `sitecustomize` makes torch unimportable and logs every
attempt, including one that a `try: import torch / except ImportError` would hide, and in the
worker processes of a parallel run too (they start with the same PYTHONPATH).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

POISON = '''
import os, sys, traceback

class _NoTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            with open(os.environ["OUTPLACE_TORCH_LOG"], "a") as log:
                log.write(f"{os.getpid()} imported {name}\\n" + "".join(traceback.format_stack(limit=8)) + "\\n")
            raise ImportError(f"torch is unimportable in this test ({name})")
        return None

sys.meta_path.insert(0, _NoTorch())
'''


@pytest.fixture
def poisoned(tmp_path: Path) -> dict:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(POISON)
    log = tmp_path / "torch-imports.log"
    log.write_text("")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "OUTPLACE_TORCH_LOG": str(log), "NO_COLOR": "1"}


def outplace(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_poison_works(poisoned: dict, tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-c", "import torch.nn"], env=poisoned, capture_output=True, text=True)
    assert r.returncode == 1 and "unimportable" in r.stderr
    assert "imported torch" in Path(poisoned["OUTPLACE_TORCH_LOG"]).read_text()


def test_check_and_fix_run_without_torch(poisoned: dict, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(REPO / "fixtures" / "rules", project / "rules")
    shutil.copytree(REPO / "examples", project / "examples")
    runs = [
        ("check", "--no-cache", "-j", "1", "."),
        ("check", "-j", "2", "."),  # a process pool (more than 8 files) and the cache, cold
        ("check", "-j", "2", "."),  # warm
        ("check", "--format", "json", "--unsafe-fixes", "--clone", "."),
        ("fix", "--diff", "--unsafe-fixes", "--clone", "--no-cache", "-j", "2", "."),
        ("fix", "--unsafe-fixes", "--clone", "--no-cache", "."),
        ("rules",),
        ("rule", "OP104"),
    ]
    for args in runs:
        r = outplace(poisoned, project, *args)
        assert r.returncode in (0, 1), (args, r.stderr[-2000:])
        if args[0] != "rule" and args[0] != "rules" and args[:2] != ("fix", "--unsafe-fixes"):
            assert r.stdout, args
    stdin = (REPO / "examples" / "gated_mlp.py").read_text()
    r = subprocess.run([sys.executable, "-m", "outplace", "fix", "-", "--stdin-filename", "m.py"], input=stdin,
                       env=poisoned, cwd=project, capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 1) and "g = g * 2" in r.stdout, r.stderr  # 1: an unsafe finding is left
    assert Path(poisoned["OUTPLACE_TORCH_LOG"]).read_text() == ""
    assert "g = g * 2" in (project / "examples" / "gated_mlp.py").read_text()  # fix did write
