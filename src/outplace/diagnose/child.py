"""The child process of ``outplace diagnose``: install the recorder, then run the user's program.

Started by `runner` (under a keeper, which owns and finally kills whatever the program starts) as
``python -c <boot> JOBS_JSON``; JOBS_JSON is a list of jobs, each
``{"report": path, "target": script-or-module, "module": bool, "args": [...]}``. One job is the
normal case (`outplace diagnose`); several run one after another in this process with a fresh
recording each (the test suite uses that to import torch once).

The program runs as ``__main__`` via `runpy`, with ``sys.argv`` and ``sys.path[0]`` set as
``python script.py ARGS`` / ``python -m module ARGS`` would set them. Its output goes where ours goes.
An uncaught exception is printed as Python prints it (minus our frames) and recorded in the report;
in-place autograd errors that torch raises at the op (a leaf that requires grad, ``out=`` with an
argument that requires grad) become incidents too, located at the innermost user frame.
"""

from __future__ import annotations

import json
import os
import runpy
import signal
import sys
import traceback

LEAF_MESSAGES = ("leaf Variable that requires grad is being used in an in-place operation",)
OUT_MESSAGE = "arguments don't support automatic differentiation, but one of the arguments requires grad"


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _trim(te: traceback.TracebackException, seen: set) -> None:
    """Drop our own frames (runpy, outplace.diagnose) from a traceback and its causes."""
    if id(te) in seen:
        return
    seen.add(id(te))
    ours = os.path.dirname(os.path.abspath(__file__)) + os.sep
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if not (f.filename == runpy.__file__ or f.filename.startswith(ours)
                                     or f.filename.startswith("<frozen runpy"))])
    for nested in (te.__cause__, te.__context__):
        if nested is not None:
            _trim(nested, seen)


def _print_exception(exc: BaseException) -> str:
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__, compact=True)
    _trim(te, set())
    text = "".join(te.format())
    sys.stderr.write(text)
    sys.stderr.flush()
    return text


def _innermost_user_site(exc: BaseException) -> dict | None:
    from outplace.diagnose.recorder import _INTERNAL, _classify, _site

    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        internal = _INTERNAL.get(code)
        if internal is None:
            internal = _classify(code)
        if not internal:
            site = _site(tb.tb_frame)
            site["line"] = tb.tb_lineno
            try:
                import itertools

                pos = next(itertools.islice(code.co_positions(), tb.tb_lasti // 2, None))
                if pos[0] is not None and pos[2] is not None:
                    site.update(line=pos[0], end_line=pos[1], col=pos[2], end_col=pos[3])
            except (AttributeError, StopIteration, ValueError, TypeError):
                pass
            found = site
        tb = tb.tb_next
    return found


def _classify_exception(recorder, exc: BaseException) -> None:
    """An in-place error torch raised itself becomes an incident (ours are recorded already)."""
    from outplace.diagnose.recorder import INPLACE_MESSAGE, InplaceModificationError

    if isinstance(exc, InplaceModificationError) or not isinstance(exc, RuntimeError):
        return
    message = str(exc)
    if any(m in message for m in LEAF_MESSAGES):
        kind = "leaf"
    elif OUT_MESSAGE in message:
        kind = "out"
    elif INPLACE_MESSAGE in message:
        kind = "unattributed"
    else:
        return
    site = _innermost_user_site(exc)
    op = None
    if kind == "out" and "():" in message:
        op = message.split("():", 1)[0].strip().split()[-1]
    recorder.add_incident({
        "kind": kind,
        "message": message.strip().splitlines()[0] if message.strip() else "",
        "tensor": None, "node": None, "forward_op": None, "saved_at": None,
        "saved_version": None, "found_version": None, "backward_at": None,
        "writes": [] if site is None and kind == "unattributed" else [{
            "op": op, "aten": None, "arg": "out" if kind == "out" else "self", "version": None,
            "at": site, "module": None, "module_type": None, "constructed_at": None,
            "optimizer": False, "grad_enabled": True,
        }] if site is not None else [],
    })


def _run_notebook(path: str) -> None:
    """A notebook's code cells in order, as `__main__` (its IPython-only lines run as `pass`); its
    frames and tracebacks name the notebook, with the script's lines (in linecache)."""
    import types

    from outplace.notebook import register_script

    script = register_script(path)
    module = types.ModuleType("__main__")
    module.__file__ = path
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        exec(compile(script, path, "exec", dont_inherit=True), module.__dict__)
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def run_job(job: dict) -> int:
    """Run one program under the recorder; returns its exit status (1 for an uncaught exception)."""
    from outplace.diagnose.recorder import install

    target, module, args = job["target"], bool(job.get("module")), list(job.get("args") or [])
    recorder = install(job.get("report"), {"target": target, "module": module, "args": args})
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    status, code, error = "ok", 0, None
    try:
        sys.argv = [target, *args]
        if module:
            sys.path[0] = os.getcwd()
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        elif job.get("notebook"):
            path = os.path.abspath(target)
            sys.path[0] = os.path.dirname(path)
            _run_notebook(path)
        else:
            path = os.path.abspath(target)  # as `python script.py` does since 3.9: __file__ and frames absolute
            sys.path[0] = os.path.dirname(path)
            runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        status, code = "exit", _exit_code(exc)
    except BaseException as exc:  # noqa: BLE001 - the program's failure is an outcome
        status, code = "exception", 1
        text = _print_exception(exc)
        error = {"type": type(exc).__name__, "message": str(exc), "traceback": text}
        _classify_exception(recorder, exc)
    finally:
        sys.argv[:] = saved_argv
        sys.path[:] = saved_path
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    recorder.flush(status=status, exit_code=code, error=error)
    return code


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    jobs = json.loads(argv[0])
    from outplace.harness.proctree import die_with_parent

    die_with_parent(signal.SIGKILL, os.getppid())  # our parent is the keeper: never outlive it
    boot = os.environ.pop("OUTPLACE_DIAGNOSE_PATH", None)
    if boot and boot in sys.path:
        sys.path.remove(boot)
    if not sys.path or sys.path[0] not in ("", os.getcwd()):
        sys.path.insert(0, "")
    code = 0
    for job in jobs:
        code = run_job(job)
    if len(jobs) != 1:
        code = 0
    sys.exit(code)
