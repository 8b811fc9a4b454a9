"""Runs that end early or meet something odd end cleanly: only regular files are read, signals stop
the workers and leave no temporary file, a dead worker costs one file, and writes are
compare-and-swap (a concurrent writer's result is never silently overwritten; read-only files stay)."""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from outplace.engine import fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals, FIFOs and flock")

BLOCK = '''

def f{i}(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    y = torch.sigmoid(x)
    y *= 2
    z = y.exp()
    z.add_(1)
    w += 1
    return z * w


f{i}(torch.ones(3, requires_grad=True).exp(), torch.ones(3, requires_grad=True).exp())
'''
# A caller passes a tensor that requires grad: the write breaks backward (reported by default).
CALL = "\n\nf(torch.ones(3, requires_grad=True).exp())\n"
GOOD = "import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    y *= 2\n    return y\n" + CALL


def module(blocks: int) -> str:
    return "import torch\n" + "".join(BLOCK.format(i=i) for i in range(blocks))


def outplace(*args: str, cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "outplace", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def run(*args: str, cwd: Path, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    p = outplace(*args, cwd=cwd, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:  # (a hang is the failure; do not leave the process behind)
        p.kill()
        p.communicate()
        raise
    return subprocess.CompletedProcess(p.args, p.returncode, out.decode(), err.decode())


def ps_lines(marker: str) -> list[str]:
    """`ps` lines of live processes whose command line mentions `marker` (not zombies)."""
    out = subprocess.run(["ps", "-eo", "pid=,stat=,args="], capture_output=True, text=True, check=True).stdout
    return [ln for ln in out.splitlines() if marker in ln and " Z" not in ln[:12] and "ps -eo" not in ln]


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def temp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".outplace-tmp"))


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").exists() and " Z " in Path(f"/proc/{pid}/stat").read_text()


# ---- only regular files -------------------------------------------------------------------------------------

def test_a_fifo_named_on_the_command_line_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "good.py").write_text(GOOD)
    r = run("check", "--no-cache", "pipe.py", "good.py", cwd=tmp_path, timeout=60)
    assert r.returncode == 2
    assert "pipe.py: cannot read: a FIFO, not a regular file" in r.stderr
    assert "good.py:6:5: OP101" in r.stdout  # the run went on
    r = run("fix", "pipe.py", "good.py", cwd=tmp_path, timeout=60)
    assert r.returncode == 2 and "a FIFO, not a regular file" in r.stderr
    assert (tmp_path / "good.py").read_text() == GOOD.replace("y *= 2", "y = y * 2")


def _memory_cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_a_device_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(GOOD)
    r = run("check", "/dev/zero", "good.py", cwd=tmp_path, timeout=60, preexec_fn=_memory_cap)
    assert r.returncode == 2
    assert "/dev/zero: cannot read: a character device, not a regular file" in r.stderr
    assert "good.py:6:5: OP101" in r.stdout


# ---- signals and workers --------------------------------------------------------------------------------------

@pytest.fixture
def many(tmp_path: Path) -> Path:
    """Files enough for a run of some seconds with two workers."""
    text = module(120)
    d = tmp_path / "tree"
    d.mkdir()
    for i in range(40):
        (d / f"m{i:02d}.py").write_text(text)
    return d


def test_sigterm_stops_the_workers_and_leaves_nothing_behind(many: Path) -> None:
    before = {p.name: p.read_bytes() for p in many.iterdir()}
    p = outplace("fix", "-j", "2", "--no-cache", str(many), cwd=many.parent)
    wait_for(lambda: len(children(p.pid)) == 2 or p.poll() is not None, what="two workers")
    workers = children(p.pid)
    assert len(workers) == 2, "the run ended before it had two workers"
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)  # returns only when every holder of its pipes is gone
    assert p.returncode == 128 + signal.SIGTERM, err.decode()
    assert "stopped by SIGTERM" in err.decode() and b"Traceback" not in err
    wait_for(lambda: all(gone(w) for w in workers), timeout=10, what="the workers to end")
    assert ps_lines(str(many)) == []
    assert temp_files(many) == []
    assert {p.name: p.read_bytes() for p in many.iterdir()} == before  # stopped before writing anything


