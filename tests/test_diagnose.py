"""`outplace diagnose` end to end: runnable failing programs (fixtures/diagnose), their exact culprit
lines, `--fix` verified by the differential harness, exit codes, `-m pytest`, JSON output, and the
recorder's own behaviour (no leaks, gradients unchanged, a caught error still reported).

Every fixture's expectations are in its header:

    # diagnose: exit=1 fix=safe after=fixed args=--steps,4 changes=12
    # culprit: line=17 kind=write op=mul_ form=*= count=4 module=model.blocks.0 file=blocks.py

(`changes`: lines besides the culprits' that the fix may rewrite, for repairs made from the run: the
header of the loop whose views are written, the call in the caller before which a tensor is cloned.)

Cost control: all the script fixtures (and the recorder checks) run in ONE child process
(`runner.run_batch`, torch imported once); the harness checks share the session's warm worker pool;
only the CLI tests start `outplace diagnose` itself (two to three seconds each).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import outplace

from outplace.diagnose import fixes, report
from outplace.diagnose.command import diagnose, torch_available
from outplace.diagnose.runner import Job, RunnerError, run_batch, run_program

pytestmark = pytest.mark.skipif(not torch_available(), reason="torch is not installed")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "diagnose"
_HEAD = re.compile(r"^# diagnose: (.*)$", re.M)
_CULPRIT = re.compile(r"^# culprit: (.*)$", re.M)


def _kv(text: str) -> dict:
    return dict(part.split("=", 1) for part in text.split())


def header(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    head = _kv(_HEAD.search(text).group(1))
    head["culprits"] = [_kv(m) for m in _CULPRIT.findall(text)]
    head["args"] = head["args"].split(",") if head.get("args") else []
    return head


SCRIPTS = sorted(p for p in FIXTURES.glob("*.py")) + [FIXTURES / "residual" / "train.py"]
IDS = [p.relative_to(FIXTURES).as_posix() for p in SCRIPTS]

# Checks of the recorder itself, run in the same batch child: name -> (the program's own exit
# status, the culprits diagnose must find as [(line, kind)], source).
SELF_CHECKS = {
    "caught_error": (0, [(5, "write")], """
        # The program catches the error (as pytest does): diagnose still reports the culprit.
        import torch
        x = torch.randn(4, requires_grad=True)
        y = x.sigmoid()
        y.mul_(2)
        try:
            y.sum().backward()
        except RuntimeError as e:
            assert "modified by an inplace operation" in str(e), e
            assert "mul_" in str(e), e
        else:
            raise AssertionError("backward did not raise")
        """),
    "same_gradients": (0, [], """
        # In-place code that is fine gives the same gradients with and without the recorder,
        # including torch.autograd.grad, double backward and BatchNorm/Dropout/ReLU(inplace).
        import torch
        from torch import nn
        from outplace.diagnose.recorder import RECORDER

        def grads():
            torch.manual_seed(0)
            model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(inplace=True),
                                  nn.Dropout(0.2), nn.Linear(8, 1))
            x = torch.randn(5, 6, requires_grad=True)
            out = model(x) * 2
            out.add_(1)
            (gx,) = torch.autograd.grad(out.sum(), x, create_graph=True)
            gx.pow(2).sum().backward()
            return [p.grad if p.grad is not None else torch.zeros(0) for p in model.parameters()] + [gx.detach()]

        assert RECORDER.installed
        recorded = grads()
        RECORDER.uninstall()
        plain = grads()
        RECORDER.install()
        for a, b in zip(recorded, plain):
            assert torch.equal(a, b), (a, b)
        """),
    "no_leak": (0, [], """
        # Saved outputs are held detached: graphs that are never backpropagated are freed.
        import gc, weakref
        import torch
        from outplace.diagnose.recorder import RECORDER

        refs = []
        for _ in range(3):
            a = torch.randn(100, requires_grad=True)
            b = a.exp().sigmoid()
            refs.append(weakref.ref(b))
            del a, b
        gc.collect()
        assert not any(r() is not None for r in refs), "graph kept alive"
        assert not RECORDER.state.live, RECORDER.state.live
        """),
    "func_transforms": (0, [], """
        # torch.func refuses to run under saved-tensor hooks: the recorder steps its hooks aside.
        import torch
        from torch.func import grad, vmap
        x = torch.randn(3)
        assert torch.allclose(grad(lambda t: t.sin().sum())(x), x.cos())
        assert vmap(torch.sin)(torch.randn(2, 3)).shape == (2, 3)
        """),
    "functional_relu_grad": (0, [(9, "write")], """
        # F.relu(inplace=True) over a saved sigmoid output, found through torch.autograd.grad; a call
        # spanning lines is located at the line where it starts.
        import torch
        import torch.nn.functional as F
        w = torch.randn(4, 4, requires_grad=True)
        h = torch.sigmoid(torch.randn(2, 4) @ w)
        try:
            (g,) = torch.autograd.grad(
                F.relu(
                    h, inplace=True).sum(), w)
        except RuntimeError:
            pass
        """),
    "nograd_update": (0, [(4, "write")], """
        import torch
        w = torch.randn(3, requires_grad=True)
        loss = (w * w).sum()  # saves w twice: one write, counted once
        w.detach().mul_(0.9)
        try:
            loss.backward()
        except RuntimeError:
            pass
        """),
    "user_mode": (0, [(None, "unseen")], """
        # Forward inside a TorchDispatchMode the program entered: the write is not seen, the stale
        # tensor still is (and the recorder never pops the program's mode).
        import torch
        from torch.utils._python_dispatch import TorchDispatchMode, _len_torch_dispatch_stack

        class Count(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                return func(*args, **(kwargs or {}))

        x = torch.randn(3, requires_grad=True)
        with Count():
            y = x.exp()
            y.add_(1)
            try:
                y.sum().backward()
            except RuntimeError as e:
                assert "modified by an inplace operation" in str(e)
            assert _len_torch_dispatch_stack() == 1
        assert _len_torch_dispatch_stack() == 0
        """),
    "rnn_cells": (0, [], """
        # nn.LSTMCell / nn.GRUCell on CPU split their gates with unsafe_chunk (one storage, a version
        # counter per piece) and write the pieces in place: writes into other elements of a storage a
        # saved gate lives in, with no version bump, are not culprits.
        import torch
        from torch import nn
        torch.manual_seed(0)
        x = torch.randn(2, 3)
        h, c = nn.LSTMCell(3, 4)(x, (torch.zeros(2, 4), torch.zeros(2, 4)))
        g = nn.GRUCell(3, 4)(x, torch.zeros(2, 4))
        (h.sum() + c.sum() + g.sum()).backward()
        """),
    "args_and_main": (0, [], """
        import sys
        assert __name__ == "__main__"
        assert sys.argv[1:] == ["--flag", "value"], sys.argv
        """),
    "exit_code": (3, [], """
        import sys
        sys.exit(3)
        """),
}


@pytest.fixture(scope="session")
def self_check_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("diagnose_self")
    for name, (_, _, source) in SELF_CHECKS.items():
        (d / f"{name}.py").write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
    return d


@pytest.fixture(scope="session")
def batch(self_check_dir):
    """Every script fixture and self-check, run under the recorder in one child process."""
    jobs = [Job(str(p), header(p)["args"]) for p in SCRIPTS]
    jobs += [Job(str(self_check_dir / f"{n}.py"), ["--flag", "value"] if n == "args_and_main" else [])
             for n in SELF_CHECKS]
    runs = run_batch(jobs, cwd=str(ROOT), timeout=300)
    out = {}
    for run in runs:
        d = report.build(run.report, run.returncode, cwd=str(ROOT))
        fixes.propose(d)
        out[Path(run.job.target).resolve()] = (run, d)
    return out


# ---- every fixture: exit code and exact culprit lines ---------------------------------------------

@pytest.mark.parametrize("path", SCRIPTS, ids=IDS)
def test_fixture_culprits(batch, path):
    run, d = batch[path.resolve()]
    head = header(path)
    assert d.exit_code == int(head["exit"]), (report.render(d), run.stderr[-3000:])
    if "program_exit" in head:
        assert d.program_exit == int(head["program_exit"])
    expected = head["culprits"]
    got = {(Path(c.file).resolve() if c.file else None, c.line): c for c in d.culprits}
    want = {(path.parent.joinpath(e.get("file", path.name)).resolve(), int(e["line"])) for e in expected}
    assert set(got) == want, report.render(d)
    for e in expected:
        c = got[(path.parent.joinpath(e.get("file", path.name)).resolve(), int(e["line"]))]
        assert c.kind == e["kind"], report.render(d)
        if "op" in e:
            assert e["op"] in c.ops, report.render(d)
        if "form" in e:
            assert c.form == e["form"], report.render(d)
        if "module" in e:
            assert e["module"] in c.modules, report.render(d)
        if "count" in e:
            assert c.count == int(e["count"]), report.render(d)
        fix = head.get("fix")
        if fix == "none" or c.kind not in report.FIXABLE_KINDS:
            assert c.fix is None and c.note, report.render(d)
        elif fix in ("safe", "unsafe"):
            assert c.fix is not None, report.render(d)
            assert c.fix.safe == (fix == "safe"), report.render(d)


def test_metadata_writes_that_bump_the_version_are_writes():
    """The recorder skips ops whose schema marks an argument written but leave its version counter
    alone; `unsqueeze_` and the other metadata writes bump it (and backward checks the version): they
    are recorded (eval32: deepchem, ZeroRestore, DPLC)."""
    torch = pytest.importorskip("torch")
    from outplace.diagnose.recorder import _NOT_VALUE_WRITES

    def bumps(name, *args):
        t = torch.randn(2, 2)
        before = t._version
        getattr(t, name)(*args)
        return t._version != before

    for name, args in [("unsqueeze_", (0,)), ("squeeze_", ()), ("t_", ()), ("transpose_", (0, 1)),
                       ("swapaxes_", (0, 1)), ("swapdims_", (0, 1)), ("as_strided_", ((2, 2), (2, 1))),
                       ("set_", (torch.randn(3),)), ("resize_as_", (torch.randn(3),))]:
        assert bumps(name, *args) and name not in _NOT_VALUE_WRITES, name
    for name, args in [("detach_", ()), ("requires_grad_", (False,))]:
        assert not bumps(name, *args) and name in _NOT_VALUE_WRITES, name


def test_report_names_the_saving_op_and_versions(batch):
    _, d = batch[(FIXTURES / "relu_inplace_module.py").resolve()]
    (c,) = d.culprits
    assert c.called_at["line"] == 20 and c.module_type == "ReLU"
    (s,) = c.saves
    assert (s.node, s.forward_op, s.at["line"], s.module) == ("SigmoidBackward0", "sigmoid", 20, "model.head.1")
    assert (s.saved_version, s.found_version, c.versions) == (0, 1, [(0, 1)])
    text = report.render(d)
    assert "relu_inplace_module.py:16:13: `relu_` from `ReLU(inplace=True)`" in text
    assert "-            nn.ReLU(inplace=True)," in text and "+            nn.ReLU()," in text


def test_multiple_culprits_are_found_in_one_run_in_program_order(batch):
    _, d = batch[(FIXTURES / "multiple.py").resolve()]
    assert [c.line for c in d.culprits] == [14, 15, 16]
    assert [c.versions for c in d.culprits] == [[(0, 1)], [(1, 2)], [(0, 1)]]
    assert "and 1 more stale saved tensor" in d.error["message"]


def test_unfixable_kinds_say_what_to_do_instead(batch):
    _, d = batch[(FIXTURES / "optimizer_step.py").resolve()]
    text = report.render(d)
    assert "not fixable by rewriting" in text and "step after every backward pass over that graph" in text
    _, d = batch[(FIXTURES / "data_write.py").resolve()]
    text = report.render(d)
    assert "`.data`" in text and "wrong" in text and d.program_exit == 0


@pytest.mark.parametrize("name", list(SELF_CHECKS))
def test_recorder_self_checks(batch, self_check_dir, name):
    run, d = batch[(self_check_dir / f"{name}.py").resolve()]
    program_exit, culprits, _ = SELF_CHECKS[name]
    assert d.program_exit == program_exit, run.stderr[-3000:]
    assert [(c.line, c.kind) for c in d.culprits] == culprits, report.render(d)
    assert d.exit_code == (1 if culprits else (0 if program_exit == 0 else 2))
    if name == "nograd_update":
        (c,) = d.culprits
        assert c.count == 1 and c.fix is None and "torch.no_grad" not in (c.note or "")


# ---- --fix, verified by the harness ------------------------------------------------------------------

def _changed_lines(old: str, new: str) -> tuple[set[int], list[int]]:
    """(old line numbers removed or replaced, old line numbers before which lines were inserted)."""
    import difflib

    removed, inserted = set(), []
    sm = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    for tag, i1, i2, _, _ in sm.get_opcodes():
        if tag in ("replace", "delete"):
            removed.update(range(i1 + 1, i2 + 1))
        if tag == "insert":
            inserted.append(i1 + 1)
    return removed, inserted


FIXABLE = [p for p in SCRIPTS if "after" in header(p) and p.parent == FIXTURES]


@pytest.fixture(scope="session")
def fixed_pairs(batch, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("diagnose_fixed")
    pairs = {}
    for path in FIXABLE:
        _, d = batch[path.resolve()]
        plans = fixes.propose(d)
        changed = fixes.apply(plans, unsafe_fixes=header(path).get("fix") == "unsafe", write=False)
        assert len(changed) == 1, (path.name, report.render(d))
        (target, new), = changed
        assert Path(target).resolve() == path.resolve()
        fixed = out_dir / f"{path.stem}.diagnose.py"
        fixed.write_text(new, encoding="utf-8")
        pairs[path.name] = (path, fixed)
    return pairs


@pytest.fixture(scope="session")
def verdicts(fixed_pairs):
    from outplace.harness.testing import shared_pool, verify_pairs

    items = list(fixed_pairs.items())
    results = verify_pairs(shared_pool(), [pair for _, pair in items])
    return {name: r for (name, _), r in zip(items, results)}


@pytest.mark.parametrize("path", FIXABLE, ids=[p.name for p in FIXABLE])
def test_fix_changes_only_culprit_lines_and_the_harness_agrees(fixed_pairs, verdicts, path):
    original, fixed = fixed_pairs[path.name]
    head = header(path)
    # `changes=`: other lines a run-based repair rewrites (a loop's header, a call in the caller).
    lines = {int(c["line"]) for c in head["culprits"]} | {int(n) for n in head.get("changes", "").split(",") if n}
    removed, inserted = _changed_lines(original.read_text(), fixed.read_text())
    assert removed <= lines, (removed, lines)
    assert all(i in lines for i in inserted), (inserted, lines)  # a clone goes right before its write
    r = verdicts[path.name]
    assert r.verdict == head["after"], (r.reason, [x.short() for x in r.differences], r.notes)
    if head["after"] == "fixed":
        assert r.rewritten.status == "ok", r.rewritten.error


# ---- the command line -----------------------------------------------------------------------------
# The CLI runs start together, at the first test of this module, and run while the batch does.

def _cli(*args: str, cwd: Path, **environ: str) -> subprocess.Popen:
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(ROOT / "src"), **environ)
    return subprocess.Popen([sys.executable, "-m", "outplace", "diagnose", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


HAS_CUDA = bool(shutil.which("nvidia-smi") or os.path.exists("/dev/nvidia0"))


@pytest.fixture(scope="module", autouse=True)
def cli(tmp_path_factory):
    work = tmp_path_factory.mktemp("diagnose_cli")
    shutil.copytree(FIXTURES / "residual", work / "residual")
    shutil.copy(FIXTURES / "out_buffer.py", work / "out_buffer.py")
    shutil.copy(ROOT / "fixtures" / "reports" / "bidaf_lstm_bias_chunk_fill.py", work / "bidaf.py")
    commands = {
        "fix_rounds": (("--fix", "--unsafe-fixes", "--format", "json", "bidaf.py"), work),
        "fix_other_file": (("--fix", "--unsafe-fixes", "train.py"), work / "residual"),
        "fix_safe_only": (("--fix", "out_buffer.py"), work),
        "pytest": (("-m", "pytest", "--", "-p", "no:cacheprovider", "fixtures/diagnose/pytest_suite/test_model.py"),
                   ROOT),
        "other_error": (("fixtures/diagnose/other_error.py",), ROOT),
        "json": (("--format", "json", "fixtures/diagnose/loop.py", "--", "--steps", "2"), ROOT),
    }
    if HAS_CUDA:
        commands["cuda"] = (("fixtures/diagnose/cuda_exp_add.py", "--", "--device", "cuda"), ROOT)
    procs = {name: _cli(*args, cwd=cwd) for name, (args, cwd) in commands.items()}
    results: dict[str, subprocess.CompletedProcess] = {}

    def get(name: str) -> subprocess.CompletedProcess:
        if name not in results:
            proc = procs[name]
            out, err = proc.communicate(timeout=600)
            results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        return results[name]

    get.work = work
    yield get
    for proc in procs.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_cli_fix_in_another_file_then_rerun(cli):
    """`--fix --unsafe-fixes` edits the model file's culprit line only; the re-run is clean (exit 0)."""
    p = cli("fix_other_file")
    work = cli.work / "residual"
    assert p.returncode == 0, p.stdout + p.stderr
    removed, inserted = _changed_lines((FIXTURES / "residual" / "blocks.py").read_text(),
                                       (work / "blocks.py").read_text())
    assert (removed, inserted) == ({15}, [])
    assert (work / "train.py").read_text() == (FIXTURES / "residual" / "train.py").read_text()
    assert "after the fix:" in p.stdout and "no in-place problem found" in p.stdout
    assert "modified by an inplace operation" in p.stderr  # the program's own error, first run


def test_cli_fix_runs_again_for_the_writes_the_first_run_could_not_reach(cli):
    """Two refused writes (a bias chunk filled per direction): the first stops the program, so the second
    only shows after the first is fixed; `--fix` fixes both, in two rounds, under torch.no_grad()."""
    p = cli("fix_rounds")
    assert p.returncode == 0, p.stdout + p.stderr
    doc = json.loads(p.stdout)
    assert [c["kind"] for c in doc["culprits"]] == ["view"]
    assert doc["culprits"][0]["fix"]["repair"] == "no_grad" and doc["culprits"][0]["runtime"]["parameter"]
    rounds = doc["fix_rounds"]
    assert len(rounds) == 2 and rounds[-1]["after_fix"]["culprits"] == []
    assert [c["line"] for c in rounds[0]["after_fix"]["culprits"]] == [32]
    text = (cli.work / "bidaf.py").read_text()
    assert text.count("with torch.no_grad():") == 2
    assert "                with torch.no_grad():\n                    getattr(self.rnn, f'bias_hh_l{i}_reverse')" in text


def test_cli_fix_without_unsafe_leaves_unsafe_fixes_alone(cli):
    p = cli("fix_safe_only")
    assert p.returncode == 1, p.stdout + p.stderr
    assert (cli.work / "out_buffer.py").read_text() == (FIXTURES / "out_buffer.py").read_text()
    assert "only fixes are unsafe" in p.stderr


def test_cli_module_mode_pytest(cli):
    p = cli("pytest")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "1 failed, 1 passed" in p.stdout
    assert "fixtures/diagnose/pytest_suite/test_model.py:17:9: `+=` (`add_`)" in p.stdout
    assert "in module model (Gate)" in p.stdout


def test_cli_other_failure_exits_2_with_the_programs_traceback(cli):
    p = cli("other_error")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback (most recent call last)" in p.stderr and "other_error.py\", line 8" in p.stderr
    package = os.path.dirname(os.path.abspath(outplace.__file__))
    assert package not in p.stderr.split("Traceback", 1)[1]  # outplace's own frames are not in it
    assert "failed for another reason" in p.stdout


def test_cli_json_and_program_arguments(cli):
    p = cli("json")
    assert p.returncode == 1, p.stdout + p.stderr
    data = json.loads(p.stdout)
    (c,) = data["culprits"]
    assert (c["line"], c["kind"], c["count"], c["form"]) == (17, "write", 2, "*=")
    assert c["path"] == str(FIXTURES / "loop.py")
    assert c["at"]["col"] == 5 and c["at"]["end_col"] == 13  # 1-based characters, like `check --format json`
    assert c["fix"]["applicability"] == "safe" and "+    h = h * 0.9" in c["fix"]["diff"]
    assert data["exit_code"] == 1


@pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device")
def test_cli_cuda(cli):
    p = cli("cuda")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "cuda_exp_add.py:14:1: `mul_`" in p.stdout and "cuda:0" in p.stdout


# ---- usage errors (no child process) -------------------------------------------------------------

def test_usage_errors(tmp_path, capsys):
    assert diagnose([]) == 2
    assert diagnose([str(tmp_path / "missing.py")]) == 2
    assert diagnose(["x.py"], unsafe_fixes=True) == 2
    err = capsys.readouterr().err
    assert "nothing to run" in err and "no such file" in err


def test_command_module_does_not_import_torch():
    code = ("import sys; import outplace.cli, outplace.diagnose.command, outplace.diagnose.report, "
            "outplace.diagnose.fixes, outplace.diagnose.runner; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))


def test_cli_registers_diagnose():
    result = subprocess.run([sys.executable, "-m", "outplace", "diagnose", "--help"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--fix" in result.stdout and "--module" in result.stdout


# ---- the program stays in its box (issue 11) -------------------------------------------------------
# Started together, after the tests above: a program that ends leaving processes behind (holding its
# output pipes), one that outlives --timeout, and three `outplace diagnose` runs to send SIGINT,
# SIGTERM and SIGHUP. Each program first starts a sleep, a `setsid` sleep and a double-forked daemon.

BOX_TIMEOUT = 30.0  # long enough for the child to import torch and start, on a loaded machine
BOX_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    from outplace.harness.testing import kill_all, spawner

    work = tmp_path_factory.mktemp("diagnose_box")

    def program(name: str, tail: str) -> tuple[Path, Path]:
        path, pids = work / f"{name}.py", work / f"{name}.pids"
        path.write_text(spawner(pids, me=True) + tail)
        return path, pids

    results: dict[str, object] = {}

    def call(name: str, path: Path, timeout: float) -> None:
        start = time.monotonic()
        try:
            results[name] = run_program(str(path), capture=True, timeout=timeout)
        except RunnerError as exc:
            results[name] = exc
        results[f"{name}.seconds"] = time.monotonic() - start

    scenarios = {"leaves": program("leaves", "print('done')\n"),
                 "timeout": program("timeout", "import time\ntime.sleep(600)\n")}
    threads = {"leaves": threading.Thread(target=call, args=("leaves", scenarios["leaves"][0], 600.0)),
               "timeout": threading.Thread(target=call, args=("timeout", scenarios["timeout"][0], BOX_TIMEOUT))}
    for thread in threads.values():
        thread.start()
    signalled = {}
    for signum in BOX_SIGNALS:
        path, pids = program(signal.Signals(signum).name, "import time\ntime.sleep(600)\n")
        tmp = work / f"{signal.Signals(signum).name}.tmp"
        tmp.mkdir()
        signalled[signum] = (_cli(str(path), cwd=work, TMPDIR=str(tmp)), pids, tmp)
    yield {"scenarios": scenarios, "threads": threads, "results": results, "signalled": signalled}
    for proc, pids, _ in signalled.values():
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    for pids in [p for _, p in scenarios.values()] + [p for _, p, _ in signalled.values()]:
        kill_all(pids)
    for thread in threads.values():
        thread.join(timeout=60)


def test_what_the_program_leaves_behind_is_killed_and_not_waited_for(box):
    from outplace.harness.testing import noted, survivors

    box["threads"]["leaves"].join(timeout=180)  # the leftovers would hold its output pipes for 600 s
    assert not box["threads"]["leaves"].is_alive(), "diagnose still waits for what the program left behind"
    run = box["results"]["leaves"]
    assert not isinstance(run, Exception), run
    assert run.returncode == 0 and "done" in run.stdout, run.stderr
    pids = box["scenarios"]["leaves"][1]
    assert len(noted(pids)) == 4
    assert survivors(pids) == []


def test_timeout_kills_the_programs_whole_tree(box):
    from outplace.harness.testing import noted, survivors

    box["threads"]["timeout"].join(timeout=BOX_TIMEOUT + 120)
    outcome = box["results"].get("timeout")
    assert isinstance(outcome, RunnerError) and "ran longer than" in str(outcome), outcome
    pids = box["scenarios"]["timeout"][1]
    assert len(noted(pids)) == 4, f"the program did not get going within the {BOX_TIMEOUT:g} s timeout"
    assert survivors(pids) == []


@pytest.mark.parametrize("signum", BOX_SIGNALS, ids=[s.name for s in BOX_SIGNALS])
def test_signals_to_diagnose_kill_the_programs_whole_tree(box, signum):
    from outplace.harness.testing import survivors, wait_for_lines

    proc, pids, tmp = box["signalled"][signum]
    assert wait_for_lines(pids, 4), proc.poll()
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signum, err
    assert "the program and everything it started were killed" in err
    assert survivors(pids) == []
    assert os.listdir(tmp) == []  # its temporary folder (the recorder's report) is gone too


def test_clone_advice_when_the_saver_is_in_the_write_s_own_statement() -> None:
    """`b[:, 1] = act(b[:, 0])`: a clone before the statement would be what `act` saves, so the
    advice is to compute the value first (a reproduced report, eval8); elsewhere: clone before."""
    from outplace.diagnose.fixes import _clone_advice
    from outplace.diagnose.report import Culprit, Save

    here = {"file": "m.py", "line": 13}
    same = Culprit("saved", here, saves=[Save("SoftplusBackward0", "softplus", here, None, None, 1, 2, None)])
    earlier = Culprit("saved", here, saves=[Save("ExpBackward0", "exp", {"file": "m.py", "line": 9}, None, None,
                                                 1, 2, None)])
    assert "right-hand side into a new name first" in _clone_advice(same)
    assert _clone_advice(earlier) == "`.clone()` the tensor before writing"
