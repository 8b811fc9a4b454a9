"""Packaging: the LICENSE file, an SPDX `license` that setuptools reads without a deprecation warning,
and a README pre-commit set-up that points at hooks that exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_license_file_and_spdx_expression_in_the_metadata(tmp_path):
    assert (REPO / "LICENSE").read_text().startswith("MIT License\n")
    script = (
        "import warnings, sys\n"
        "warnings.simplefilter('always')\n"
        "from setuptools import build_meta\n"
        f"print(build_meta.prepare_metadata_for_build_wheel({str(tmp_path)!r}))\n"
    )
    r = subprocess.run([sys.executable, "-W", "always", "-c", script], cwd=REPO, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert not re.search(r"(?i)deprecat.*licen|licen.*deprecat", r.stderr + r.stdout), r.stderr
    metadata = (tmp_path / r.stdout.strip().splitlines()[-1] / "METADATA").read_text()
    assert "License-Expression: MIT\n" in metadata
    assert "License-File: LICENSE\n" in metadata


def _block(marker: str) -> str:
    text = (REPO / "README.md").read_text()
    after = text.split(f"<!-- {marker} -->", 1)[1]
    return re.search(r"```yaml\n(.*?)```", after, re.DOTALL).group(1)


def test_readme_pre_commit_snippets_name_hooks_that_exist():
    yaml = pytest.importorskip("yaml")  # pre-commit (a dev requirement) brings PyYAML
    hooks = {h["id"]: h for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    remote = yaml.safe_load(_block("pre-commit-remote"))["repos"][0]
    assert re.fullmatch(r"[0-9a-f]{40}", remote["rev"])  # a commit hash: no tag that does not exist
    assert {h["id"] for h in remote["hooks"]} <= set(hooks)
    local = yaml.safe_load(_block("pre-commit-local"))["repos"][0]
    assert local["repo"] == "local"
    for hook in local["hooks"]:
        assert hook["entry"] == hooks[hook["id"]]["entry"]
        assert hook["types_or"] == hooks[hook["id"]]["types_or"]


def test_the_local_pre_commit_hook_runs(tmp_path):
    """The README's `repo: local` set-up, run by pre-commit on a scratch repository."""
    import shutil

    if shutil.which("git") is None:
        pytest.skip("needs git")
    pytest.importorskip("pre_commit")
    import os

    (tmp_path / ".pre-commit-config.yaml").write_text(_block("pre-commit-local"))
    (tmp_path / "m.py").write_text("import torch\nimport torch.nn as nn\n\n\nclass M(nn.Module):\n"
                                   "    def forward(self, x):\n        y = torch.sigmoid(x)\n        y *= 2\n"
                                   "        return y\n")
    env = {**os.environ, "HOME": str(tmp_path / "home"), "PRE_COMMIT_HOME": str(tmp_path / "pc"),
           "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
           "GIT_CONFIG_GLOBAL": os.devnull, "NO_COLOR": "1"}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, env=env)
    subprocess.run(["git", "add", "."], cwd=tmp_path, check=True, env=env)
    r = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=tmp_path,
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "m.py:8:9: OP101" in r.stdout
