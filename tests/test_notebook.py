"""Jupyter notebooks: findings in cells, fixes written back into exactly the cells that change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from outplace.engine import fix_source
from outplace.notebook import mask_ipython, read_notebook
from outplace.settings import Settings
from outplace.source import SourceError

MODEL = (
    "class Gated(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.fc = nn.Linear(8, 8)\n"
    "\n"
    "    def forward(self, x):\n"
    "        y = torch.sigmoid(self.fc(x))\n"
    "        y *= 2  # scale the gate\n"
    "        return y.sum()"
)
TRAIN = (
    "!pip --version\n"
    "model = Gated()\n"
    "opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "for step in range(2):\n"
    "    opt.zero_grad()\n"
    "    loss = model(torch.randn(4, 8))\n"
    "    loss.backward()\n"
    "    opt.step()\n"
    "    %time print(step)"
)


def notebook(path: Path, **kw) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3 (ünïcode)"}
    nb.cells = [
        new_markdown_cell("# Gated MLP\nA training loop with an in-place bug."),
        new_code_cell("%matplotlib inline\nimport torch\nimport torch.nn as nn"),
        new_code_cell(MODEL),
        new_code_cell(TRAIN, execution_count=7,
                      outputs=[new_output("stream", name="stdout", text="0\n1\n")]),
    ]
    nbformat.write(nb, str(path))
    return path


def run(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, input=stdin, capture_output=True,
                          env=env, timeout=120)


def test_check_reports_cell_relative_positions(tmp_path):
    notebook(tmp_path / "train.ipynb")
    r = run("check", "train.ipynb", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    first = r.stdout.decode().splitlines()[0]
    assert first.startswith("train.ipynb:cell 3:8:9: OP101 [*] "), first
    # Lines named in the words are the cell's too, not the script's.
    assert "(cell 3, line 7)" in r.stdout.decode()


def test_directory_walk_includes_notebooks(tmp_path):
    (tmp_path / "nb").mkdir()
    notebook(tmp_path / "nb" / "train.ipynb")
    (tmp_path / "nb" / "clean.py").write_text("x = 1\n")
    r = run("check", ".", cwd=tmp_path)
    assert b"nb/train.ipynb:cell 3:8:9: OP101" in r.stdout
    assert b"2 files scanned" in r.stderr


def test_fix_rewrites_only_the_changed_cell(tmp_path):
    path = notebook(tmp_path / "train.ipynb")
    before = path.read_bytes()
    r = run("fix", "train.ipynb", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    after = path.read_bytes()
    old_lines, new_lines = before.decode().splitlines(True), after.decode().splitlines(True)
    changed = [(a, b) for a, b in zip(old_lines, new_lines) if a != b]
    assert len(old_lines) == len(new_lines)
    assert changed == [('    "        y *= 2  # scale the gate\\n",\n', '    "        y = y * 2  # scale the gate\\n",\n')]
    nb = nbformat.reads(after.decode(), as_version=4)
    assert nb.cells[3].outputs[0].text == "0\n1\n" and nb.cells[3].execution_count == 7
    assert nb.cells[3].source == TRAIN  # masked magics are given back byte for byte
    assert run("fix", "train.ipynb", cwd=tmp_path).returncode == 0
    assert path.read_bytes() == after  # a fixed point


def test_fix_keeps_another_tools_json_style(tmp_path):
    """Indentation of 4, cells whose source is one string, non-ASCII escaped: all kept."""
    path = notebook(tmp_path / "train.ipynb")
    data = json.loads(path.read_text())
    data["cells"][2]["source"] = MODEL  # one string, not a list of lines
    path.write_text(json.dumps(data, indent=4, ensure_ascii=True) + "\n")
    before = path.read_text()
    assert run("fix", "train.ipynb", cwd=tmp_path).returncode == 0
    after = path.read_text()
    assert after == before.replace("y *= 2  # scale", "y = y * 2  # scale")
    assert after.isascii()


def test_diff_is_per_cell_and_writes_nothing(tmp_path):
    path = notebook(tmp_path / "train.ipynb")
    before = path.read_bytes()
    r = run("fix", "--diff", "train.ipynb", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.decode().splitlines()[:2] == ["--- a/train.ipynb:cell 3", "+++ b/train.ipynb:cell 3"]
    assert "-        y *= 2  # scale the gate\n+        y = y * 2  # scale the gate\n" in r.stdout.decode()
    assert path.read_bytes() == before


def test_a_notebook_saved_meanwhile_is_not_overwritten(tmp_path, monkeypatch):
    from outplace.runner import read_code, write_code

    path = notebook(tmp_path / "train.ipynb")
    src, nb = read_code(path)
    fixed = fix_source(src.text, Settings()).output
    path.write_text(path.read_text().replace("Gated MLP", "Gated MLP, edited in Jupyter"))
    edited = path.read_bytes()
    with pytest.raises(SourceError, match="changed meanwhile"):
        write_code(src, nb, fixed)
    assert path.read_bytes() == edited


def test_the_script_is_never_written_over_the_notebook(tmp_path):
    from outplace.source import write_source

    nb = read_notebook(notebook(tmp_path / "train.ipynb"))
    with pytest.raises(SourceError, match="without a digest"):
        write_source(nb.script_source(), nb.script)


def test_masking_keeps_lines_and_leaves_python_alone():
    masked, masks = mask_ipython("%matplotlib inline\nfiles = !ls\nfor f in files:\n    %time g(f)\ntorch.nn?")
    lines = masked.split("\n")
    assert len(lines) == 5 and [i for i, _ in masks] == [0, 1, 3, 4]
    assert lines[2] == "for f in files:" and lines[3].startswith("    pass")
    code = 's = """\n%not a magic\n"""\nx = 5 % 2'
    assert mask_ipython(code) == (code, [])
    assert mask_ipython("%%bash\nls -l\n") == (None, [])
    masked, masks = mask_ipython("%%time\ny = x * 2")
    assert masked.split("\n")[1] == "y = x * 2" and masks == [(0, "%%time")]


def test_stdin_notebook_filter(tmp_path):
    path = notebook(tmp_path / "train.ipynb")
    r = run("fix", "-", "--stdin-filename", "train.ipynb", cwd=tmp_path, stdin=path.read_bytes())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == path.read_text().replace("y *= 2  # scale", "y = y * 2  # scale")


def test_syntax_error_is_named_by_cell(tmp_path):
    path = notebook(tmp_path / "train.ipynb")
    data = json.loads(path.read_text())
    data["cells"][3]["source"] = ["model = Gated(\n"]
    path.write_text(json.dumps(data, indent=1))
    r = run("check", "train.ipynb", cwd=tmp_path)
    assert r.returncode == 2
    assert b"train.ipynb:cell 4:" in r.stderr


def test_not_a_notebook_is_one_line_error(tmp_path):
    (tmp_path / "broken.ipynb").write_text('{"cells": [')
    r = run("check", "broken.ipynb", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.decode().startswith("broken.ipynb: not a notebook")


def test_other_kernels_are_skipped(tmp_path):
    path = notebook(tmp_path / "train.ipynb")
    data = json.loads(path.read_text())
    data["metadata"]["kernelspec"]["language"] = "R"
    path.write_text(json.dumps(data, indent=1))
    r = run("check", "train.ipynb", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == b""


def test_verify_runs_the_cells_in_order(tmp_path):
    notebook(tmp_path / "train.ipynb")
    r = run("verify", "train.ipynb", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.decode().startswith("train.ipynb [cpu] fixed: original RuntimeError")


def test_diagnose_names_the_cell_and_fixes_it(tmp_path):
    path = notebook(tmp_path / "train.ipynb")
    r = run("diagnose", "train.ipynb", cwd=tmp_path)
    out = r.stdout.decode()
    assert r.returncode == 1, out + r.stderr.decode()
    assert "1. train.ipynb:cell 3:8:9: `*=` (`mul_`)" in out
    assert "saved by `sigmoid` (SigmoidBackward0) at train.ipynb:cell 3:7" in out
    assert "--- a/train.ipynb:cell 3" in out
    before = path.read_text()
    r = run("diagnose", "--fix", "train.ipynb", cwd=tmp_path)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    assert path.read_text() == before.replace("y *= 2  # scale", "y = y * 2  # scale")
