"""`outplace verify` as a command: exit codes, JSON report, output, usage errors, torch only in workers."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from outplace.harness.command import torch_available, verify, verify_cli
from outplace.harness.testing import shared_pool

RUNNABLE = Path(__file__).resolve().parent.parent / "fixtures" / "runnable"
SRC = Path(__file__).resolve().parent.parent / "src"

needs_torch = pytest.mark.skipif(not torch_available(), reason="torch is not installed")


@pytest.fixture(scope="session")
def pool():
    return shared_pool()


def run_verify(pool, paths, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    args = dict(against=None, device="cpu", json_path=None, rtol=0.0, atol=0.0, timeout=60.0, jobs=2)
    args.update(kwargs)
    rc = verify([Path(p) for p in paths], pool=pool, stdout=out, stderr=err, **args)
    return rc, out.getvalue(), err.getvalue()


@needs_torch
def test_fixed_exits_0_with_plain_lines(pool):
    rc, out, err = run_verify(pool, [RUNNABLE / "exp_add.py"], against=RUNNABLE / "exp_add.fixed.py")
    assert rc == 0
    assert out.startswith(f"{RUNNABLE / 'exp_add.py'} [cpu] fixed: ")
    assert "1 case on cpu: 1 fixed" in err
    assert "identical = same dtype, shape and bits" in err


@needs_torch
def test_changed_exits_1_and_json_has_the_interface_fields(pool, tmp_path):
    report = tmp_path / "report.json"
    rc, out, _ = run_verify(pool, [RUNNABLE / "div_sum.py"], against=RUNNABLE / "div_sum.wrong.py", json_path=report)
    assert rc == 1
    assert "[cpu] changed: " in out and "max abs diff" in out
    data = json.loads(report.read_text())
    assert isinstance(data, list) and len(data) == 1
    entry = data[0]
    assert {"path", "device", "verdict", "original", "rewritten", "differences"} <= set(entry)
    assert entry["verdict"] == "changed" and entry["device"] == "cpu"
    assert entry["original"]["status"] == "error"
    assert entry["original"]["error"]["type"] == "RuntimeError"
    assert "modified by an inplace operation" in entry["original"]["error"]["message"]
    assert entry["rewritten"]["status"] == "ok" and entry["rewritten"]["error"] is None
    diff = {d["tensor"]: d for d in entry["differences"]}
    assert diff["x"]["kind"] == "value" and diff["x"]["max_abs_diff"] > 0
    assert diff["w.grad"]["kind"] == "grad"
    assert entry["tolerance"] == {"rtol": 0.0, "atol": 0.0, "exact": True}
    assert entry["reference"] == "oracle"


@needs_torch
def test_json_to_stdout_and_unfixed_and_broken_exit_1(pool):
    rc, out, _ = run_verify(pool, [RUNNABLE / "sigmoid_mul.py"], against=RUNNABLE / "sigmoid_mul.rebind.py", json_path="-")
    assert rc == 1 and json.loads(out)[0]["verdict"] == "unfixed"
    rc, out, _ = run_verify(pool, [RUNNABLE / "param_update.py"], against=RUNNABLE / "param_update.assign.py", json_path="-")
    assert rc == 1 and json.loads(out)[0]["verdict"] == "broken"
    assert json.loads(out)[0]["rewritten"]["error"]["type"] == "TypeError"


def _tiny_pair(tmp_path: Path, original: str, rewritten: str) -> tuple[Path, Path]:
    a, b = tmp_path / "case.py", tmp_path / "case.fixed.py"
    a.write_text(textwrap.dedent(original))
    b.write_text(textwrap.dedent(rewritten))
    return a, b


@needs_torch
def test_tolerances_loosen_identity_and_the_report_says_so(pool, tmp_path):
    a, b = _tiny_pair(
        tmp_path,
        "import torch\nx = torch.ones(3)\ny = x + 1e-6\nz = torch.zeros(2)\n",
        "import torch\nx = torch.ones(3)\ny = x + 1.2e-6\nz = -torch.zeros(2)\n",
    )
    rc, out, err = run_verify(pool, [a], against=b, json_path="-")
    entry = json.loads(out)[0]
    assert rc == 1 and entry["verdict"] == "changed"
    diffs = {d["tensor"]: d for d in entry["differences"]}
    assert diffs["y"]["kind"] == "value" and 0 < diffs["y"]["max_abs_diff"] < 1e-6
    assert diffs["z"]["max_abs_diff"] == 0.0 and "sign of zero" in diffs["z"]["detail"]  # -0.0 != 0.0 bitwise
    rc, out, err = run_verify(pool, [a], against=b, atol=1e-6)
    assert rc == 0 and "preserved" in out
    assert "rtol=0, atol=1e-06 (loosened: not bit-identical)" in err


@needs_torch
def test_dtype_and_nan(pool, tmp_path):
    a, b = _tiny_pair(
        tmp_path,
        "import torch\nx = torch.ones(3)\nx += torch.ones(3, dtype=torch.float64)\nn = torch.tensor([float('nan'), 1.0])\n",
        "import torch\nx = torch.ones(3)\nx = x + torch.ones(3, dtype=torch.float64)\nn = torch.tensor([float('nan'), 1.0]) * 1\n",
    )
    rc, out, _ = run_verify(pool, [a], against=b, json_path="-")
    diffs = json.loads(out)[0]["differences"]
    assert [(d["tensor"], d["kind"]) for d in diffs] == [("x", "dtype")]  # NaN matches NaN
    assert "float32 vs float64" in diffs[0]["detail"]


@needs_torch
def test_device_all_without_cuda_skips_with_a_note(pool):
    if pool.info.get("cuda"):
        pytest.skip("CUDA available")
    rc, out, err = run_verify(pool, [RUNNABLE / "exp_add.py"], against=RUNNABLE / "exp_add.fixed.py", device="all")
    assert rc == 0
    assert "[cuda] skipped: CUDA skipped: torch.cuda.is_available() is False" in out
    assert "note: CUDA skipped" in err


@needs_torch
def test_engine_failure_is_an_error_entry_exit_2(pool, monkeypatch):
    import outplace.engine

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(outplace.engine, "fix_source", boom)
    rc, out, err = run_verify(pool, [RUNNABLE / "exp_add.py"], json_path="-")
    assert rc == 2
    entry = json.loads(out)[0]
    assert entry["verdict"] == "error" and "RuntimeError: boom" in entry["reason"]


@needs_torch
def test_directory_walk_skips_hand_made_rewrites(pool, monkeypatch, tmp_path):
    import outplace.engine
    from outplace.engine import FixResult

    monkeypatch.setattr(outplace.engine, "fix_source", lambda text, settings, path="", **kw: FixResult(output=text))
    for name in ("a.py", "a.fixed.py", "b.py"):
        (tmp_path / name).write_text("import torch\nx = torch.ones(2)\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.py").write_text("raise SystemExit(5)\n")
    rc, out, _ = run_verify(pool, [tmp_path], json_path="-")
    assert rc == 0
    assert sorted(Path(e["path"]).name for e in json.loads(out)) == ["a.py", "b.py"]


@pytest.mark.parametrize(
    "paths,kwargs,message",
    [
        (["nope.py"], {}, "nope.py: no such file or directory"),
        ([RUNNABLE], {"against": RUNNABLE / "exp_add.fixed.py"}, "--against needs exactly one file"),
        ([RUNNABLE / "exp_add.py"], {"against": RUNNABLE / "missing.py"}, "no such file"),
        ([RUNNABLE / "exp_add.py"], {"device": "tpu"}, "--device must be cpu, cuda or all"),
        ([RUNNABLE / "exp_add.py"], {"rtol": -1.0}, "must not be negative"),
        ([RUNNABLE / "exp_add.py"], {"timeout": 0.0}, "--timeout must be positive"),
        ([RUNNABLE / "exp_add.py"], {"jobs": 0}, "--jobs must be at least 1"),
    ],
)
def test_usage_errors_exit_2(paths, kwargs, message):
    out, err = io.StringIO(), io.StringIO()
    args = dict(against=None, device="cpu", json_path=None, rtol=0.0, atol=0.0, timeout=60.0, jobs=1)
    args.update(kwargs)
    rc = verify([Path(p) for p in paths], stdout=out, stderr=err, **args)
    assert rc == 2
    assert message in err.getvalue() and err.getvalue().startswith("outplace verify: error: ")


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("verify")(verify_cli)

    @app.command("other")
    def other() -> None:  # a second command so that "verify" stays a subcommand
        pass

    return app


def test_typer_registration_help_and_bad_option():
    result = CliRunner().invoke(_app(), ["verify", "--help"])
    assert result.exit_code == 0
    for flag in ("--against", "--device", "--json", "--rtol", "--atol", "--timeout", "--jobs", "-j"):
        assert flag in result.output
    bad = CliRunner().invoke(_app(), ["verify", str(RUNNABLE / "exp_add.py"), "--device", "tpu"])
    assert bad.exit_code == 2


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    return env


BLOCK_TORCH = textwrap.dedent(
    """
    import sys
    class Block:
        def find_spec(self, name, path=None, target=None):
            if name == "torch" or name.startswith("torch."):
                raise ModuleNotFoundError("No module named 'torch'", name=name)
    sys.meta_path.insert(0, Block())
    """
)


def test_without_torch_verify_prints_one_line_and_exits_2(tmp_path):
    code = BLOCK_TORCH + textwrap.dedent(
        f"""
        from pathlib import Path
        from outplace.harness.command import verify
        sys.exit(verify([Path({str(RUNNABLE / 'exp_add.py')!r})], None, "cpu", None, 0.0, 0.0, 10.0, 1))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(),
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "torch is not installed" in lines[0]


@needs_torch
def test_cli_process_never_imports_torch(tmp_path):
    report = tmp_path / "r.json"
    code = textwrap.dedent(
        f"""
        import sys, typer
        from typer.testing import CliRunner
        from outplace.harness.command import verify_cli
        app = typer.Typer()
        app.command("verify")(verify_cli)
        app.command("other")(lambda: None)
        result = CliRunner().invoke(app, ["verify", {str(RUNNABLE / 'exp_add.py')!r}, "--against",
                                          {str(RUNNABLE / 'exp_add.fixed.py')!r}, "--json", {str(report)!r}, "-j", "2"])
        assert "torch" not in sys.modules, "the CLI process imported torch"
        print(result.output)
        sys.exit(result.exit_code)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(),
                          timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(report.read_text())[0]["verdict"] == "fixed"
