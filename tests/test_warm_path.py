"""A `check` answered from the cache (text output: JSON's fix edits need the analysis again) loads
only what it needs: not the analysis, the rules, libcst, nor (through typer's option coercion)
pydantic; and the option values coerced without pydantic are
exactly those typer's own coercion gives."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from enum import Enum
from pathlib import Path

import pytest
import typer.main

from outplace import cli_coercion
from outplace.cli import Format, _register_optional, app

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
    if cli_coercion.install():  # this typer coerces through a hook outplace can use
        never.add("pydantic")
    assert not never & set(second["loaded"]), second["loaded"]


# ---- plain option values coerced as typer coerces them --------------------------------------------

SAMPLES = [None, "", "0", "1", "7", "01", "-1", " 2", "2_0", "1.5", "1e3", "abc", "text", "json", "JSON", "breaks", "x.py",
           ("a", "b"), ("1", "x"), ["json"], (), True, 0, 3, Format.text, b"x"]


def _params():
    _register_optional(["outplace"])  # verify, diagnose, trace, lsp too
    command = typer.main.get_command(app)
    for name, sub in sorted(command.commands.items()):
        for param in sub.params:
            if hasattr(param, "type_descriptor"):
                yield sub, param


def _outcome(runtime, value, param, ctx):
    try:
        out = runtime.coerce(value, param=param, ctx=ctx)
    except Exception as e:  # the error a user sees is part of the behaviour
        return "raises", type(e).__name__, str(e)
    return "value", type(out), out


def test_plain_coercion_gives_what_typers_own_gives() -> None:
    if not cli_coercion.install():
        pytest.skip("this typer has no coercion hook: it coerces everything itself")
    from typer import _click, _coercion, core

    assert core.build_runtime_param is not _coercion.build_runtime_param
    compared = 0
    kinds = set()
    for command, param in _params():
        ctx = _click.Context(command)
        descriptor = param.type_descriptor
        ours, theirs = core.build_runtime_param(descriptor), _coercion.build_runtime_param(descriptor)
        for value in SAMPLES:
            assert _outcome(ours, value, param, ctx) == _outcome(theirs, value, param, ctx), (param.name, value)
            compared += 1
        annotation = descriptor.annotation
        kinds.add("enum" if isinstance(annotation, type) and issubclass(annotation, Enum) else repr(annotation))
    assert compared > 100 and {"enum", "<class 'str'>", "<class 'int'>", "list[str]"} <= kinds, kinds
