"""A helper module's parameters get what its sibling files pass (FileContext._sibling_calls): a
module-level function of `pkg/utils.py` called from `pkg/model.py` with a tensor autograd saved is
judged with that tensor's history; a caller elsewhere, or a same-named function of the caller's
own, says nothing about it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from outplace.analysis.project import ProjectIndex
from outplace.engine import check_source
from outplace.settings import HAZARDS, Settings

UTILS = """
    import torch


    def normalize(t):
        t /= t.sum(dim=-1, keepdim=True)
        return t
    """

CALLER = """
    import torch
    import torch.nn as nn

    {imports}


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            h = {value}
            return normalize(h)
    """


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def _utils_finding(tmp_path: Path, caller_rel: str, imports: str, value: str):
    (tmp_path / "pkg").mkdir()
    _write(tmp_path, "pkg/__init__.py", "")
    utils = _write(tmp_path, "pkg/utils.py", UTILS)
    caller = _write(tmp_path, caller_rel, CALLER.format(imports=imports, value=value))
    if caller.parent != utils.parent:
        _write(tmp_path, str(caller.parent.relative_to(tmp_path) / "__init__.py"), "")
    project = ProjectIndex.for_run(tmp_path, [utils, caller])
    found = check_source(utils.read_text(), Settings(hazards=HAZARDS), path=str(utils), project=project)
    assert len(found) == 1, found
    return found[0]


def test_a_sibling_caller_passing_a_saved_tensor_makes_the_write_breaks(tmp_path: Path) -> None:
    f = _utils_finding(tmp_path, "pkg/model.py", "from .utils import normalize", "torch.sigmoid(self.fc(x))")
    assert f.hazard == "breaks"
    assert "line 14 of `model.py`" in f.why and "called in `model.py`" in f.why, f.why


def test_a_sibling_caller_passing_what_nothing_saved_does_not(tmp_path: Path) -> None:
    f = _utils_finding(tmp_path, "pkg/model.py", "from .utils import normalize", "self.fc(x)")
    assert f.hazard == "inplace", f.why


def test_a_caller_in_another_directory_is_not_read(tmp_path: Path) -> None:
    f = _utils_finding(tmp_path, "app/model.py", "from pkg.utils import normalize", "torch.sigmoid(self.fc(x))")
    assert f.hazard == "inplace", f.why


def test_a_same_named_function_of_the_caller_is_not_the_helper(tmp_path: Path) -> None:
    own = "def normalize(t):\n        return t / t.sum()"
    f = _utils_finding(tmp_path, "pkg/model.py", own, "torch.sigmoid(self.fc(x))")
    assert f.hazard == "inplace", f.why


def test_the_cache_sees_a_change_in_the_caller(tmp_path: Path) -> None:
    """The helper's result depends on the sibling that calls it: the cache entry names that file,
    so editing it makes the helper's file be analysed again."""
    (tmp_path / "pkg").mkdir()
    _write(tmp_path, "pkg/__init__.py", "")
    _write(tmp_path, "pkg/utils.py", UTILS)
    model = _write(tmp_path, "pkg/model.py", CALLER.format(imports="from .utils import normalize",
                                                             value="torch.sigmoid(self.fc(x))"))
    env = {**os.environ, "OUTPLACE_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}

    def check() -> str:
        return subprocess.run([sys.executable, "-m", "outplace", "check", "--exit-zero", "."], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True).stdout

    assert "pkg/utils.py:6:5: OP101" in check()
    assert "pkg/utils.py:6:5: OP101" in check()  # (warm)
    model.write_text(model.read_text().replace("torch.sigmoid(self.fc(x))", "self.fc(x)"))
    assert "pkg/utils.py" not in check()
