"""User code stays in its box (issue 11): what a script starts dies with its run, signals to
`outplace verify` kill every tree first, memory is capped for the comparison too, output and
temporary space are bounded, and a run where nothing could be compared is `inconclusive`.

Deadlines are generous and nothing asserts on timings: the point is that nothing survives, not how
fast it goes (a surviving `sleep 600` would outlive any deadline here).
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from outplace.harness import runner
from outplace.harness.command import torch_available, verify
from outplace.harness.runner import Task
from outplace.harness.testing import kill_all, shared_pool, spawner, survivors, verify_sources, wait_for_lines

pytestmark = pytest.mark.skipif(not torch_available(), reason="torch is not installed")

ROOT = Path(__file__).resolve().parent.parent
RECORDS = "import torch\nx = torch.ones(3, requires_grad=True)\n(x * 2).sum().backward()\n"


@pytest.fixture(scope="session")
def pool():
    return shared_pool()


@pytest.fixture
def pidfile(tmp_path):
    path = tmp_path / "pids"
    yield path
    kill_all(path)


def _rss_anon_mb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


# --- processes ------------------------------------------------------------------------------------


def test_processes_a_script_leaves_behind_are_killed(pool, tmp_path, pidfile):
    before = set(os.listdir(pool.tmpdir))  # other tests' direct requests may have left records
    script = spawner(pidfile) + RECORDS
    (result,) = verify_sources(pool, tmp_path, [(script, script + "# rewritten\n")], timeout=120)
    assert result.verdict == "preserved", (result.reason, result.notes)
    assert len([line for line in pidfile.read_text().splitlines() if line]) == 6  # three per run
    assert survivors(pidfile) == []
    assert any("left 3 processes running; outplace killed them" in n for n in result.notes), result.notes
    assert set(os.listdir(pool.tmpdir)) <= before  # this case's records are gone too


def test_a_forked_copy_that_runs_the_script_to_the_end_does_not_serve_requests(pool, tmp_path):
    # The child returns from fork() into the rest of the script, as the parent does, and the parent
    # waits for it. At the end the child must exit, not go back to the worker's request loop (where it
    # would wait for requests, and the parent for it, until the timeout).
    script = "import os\n_pid = os.fork()\nif _pid:\n    os.waitpid(_pid, 0)\n    del _pid\n" + RECORDS
    (result,) = verify_sources(pool, tmp_path, [(script, script + "# rewritten\n")], timeout=60)
    assert result.verdict == "preserved", (result.reason, result.notes)
    probes = pool.map([Task({"op": "probe"}, 60) for _ in range(pool.jobs)])  # one to each idle worker
    assert {p["pid"] for p in probes} == set(pool.worker_pids)  # the workers answer, not a forked copy


def test_a_timeout_kills_the_whole_tree_and_keeps_the_output_bounded(pool, tmp_path, pidfile):
    hang = "for _ in range(10_000):\n    print('x' * 99)\n"  # 1 MB at once, whatever the machine's speed
    hang += spawner(pidfile, me=True) + "while True:\n    print('x' * 99)\n"
    (result,) = verify_sources(pool, tmp_path, [(hang, hang + "# rewritten\n")], timeout=4)
    assert (result.original.status, result.rewritten.status) == ("timeout", "timeout")
    assert result.verdict == "inconclusive" and "timed out" in result.reason
    assert survivors(pidfile) == []  # both workers, their sleeps and daemons
    out = result.rewritten
    assert out.output_dropped > 0 and f"dropped {out.output_dropped} bytes" in out.output_tail
    assert len(out.output_tail.encode()) < runner.OUTPUT_HEAD + runner.OUTPUT_TAIL + 200


def test_output_keeps_its_head_and_tail_and_counts_the_rest(pool, tmp_path):
    lines = 100_000
    script = RECORDS + f"print('FIRST')\nfor i in range({lines}):\n    print('%099d' % i)\nprint('LAST')\n"
    (result,) = verify_sources(pool, tmp_path, [(script, script + "# rewritten\n")], timeout=120)
    assert result.verdict == "preserved", result.reason
    total = len("FIRST\n") + lines * 100 + len("LAST\n")
    for run in (result.original, result.rewritten):
        assert run.output_tail.startswith("FIRST\n") and run.output_tail.endswith("LAST\n")
        assert run.output_dropped == total - runner.OUTPUT_HEAD - runner.OUTPUT_TAIL
    assert "output_dropped" in result.to_json()["rewritten"]


def test_signals_to_verify_kill_every_tree_and_the_temporary_folder(tmp_path):
    runs = {}
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        name = signal.Signals(signum).name
        pids, tmp = tmp_path / f"{name}.pids", tmp_path / f"{name}.tmp"
        tmp.mkdir()
        script = tmp_path / f"{name}.py"
        script.write_text(spawner(pids, me=True) + "while True:\n    pass\n")
        env = dict(os.environ, TMPDIR=str(tmp), PYTHONPATH=str(ROOT / "src"))
        proc = subprocess.Popen([sys.executable, "-m", "outplace", "verify", str(script), "--against", str(script),
                                 "-j", "1", "--timeout", "600"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        runs[signum] = (proc, pids, tmp)
    try:
        for signum, (proc, pids, tmp) in runs.items():
            assert wait_for_lines(pids, 4), proc.poll()
            proc.send_signal(signum)
        for signum, (proc, pids, tmp) in runs.items():
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 128 + signum, err
            assert "every run and everything it started were killed" in err
            assert survivors(pids) == []
            assert os.listdir(tmp) == []  # the pool's temporary folder is gone
    finally:
        for proc, pids, _ in runs.values():
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
            kill_all(pids)


# --- memory and temporary space -------------------------------------------------------------------


def test_memory_cap_covers_the_comparison_and_is_an_outcome(pool, tmp_path):
    # 150 MB tensors compared under a 400 MB cap: read whole and widened to float64, as the comparison
    # once did, they would need several times that. Chunked and mapped, it stays far below.
    big = "import torch\nx = torch.ones(150 * 2**18)\n"
    hog = "import torch\nx = torch.ones(1024 * 2**18)\n"  # 1 GB: over the cap
    baseline = {pid: _rss_anon_mb(pid) for pid in pool.worker_pids}
    peak = dict.fromkeys(baseline, 0)
    done = threading.Event()

    def watch():
        while not done.is_set():
            for pid in peak:
                now = _rss_anon_mb(pid)
                if now is not None:
                    peak[pid] = max(peak[pid], now - baseline[pid])
            time.sleep(0.005)

    saved = pool.memory_mb
    pool.memory_mb = 400
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        changed, oom = verify_sources(pool, tmp_path, [(big, big + "x[-1] = 2\n"), (hog, hog + "# rewritten\n")],
                                      timeout=120)
    finally:
        done.set()
        watcher.join()
        pool.memory_mb = saved
    assert changed.verdict == "changed" and changed.differences[0].tensor == "x", changed.reason
    assert changed.differences[0].count == 1
    assert max(peak.values()) < 400, peak  # the runs (150 MB) and the comparison stayed under the cap
    assert oom.verdict == "inconclusive" and oom.original.status == "memory", oom.reason
    assert "ran out of memory" in oom.reason and any("memory cap of 400 MB" in n for n in oom.notes)


def test_a_comparison_over_the_cap_is_inconclusive(pool, tmp_path):
    runs = []
    for value in (1.0, 2.0):
        script = tmp_path / f"full_{value:g}.py"
        script.write_text(f"import torch\nx = torch.full((2**21,), {value})\n")
        runs.append(pool.request({"op": "run", "path": str(script), "filename": str(script),
                                  "source": script.read_text(), "mode": "script", "device": "cpu",
                                  "record_path": pool.new_record_path(), "seed": 0}, 120))
    ref, new = ({"path": r["record_path"], "entries": r["entries"]} for r in runs)
    answer = pool.request({"op": "compare", "ref": ref, "new": new, "rtol": 0.0, "atol": 0.0, "scope": "all",
                           "memory_mb": 1}, 120)  # 1 MB: less than one chunk's float64 copy
    for r in runs:
        os.unlink(r["record_path"])
    assert answer.get("memory") is True, answer

    from outplace.harness.cases import collect_cases
    from outplace.harness.pipeline import Options, _Flow, _judge, _Slot
    from outplace.harness.results import Outcome

    (tmp_path / "a.py").write_text("x = 1\n")
    slot = _Slot(collect_cases([tmp_path / "a.py"], tmp_path / "a.py")[0], "cpu", Outcome("ok"), Outcome("ok"))
    _Flow._take_comparison(slot, answer)
    result = _judge(slot, Options(), 1)
    assert result.verdict == "inconclusive" and "ran out of memory (the cap of 1 MB)" in result.reason


def test_records_are_deleted_as_each_case_finishes(pool, tmp_path, monkeypatch):
    from outplace.harness.pipeline import _Flow

    on_disk = []
    on_answer = _Flow.on_answer

    def counting(self, index, answer):
        on_disk.append(len(os.listdir(self.pool.tmpdir)))
        return on_answer(self, index, answer)

    monkeypatch.setattr(_Flow, "on_answer", counting)
    before = len(os.listdir(pool.tmpdir))  # other tests' direct requests may have left records
    cases = [(RECORDS + f"y = {i}\n", RECORDS + f"y = {i}\n# rewritten\n") for i in range(12)]
    results = verify_sources(pool, tmp_path, cases, timeout=120)
    assert [r.verdict for r in results] == ["preserved"] * 12
    assert len(os.listdir(pool.tmpdir)) == before
    assert max(on_disk) - before <= 3 * pool.jobs + 2, on_disk  # a few cases' records at a time, not all 24


def test_tensors_over_the_record_budget_are_not_compared(pool, tmp_path):
    base = "import torch\nbig = torch.ones(2**20)\nx = torch.ones(3)\n"  # big: 4 MB
    saved = pool.record_mb
    pool.record_mb = 1
    try:
        skipped, changed = verify_sources(pool, tmp_path, [(base, base + "# rewritten\n"),
                                                           (base, base + "x[0] = 2\n")], timeout=120)
    finally:
        pool.record_mb = saved
    assert skipped.verdict == "inconclusive" and "big" in skipped.reason and "record budget" in skipped.reason
    assert any(e.name == "big" and e.skipped for e in skipped.original.entries)
    assert changed.verdict == "changed" and changed.differences[0].tensor == "x"  # a real difference still counts


def test_default_memory_cap_is_a_bounded_fraction_of_ram(monkeypatch):
    monkeypatch.delenv("OUTPLACE_VERIFY_MEMORY_MB", raising=False)
    total_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    for jobs in (1, 2, 8, 64):
        cap = runner.default_memory_mb(jobs)
        assert runner.MEMORY_MIN_MB <= cap <= runner.MEMORY_MAX_MB
        assert cap <= max(runner.MEMORY_MIN_MB, total_mb * runner.MEMORY_FRACTION / jobs)
    monkeypatch.setenv("OUTPLACE_VERIFY_MEMORY_MB", "0")
    assert runner.default_memory_mb(2) == 0


# --- verdicts ------------------------------------------------------------------------------------------


VERDICT_CASES = {
    "fixed": ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x.exp()\ny += 1\ny.sum().backward()\n",
              "import torch\nx = torch.ones(3, requires_grad=True)\ny = x.exp()\ny = y + 1\ny.sum().backward()\n"),
    "preserved": (RECORDS, RECORDS + "# rewritten\n"),
    "changed": (RECORDS, RECORDS.replace("* 2", "* 3")),
    "broken": (RECORDS, RECORDS + "raise ValueError('new')\n"),
    "unfixed": ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x.exp()\ny += 1\ny.sum().backward()\n",
                "import torch\nx = torch.ones(3, requires_grad=True)\ny = x.exp()\ny.add_(1)\ny.sum().backward()\n"),
    "inconclusive": ("import os\nos._exit(3)\n", "import os\n# rewritten\nos._exit(3)\n"),
}


@pytest.mark.parametrize("verdict", list(VERDICT_CASES))
def test_each_verdict_in_text_and_json_with_its_exit_code(pool, tmp_path, verdict):
    original, rewritten = VERDICT_CASES[verdict]
    (tmp_path / "case.py").write_text(original)
    (tmp_path / "case.fixed.py").write_text(rewritten)
    out, err = io.StringIO(), io.StringIO()
    code = verify([tmp_path / "case.py"], tmp_path / "case.fixed.py", pool=pool, stdout=out, stderr=err)
    assert f"[cpu] {verdict}:" in out.getvalue(), out.getvalue()
    assert code == (0 if verdict in ("fixed", "preserved") else 1), err.getvalue()
    out = io.StringIO()
    assert verify([tmp_path / "case.py"], tmp_path / "case.fixed.py", json_path=Path("-"), pool=pool,
                  stdout=out, stderr=io.StringIO()) == code
    assert json.loads(out.getvalue())[0]["verdict"] == verdict
