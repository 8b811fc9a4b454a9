"""A real editor, headless: Neovim starts `outplace lsp`, shows its diagnostics, and fixes on save.

Debian's `neovim` (0.7) is enough: `vim.lsp.start_client`, `vim.lsp.buf.formatting_sync` and
`vim.lsp.buf_request_sync`. Skipped when `nvim` is not installed (`apt-get install -y neovim`), except where
OUTPLACE_REQUIRE_EDITORS=1 (CI): there a missing editor is a failure.
Neovim's config, data, state and cache directories point into a temporary directory, never $HOME.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from outplace.engine import fix_source
from outplace.settings import Settings

NVIM = shutil.which("nvim")
# CI sets OUTPLACE_REQUIRE_EDITORS=1 (.ci/run installs neovim): there a missing editor fails the run
# instead of skipping the only test that drives a real one.
REQUIRED = os.environ.get("OUTPLACE_REQUIRE_EDITORS") == "1"
pytestmark = pytest.mark.skipif(NVIM is None and not REQUIRED, reason="needs Neovim (`apt-get install -y neovim`)")


def test_neovim_is_installed() -> None:
    assert NVIM is not None, "OUTPLACE_REQUIRE_EDITORS=1 but `nvim` is not on PATH (.ci/run installs it with apt-get)"

SAMPLE = '''import torch


def f(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = torch.exp(x)  # exp saves its output for backward
    y.add_(w)
    s = "😀"; torch.relu_(y)
    return y


f(torch.ones(3, requires_grad=True), torch.ones(3))
'''

# Opens each file, attaches the server, waits for its diagnostics, records them, then saves:
# `formatted.py` through a BufWritePre hook that formats (what `vim.lsp.buf.format` does on 0.8+),
# `fixall.py` through one that asks for the `source.fixAll.outplace` code action and applies it.
INIT_LUA = r"""
local out = {}
local function finish()
  local f = io.open(vim.env.OUTPLACE_RESULT, "w")
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd("qa!")
end

local function fix_all_on_save(bufnr, client)
  local params = vim.lsp.util.make_range_params()
  params.range = { start = { line = 0, character = 0 }, ["end"] = { line = vim.api.nvim_buf_line_count(bufnr), character = 0 } }
  params.context = { diagnostics = {}, only = { "source.fixAll.outplace" } }
  local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 5000) or {}
  for _, response in pairs(responses) do
    for _, action in ipairs(response.result or {}) do
      if action.edit then
        vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
      end
    end
  end
end

local ok, err = pcall(function()
  local dir = vim.env.OUTPLACE_DIR
  local client_id = vim.lsp.start_client({
    name = "outplace",
    cmd = { vim.env.OUTPLACE_PYTHON, "-m", "outplace", "lsp" },
    root_dir = dir,
    init_options = {},
  })
  out.client = client_id
  for _, name in ipairs({ "formatted.py", "fixall.py" }) do
    vim.cmd("edit " .. vim.fn.fnameescape(dir .. "/" .. name))
    local bufnr = vim.api.nvim_get_current_buf()
    vim.lsp.buf_attach_client(bufnr, client_id)
    local got = vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 50)
    local diags = {}
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      table.insert(diags, { code = d.code, lnum = d.lnum, col = d.col, source = d.source, message = d.message })
    end
    out[name] = { waited = got, diagnostics = diags }
    local client = vim.lsp.get_client_by_id(client_id)
    vim.api.nvim_create_autocmd("BufWritePre", {
      buffer = bufnr,
      callback = function()
        if name == "formatted.py" then
          vim.lsp.buf.formatting_sync(nil, 5000)
        else
          fix_all_on_save(bufnr, client)
        end
      end,
    })
    vim.cmd("write")
  end
end)
if not ok then out.error = tostring(err) end
finish()
"""


def test_neovim_fixes_the_file_on_save(tmp_path: Path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.outplace]\n")
    for name in ("formatted.py", "fixall.py"):
        (project / name).write_text(SAMPLE, encoding="utf-8")
    init = tmp_path / "init.lua"
    init.write_text(INIT_LUA)
    result = tmp_path / "result.json"
    home = tmp_path / "home"
    env = {
        **os.environ,
        "HOME": str(home),  # Neovim, and the server it starts, write nothing into the real $HOME
        "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"), "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "OUTPLACE_DIR": str(project), "OUTPLACE_PYTHON": sys.executable, "OUTPLACE_RESULT": str(result),
    }
    (home / "run").mkdir(parents=True)
    proc = subprocess.run([NVIM, "--headless", "-n", "-i", "NONE", "--noplugin", "-u", str(init)],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert result.exists(), f"nvim wrote no result (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    out = json.loads(result.read_text())
    assert "error" not in out, out["error"]
    expected = fix_source(SAMPLE, Settings()).output
    assert expected != SAMPLE
    for name in ("formatted.py", "fixall.py"):
        seen = out[name]
        assert seen["waited"], f"no diagnostics in Neovim for {name}"
        # Neovim 0.7 speaks UTF-16 and reports byte columns: `    s = "😀"; ` is 16 bytes (14 UTF-16 units).
        assert [(d["code"], d["lnum"], d["col"], d["source"]) for d in seen["diagnostics"]] == [
            ("OP102", 5, 4, "outplace"), ("OP103", 6, 16, "outplace")]
        assert (project / name).read_text(encoding="utf-8") == expected, name
    assert not any(home.glob("config/**/*.lua"))
