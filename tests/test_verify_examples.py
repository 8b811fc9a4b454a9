"""`outplace verify` end to end through the real engine, on the bundled examples, held to the
README's words: "safe fixes give `fixed` for the notebook and two of the three failing scripts (the
third needs `h.mul_(g)` with a tensor operand, an unsafe fix); with `--unsafe-fixes` all four failing
examples are `fixed`, and the intentional SGD step stays `preserved`."  Issue 12's mutant (verify dropping --unsafe-fixes)
survived because nothing ran verify with the engine's own rewrite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outplace.harness.command import torch_available

pytestmark = pytest.mark.skipif(not torch_available(), reason="torch is not installed")

REPO = Path(__file__).resolve().parent.parent
FAILING = {"examples/gated_mlp.py", "examples/masked_softmax.py", "examples/residual_block.py",
           "examples/train_gated.ipynb"}


def verify(tmp_path: Path, *args: str) -> tuple[int, dict[str, dict]]:
    report = tmp_path / f"report{len(list(tmp_path.iterdir()))}.json"
    r = subprocess.run([sys.executable, "-m", "outplace", "verify", *args, "examples/", "--json", str(report)],
                       cwd=REPO, capture_output=True, text=True, timeout=600, env={**os.environ, "NO_COLOR": "1"})
    assert report.exists(), r.stderr
    return r.returncode, {case["path"]: case for case in json.loads(report.read_text())}


def test_verify_with_safe_fixes(tmp_path: Path) -> None:
    code, cases = verify(tmp_path)
    verdicts = {path: case["verdict"] for path, case in cases.items()}
    assert verdicts == {"examples/gated_mlp.py": "unfixed", "examples/masked_softmax.py": "fixed",
                        "examples/residual_block.py": "fixed", "examples/sgd_step.py": "preserved",
                        "examples/train_gated.ipynb": "fixed"}
    assert code == 1  # an unfixed case fails the run
    assert all(case["rewrite"] == "engine" for case in cases.values())
    # the third failing script is unfixed because its fix is unsafe, not because nothing was fixed
    assert "raises the in-place error" in cases["examples/gated_mlp.py"]["reason"]


def test_verify_with_unsafe_fixes(tmp_path: Path) -> None:
    code, cases = verify(tmp_path, "--unsafe-fixes")
    verdicts = {path: case["verdict"] for path, case in cases.items()}
    assert verdicts == {**{p: "fixed" for p in FAILING}, "examples/sgd_step.py": "preserved"}
    assert code == 0
    for path in FAILING:  # fixed against the oracle: values and gradients compared
        assert cases[path]["reference"] == "oracle", cases[path]["reason"]
        assert cases[path]["original"]["error"]["inplace"] == "saved"
