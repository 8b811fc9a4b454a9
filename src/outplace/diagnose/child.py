"""The child process of ``outplace diagnose``: install the recorder, then run the user's program.

Started by `runner` (under a keeper, which owns and finally kills whatever the program starts) as
``python -c <boot> JOBS_JSON``; JOBS_JSON is a list of jobs, each
``{"report": path, "target": script-or-module, "module": bool, "args": [...], "trace": bool}`` (`trace`:
record every in-place write on a tensor that requires grad, for `outplace trace`). One job is the
normal case (`outplace diagnose`); several run one after another in this process with a fresh
recording each (the test suite uses that to import torch once).

The program runs as ``__main__`` via `runpy`, with ``sys.argv`` and ``sys.path[0]`` set as
``python script.py ARGS`` / ``python -m module ARGS`` would set them. Its output goes where ours goes.
An uncaught exception is printed as Python prints it (minus our frames) and recorded in the report;
in-place autograd errors that torch raises at the op (a leaf that requires grad, ``out=`` with an
argument that requires grad) become incidents too, located at the innermost user frame.
"""

from __future__ import annotations

import itertools
import json
import os
import runpy
import signal
import sys
import traceback

LEAF_MESSAGES = ("leaf Variable that requires grad is being used in an in-place operation",)
# A view torch refuses to write in place: one of several views (`chunk`/`split`/`unbind`), a view
# made under no_grad, a view a custom Function returned.
VIEW_MESSAGES = ("is a view and is being modified inplace", "is being modified inplace with grad mode enabled")
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


def _innermost_user_frame(exc: BaseException):
    """The innermost traceback entry in the user's code, and the ``inplace=True`` module (if any) that
    torch's frames below it were running."""
    from outplace.diagnose.recorder import _INTERNAL, _classify, _frame_self

    import torch

    found, module = None, None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        internal = _INTERNAL.get(code)
        if internal is None:
            internal = _classify(code)
        if not internal:
            found, module = tb, None
        elif found is not None and module is None:
            s = _frame_self(tb.tb_frame)
            if isinstance(s, torch.nn.Module) and getattr(s, "inplace", None) is True:
                module = s
        tb = tb.tb_next
    return found, module


