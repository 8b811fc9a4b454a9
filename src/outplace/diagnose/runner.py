"""Parent side: launch the user's program in a child Python process with the recorder installed.

    run_program("train.py", ["--epochs", "1"])          # like `python train.py --epochs 1`
    run_program("pytest", ["tests/test_model.py"], module=True)   # like `python -m pytest ...`
    run_batch([Job(...), Job(...)])                     # several programs, one child, torch imported once

The child's stdin, stdout and stderr are ours unless `capture` is asked for. No torch here.

The child runs under a keeper (`outplace.harness.keeper`): whatever the program starts, even with
``setsid`` or a double fork, stays in a tree the keeper owns. When the program's own process ends,
what it left running gets `LEFTOVER_GRACE` seconds to finish and is then killed, so the run never
waits on a stray subprocess; a timeout, SIGTERM or SIGHUP kills the whole tree at once; on Ctrl-C the
program (which shares our terminal) gets `INTERRUPT_GRACE` seconds to stop on its own first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import outplace
from outplace.harness import keeper, proctree

# The outplace package's parent folder, so the child imports this very outplace even from an
# environment where it is not installed; child.main() takes it off sys.path again.
_SRC = str(Path(outplace.__file__).resolve().parent.parent)
_BOOT = ("import os, sys; p = os.environ.get('OUTPLACE_DIAGNOSE_PATH'); p and sys.path.insert(0, p); "
         "from outplace.diagnose.child import main; main()")
LEFTOVER_GRACE = 2.0  # seconds the program's leftover processes get after it ended, before they are killed
INTERRUPT_GRACE = 3.0  # seconds the program gets to stop on its own after Ctrl-C
PIPE_GRACE = 5.0  # seconds to collect captured output once the tree is dead


class RunnerError(Exception):
    """The child could not be started, or produced no report (one line)."""


@dataclass
class Job:
    target: str  # script path, or module name when `module`
    args: list[str] = field(default_factory=list)
    module: bool = False
    trace: bool = False  # record every in-place write on a tensor that requires grad (`outplace trace`)


@dataclass
class Run:
    job: Job
    returncode: int  # the program's exit status (1 for an uncaught exception)
    report: dict | None  # the recorder's JSON report; None when the child never wrote one
    stdout: str | None = None  # only with capture=True
    stderr: str | None = None

    @property
    def incidents(self) -> list[dict]:
        return list((self.report or {}).get("incidents") or [])

    @property
    def error(self) -> dict | None:
        return ((self.report or {}).get("program") or {}).get("error")


def child_argv(jobs_json: str, python: str | None = None) -> list[str]:
    return [python or sys.executable, "-c", _BOOT, jobs_json]


def child_env(env: dict | None = None) -> dict:
    out = dict(os.environ if env is None else env)
    out["OUTPLACE_DIAGNOSE_PATH"] = _SRC
    return out


def _fileno(stream):
    try:
        stream.flush()
        return stream.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _run(jobs: list[Job], *, cwd=None, env=None, capture=False, timeout=None, python=None, stdout=None
         ) -> tuple[list[Run], int, str | None, str | None]:
    with tempfile.TemporaryDirectory(prefix="outplace-diagnose-") as tmp:
        reports = [os.path.join(tmp, f"report_{i}.json") for i in range(len(jobs))]
        spec = json.dumps([{"target": j.target, "module": j.module, "args": list(j.args), "report": r,
                            "notebook": not j.module and j.target.endswith(".ipynb"), "trace": j.trace}
                           for j, r in zip(jobs, reports)])
        kwargs = dict(cwd=cwd, env=child_env(env))
        if capture:
            kwargs.update(stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        elif stdout is not None and _fileno(stdout) is not None:
            kwargs.update(stdout=_fileno(stdout))
        argv = keeper.command(child_argv(spec, python), python=python, grace=LEFTOVER_GRACE)
        try:
            proc = subprocess.Popen(argv, **kwargs)
        except OSError as exc:
            raise RunnerError(f"cannot start {python or sys.executable}: {exc.strerror or exc}") from None
        try:
            out, err = proc.communicate(timeout=timeout)
        except KeyboardInterrupt:
            # From a terminal the program got the same SIGINT: give it a moment to print its own traceback.
            try:
                proc.wait(timeout=INTERRUPT_GRACE)
            except subprocess.TimeoutExpired:
                pass
            _stop(proc)
            raise
        except subprocess.TimeoutExpired:
            _stop(proc)
            out, err = _collect(proc)
            raise RunnerError(f"the program ran longer than {timeout:g} s and was killed") from None
        except BaseException:  # proctree.Terminated (SIGTERM, SIGHUP), or anything else: kill the tree
            _stop(proc)
            raise
        runs = []
        for job, path in zip(jobs, reports):
            report = None
            try:
                with open(path, encoding="utf-8") as f:
                    report = json.load(f)
            except (OSError, ValueError):
                report = None
            code = ((report or {}).get("program") or {}).get("exit_code")
            runs.append(Run(job, code if isinstance(code, int) else proc.returncode, report))
        return runs, proc.returncode, out, err


def _stop(proc: subprocess.Popen) -> None:
    """Kill the program's whole tree (the keeper does it on SIGTERM; it is SIGKILLed if it does not exit)."""
    proctree.stop(proc, group=False)


def _collect(proc: subprocess.Popen) -> tuple[str | None, str | None]:
    """What a captured program printed, now that its tree is dead (bounded: never waits for a straggler)."""
    try:
        return proc.communicate(timeout=PIPE_GRACE)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        return None, None


def run_program(target: str, args: list[str] | tuple[str, ...] = (), *, module: bool = False, cwd=None, env=None,
                capture: bool = False, timeout: float | None = None, python: str | None = None,
                stdout=None, trace: bool = False) -> Run:
    """Run one program under the recorder, like ``python [-m] target args...``.

    `stdout`: a file (with a file descriptor) for the program's standard output instead of ours.
    """
    runs, returncode, out, err = _run([Job(target, list(args), module, trace)], cwd=cwd, env=env, capture=capture,
                                      timeout=timeout, python=python, stdout=stdout)
    run = runs[0]
    if run.report is None or "exit_code" not in (run.report.get("program") or {}):
        # The child died before the program ended (os._exit, a crash, killed): keep what it recorded.
        run.returncode = returncode
    run.stdout, run.stderr = out, err
    return run


def run_batch(jobs: list[Job], *, cwd=None, env=None, timeout: float | None = None,
              python: str | None = None) -> list[Run]:
    """Run several programs one after another in one child (output captured; for test suites)."""
    runs, returncode, out, err = _run(jobs, cwd=cwd, env=env, capture=True, timeout=timeout, python=python)
    for run in runs:
        run.stdout, run.stderr = out, err
    if any(r.report is None for r in runs):
        raise RunnerError(f"the batch child exited with {returncode} before finishing:\n{err}")
    return runs