def test_sigterm_while_writing_leaves_whole_files_and_no_temporary_file(tmp_path: Path) -> None:
    source = module(3)
    fixed = fix_source(source, Settings()).output
    for i in range(300):
        (tmp_path / f"m{i:03d}.py").write_text(source)
    p = outplace("fix", "-j", "1", "--no-cache", ".", cwd=tmp_path)
    wait_for(lambda: any(f.read_text() != source for f in tmp_path.glob("m0*.py")) or p.poll() is not None,
             what="the first write")
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=30)
    assert temp_files(tmp_path) == []
    contents = {f.read_text() for f in tmp_path.glob("m*.py")}
    assert contents <= {source, fixed}  # never half a file
    if p.returncode != 0:  # (the run may have finished before the signal came)
        assert p.returncode == 128 + signal.SIGTERM and b"Traceback" not in err


def test_a_sigkilled_run_leaves_a_temporary_file_the_next_run_removes(tmp_path: Path) -> None:
    source = module(3)
    for i in range(300):
        (tmp_path / f"m{i:03d}.py").write_text(source)
    p = outplace("fix", "-j", "1", "--no-cache", ".", cwd=tmp_path)
    wait_for(lambda: any(f.read_text() != source for f in tmp_path.glob("m0*.py")) or p.poll() is not None,
             what="the first write")
    p.kill()
    p.communicate(timeout=30)
    # Whatever the kill left (a temporary file, if it came mid-write), plus one made on purpose:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f".m000.py.{dead.pid}.abcd1234.outplace-tmp").write_text("partial")
    r = run("fix", "--no-cache", ".", cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    assert temp_files(tmp_path) == []
    assert f"removed {tmp_path / f'.m000.py.{dead.pid}.abcd1234.outplace-tmp'}" in r.stderr


def test_only_stale_temporary_files_of_ours_are_removed(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(GOOD)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = f".m.py.{dead.pid}.a1b2c3d4.outplace-tmp"
    live = f".m.py.{os.getpid()}.a1b2c3d4.outplace-tmp"  # this test's own process is alive
    other = ["notes.outplace-tmp", ".m.py.x1y2z3w4.outplace-tmp", f".m.py.{dead.pid}.short.outplace-tmp"]
    for name in [stale, live, *other]:
        (tmp_path / name).write_text("x")
    assert run("fix", "--diff", "m.py", cwd=tmp_path).returncode == 1
    assert stale in temp_files(tmp_path)  # --diff writes (and removes) nothing
    r = run("fix", "m.py", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert temp_files(tmp_path) == sorted([live, *other])


def test_a_dead_worker_is_an_error_for_its_file_not_the_run(many: Path) -> None:
    p = outplace("fix", "-j", "2", "--no-cache", str(many), cwd=many.parent)
    wait_for(lambda: len(children(p.pid)) == 2 or p.poll() is not None, what="two workers")
    victim = children(p.pid)[0]
    time.sleep(0.5)
    os.kill(victim, signal.SIGKILL)
    out, err = p.communicate(timeout=300)
    err = err.decode()
    assert p.returncode == 2, err
    assert "Traceback" not in err and "BrokenProcessPool" not in err
    died = [ln for ln in err.splitlines() if "worker process died" in ln]
    assert len(died) == 1 and "killed by SIGKILL" in died[0], err
    culprit = died[0].split(":")[0]
    fixed = [f for f in many.glob("m*.py") if "y = y * 2" in f.read_text()]
    assert len(fixed) == 39 and all(not str(f).endswith(culprit) for f in fixed)
    assert "39 changed" in err and "1 file could not be processed" in err
    assert ps_lines(str(many)) == []


# ---- compare-and-swap writes ----------------------------------------------------------------------------------

def test_a_write_waits_for_the_lock_and_then_sees_the_change(tmp_path: Path) -> None:
    """The test plays a concurrent writer that follows the protocol: it holds the lock on the file,
    replaces it, and lets go. outplace must not rename its result over that change."""
    target = tmp_path / "m.py"
    target.write_text(GOOD)
    fd = os.open(target, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        p = outplace("fix", "--no-cache", "m.py", cwd=tmp_path)
        wait_for(lambda: temp_files(tmp_path) or p.poll() is not None, what="outplace's temporary file")
        time.sleep(0.3)  # outplace now waits for the lock
        assert p.poll() is None, "outplace wrote without waiting for the lock"
        theirs = GOOD.replace("return y", "return y  # theirs")
        (tmp_path / "theirs.tmp").write_text(theirs)
        os.replace(tmp_path / "theirs.tmp", target)
    finally:
        os.close(fd)  # releases the lock (on the old file)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2
    assert "m.py: changed meanwhile, not written" in err.decode()
    assert target.read_text() == theirs
    assert temp_files(tmp_path) == []


def test_two_concurrent_fix_runs_never_overwrite_each_other(tmp_path: Path) -> None:
    """Two runs with different results (safe fixes only / unsafe ones too) on one tree: every file
    ends as one run's whole result, and a run whose result is not there said so."""
    source = module(2)
    safe = fix_source(source, Settings()).output
    unsafe = fix_source(source, Settings(unsafe_fixes=True)).output
    assert len({source, safe, unsafe}) == 3
    names = [f"m{i:03d}.py" for i in range(150)]
    for name in names:
        (tmp_path / name).write_text(source)
    a = outplace("fix", "-j", "1", "--no-cache", "--unsafe-fixes", ".", cwd=tmp_path)
    b = outplace("fix", "-j", "1", "--no-cache", ".", cwd=tmp_path)
    err_a = a.communicate(timeout=300)[1].decode()
    err_b = b.communicate(timeout=300)[1].decode()
    lost_a = {ln.split(":")[0] for ln in err_a.splitlines() if "changed meanwhile, not written" in ln}
    lost_b = {ln.split(":")[0] for ln in err_b.splitlines() if "changed meanwhile, not written" in ln}
    for name in names:
        final = (tmp_path / name).read_text()
        assert final in (safe, unsafe), name
        if final == safe:
            # The safe run wrote last; the unsafe run either lost the race and said so, or never wrote
            # (it read the safe result and ... would then have written its own: so it must have said so).
            assert name in lost_a, (name, err_a[-500:])
    assert temp_files(tmp_path) == []


def test_a_read_only_file_is_not_replaced_even_by_its_owner(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text(GOOD)
    target.chmod(0o444)
    try:
        r = run("fix", "--no-cache", "m.py", cwd=tmp_path)
        assert r.returncode == 2
        assert "m.py: read-only (mode 0444); not written" in r.stderr
        assert target.read_text() == GOOD and stat.S_IMODE(target.stat().st_mode) == 0o444
        assert temp_files(tmp_path) == []
        assert run("fix", "--diff", "m.py", cwd=tmp_path).returncode == 1  # still shown
    finally:
        target.chmod(0o644)


def test_a_signal_right_after_the_temporary_file_is_made_does_not_strand_it(tmp_path: Path, monkeypatch) -> None:
    """The handler's exception arrives between two bytecodes; if that is just after `mkstemp` made the
    file and before its name is recorded, nothing would remove it. It waits for the name instead."""
    import tempfile

    from outplace import source

    target = tmp_path / "m.py"
    target.write_text(GOOD)
    original = source.read_source(target)
    real_mkstemp = tempfile.mkstemp

    def mkstemp_then_signal(*args, **kwargs):
        made = real_mkstemp(*args, **kwargs)
        source.interrupt(KeyboardInterrupt())  # what the CLI's SIGTERM handler does
        return made

    monkeypatch.setattr(source.tempfile, "mkstemp", mkstemp_then_signal)
    with pytest.raises(KeyboardInterrupt):
        source.write_source(original, GOOD.replace("y *= 2", "y = y * 2"))
    assert temp_files(tmp_path) == [] and target.read_text() == GOOD