def _tb_site(tb) -> dict:
    from outplace.diagnose.recorder import _site

    code = tb.tb_frame.f_code
    site = _site(tb.tb_frame)
    site["line"] = tb.tb_lineno
    try:
        pos = next(itertools.islice(code.co_positions(), tb.tb_lasti // 2, None))
        if pos[0] is not None and pos[2] is not None:
            site.update(line=pos[0], end_line=pos[1], col=pos[2], end_col=pos[3])
    except (AttributeError, StopIteration, ValueError, TypeError):
        pass
    return site


def _classify_exception(recorder, exc: BaseException) -> None:
    """An in-place error torch raised itself becomes an incident (ours are recorded already)."""
    from outplace.diagnose.recorder import INPLACE_MESSAGE, InplaceModificationError, tensor_facts

    if isinstance(exc, InplaceModificationError) or not isinstance(exc, RuntimeError):
        return
    message = str(exc)
    if any(m in message for m in LEAF_MESSAGES):
        kind = "leaf"
    elif any(m in message for m in VIEW_MESSAGES):
        kind = "view"
    elif OUT_MESSAGE in message:
        kind = "out"
    elif INPLACE_MESSAGE in message:
        kind = "unattributed"
    else:
        return
    tb, module = _innermost_user_frame(exc)
    site = _tb_site(tb) if tb is not None else None
    op = None
    if kind == "out" and "():" in message:
        op = message.split("():", 1)[0].strip().split()[-1]
    target = None
    if tb is not None and kind in ("leaf", "view") and module is None:
        t = written_tensor(tb.tb_frame, site)
        target = tensor_facts(t) if t is not None else None
        op = written_op(tb.tb_frame.f_code.co_filename, site)
    write = {
        "op": op, "aten": None, "arg": "out" if kind == "out" else "self", "version": None,
        "at": site, "module": None, "module_type": type(module).__name__ if module is not None else None,
        "constructed_at": recorder.sites.get(module) if module is not None else None,
        "optimizer": False, "grad_enabled": True, "target": target, "operands": [], "caller": None,
    }
    recorder.add_incident({
        "kind": kind,
        "message": message.strip().splitlines()[0] if message.strip() else "",
        "tensor": None, "node": None, "forward_op": None, "saved_at": None,
        "saved_version": None, "found_version": None, "backward_at": None,
        "writes": [write] if site is not None else [],
    })


# ---- the tensor a refused write was writing into --------------------------------------------------

def written_tensor(frame, site: dict | None):
    """The tensor the in-place write at `site` was writing into, read from `frame`'s variables: the
    receiver of ``x.add_(...)``, the target of ``x += ...`` / ``x[i] = ...``, the argument of
    ``torch.relu_(x)``. Only names, attributes stored in an object's ``__dict__`` (an ``nn.Module``'s
    parameters, buffers and submodules included) and constant or variable subscripts of lists, tuples
    and dicts are followed: nothing of the program runs again. None when it cannot be read so."""
    import torch

    if not site or site.get("col") is None:
        return None
    for node in _write_targets(frame.f_code.co_filename, site):
        value = _value(frame, node)
        if isinstance(value, torch.Tensor):
            return value
    return None


_AUG_OPS = {"Add": "add_", "Sub": "sub_", "Mult": "mul_", "Div": "div_", "FloorDiv": "floor_divide_",
            "Mod": "remainder_", "Pow": "pow_", "MatMult": "matmul", "BitAnd": "bitwise_and_", "BitOr": "bitwise_or_",
            "BitXor": "bitwise_xor_", "LShift": "bitwise_left_shift_", "RShift": "bitwise_right_shift_"}


def written_op(path: str, site: dict | None) -> str | None:
    """The op of the refused write at `site`, as the source spells it: `mul_`, `+=` -> `add_`."""
    import ast

    node = _write_node(path, site) if site and site.get("col") is not None else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node, ast.AugAssign):
        return _AUG_OPS.get(type(node.op).__name__)
    return None


def _write_targets(path: str, site: dict) -> list:
    """The expressions that may be the written tensor of the write at `site` (most likely first)."""
    import ast

    best = _write_node(path, site)
    if best is None:
        return []
    if isinstance(best, ast.Call):
        out = [best.func.value] if isinstance(best.func, ast.Attribute) else []  # x.add_(...)
        return out + best.args[:1]  # torch.relu_(x), nn.init.zeros_(w)
    if isinstance(best, ast.AugAssign):
        target = best.target
        return [target.value if isinstance(target, ast.Subscript) else target]
    if isinstance(best, ast.Subscript):
        return [best.value]
    if isinstance(best, ast.Assign) and len(best.targets) == 1 and isinstance(best.targets[0], ast.Subscript):
        return [best.targets[0].value]
    return []


def _write_node(path: str, site: dict):
    """The node of the write at `site`: the call, augmented assignment or subscript its span is."""
    import ast
    import linecache

    text = "".join(linecache.getlines(path))
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    want = (site["line"], site["col"], site.get("end_line") or site["line"], site.get("end_col") or site["col"])
    best = None
    rank = {ast.Call: 0, ast.Subscript: 1, ast.AugAssign: 2, ast.Assign: 3}
    for n in ast.walk(tree):
        if type(n) not in rank or n.end_lineno is None:
            continue
        span = (n.lineno, n.col_offset, n.end_lineno, n.end_col_offset)  # UTF-8 byte columns, as code positions
        if span == want and (best is None or rank[type(n)] < rank[type(best)]):
            best = n
    return best


_MISSING = object()
# Tensor methods that only make a view: evaluated on a plain tensor to find what a write wrote into
# (`w.chunk(4)[1].fill_(1)`); torch's own code, never the program's.
_VIEW_METHODS = frozenset({"chunk", "split", "unbind", "view", "reshape", "narrow", "select", "t", "transpose",
                           "permute", "squeeze", "unsqueeze", "flatten", "expand", "view_as", "expand_as"})


def _value(frame, node):
    import ast
    import builtins

    import torch

    if isinstance(node, ast.Constant) and isinstance(node.value, (int, str)):
        return node.value
    if isinstance(node, ast.JoinedStr):  # f"bias_hh_l{i}"
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue) and v.conversion == -1 and v.format_spec is None:
                x = _value(frame, v.value)
                if not isinstance(x, (int, str)) or isinstance(x, bool):
                    return None
                parts.append(str(x))
            else:
                return None
        return "".join(parts)
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) == 2 and \
                _value(frame, func) is builtins.getattr:
            obj, name = _value(frame, node.args[0]), _value(frame, node.args[1])
            return _attribute(obj, name) if obj is not None and isinstance(name, str) else None
        if isinstance(func, ast.Attribute) and func.attr in _VIEW_METHODS:
            obj = _value(frame, func.value)
            args = [_value(frame, a) for a in node.args]
            if type(obj) in (torch.Tensor, torch.nn.Parameter) and all(
                    isinstance(a, int) and not isinstance(a, bool) for a in args):
                try:
                    return getattr(obj, func.attr)(*args)
                except Exception:
                    return None
        return None
    if isinstance(node, ast.Name):
        for scope in (frame.f_locals, frame.f_globals, vars(builtins)):
            if node.id in scope:
                return scope[node.id]
        return None
    if isinstance(node, ast.Attribute):
        obj = _value(frame, node.value)
        return None if obj is None else _attribute(obj, node.attr)
    if isinstance(node, ast.Subscript):
        obj = _value(frame, node.value)
        if type(obj) not in (list, tuple, dict, torch.nn.ModuleList, torch.nn.Sequential, torch.nn.ModuleDict):
            return None
        index = node.slice
        key = index.value if isinstance(index, ast.Constant) else _value(frame, index) if isinstance(
            index, (ast.Name, ast.Attribute)) else _MISSING
        if key is _MISSING or isinstance(key, bool):
            return None
        try:
            return obj[key]
        except (LookupError, TypeError):
            return None
    return None


def _attribute(obj, name: str):
    """``obj.name`` without running a property or ``__getattr__`` of the program's: the instance
    ``__dict__``, and for modules their parameters, buffers and submodules."""
    try:
        d = object.__getattribute__(obj, "__dict__")
    except AttributeError:
        return None
    if name in d:
        return d[name]
    for store in ("_parameters", "_buffers", "_modules"):
        table = d.get(store)
        if isinstance(table, dict) and name in table:
            return table[name]
    return None


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
    recorder = install(job.get("report"), {"target": target, "module": module, "args": args},
                       trace=bool(job.get("trace")))
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
