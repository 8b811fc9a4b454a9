"""Owning a tree of processes: find, freeze and kill every descendant, even those that ran away.

Pure standard library, no torch; imported by the harness workers, the keeper and both CLIs.

On Linux a process that calls `become_subreaper` (``prctl(PR_SET_CHILD_SUBREAPER)``) inherits the
orphans of its descendants instead of init: a grandchild whose parent exited, a ``setsid``-escaped
``sleep 600``, a double-forked daemon all stay *below* it, where `kill_descendants` finds them in
/proc. Killing is freeze-then-kill: every descendant found is stopped with SIGSTOP (a stopped
process cannot fork), the tree is walked again until no new process appears, then all are SIGKILLed.
`reap` then collects the dead children, so no zombie is left either.

Where /proc or prctl are missing the functions degrade quietly (no descendants are found; callers
still kill process groups).

`raise_on_signals` turns SIGTERM and SIGHUP into a `Terminated` exception (SIGINT into the usual
KeyboardInterrupt) in the CLI process for the duration of a command, once: its ``finally`` blocks,
which kill the trees, run before it exits, and a second signal cannot cut them short.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
MAX_ROUNDS = 1000  # freeze rounds before giving up on a tree that keeps growing
STOP_GRACE = 5.0  # seconds a keeper gets to kill its tree after SIGTERM before its group is SIGKILLed
STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while a command ran (see `raise_on_signals`)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _prctl(option: int, value: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def become_subreaper() -> bool:
    """Adopt the orphans of every descendant (Linux >= 3.4); False where unsupported."""
    return _prctl(PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(signum: int, parent: int) -> bool:
    """Get `signum` when the parent (pid `parent`) dies; returns False if it is already gone."""
    _prctl(PR_SET_PDEATHSIG, signum)
    return os.getppid() == parent


def no_core_dumps() -> None:
    _prctl(PR_SET_DUMPABLE, 0)


def children(pid: int) -> list[int]:
    """The live (or zombie) children of `pid`, from /proc; [] where that cannot be read."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as fh:
                found.extend(int(p) for p in fh.read().split())
        except (OSError, ValueError):
            continue
    if not found and not os.path.exists(f"/proc/{pid}/task/{pid}/children"):
        return _children_by_scan(pid)  # a kernel without CONFIG_PROC_CHILDREN
    return found


def _children_by_scan(pid: int) -> list[int]:
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return found
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry))
    return found


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, parents before their children."""
    out: list[int] = []
    seen = {pid}
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            if child not in seen:
                seen.add(child)
                out.append(child)
                todo.append(child)
    return out


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signum)


def kill_descendants(pid: int | None = None) -> int:
    """Freeze every process below `pid` (default: this one), then SIGKILL them all; returns how many.

    The caller reaps its own children afterwards (`reap`); grandchildren are re-parented to the
    nearest subreaper as their parents die.
    """
    root = os.getpid() if pid is None else pid
    frozen: set[int] = set()
    for _ in range(MAX_ROUNDS):
        new = [p for p in descendants(root) if p not in frozen]
        if not new:
            break
        for p in new:
            _signal(p, signal.SIGSTOP)
        frozen.update(new)
    for p in frozen:
        _signal(p, signal.SIGKILL)
    return len(frozen)


def reap(timeout: float) -> list[tuple[int, int]]:
    """Collect exited children until none is left or `timeout` passes: [(pid, wait status)].

    Only for processes whose children are all theirs to collect (the keeper, a harness worker).
    """
    deadline = time.monotonic() + timeout
    collected = []
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return collected
        except InterruptedError:
            continue
        if pid:
            collected.append((pid, status))
            continue
        if time.monotonic() >= deadline:
            return collected
        time.sleep(0.005)


def sweep(grace: float = 0.0) -> int:
    """Kill everything below this process after letting it finish for up to `grace` seconds.

    Returns the number of processes that had to be killed. Meant for a subreaper (its orphaned
    descendants are its children, so `reap` collects them all).
    """
    deadline = time.monotonic() + grace
    while children(os.getpid()) and time.monotonic() < deadline:
        reap(0.0)
        time.sleep(0.02)
    reap(0.0)
    killed = 0
    for _ in range(10):  # a process forked while the first round was reaped
        if not children(os.getpid()):
            break
        killed += kill_descendants()
        reap(STOP_GRACE)
    return killed


def stop(proc: subprocess.Popen, grace: float = STOP_GRACE, *, group: bool = True) -> int | None:
    """Stop a keeper: SIGTERM (it kills its whole tree and exits), then SIGKILL after `grace`.

    `group`: the keeper leads its own process group (it was started with ``start_new_session``), so
    the last resort kills the group. Returns the exit status, None if it could not be collected.
    """
    if proc.poll() is None:
        with contextlib.suppress(OSError):
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        try:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except OSError:
            with contextlib.suppress(OSError):
                proc.kill()
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        return None


@contextlib.contextmanager
def raise_on_signals(signums: tuple[int, ...] = STOP_SIGNALS) -> Iterator[None]:
    """Within the block, the first of these signals raises (SIGINT: KeyboardInterrupt; others:
    `Terminated`); later ones are ignored so the cleanup it triggers can finish. Outside the main
    thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: object) -> None:
        if not fired:
            fired.append(signum)
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            raise Terminated(signum)

    previous = {}
    for signum in signums:
        with contextlib.suppress(OSError, ValueError):
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(signum, old if old is not None else signal.SIG_DFL)


def stops_on_signals(command: str, stopped: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """For a CLI function that returns its exit code: SIGINT, SIGTERM and SIGHUP raise inside it (so
    the ``finally`` blocks that kill its process trees run), then it writes one line to its ``stderr``
    (keyword argument, else sys.stderr) and returns 128 + the signal number."""

    def wrap(fn: Callable[..., int]) -> Callable[..., int]:
        @functools.wraps(fn)
        def run(*args: object, **kwargs: object) -> int:
            try:
                with raise_on_signals():
                    return fn(*args, **kwargs)
            except KeyboardInterrupt:
                signum, why = signal.SIGINT, "interrupted"
            except Terminated as exc:
                signum, why = exc.signum, f"stopped by {exc.name}"
            err = kwargs.get("stderr") or sys.stderr
            err.write(f"{command}: {why}; {stopped}\n")
            return 128 + signum

        return run

    return wrap
