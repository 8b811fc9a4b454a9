"""The parent side of the worker protocol: a pool of warm worker processes, each in a tree we own.

`WorkerPool(jobs)` starts `jobs` workers (``python -m outplace.harness.worker``), each of which
imports torch once and then serves many requests. Each worker runs under its own keeper
(`keeper.py`, in a new session): the keeper is a child subreaper, so every process a script starts,
``setsid``-escaped or double-forked ones included, stays in the keeper's tree, and the keeper kills
that tree whole when the worker ends or when it is told to (SIGTERM). The worker itself kills what a
script left running after each run.

`pool.map(tasks)` hands the tasks out to idle workers, waits on their pipes with a per-task deadline,
and returns one answer per task, in order; its `on_answer` callback may add follow-up tasks (they run
before the tasks still waiting). The parent never imports torch.

A task that overruns its timeout gets its worker's tree killed (keeper SIGTERMed; its process group
SIGKILLed if it does not exit within `proctree.STOP_GRACE`) and a fresh worker started in its place;
a worker that dies mid-task (``os._exit``, a segfault, the kernel's OOM killer) is likewise replaced.
Both come back as answers, not exceptions:

    {"op": ..., "id": ..., "failure": "timeout"|"crash", "exit_code": int|None,
     "elapsed_s": float, "output_tail": str, "output_dropped": int}

A run's output (the script's stdout and stderr, one pipe per worker) is kept bounded: the first
`OUTPUT_HEAD` and the last `OUTPUT_TAIL` bytes, and the count of those dropped in between
(``output_tail``, ``output_dropped`` in every run answer). Nothing of it is written to disk.

`HarnessError` is raised only when the harness itself cannot go on (torch missing in the workers'
interpreter, a worker that never starts).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import outplace
from outplace.harness import keeper, proctree, protocol

START_TIMEOUT = 180.0  # importing torch on a cold disk can be slow
MAX_REQUEUE = 2
OUTPUT_HEAD = 2000  # bytes of a run's output kept from its start
OUTPUT_TAIL = 4000  # ... and from its end
DRAIN_TIMEOUT = 5.0  # seconds to wait for a dead worker's last output
MEMORY_FRACTION = 0.5  # of the machine's RAM, shared by the workers
MEMORY_MAX_MB = 8192  # per worker
MEMORY_MIN_MB = 512
RECORD_MB = 1024  # tensor data one run may record (temporary space)


class HarnessError(Exception):
    """The harness cannot run at all (as opposed to a case that fails, which is an outcome)."""


@dataclass
class Task:
    request: dict[str, Any]
    timeout: float | None = None  # seconds; None = no limit


class Output:
    """A bounded copy of a stream: its first `head` bytes, its last `tail` bytes, and how many were dropped."""

    def __init__(self, head: int = OUTPUT_HEAD, tail: int = OUTPUT_TAIL) -> None:
        self.head_size, self.tail_size = head, tail
        self.reset()

    def reset(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = self.head_size - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if len(data) >= self.tail_size:
            self.dropped += len(self.tail) + len(data) - self.tail_size
            self.tail = bytearray(data[len(data) - self.tail_size :])
            return
        self.tail += data
        excess = len(self.tail) - self.tail_size
        if excess > 0:
            self.dropped += excess
            del self.tail[:excess]

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        if not self.dropped:
            return head + tail
        return f"{head}\n[... outplace dropped {self.dropped} bytes of output here ...]\n{tail}"


@dataclass
class _Worker:
    serial: int
    proc: subprocess.Popen  # the keeper; the worker is its child
    started: float
    output: Output = field(default_factory=Output)
    ready: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    buffer: bytes = b""
    task: int | None = None  # index into the current map's tasks
    task_id: int = 0  # protocol id of the request in flight
    task_started: float = 0.0
    deadline: float | None = None
    served: int = 0


def default_memory_mb(jobs: int) -> int:
    """Address-space growth allowed per case: half the machine's RAM shared by the workers, at most
    `MEMORY_MAX_MB` each (``OUTPLACE_VERIFY_MEMORY_MB`` overrides it; 0 disables the cap)."""
    env = os.environ.get("OUTPLACE_VERIFY_MEMORY_MB")
    if env is not None:
        return int(env)
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return MEMORY_MAX_MB // 2
    share = int(total * MEMORY_FRACTION / max(1, jobs)) // 2**20
    return max(MEMORY_MIN_MB, min(MEMORY_MAX_MB, share))


class WorkerPool:
    def __init__(
        self,
        jobs: int = 2,
        *,
        threads: int | None = None,
        memory_mb: int | None = None,
        record_mb: int = RECORD_MB,
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
        self.record_mb = record_mb
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
        self._finished: list[int] = []  # task indices answered since the map loop last looked
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
            self._poll(max(0.0, deadline - time.monotonic()), results=None)
            if time.monotonic() > deadline and not any(w.ready for w in self._workers):
                raise HarnessError(f"no harness worker became ready within {self.start_timeout:.0f}s")
        return self.info

    def close(self) -> None:
        """Stop every worker and its tree (idle ones are asked to exit, busy ones killed); remove the temp folder."""
        if self._closed:
            return
        self._closed = True
        _stop_all(self._workers)
        for w in list(self._workers):
            self._forget(w)
        self._selector.close()
        shutil.rmtree(self.tmpdir, ignore_errors=True)
        self._finalizer.detach()

    def new_record_path(self) -> str:
        return os.path.join(self.tmpdir, f"record-{next(self._records)}.pt")

    @property
    def worker_pids(self) -> list[int]:
        """The workers' process ids (each the child of its keeper)."""
        return [w.info["pid"] for w in self._workers if w.ready and "pid" in w.info]

    @property
    def keeper_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers]

    # ------------------------------------------------------------------ work
    def map(
        self,
        tasks: list[Task],
        on_answer: Callable[[int, dict[str, Any]], list[Task] | None] | None = None,
    ) -> list[dict[str, Any]]:
        """Run every task on some worker; answers in task order (failures as answers, see module doc).

        `on_answer(index, answer)`, called as each answer arrives, may return follow-up tasks: they get
        the next indices and run before the tasks still queued.
        """
        if self._closed:
            raise HarnessError("the worker pool is closed")
        if not self._workers:
            self.start()
        tasks = list(tasks)
        results: list[dict[str, Any] | None] = [None] * len(tasks)
        queue = deque(range(len(tasks)))
        requeued: dict[int, int] = {}
        self._finished = []
        while queue or any(w.task is not None for w in self._workers) or self._finished:
            for w in list(self._workers):
                if queue and w.ready and w.task is None:
                    index = queue.popleft()
                    if not self._assign(w, index, tasks[index]):
                        requeued[index] = requeued.get(index, 0) + 1
                        if requeued[index] > MAX_REQUEUE:
                            raise HarnessError("harness workers keep dying between tasks")
                        queue.appendleft(index)
            if any(w.task is not None for w in self._workers) or (queue and not any(w.ready for w in self._workers)):
                self._poll(self._wait_time(), results)
                self._expire(results)
            finished, self._finished = self._finished, []
            for index in finished:
                more = on_answer(index, results[index]) if on_answer is not None else None
                if more:
                    first = len(tasks)
                    tasks.extend(more)
                    results.extend([None] * len(more))
                    queue.extendleft(reversed(range(first, len(tasks))))
        return [r if r is not None else {"failure": "crash"} for r in results]

    def request(self, message: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        return self.map([Task(message, timeout)])[0]

    # ------------------------------------------------------------------ internals
    def _spawn(self) -> _Worker:
        serial = next(self._serial)
        src = os.path.dirname(os.path.dirname(os.path.abspath(outplace.__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        env["PYTHONHASHSEED"] = "0"
        env.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
        env["OMP_NUM_THREADS"] = str(self.threads)
        env["MKL_NUM_THREADS"] = str(self.threads)
        env.pop("PYTHONSTARTUP", None)
        worker = [self.python, "-m", "outplace.harness.worker", "--threads", str(self.threads)]
        proc = subprocess.Popen(
            keeper.command(worker, python=self.python, cleanup=self.tmpdir),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            start_new_session=True,  # its own session: no terminal signal reaches user code; killable as a group
        )
        os.set_blocking(proc.stdout.fileno(), False)
        os.set_blocking(proc.stderr.fileno(), False)
        w = _Worker(serial, proc, time.monotonic())
        self._workers.append(w)
        self._selector.register(proc.stdout, selectors.EVENT_READ, ("protocol", w))
        self._selector.register(proc.stderr, selectors.EVENT_READ, ("output", w))
        self.spawned += 1
        return w

    def _assign(self, w: _Worker, index: int, task: Task) -> bool:
        message = dict(task.request)
        message["id"] = next(self._ids)
        self._read_output(w)  # anything printed between tasks is not this task's
        w.output.reset()
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

    def _poll(self, timeout: float | None, results: list | None) -> None:
        for key, _ in self._selector.select(timeout):
            channel, w = key.data
            if w not in self._workers:
                continue
            if channel == "output":
                self._read_output(w)
                continue
            try:
                chunk = os.read(w.proc.stdout.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self._on_death(w, results)
                continue
            w.buffer += chunk
            while b"\n" in w.buffer and w in self._workers:
                line, w.buffer = w.buffer.split(b"\n", 1)
                self._on_message(w, protocol.decode(line), results)
        if results is None:  # starting: also notice workers that failed to start
            for w in list(self._workers):
                if not w.ready and w.proc.poll() is not None:
                    self._on_death(w, None)

    def _read_output(self, w: _Worker, until_eof: float | None = None) -> None:
        """Take what the worker printed (without blocking; with `until_eof`, wait that long for the end)."""
        stream = w.proc.stderr
        if stream is None or stream.closed:
            return
        deadline = time.monotonic() + until_eof if until_eof else None
        while True:
            try:
                chunk = os.read(stream.fileno(), 1 << 20)
            except BlockingIOError:
                if deadline is None or time.monotonic() >= deadline:
                    return
                time.sleep(0.01)
                continue
            except OSError:
                chunk = b""
            if not chunk:
                with contextlib.suppress(KeyError, ValueError):
                    self._selector.unregister(stream)
                stream.close()
                return
            w.output.feed(chunk)

    def _on_message(self, w: _Worker, message: dict[str, Any], results: list | None) -> None:
        if message.get("op") == "ready":
            if "error" in message:
                self._retire(w, graceful=False)
                raise HarnessError(f"torch cannot be imported by {self.python}: {message['error']}")
            w.ready = True
            w.info = message
            if not self.info:
                self.info = {k: v for k, v in message.items() if k not in ("op", "pid")}
            return
        if w.task is None or results is None:
            return  # stray answer (e.g. to a task that timed out just as it finished)
        if message.get("id") != w.task_id:
            return
        message["elapsed_s"] = time.monotonic() - w.task_started
        if message.get("op") == "run":
            self._read_output(w)  # written before the answer, so already in the pipe
            message["output_tail"] = w.output.text()
            message["output_dropped"] = w.output.dropped
        self._finish(w, results, message)
        w.served += 1
        if message.get("retire"):  # it left processes or threads behind: start afresh
            self._replace(w)

    def _finish(self, w: _Worker, results: list, answer: dict[str, Any]) -> None:
        results[w.task] = answer
        self._finished.append(w.task)
        w.task = None
        w.deadline = None

    def _on_death(self, w: _Worker, results: list | None) -> None:
        self._read_output(w, until_eof=DRAIN_TIMEOUT)
        code = proctree.stop(w.proc)  # the keeper exits once the tree is dead; bounded either way
        if not w.ready:
            log = w.output.text().strip()
            self._retire(w, graceful=False)
            raise HarnessError(
                f"a harness worker exited with code {code} before it was ready"
                + (f": {log.splitlines()[-1]}" if log else "")
            )
        if w.task is not None and results is not None:
            self._finish(w, results, self._failure(w, "crash", code))
        self._replace(w)

    def _expire(self, results: list) -> None:
        now = time.monotonic()
        for w in list(self._workers):
            if w.task is not None and w.deadline is not None and now >= w.deadline:
                code = proctree.stop(w.proc)
                self._read_output(w, until_eof=DRAIN_TIMEOUT)
                self._finish(w, results, self._failure(w, "timeout", code))
                self._replace(w)
            elif not w.ready and now >= w.started + self.start_timeout:
                self._retire(w, graceful=False)
                raise HarnessError(f"a harness worker did not start within {self.start_timeout:.0f}s")

    def _failure(self, w: _Worker, kind: str, code: int | None) -> dict[str, Any]:
        return {
            "failure": kind,
            "exit_code": code,
            "elapsed_s": time.monotonic() - w.task_started,
            "output_tail": w.output.text(),
            "output_dropped": w.output.dropped,
        }

    def _replace(self, w: _Worker) -> None:
        self._retire(w, graceful=True)
        if not self._closed:
            self._spawn()

    def _retire(self, w: _Worker, *, graceful: bool) -> None:
        if graceful and w.task is None:
            _stop_all([w])
        else:
            proctree.stop(w.proc)
        self._forget(w)

    def _forget(self, w: _Worker) -> None:
        for stream in (w.proc.stdout, w.proc.stderr):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(stream)
        for stream in (w.proc.stdin, w.proc.stdout, w.proc.stderr):
            with contextlib.suppress(OSError, AttributeError):
                stream.close()
        with contextlib.suppress(ValueError):
            self._workers.remove(w)


def _stop_all(workers: list[_Worker], grace: float = 3.0) -> None:
    """Ask idle workers to exit and kill busy ones' trees, all at once; then make sure each keeper is gone."""
    for w in workers:
        if w.proc.poll() is not None:
            continue
        if w.task is None:
            with contextlib.suppress(OSError, ValueError):
                w.proc.stdin.write(protocol.encode({"op": "exit"}))
                w.proc.stdin.flush()
            with contextlib.suppress(OSError):
                w.proc.stdin.close()
        else:
            with contextlib.suppress(OSError):
                w.proc.terminate()
    deadline = time.monotonic() + grace
    for w in workers:
        try:
            w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proctree.stop(w.proc)


def _shutdown(workers: list[_Worker], tmpdir: str) -> None:
    """Last-resort cleanup when a pool is garbage-collected or the interpreter exits unclosed."""
    for w in list(workers):
        if w.proc.poll() is None:
            proctree.stop(w.proc)
    shutil.rmtree(tmpdir, ignore_errors=True)
