"""The harness worker: a child process that imports torch once and then runs many cases.

Started by `runner.WorkerPool` under a keeper (`keeper.py`) as ``python -m outplace.harness.worker
--threads N``. It speaks the JSON-lines protocol of `protocol.py` on private duplicates of its
stdin/stdout; fd 0 is /dev/null and fds 1 and 2 are the output pipe the parent reads (keeping only
the head and tail of each run's output), so user code can print, read stdin or crash with a C-level
message without disturbing the channel.

The worker is a child subreaper: whatever a script starts stays below it, and after each run every
process the script left behind is killed (`proctree.sweep`); such a run, or one that left threads
running, is answered with ``"retire": true`` and the parent replaces the worker.

Each ``run`` request executes one script in a fresh module namespace, `runpy.run_path`-like:
``__name__ == "__main__"`` (entry mode: ``"__outplace_case__"``), ``__file__``, ``sys.argv`` and
``sys.path[0]`` set for the script; seeds fixed (`random`, `torch`, numpy when installed);
``torch.use_deterministic_algorithms(True, warn_only=True)``; on CPU the address space may grow by
at most ``memory_mb`` (``RLIMIT_AS``, soft limit, lifted again after the case): running out of it is
the outcome ``memory``. A run records at most ``record_mb`` of tensors (the rest are listed as
``skipped``, never compared). A run on a device other than the CPU lists the random draws it made (the
aten ops torch tags ``nondeterministic_seeded``, in order): there the in-place and out-of-place forms of
an op may draw through different kernels (CUDA's ``dropout_`` draws ``bernoulli_``, ``dropout`` the
fused ``native_dropout``), so the comparison must know when the two runs' random numbers cannot agree.
Afterwards the interpreter state the script could have changed (argv,
path, cwd, environment, modules imported from outside the Python installation, default
dtype/device, grad mode, std streams, signal handlers) is restored; what it cannot restore, torch's
own global state (a global module hook, `torch.sigmoid = ...`, a patched builtin, a function mode
left on), retires the worker when the script changed it, so that no later case runs under it.

A ``compare`` request maps the two record files (``torch.load(mmap=True)``) and compares them chunk
by chunk (`tensordiff`) under the same memory cap, so it needs little memory of its own whatever the
tensors' size.
"""

from __future__ import annotations

import argparse
import builtins
import contextlib
import faulthandler
import inspect
import os
import platform
import random
import signal
import sys
import sysconfig
import threading
import time
import traceback
import types
import warnings
from typing import Any, NoReturn

from outplace.harness import proctree, protocol
from outplace.harness.compare import classify_inplace_error, normalize_message

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

HERE = os.path.dirname(os.path.abspath(__file__))


class MissingEntryPoint(Exception):
    """Entry mode: the (rewritten) file no longer defines a callable outplace_case()."""


MissingEntryPoint.__module__ = "outplace.harness"  # reported as outplace.harness.MissingEntryPoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="outplace.harness.worker")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    proctree.become_subreaper()
    proctree.die_with_parent(signal.SIGKILL, os.getppid())  # the keeper; it never leaves us behind
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)  # the script's stdout and stderr: the output pipe
    faulthandler.enable()

    def send(message: dict[str, Any]) -> None:
        proto_out.write(protocol.encode(message))
        proto_out.flush()

    try:
        import torch
    except BaseException as exc:  # noqa: BLE001 - report whatever stops torch from importing
        send({"op": "ready", "error": f"{type(exc).__name__}: {exc}"})
        return 3
    try:
        import numpy  # noqa: F401  (seeded per case when present)
    except Exception:
        pass

    state = Worker(torch, args.threads)
    send({"op": "ready", **state.probe()})
    while True:
        line = proto_in.readline()
        if not line:
            _quit()
        try:
            request = protocol.decode(line)
        except ValueError as exc:
            send({"op": "error", "error": f"bad request: {exc}"})
            continue
        op = request.get("op")
        if op == "exit":
            _quit()
        try:
            if op == "run":
                answer = state.run(request)
            elif op == "compare":
                answer = state.compare(request)
            elif op == "probe":
                answer = state.probe()
            else:
                answer = {"error": f"unknown op {op!r}"}
        except BaseException as exc:  # noqa: BLE001 - a harness bug must not kill the worker silently
            answer = {"error": "".join(traceback.format_exception(exc))[-4000:]}
        answer.update({"op": op, "id": request.get("id")})
        send(answer)


