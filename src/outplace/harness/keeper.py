"""The keeper: the process that owns one tree of user processes and kills it whole.

    python -m outplace.harness.keeper --parent PID [--grace S] [--cleanup DIR] -- COMMAND ARGS...

Every harness worker (``outplace verify``) and every program ``outplace diagnose`` runs is started
under a keeper. The keeper becomes a child subreaper (`proctree.become_subreaper`), starts COMMAND
with its own stdin, stdout and stderr, lets go of those (so pipes reach end-of-file when the tree is
gone, not when the keeper exits) and waits. Whatever COMMAND starts stays below the keeper, however
it detaches (``setsid``, double fork).

- When COMMAND exits, the keeper gives the rest of the tree `grace` seconds to finish (default 0),
  kills what is left, reaps it, and exits with COMMAND's status (the same exit code, or death by
  the same signal).
- SIGTERM or SIGHUP: it kills the whole tree at once and exits the same way.
- SIGINT is ignored by the keeper itself (COMMAND, started with the default handler, still gets it
  from a terminal; the parent decides what to do).
- When the parent (`--parent`) dies, even by SIGKILL, the kernel sends the keeper SIGTERM; it kills
  the tree and removes `--cleanup` DIR (the harness's temporary folder). The kernel ties this to the
  *thread* that started the keeper, so `command` asks for it only from the main thread (``--parent 0``:
  not at all).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
from typing import NoReturn

from outplace.harness import proctree


def command(argv: list[str], *, python: str | None = None, grace: float = 0.0, cleanup: str | None = None
            ) -> list[str]:
    """The command line that runs `argv` under a keeper that dies with this process (see above)."""
    parent = os.getpid() if threading.current_thread() is threading.main_thread() else 0
    out = [python or sys.executable, "-m", "outplace.harness.keeper", "--parent", str(parent), "--grace", str(grace)]
    if cleanup:
        out += ["--cleanup", cleanup]
    return [*out, "--", *argv]


def main(argv: list[str] | None = None) -> NoReturn:
    parser = argparse.ArgumentParser(prog="outplace.harness.keeper")
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--grace", type=float, default=0.0)
    parser.add_argument("--cleanup")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        parser.error("no command")

    proctree.become_subreaper()
    stopping: list[int] = []

    def stop(signum: int, frame: object) -> None:
        stopping.append(signum)
        proctree.kill_descendants()

    for signum in proctree.STOP_SIGNALS:
        if signum != signal.SIGINT:
            signal.signal(signum, stop)
    signal.signal(signal.SIGINT, lambda signum, frame: None)  # a handler, not SIG_IGN: COMMAND gets the default
    orphaned = bool(args.parent) and not proctree.die_with_parent(signal.SIGTERM, args.parent)

    try:
        child = subprocess.Popen(cmd)
    except OSError as exc:
        sys.stderr.write(f"outplace keeper: cannot start {cmd[0]}: {exc.strerror or exc}\n")
        os._exit(127)
    _let_go_of_stdio()
    if orphaned or stopping:
        stop(signal.SIGTERM, None)

    status = None
    while status is None:
        try:
            pid, raw = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child.pid:
            status = os.waitstatus_to_exitcode(raw)
    proctree.sweep(0.0 if stopping else args.grace)
    if args.cleanup and args.parent and os.getppid() != args.parent:
        shutil.rmtree(args.cleanup, ignore_errors=True)
    _exit_like(status if status is not None else -signal.SIGKILL)


def _let_go_of_stdio() -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _exit_like(status: int) -> NoReturn:
    """Exit with `status` as `subprocess` reports it: a code, or -N for death by signal N."""
    if status < 0:
        signum = -status
        proctree.no_core_dumps()
        try:
            signal.signal(signum, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signum])
            os.kill(os.getpid(), signum)
        except (OSError, ValueError, AttributeError):
            pass
        os._exit(128 + signum)
    os._exit(status & 0xFF)


if __name__ == "__main__":
    main()
