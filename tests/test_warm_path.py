"""A `check` answered from the cache (text output: JSON's fix edits need the analysis again) loads
only what it needs: not the analysis, the rules, libcst."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SOURCE = ("import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n    return y\n\n\n"
          "f(torch.ones(3, requires_grad=True).exp())\n")

PROBE = """
import json, sys
from outplace.cli import main
sys.argv = ["outplace", "check", "-j", "2", "--select", "OP101,OP102", "m.py"]
try:
    main()
except SystemExit as e:
    code = e.code
loaded = [m for m in ("outplace.analysis", "outplace.codemods", "libcst", "pydantic", "torch") if m in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def _probe(cwd: Path) -> tuple[str, dict]:
    env = {**{k: v for k, v in os.environ.items() if k != "OUTPLACE_NO_CACHE"},
           "OUTPLACE_CACHE_DIR": str(cwd.parent / f"{cwd.name}-cache")}
    r = subprocess.run([sys.executable, "-c", PROBE], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    return r.stdout, json.loads(r.stderr.strip().splitlines()[-1])


def test_a_check_answered_from_the_cache_loads_no_analysis(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(SOURCE)
    cold, first = _probe(tmp_path)
    assert "OP101" in cold and first["code"] == 1
    assert "outplace.analysis" in first["loaded"], "the first run analysed the file"
    warm, second = _probe(tmp_path)
    assert warm == cold and second["code"] == 1
    never = {"outplace.analysis", "outplace.codemods", "libcst", "torch"}
    assert not never & set(second["loaded"]), second["loaded"]
