"""The parent side of the worker protocol: a pool of warm worker processes.

`WorkerPool(jobs)` starts `jobs` workers (``python -m outplace.harness.worker``), each of which
imports torch once and then serves many requests. `pool.map(tasks)` hands the tasks out to idle
workers, waits on their pipes with a per-task deadline, and returns one answer per task, in
order. The parent never imports torch.

A task that overruns its timeout gets its worker's whole process group SIGKILLed and a fresh worker
started in its place; a worker that dies mid-task (``os._exit``, a segfault, the kernel's OOM
killer) is likewise replaced. Both come back as answers, not exceptions:

    {"op": ..., "id": ..., "failure": "timeout"|"crash", "exit_code": int|None,
     "elapsed_s": float, "output_tail": str}

`HarnessError` is raised only when the harness itself cannot go on (torch missing in the workers'
interpreter, a worker that never starts).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import outplace
from outplace.harness import protocol

START_TIMEOUT = 180.0  # importing torch on a cold disk can be slow
MAX_REQUEUE = 2


class HarnessError(Exception):
    """The harness cannot run at all (as opposed to a case that fails, which is an outcome)."""


@dataclass
class Task:
    request: dict[str, Any]
    timeout: float | None = None  # seconds; None = no limit


@dataclass
class _Worker:
    serial: int
    proc: subprocess.Popen
    capture: str
    startlog: str
    started: float
    ready: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    buffer: bytes = b""
    task: int | None = None  # index into the current map's tasks
    task_id: int = 0  # protocol id of the request in flight
    task_started: float = 0.0
    deadline: float | None = None
    served: int = 0


def default_memory_mb(jobs: int) -> int:
    """Default address-space growth allowed per case: half the machine's RAM shared by the workers."""
    env = os.environ.get("OUTPLACE_VERIFY_MEMORY_MB")
    if env is not None:
        return int(env)  # 0 disables the cap
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8192
    return max(1024, int(total / 2 / max(1, jobs)) // 2**20)


class WorkerPool:
    def __init__(
        self,
        jobs: int = 2,
        *,
        threads: int | None = None,
        memory_mb: int | None = None,
        python: str | None = None,
        start_timeout: float = START_TIMEOUT,
    ) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.jobs = jobs
        cpus = os.cpu_count() or 1
        # The same thread count in every worker keeps CPU reductions bit-reproducible across workers.
        self.threads = threads if threads is not None else max(1, cpus // jobs)
        self.memory_mb = default_memory_mb(jobs) if memory_mb is None else memory_mb
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self.tmpdir = tempfile.mkdtemp(prefix="outplace-verify-")
        self.info: dict[str, Any] = {}
        self.spawned = 0  # workers started so far (respawns included)
        self._serial = itertools.count()
        self._records = itertools.count()
        self._ids = itertools.count(1)
        self._workers: list[_Worker] = []
        self._selector = selectors.DefaultSelector()
        self._closed = False
        self._finalizer = weakref.finalize(self, _shutdown, self._workers, self.tmpdir)

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> dict[str, Any]:
        """Start the workers and wait for the first to be ready; returns its probe (torch version, cuda)."""
        while len(self._workers) < self.jobs:
            self._spawn()
        deadline = time.monotonic() + self.start_timeout
        while not any(w.ready for w in self._workers):
            self._poll(max(0.0, deadline - time.monotonic()), results=None, tasks=None)
            if time.monotonic() > deadline and not any(w.ready for w in self._workers):
                raise HarnessError(f"no harness worker became ready within {self.start_timeout:.0f}s")
        return self.info

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for w in list(self._workers):
            self._retire(w, graceful=True)
        self._selector.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self._finalizer.detach()

    def new_record_path(self) -> str:
        return os.path.join(self.tmpdir, f"record-{next(self._records)}.pt")

    @property
    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers]

    # ------------------------------------------------------------------ work
    def map(self, tasks: list[Task]) -> list[dict[str, Any]]:
        """Run every task on some worker; answers in task order (failures as answers, see module doc)."""
        if self._closed:
            raise HarnessError("the worker pool is closed")
        if not self._workers:
            self.start()
        results: list[dict[str, Any] | None] = [None] * len(tasks)
        queue = deque(range(len(tasks)))
        requeued: dict[int, int] = {}
        while queue or any(w.task is not None for w in self._workers):
            for w in self._workers:
                if queue and w.ready and w.task is None:
                    index = queue.popleft()
                    if not self._assign(w, index, tasks[index]):
                        requeued[index] = requeued.get(index, 0) + 1
                        if requeued[index] > MAX_REQUEUE:
                            raise HarnessError("harness workers keep dying between tasks")
                        queue.appendleft(index)
            self._poll(self._wait_time(), results, tasks)
            self._expire(results, tasks)
        return [r if r is not None else {"failure": "crash"} for r in results]

    def request(self, message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        return self.map([Task(message, timeout)])[0]

    # ------------------------------------------------------------------ internals
    def _spawn(self) -> _Worker:
        serial = next(self._serial)
        capture = os.path.join(self.tmpdir, f"worker-{serial}.out")
        startlog = os.path.join(self.tmpdir, f"worker-{serial}.start")
        src = os.path.dirname(os.path.dirname(os.path.abspath(outplace.__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONHASHSEED"] = "0"
        env.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
        env["OMP_NUM_THREADS"] = str(self.threads)
        env["MKL_NUM_THREADS"] = str(self.threads)
        env.pop("PYTHONSTARTUP", None)
        with open(startlog, "wb") as log:
            proc = subprocess.Popen(
                [self.python, "-m", "outplace.harness.worker", "--capture", capture, "--threads", str(self.threads)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=env,
                start_new_session=True,  # its own process group: a timeout kills the script's children too
            )
        os.set_blocking(proc.stdout.fileno(), False)
        w = _Worker(serial, proc, capture, startlog, time.monotonic())
        self._workers.append(w)
        self._selector.register(proc.stdout, selectors.EVENT_READ, w)
        self.spawned += 1
        return w

    def _assign(self, w: _Worker, index: int, task: Task) -> bool:
        message = dict(task.request)
        message["id"] = next(self._ids)
        try:
            w.proc.stdin.write(protocol.encode(message))
            w.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self._replace(w)
            return False
        w.task = index
        w.task_id = message["id"]
        w.task_started = time.monotonic()
        w.deadline = w.task_started + task.timeout if task.timeout else None
        return True

    def _wait_time(self) -> float | None:
        now = time.monotonic()
        waits = [w.deadline - now for w in self._workers if w.task is not None and w.deadline is not None]
        waits += [w.started + self.start_timeout - now for w in self._workers if not w.ready]
        return max(0.0, min(waits)) if waits else None

    def _poll(self, timeout: float | None, results: list | None, tasks: list[Task] | None) -> None:
        for key, _ in self._selector.select(timeout):
            w: _Worker = key.data
            try:
                chunk = os.read(w.proc.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self._on_death(w, results, tasks)
                continue
            w.buffer += chunk
            while b"\n" in w.buffer:
                line, w.buffer = w.buffer.split(b"\n", 1)
                self._on_message(w, protocol.decode(line), results, tasks)
        if results is None:  # starting: also notice workers that failed to start
            for w in list(self._workers):
                if not w.ready and w.proc.poll() is not None:
                    self._on_death(w, None, None)

    def _on_message(self, w: _Worker, message: dict[str, Any], results: list | None, tasks: list[Task] | None) -> None:
        if message.get("op") == "ready":
            if "error" in message:
                self._retire(w, graceful=False)
                raise HarnessError(f"torch cannot be imported by {self.python}: {message['error']}")
            w.ready = True
            w.info = message
            if not self.info:
                self.info = {k: v for k, v in message.items() if k not in ("op", "pid")}
            return
        if w.task is None or results is None or tasks is None:
            return  # stray answer (e.g. to a task that timed out just as it finished)
        if message.get("id") != w.task_id:
            return
        message["elapsed_s"] = time.monotonic() - w.task_started
        results[w.task] = message
        w.task = None
        w.deadline = None
        w.served += 1

    def _on_death(self, w: _Worker, results: list | None, tasks: list[Task] | None) -> None:
        code = w.proc.wait()
        if not w.ready:
            log = _tail(w.startlog, 2000).strip()
            self._retire(w, graceful=False)
            raise HarnessError(
                f"a harness worker exited with code {code} before it was ready"
                + (f": {log.splitlines()[-1]}" if log else "")
            )
        if w.task is not None and results is not None:
            results[w.task] = self._failure(w, "crash", code)
        self._replace(w)

    def _expire(self, results: list, tasks: list[Task]) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if w.task is not None and w.deadline is not None and now >= w.deadline:
                _kill(w.proc)
                code = w.proc.wait()
                results[w.task] = self._failure(w, "timeout", code)
                self._replace(w)
            elif not w.ready and now >= w.started + self.start_timeout:
                self._retire(w, graceful=False)
                raise HarnessError(f"a harness worker did not start within {self.start_timeout:.0f}s")

    def _failure(self, w: _Worker, kind: str, code: int | None) -> dict[str, Any]:
        return {
            "failure": kind,
            "exit_code": code,
            "elapsed_s": time.monotonic() - w.task_started,
            "output_tail": _tail(w.capture, 4000),
        }

    def _replace(self, w: _Worker) -> None:
        self._retire(w, graceful=False)
        if not self._closed:
            self._spawn()

    def _retire(self, w: _Worker, *, graceful: bool) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(w.proc.stdout)
        if graceful and w.proc.poll() is None:
            with contextlib.suppress(OSError):
                w.proc.stdin.write(protocol.encode({"op": "exit"}))
                w.proc.stdin.flush()
            with contextlib.suppress(OSError):
                w.proc.stdin.close()
            try:
                w.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                pass
        if w.proc.poll() is None:
            _kill(w.proc)
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.proc.wait(timeout=5)
        for stream in (w.proc.stdin, w.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        with contextlib.suppress(ValueError):
            self._workers.remove(w)
        for path in (w.capture, w.startlog):
            with contextlib.suppress(OSError):
                os.unlink(path)


def _kill(proc: subprocess.Popen) -> None:
    """SIGKILL the worker's process group (it is a session leader), i.e. it and whatever the script forked."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        with contextlib.suppress(OSError):
            proc.kill()


def _tail(path: str, limit: int) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _shutdown(workers: list[_Worker], tmpdir: str) -> None:
    """Last-resort cleanup when a pool is garbage-collected or the interpreter exits unclosed."""
    for w in list(workers):
        if w.proc.poll() is None:
            _kill(w.proc)
            with contextlib.suppress(Exception):
                w.proc.wait(timeout=5)
    shutil.rmtree(tmpdir, ignore_errors=True)