def _quit() -> NoReturn:
    """Leave without interpreter finalization (torch's takes seconds); nothing is left to flush."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(0)


class Worker:
    def __init__(self, torch: Any, threads: int) -> None:
        self.torch = torch
        self.pid = os.getpid()
        self.threads = max(1, threads)
        torch.set_num_threads(self.threads)
        self.default_dtype = torch.get_default_dtype()
        self.library_paths = _library_paths()
        self._reset_torch()
        import outplace.harness.record  # noqa: F401  (warm: paid once, before "ready")
        import outplace.harness.tensordiff  # noqa: F401

    def probe(self) -> dict[str, Any]:
        torch = self.torch
        try:
            cuda = bool(torch.cuda.is_available())
            devices = torch.cuda.device_count() if cuda else 0
        except Exception:
            cuda, devices = False, 0
        return {
            "pid": os.getpid(),
            "torch": torch.__version__,
            "cuda": cuda,
            "cuda_devices": devices,
            "python": platform.python_version(),
            "threads": self.threads,
        }

    # ------------------------------------------------------------------ compare
    def compare(self, request: dict[str, Any]) -> dict[str, Any]:
        from outplace.harness.tensordiff import compare_runs

        # The records are mapped, not read: their pages are the files', outside the cap.
        mapped = sum(_file_size(side.get("path")) for side in (request["ref"], request["new"])) // 2**20 + 1
        memory_mb = request.get("memory_mb")
        limit = _apply_memory_cap(memory_mb + mapped if memory_mb else None, "cpu")
        try:
            diffs, skipped = compare_runs(
                self.torch,
                request["ref"],
                request["new"],
                rtol=float(request.get("rtol", 0.0)),
                atol=float(request.get("atol", 0.0)),
                scope=request.get("scope", "all"),
            )
        except BaseException as exc:  # noqa: BLE001
            if not _is_out_of_memory(exc):
                raise
            return {"error": f"{type(exc).__name__}: {str(exc)[:300]}", "memory": True}
        finally:
            _release_memory_cap(limit)
        return {"differences": diffs, "not_compared": skipped}

    # ------------------------------------------------------------------ run
    def run(self, request: dict[str, Any]) -> dict[str, Any]:
        from outplace.harness.record import Recorder

        torch = self.torch
        filename = request["filename"]
        mode = request.get("mode", "script")
        device = request.get("device", "cpu")
        oracle = bool(request.get("oracle"))
        memory_mb = request.get("memory_mb")

        threads = set(threading.enumerate())
        saved = _InterpreterState(self)
        module_name = "__main__" if mode == "script" else "__outplace_case__"
        module = types.ModuleType(module_name)
        module.__file__ = filename
        module.__builtins__ = builtins
        module.__loader__ = None
        module.__spec__ = None
        module.__package__ = None
        module.__cached__ = None
        sys.modules[module_name] = module
        sys.argv = [filename]
        if sys.path:
            sys.path[0] = os.path.dirname(os.path.abspath(request.get("path", filename)))
        self._reset_torch()
        self._seed(int(request.get("seed", 0)))

        record_mb = request.get("record_mb")
        rec = Recorder(torch, filename, byte_budget=int(record_mb) * 2**20 if record_mb else None)
        status, error, exit_code = "ok", None, None
        notes: list[str] = []
        entry_locals: dict[str, Any] = {}
        limit = _apply_memory_cap(memory_mb, device)
        hooks = (
            torch.autograd.graph.saved_tensors_hooks(_pack_clone, _unpack_identity)
            if oracle
            else contextlib.nullcontext()
        )
        draws = _random_draws(torch) if request.get("random_draws") else None
        start = time.perf_counter()
        rec.install()
        try:
            with warnings.catch_warnings(), hooks, (draws if draws is not None else contextlib.nullcontext()):
                if device != "cpu":
                    torch.set_default_device(device)
                try:
                    code = compile(request["source"], filename, "exec", dont_inherit=True)
                    exec(code, module.__dict__)
                    if mode == "entry":
                        self._call_entry(rec, module.__dict__, entry_locals)
                except SystemExit as exc:
                    status = "exit"
                    exit_code, text = _exit_code(exc.code)
                    if text:
                        notes.append(f"sys.exit message: {text}"[:500])
                except BaseException as exc:  # noqa: BLE001 - user code may raise anything
                    status = "error"
                    error = _error_info(exc, filename, self.library_paths)
                    if _is_out_of_memory(exc):
                        status = "memory"
                        cap = f"its memory cap of {memory_mb} MB" if limit is not None else "memory"
                        notes.append(f"the run ran out of {cap}")
                finally:
                    if device != "cpu":
                        torch.set_default_device(None)
            duration = time.perf_counter() - start
            if os.getpid() != self.pid:  # a child the script forked ran on to the end: it must not serve us
                _flush_output()
                os._exit(exit_code if isinstance(exit_code, int) else int(status not in ("ok", "exit")))
            try:
                if entry_locals:
                    rec.collect_namespace(entry_locals)
                rec.collect_namespace(module.__dict__)
                rec.finish_leaves()
            except BaseException as exc:  # noqa: BLE001
                notes.append(f"collecting the final state failed: {type(exc).__name__}: {exc}"[:500])
        finally:
            rec.uninstall()
            _release_memory_cap(limit)
            saved.restore()
            leaked = saved.torch_changed()

        if rec.n_backward + rec.n_grad > 10_000:
            notes.append(f"{rec.n_backward} backward and {rec.n_grad} grad calls; only the first 10000 were recorded")
        notes.extend(rec.notes[:20])
        budget = rec.budget_note()
        if budget:
            notes.append(budget)
        record_path = request["record_path"]
        rec.save(record_path)
        entries = rec.entries()
        module.__dict__.clear()
        del rec, module, entry_locals
        answer = {
            "status": status,
            "error": error,
            "exit_code": exit_code,
            "duration_s": duration,
            "entries": entries,
            "record_path": record_path,
            "notes": notes,
        }
        if draws is not None:
            answer["random_draws"] = draws.draws
        _flush_output()
        killed = proctree.sweep()
        if killed:
            notes.append(f"the script left {killed} process{'es' if killed != 1 else ''} running; outplace killed them")
        running = [t.name for t in threading.enumerate() if t not in threads and t.is_alive()]
        if running:
            notes.append(f"the script left {len(running)} thread(s) running ({', '.join(running[:3])}); "
                         "the worker was replaced")
        if leaked:
            notes.append(f"the script changed torch's global state and left it so ({leaked}); the worker was replaced")
        if killed or running or leaked:
            answer["retire"] = True
        return answer

    def _call_entry(self, rec: Any, namespace: dict[str, Any], entry_locals: dict[str, Any]) -> None:
        torch = self.torch
        fn = namespace.get("outplace_case")
        if not callable(fn):
            raise MissingEntryPoint("entry mode: the file does not define a callable outplace_case()")
        code = getattr(inspect.unwrap(fn), "__code__", None)

        def profiler(frame: types.FrameType, event: str, arg: Any) -> None:
            if event == "return" and frame.f_code is code:
                entry_locals.clear()
                entry_locals.update(frame.f_locals)

        previous = sys.getprofile()
        sys.setprofile(profiler)
        try:
            result = fn()
        finally:
            sys.setprofile(previous)
        outputs = rec.record_outputs(result)
        roots = [
            (t.real if t.is_complex() else t).sum()
            for t in outputs
            if t.requires_grad and (t.is_floating_point() or t.is_complex())
        ]
        if roots:
            rec.walk_graph(roots, "output")
            rec.original_backward(roots)

    def _reset_torch(self) -> None:
        torch = self.torch
        torch.set_grad_enabled(True)
        torch.set_default_dtype(self.default_dtype)
        with contextlib.suppress(Exception):
            torch.set_default_device(None)
        torch.autograd.set_detect_anomaly(False)
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
        _deterministic(torch)
        with contextlib.suppress(Exception):
            torch.backends.cudnn.deterministic = True
            torch.backends.cudnn.benchmark = False

    def _seed(self, seed: int) -> None:
        random.seed(seed)
        self.torch.manual_seed(seed)  # seeds every CUDA device too
        np = sys.modules.get("numpy")
        if np is not None:
            with contextlib.suppress(Exception):
                np.random.seed(seed)


def _flush_output() -> None:
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()


class _InterpreterState:
    """What a script can change in the worker's interpreter, saved before a case and restored after."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.argv = list(sys.argv)
        self.path = list(sys.path)
        self.modules = set(sys.modules)
        self.main = sys.modules.get("__main__")
        self.cwd = os.getcwd()
        self.environ = dict(os.environ)
        self.streams = (sys.stdin, sys.stdout, sys.stderr)
        self.recursion = sys.getrecursionlimit()
        self.handlers = {s: signal.getsignal(s) for s in _SIGNALS}
        self.torch_state = _torch_fingerprint(worker.torch)

    def torch_changed(self) -> str | None:
        """What of torch's (or the builtins') global state the script changed and left so (a global
        module hook, `torch.sigmoid = ...`, `builtins.len = ...`, a function mode): the next case in
        this worker would run with it. None: nothing."""
        now = _torch_fingerprint(self.worker.torch)
        changed = sorted(k for k in self.torch_state.keys() | now.keys() if self.torch_state.get(k) != now.get(k))
        return ", ".join(changed[:3]) if changed else None

    def restore(self) -> None:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        sys.stdin, sys.stdout, sys.stderr = self.streams
        sys.setprofile(None)
        sys.settrace(None)
        sys.argv = self.argv
        sys.path[:] = self.path
        if self.main is not None:
            sys.modules["__main__"] = self.main
        sys.modules.pop("__outplace_case__", None)
        for name in set(sys.modules) - self.modules:
            mod = sys.modules.get(name)
            file = getattr(mod, "__file__", None)
            if file and not os.path.abspath(file).startswith(self.worker.library_paths):
                del sys.modules[name]  # the script's own helper modules: fresh for the next case
        with contextlib.suppress(OSError):
            if os.getcwd() != self.cwd:
                os.chdir(self.cwd)
        if dict(os.environ) != self.environ:
            os.environ.clear()
            os.environ.update(self.environ)
        sys.setrecursionlimit(self.recursion)
        with contextlib.suppress(OSError, ValueError, AttributeError):
            signal.setitimer(signal.ITIMER_REAL, 0)  # an alarm the script left pending
        for signum, handler in self.handlers.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self.worker._reset_torch()


def _torch_fingerprint(torch: Any) -> dict[str, object]:
    """Identities of what a script may patch or register globally: the attributes of `torch`,
    `torch.Tensor`, `torch.nn`, `torch.nn.functional` and `builtins`, the global module hooks, the
    torch function mode stack."""
    out: dict[str, object] = {}
    for label, ns in (("torch", vars(torch)), ("torch.Tensor", vars(torch.Tensor)), ("torch.nn", vars(torch.nn)),
                      ("torch.nn.functional", vars(torch.nn.functional)), ("builtins", vars(builtins))):
        for k, v in ns.items():
            if not isinstance(v, types.ModuleType):  # (a submodule imported for the first time is no patch)
                out[f"{label}.{k}"] = id(v)
    module = sys.modules.get("torch.nn.modules.module")
    for name in dir(module) if module is not None else ():
        if name.startswith("_global_") and isinstance(hooks := getattr(module, name), dict):
            out[f"torch.nn.modules.module.{name}"] = tuple(hooks)
    with contextlib.suppress(Exception):
        out["torch function modes"] = torch._C._len_torch_function_stack()
    return out


# Handlers a script (or a library it used, e.g. DataLoader's SIGCHLD) may install and leave behind.
_SIGNALS = tuple(getattr(signal, n) for n in ("SIGCHLD", "SIGINT", "SIGTERM", "SIGHUP", "SIGALRM", "SIGUSR1",
                                               "SIGUSR2") if hasattr(signal, n))


def _library_paths() -> tuple[str, ...]:
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, HERE}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            paths.add(sysconfig.get_paths()[key])
    import outplace

    paths.add(os.path.dirname(os.path.abspath(outplace.__file__)))
    return tuple(os.path.join(os.path.abspath(p), "") for p in paths if p)


def _deterministic(torch: Any) -> None:
    """torch.use_deterministic_algorithms(True, warn_only=True) without its 2-second import of inductor.

    (The public function also sets ``torch._inductor.config.deterministic``; that only matters for
    torch.compile, so it is set here only once a script has imported inductor itself.)
    """
    try:
        torch._C._set_deterministic_algorithms(True, warn_only=True)
    except Exception:
        with contextlib.suppress(Exception):
            torch.use_deterministic_algorithms(True, warn_only=True)
    config = sys.modules.get("torch._inductor.config")
    if config is not None:
        with contextlib.suppress(Exception):
            config.deterministic = True


def _random_draws(torch: Any) -> Any:
    """A dispatch mode listing the random draws a run makes, run-length encoded: [[op, count], ...].

    Which ops draw is torch's own fact (the ``nondeterministic_seeded`` tag), not a list of ours. The
    mode sits below autograd and only looks: every op runs as it would without it.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    seeded = torch.Tag.nondeterministic_seeded

    class RandomDraws(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.draws: list[list[Any]] = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001 - torch's protocol
            if seeded in func.tags:
                name = str(func)
                if self.draws and self.draws[-1][0] == name:
                    self.draws[-1][1] += 1
                elif len(self.draws) < RANDOM_DRAWS_KEPT:
                    self.draws.append([name, 1])
                else:
                    self.draws[-1] = ["(more)", 0]
            return func(*args, **(kwargs or {}))

    return RandomDraws()


# Runs of random draws a run lists; past that the list ends in "(more)" (two such lists never count as equal).
RANDOM_DRAWS_KEPT = 1000


def _pack_clone(t: Any) -> Any:
    return t.clone()


def _unpack_identity(t: Any) -> Any:
    return t


def _exit_code(code: Any) -> tuple[int | None, str]:
    if code is None or isinstance(code, int):
        return code, ""
    return 1, str(code)  # like the interpreter: sys.exit("msg") prints msg and exits 1


def _error_info(exc: BaseException, filename: str, library: tuple[str, ...]) -> dict[str, Any]:
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    message = str(exc)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == filename:
            line = frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename == filename:
        line = exc.lineno
    tb = traceback.TracebackException.from_exception(exc, limit=-20)
    # The script's own frames (and its helper modules'), not the harness's or torch's.
    tb.stack = traceback.StackSummary.from_list(
        [
            f
            for f in tb.stack
            if f.filename == filename
            or not (f.filename.startswith("<") or os.path.abspath(f.filename).startswith(library))
        ]
    )
    text = "".join(tb.format())
    return {
        "type": name,
        "message": message[:4000],
        "normalized": normalize_message(message[:4000], filename),
        "line": line,
        "inplace": classify_inplace_error(message),
        "traceback": text[-4000:],
    }


_OUT_OF_MEMORY = ("can't allocate memory", "cannot allocate memory", "not enough memory", "bad_alloc",
                  "out of memory")


def _is_out_of_memory(exc: BaseException) -> bool:
    """MemoryError, or torch's allocator failing (CPU "can't allocate memory", CUDA "out of memory")."""
    if isinstance(exc, MemoryError):
        return True
    return isinstance(exc, RuntimeError) and any(t in str(exc)[:2000].lower() for t in _OUT_OF_MEMORY)


def _file_size(path: str | None) -> int:
    try:
        return os.path.getsize(path) if path else 0
    except OSError:
        return 0


def _vm_size() -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _apply_memory_cap(memory_mb: Any, device: str) -> tuple[int, int] | None:
    # Only on CPU: CUDA reserves huge virtual address ranges, so RLIMIT_AS would break it.
    if not memory_mb or device != "cpu" or resource is None:
        return None
    current = _vm_size()
    if current is None:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    new = current + int(memory_mb) * 2**20
    if hard != resource.RLIM_INFINITY:
        new = min(new, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (new, hard))
    except (ValueError, OSError):
        return None
    return soft, hard


def _release_memory_cap(saved: tuple[int, int] | None) -> None:
    if saved is not None and resource is not None:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, saved)


if __name__ == "__main__":
    sys.exit(main())
