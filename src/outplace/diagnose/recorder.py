"""The torch side of ``outplace diagnose``: runs inside the user's process, never in the CLI process.

Two instruments, installed once (`install`) before the program's first line (plus small patches:
``nn.Module.__init__`` records where each module was constructed, the autograd engine entry point
raises at the end of a backward pass, and ``disable_saved_tensors_hooks`` steps our hooks aside for
``torch.func`` transforms):

1. A ``TorchDispatchMode`` that sees every aten op while some saved tensor is alive (it is pushed by
   the first `pack` and popped at the end of a backward pass that left nothing saved, so optimizer
   steps and data preparation run without it). For an op whose schema marks an argument written
   (``Tensor(a!)``: ``add_``, ``fill_``/``copy_``/``index_put_`` behind ``__setitem__``, ``relu_``,
   the ``out=`` overloads, ``_foreach_*_``...) it asks one dict lookup whether the written storage holds
   a tensor that a live autograd graph saved; only then does it walk the Python stack and log the write
   (op, version before, nearest user line, ``nn.Module`` path, the line that built an ``inplace=True``
   module, whether ``torch/optim`` is on the stack). Writes to storages nobody saved cost one lookup.
2. Saved-tensor hooks. `pack` records the storage, its version and the user line of the forward op and
   returns a small record holding the tensor itself (detached when it has a ``grad_fn``, so that an
   op's saved *output* does not form a reference cycle with its node): no copy, no extra memory.
   `unpack` does the version check that autograd skips while hooks are active. A stale tensor is
   matched with the logged writes to its storage since the save: those are the culprits. A tensor whose
   version did not move although its storage was written (``y.data.add_(1)``) is reported too: backward
   runs, silently with a wrong gradient.

Decision (documented in docs/diagnose.md): at a stale unpack the recorder records the incident and lets
that backward pass finish, so that every stale tensor the pass needs is found in one run; when the pass
returns, it raises `InplaceModificationError` (a ``RuntimeError`` whose message, like torch's, contains
"modified by an inplace operation"), so the program stops where it would have stopped. A stale unpack
outside ``torch.autograd.backward``/``grad`` raises at once. Version-bypassing writes never raise.

Incidents go to a JSON report file (rewritten after each incident, so a crash or ``os._exit`` loses
nothing) that the parent process reads.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import site
import sys
import sysconfig
import threading
import weakref

import torch
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode, _len_torch_dispatch_stack

INPLACE_MESSAGE = "modified by an inplace operation"
MAX_WRITES_PER_STORAGE = 64
MAX_INCIDENTS = 200
MAX_TRACE_SITES = 2000  # `outplace trace`: write sites kept
TRACE_SAMPLES = 16  # executions of one site whose facts are kept (the rest are counted)
REPORT_FORMAT = 1

# Ops whose schema marks an argument written but which leave its version counter alone (bookkeeping:
# autograd's check cannot fail on them). The metadata writes `unsqueeze_`, `squeeze_`, `t_`, `transpose_`,
# `as_strided_`, `set_`, `resize_` do bump it, and a saved tensor's bumped version is what backward
# refuses (eval32: `h.unsqueeze_(0)` broke two reporters' backward): they are writes like any other.
# tests/test_diagnose.py measures both sides.
_NOT_VALUE_WRITES = frozenset({
    "detach_", "requires_grad_", "record_stream", "_coalesced_",
    "_resize_output_", "resize_as_sparse_", "sparse_resize_", "sparse_resize_and_clear_",
})


class InplaceModificationError(RuntimeError):
    """What torch would have raised: a tensor saved for backward was modified in place."""


# ---- frames -----------------------------------------------------------------------------------------

def _prefixes(*paths: str | None) -> tuple[str, ...]:
    out: list[str] = []
    for p in paths:
        if not p:
            continue
        for q in {p, os.path.realpath(p)}:
            q = q.rstrip(os.sep) + os.sep
            if q not in out:
                out.append(q)
    return tuple(out)


_TORCH = _prefixes(os.path.dirname(torch.__file__))
_OPTIM = tuple(p + "optim" + os.sep for p in _TORCH)
_OUTPLACE = _prefixes(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_paths = sysconfig.get_paths()
_STDLIB = _prefixes(_paths.get("stdlib"), _paths.get("platstdlib"))
_SITE = _prefixes(_paths.get("purelib"), _paths.get("platlib"), *getattr(site, "getsitepackages", lambda: [])(),
                  getattr(site, "getusersitepackages", lambda: None)())

_INTERNAL: dict = {}  # code object -> True when the frame belongs to torch, outplace or the stdlib


def _classify(code) -> bool:
    fn = code.co_filename
    internal = (fn.startswith(_TORCH) or fn.startswith(_OUTPLACE) or fn.startswith("<frozen ")
                or (fn.startswith(_STDLIB) and not fn.startswith(_SITE)))
    _INTERNAL[code] = internal
    return internal


def _site(frame) -> dict:
    """Where `frame` is now, with the span of the current instruction (the call, `+=`, `x[i] =`)."""
    code = frame.f_code
    out = {"file": code.co_filename, "line": frame.f_lineno, "function": code.co_name}
    try:  # 3.11+: one position per code unit; columns are UTF-8 byte offsets, 0-based
        line, end_line, col, end_col = next(itertools.islice(code.co_positions(), frame.f_lasti // 2, None))
        if line is not None and col is not None:
            out.update(line=line, end_line=end_line, col=col, end_col=end_col)
    except (AttributeError, StopIteration, ValueError, TypeError):
        pass
    return out


def user_frame(frame):
    """The nearest frame, from `frame` outward, outside torch, outplace and the standard library."""
    internal = _INTERNAL
    while frame is not None:
        code = frame.f_code
        i = internal.get(code)
        if i is None:
            i = _classify(code)
        if not i:
            return frame
        frame = frame.f_back
    return None


def user_site(frame) -> dict | None:
    """`user_frame`'s file, line and function (no column span: this is the hot path of `pack`)."""
    f = user_frame(frame)
    if f is None:
        return None
    code = f.f_code
    return {"file": code.co_filename, "line": f.f_lineno, "function": code.co_name}


_CALL_IMPL = getattr(torch.nn.Module._call_impl, "__code__", None)
_TENSOR = torch.Tensor
_NoDispatch = torch._C._DisableTorchDispatch


def save_site(frame) -> tuple[dict | None, object]:
    """`user_site`, plus the innermost ``nn.Module`` being called on the way there (torch's own
    modules: the ``Sigmoid`` inside a ``Sequential``), found cheaply by code identity."""
    internal = _INTERNAL
    module = None
    while frame is not None:
        code = frame.f_code
        i = internal.get(code)
        if i is None:
            i = _classify(code)
        if not i:
            return {"file": code.co_filename, "line": frame.f_lineno, "function": code.co_name}, module
        if module is None and code is _CALL_IMPL:
            module = frame.f_locals.get("self")
        frame = frame.f_back
    return None, module


def _caller_of(module, frame):
    """The user frame outside `module`'s own methods (from `frame` outward), and whether those
    methods included its constructor."""
    building = False
    while frame is not None and _frame_self(frame) is module:
        building = building or frame.f_code.co_name == "__init__"
        frame = frame.f_back
    return user_frame(frame), building


def _frame_self(frame):
    code = frame.f_code
    if code.co_argcount and code.co_varnames[0] == "self":
        return frame.f_locals.get("self")
    return None


# ---- records ----------------------------------------------------------------------------------------

class _Saved:
    """What `pack` returns: the saved tensor (no copy) and what it was when saved."""

    __slots__ = ("state", "t", "key", "version", "seq", "site", "module", "reported", "__weakref__")

    def __init__(self, state, t, key, version, seq, site, module):
        self.state = state
        self.t = t
        self.key = key
        self.version = version
        self.seq = seq
        self.site = site
        self.module = module
        self.reported = False

    def __del__(self):
        try:
            live = self.state.live
            n = live.get(self.key, 0) - 1
            if n > 0:
                live[self.key] = n
            else:
                live.pop(self.key, None)
                self.state.writes.pop(self.key, None)
        except Exception:  # interpreter shutdown
            pass


class _Write:
    __slots__ = ("seq", "op", "aten", "arg", "version", "site", "module", "root", "root_name",
                 "inplace_module", "optimizer", "grad_enabled", "target", "operands", "caller", "trace_key",
                 "geometry")


class _State:
    """Everything one program run records (a fresh one per run: `Recorder.start`)."""

    def __init__(self, report_path: str | None):
        self.report_path = report_path
        self.pid = os.getpid()  # a forked child (DataLoader worker) must not overwrite the report
        self.counter = itertools.count(1)
        self.live: dict[int, int] = {}  # storage key -> number of live saved records on it
        self.writes: dict[int, list[_Write]] = {}  # storage key -> writes since it was saved
        self.dropped_writes = 0
        self.incidents: list[dict] = []
        self.dropped_incidents = 0
        self.pending: list[InplaceModificationError] = []
        self.depth = 0  # nesting of torch.autograd.backward/grad calls
        self.backward_site: dict | None = None
        self.program: dict = {}
        # `outplace trace`: site key -> what every in-place write there on a tensor that requires grad
        # looked like (None: not tracing, only writes into saved storages are looked at).
        self.trace: dict[tuple, dict] | None = None


def _storage_key(t) -> int | None:
    try:
        key = t.untyped_storage().data_ptr()
    except Exception:  # sparse, nested, wrapper subclasses without storage
        return None
    return key or None


def _geometry(t) -> tuple | None:
    """Where a tensor's elements are in its storage: (offset, shape, strides, element size)."""
    try:
        if t.numel() == 0:
            return None
        return t.storage_offset(), tuple(t.shape), tuple(t.stride()), t.element_size()
    except Exception:
        return None


def _overlap(a: tuple, b: tuple) -> bool:
    """May two tensors of one storage share an element? Exact for two tensors of the same shape and
    strides laid out without self-overlap (the chunks `unsafe_chunk` makes); else whether their byte
    ranges meet."""
    (oa, shape, strides, size), (ob, shape_b, strides_b, size_b) = a, b
    if (shape, strides, size) != (shape_b, strides_b, size_b):
        return _range(a)[0] < _range(b)[1] and _range(b)[0] < _range(a)[1]
    dims = sorted(((n, st) for n, st in zip(shape, strides) if n > 1), key=lambda d: -d[1])
    reach = [0] * (len(dims) + 1)  # reach[k]: how far the dims after k can move an offset
    for k in range(len(dims) - 1, -1, -1):
        n, st = dims[k]
        reach[k] = reach[k + 1] + (n - 1) * st
        if k + 1 < len(dims) and st <= reach[k + 1]:
            return _range(a)[0] < _range(b)[1] and _range(b)[0] < _range(a)[1]  # self-overlapping: be coarse

    def representable(d: int, k: int) -> bool:  # d = sum of j_i * stride_i, |j_i| < n_i, for dims k...
        if k == len(dims):
            return d == 0
        n, st = dims[k]
        for j in {d // st, -(-d // st)}:
            if abs(j) <= n - 1 and abs(d - j * st) <= reach[k + 1] and representable(d - j * st, k + 1):
                return True
        return False

    return representable(ob - oa, 0)


def _range(g: tuple) -> tuple[int, int]:
    offset, shape, strides, size = g
    last = offset + sum((n - 1) * st for n, st in zip(shape, strides) if n > 0)
    return offset * size, (last + 1) * size


def _written_args(func) -> tuple:
    out = []
    try:
        name = func.overloadpacket.__name__
        if name not in _NOT_VALUE_WRITES:
            for i, a in enumerate(func._schema.arguments):
                info = a.alias_info
                if info is not None and info.is_write:
                    out.append((i, a.name, a.kwarg_only))
    except Exception:
        pass
    result = tuple(out)
    _WRITTEN[func] = result
    return result


_WRITTEN: dict = {}  # OpOverload -> ((position, name, kwarg_only), ...) of the arguments it writes


def _node_to_op(node: str | None) -> str | None:
    """``ExpBackward0`` -> ``exp``; ``NativeBatchNormBackward0`` -> ``native_batch_norm``."""
    if not node:
        return None
    base = node
    for suffix in ("Backward0", "Backward1", "Backward2", "Backward"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    out = []
    for i, ch in enumerate(base):
        if ch.isupper() and i and (not base[i - 1].isupper() or (i + 1 < len(base) and base[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out) or None


def _module_path(target, root, root_name) -> str | None:
    if target is None:
        return None
    head = root_name or type(root).__name__
    if target is root:
        return head
    try:
        for name, m in root.named_modules(remove_duplicate=False):
            if m is target:
                return f"{head}.{name}"
    except Exception:
        pass
    return type(target).__name__


def _describe(t) -> dict:
    try:
        return {"type": t.type(), "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
                "device": str(t.device)}
    except Exception:
        return {"type": type(t).__name__, "shape": [], "dtype": "?", "device": "?"}


# Backward nodes of ops that return several views: writing into one of them in place raises.
MULTI_VIEW_NODES = frozenset({"UnbindBackward0", "SplitBackward0", "SplitWithSizesBackward0",
                              "UnsafeSplitBackward0", "UnsafeSplitWithSizesBackward0", "ChunkBackward0"})


def tensor_facts(t) -> dict:
    """What the runtime knows of a written tensor: kind, dtype, shape, grad, leaf, view, parameter."""
    try:
        fn = t.grad_fn
        base = t._base
        node = fn.name() if fn is not None else None
        return {
            "type": type(t).__name__, "dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape),
            "requires_grad": bool(t.requires_grad), "leaf": bool(t.is_leaf), "view": base is not None,
            "multi_view": base is not None and node in MULTI_VIEW_NODES,
            "parameter": isinstance(t, torch.nn.Parameter) or isinstance(base, torch.nn.Parameter),
            "base_leaf": base is not None and bool(base.is_leaf and base.requires_grad), "node": node,
        }
    except Exception:
        return {"type": type(t).__name__}


def operand_facts(value) -> dict:
    if isinstance(value, torch.Tensor):
        try:
            return {"kind": "tensor", "dtype": str(value.dtype).replace("torch.", ""), "shape": list(value.shape)}
        except Exception:
            return {"kind": "tensor"}
    if isinstance(value, (bool, int, float, complex)):
        return {"kind": "scalar", "dtype": type(value).__name__}
    return {"kind": "other"}


def caller_binding(frame, t) -> dict | None:
    """When `frame` (a user function) wrote into one of its own arguments, the caller's name for the
    tensor it was passed: ``{"at": call site, "names": [...], "param": ...}``. A helper that writes
    into its caller's tensor is fixed in the caller (clone before the call), not in the helper."""
    try:
        code = frame.f_code
        nargs = code.co_argcount + code.co_kwonlyargcount
        params = code.co_varnames[:nargs]
        local = frame.f_locals
        key = t.untyped_storage().data_ptr()
        param = next((p for p in params if isinstance(local.get(p), torch.Tensor)
                      and local[p].untyped_storage().data_ptr() == key), None)
        if param is None:
            return None
        obj = local[param]
        caller = user_frame(frame.f_back)
        if caller is None:
            return None
        names = sorted(k for k, v in caller.f_locals.items() if v is obj)
        if not names:
            return None
        return {"at": _site(caller), "names": names, "param": param}
    except Exception:
        return None


class _Mode(TorchDispatchMode):
    def __init__(self, recorder: "Recorder"):
        super().__init__()
        self.recorder = recorder

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        written = _WRITTEN.get(func)
        if written is None:
            written = _written_args(func)
        if written:
            st = self.recorder.state
            if st.live or st.trace is not None:
                self.recorder.on_write(func, written, args, kwargs)
        if kwargs:
            return func(*args, **kwargs)
        return func(*args)


class Recorder:
    """The instruments of one process. `install` once; `start` a fresh state per program run."""

    def __init__(self):
        self.state = _State(None)
        self.sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # module -> construction site
        # module -> where `m.inplace = True` made it write in place after it was built (a loop over modules)
        self.inplace_sites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.installed = False
        self._tls = threading.local()  # .mode: this thread's _Mode while it is on the dispatch stack
        self._hooks = None
        self._restore: list[tuple[object, str, object]] = []

    # -- installation ------------------------------------------------------------------------------

    def install(self) -> "Recorder":
        if self.installed:
            return self
        self._patch_module_init()
        self._patch_module_setattr()
        self._patch_backward()
        self._patch_disable_hooks()
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self.pack, self.unpack)
        self._hooks.__enter__()
        self.installed = True
        return self

    # The dispatch mode is on the stack only while some saved tensor is alive: a write matters only to
    # a storage that a live graph saved, so the optimizer step, zero_grad and data preparation between
    # a backward pass and the next forward run without it. `pack` pushes it (onto an empty stack only,
    # so that it never sits above a mode the program entered and would then pop); the end of a backward
    # pass pops it again, on the same thread, when nothing saved is left and it is still on top.

    def _mode_on(self) -> None:
        tls = self._tls
        if getattr(tls, "mode", None) is None and _len_torch_dispatch_stack() == 0:
            mode = _Mode(self)
            mode.__enter__()
            tls.mode = mode

    def _mode_off(self) -> None:
        if self.state.trace is not None:
            return  # a trace sees every write, saved or not: the mode stays on
        tls = self._tls
        mode = getattr(tls, "mode", None)
        if mode is not None and _get_current_dispatch_mode() is mode:
            mode.__exit__(None, None, None)
            tls.mode = None

    def uninstall(self) -> None:
        """Take the instruments out again (benchmarks and tests; `outplace diagnose` never does)."""
        if not self.installed:
            return
        self.state.trace = None  # a trace keeps the mode on: let it go
        self._mode_off()
        self._hooks.__exit__(None, None, None)
        for owner, name, original in self._restore:
            setattr(owner, name, original)
        self._restore.clear()
        self.installed = False

    def start(self, report_path: str | None, program: dict | None = None, trace: bool = False) -> None:
        self.state = _State(report_path)
        self.state.program = dict(program or {})
        if trace:
            self.state.trace = {}
            self._mode_on()
        self.flush()

    def _patch(self, owner, name: str, make) -> None:
        """Replace ``owner.name`` by ``make(original)``, once (marked; `uninstall` puts it back)."""
        original = getattr(owner, name)
        if getattr(original, "__outplace_diagnose__", False):
            return
        new = functools.wraps(original)(make(original))
        new.__outplace_diagnose__ = True
        setattr(owner, name, new)
        self._restore.append((owner, name, original))

    def _patch_module_init(self) -> None:
        """Remember where each module was built (the line that constructed an ``inplace=True`` one)."""
        sites = self.sites

        def make(original):
            def __init__(self, *args, **kwargs):
                original(self, *args, **kwargs)
                try:
                    frame, _ = _caller_of(self, sys._getframe(1))  # past ReLU.__init__, MyNet.__init__...
                    if frame is not None:
                        sites[self] = _site(frame)
                except Exception:
                    pass
            return __init__

        self._patch(torch.nn.Module, "__init__", make)

    def _patch_module_setattr(self) -> None:
        """Remember where a module was switched to ``inplace = True`` after it was built (``for m in
        self.modules(): m.inplace = True``): that statement, not the constructor, is what to fix."""
        sites = self.inplace_sites

        def make(original):
            def __setattr__(self, name, value):
                original(self, name, value)
                if name == "inplace" and value is True:
                    try:
                        frame, building = _caller_of(self, sys._getframe(1))
                        if frame is not None and not building:  # its own constructor is not a switch
                            sites[self] = _site(frame)
                    except Exception:
                        pass
            return __setattr__

        self._patch(torch.nn.Module, "__setattr__", make)

    def _patch_backward(self) -> None:
        import torch.autograd as autograd

        original = autograd._engine_run_backward
        if getattr(original, "__outplace_diagnose__", False):
            return
        recorder = self

        @functools.wraps(original)
        def _engine_run_backward(*args, **kwargs):
            __tracebackhide__ = True  # pytest: show the caller's frame, not this wrapper
            st = recorder.state
            if st.depth == 0:
                st.backward_site = user_site(sys._getframe(1))
            st.depth += 1
            try:
                result = original(*args, **kwargs)
            finally:
                st.depth -= 1
                pending = list(st.pending)
                if st.depth == 0:
                    st.pending.clear()
                    if not st.live:
                        recorder._mode_off()
            if pending and st.depth == 0:
                err = pending[0]
                if len(pending) > 1:
                    err.args = (f"{err.args[0]} (and {len(pending) - 1} more stale saved tensor"
                                f"{'s' if len(pending) > 2 else ''} in this backward pass)",)
                raise err
            return result

        _engine_run_backward.__outplace_diagnose__ = True
        autograd._engine_run_backward = _engine_run_backward
        self._restore.append((autograd, "_engine_run_backward", original))

    def _patch_disable_hooks(self) -> None:
        """torch.func transforms refuse to run while saved-tensor hooks are on the stack
        (``disable_saved_tensors_hooks``): step our hooks aside for the duration; what runs inside
        is not recorded (torch keeps its own version check there)."""
        import contextlib

        import torch.autograd.graph as graph

        original = graph.disable_saved_tensors_hooks
        if getattr(original, "__outplace_diagnose__", False):
            return
        recorder = self

        @contextlib.contextmanager
        def disable_saved_tensors_hooks(error_message):
            top = torch._C._autograd._top_saved_tensors_default_hooks(False)
            ours = top is not None and getattr(top[0], "__self__", None) is recorder
            if ours:
                torch._C._autograd._pop_saved_tensors_default_hooks()
            try:
                with original(error_message):
                    yield
            finally:
                if ours:
                    torch._C._autograd._push_saved_tensors_default_hooks(recorder.pack, recorder.unpack)

        disable_saved_tensors_hooks.__outplace_diagnose__ = True
        disable_saved_tensors_hooks.__doc__ = original.__doc__
        graph.disable_saved_tensors_hooks = disable_saved_tensors_hooks
        self._restore.append((graph, "disable_saved_tensors_hooks", original))

    # -- saved tensors -----------------------------------------------------------------------------

    def pack(self, t):
        try:
            key = t.untyped_storage().data_ptr()
            version = t._version
        except Exception:
            return t
        if not key:
            return t
        st = self.state
        if getattr(self._tls, "mode", None) is None:
            self._mode_on()
        if t.grad_fn is None:
            keep = t
        elif t.__class__ is _TENSOR:
            with _NoDispatch():  # a plain tensor: detach without a round trip through our own mode
                keep = t.detach()
        else:
            keep = t.detach()
        site, module = save_site(sys._getframe(1))
        rec = _Saved(st, keep, key, version, next(st.counter), site, module)
        live = st.live
        live[key] = live.get(key, 0) + 1
        return rec

    def unpack(self, rec):
        if rec.__class__ is not _Saved:
            return rec
        t = rec.t
        try:
            v = t._version
        except Exception:
            return t
        if v != rec.version or rec.key in rec.state.writes:
            self._check(rec, v)
        return t

    def _check(self, rec: _Saved, version: int) -> None:
        st = rec.state
        writes = [w for w in st.writes.get(rec.key, ()) if w.seq > rec.seq]
        if version == rec.version and writes:
            # No version bump: only a write into the saved tensor's own bytes bypassed the counter
            # (`.data`); ops that write other parts of one storage with counters of their own
            # (`unsafe_chunk` outputs, as in nn.LSTMCell/GRUCell's CPU kernels) changed nothing it holds.
            mine = _geometry(rec.t)
            writes = [w for w in writes if w.geometry is None or mine is None or _overlap(w.geometry, mine)]
        if version == rec.version and not writes:
            return
        if rec.reported:
            return
        rec.reported = True
        node = None
        try:
            n = torch._C._current_autograd_node()
            node = n.name() if n is not None else None
        except Exception:
            pass
        kind = "stale" if version != rec.version else "bypass"
        if st.trace is not None:
            saver = {"op": _node_to_op(node), "line": (rec.site or {}).get("line"), "file": (rec.site or {}).get("file")}
            for w in writes:
                entry = st.trace.get(w.trace_key) if w.trace_key is not None else None
                if entry is not None:
                    entry["broke"] = True
                    if saver not in entry["saved_by"] and len(entry["saved_by"]) < 4:
                        entry["saved_by"].append(saver)
        tensor = _describe(rec.t)
        saved_module = None
        if rec.module is not None:
            root = next((w.root for w in writes if w.root is not None), None)
            root_name = next((w.root_name for w in writes if w.root is not None), None)
            saved_module = (_module_path(rec.module, root, root_name) if root is not None
                            else type(rec.module).__name__)
        incident = {
            "kind": kind,
            "tensor": tensor,
            "node": node,
            "forward_op": _node_to_op(node),
            "saved_at": rec.site,
            "saved_module": saved_module,
            "saved_module_type": type(rec.module).__name__ if rec.module is not None else None,
            "saved_version": rec.version,
            "found_version": version,
            "backward_at": st.backward_site,
            "writes": [self._write_json(w) for w in writes],
        }
        first = incident["writes"][0] if incident["writes"] else None
        if first is not None and first["at"] is not None:
            at = first["constructed_at"] or first["at"]
            where = f" outplace diagnose: written by {first['op']} at {at['file']}:{at['line']}."
        else:
            where = ""
        if kind == "stale":
            message = (f"one of the variables needed for gradient computation has been {INPLACE_MESSAGE}: "
                       f"[{tensor['type']} {tensor['shape']}], which is saved by {node or 'a backward node'}, "
                       f"is at version {version}; expected version {rec.version} instead.{where}")
        else:
            message = (f"a tensor saved by {node or 'a backward node'} [{tensor['type']} {tensor['shape']}] was "
                       f"written without a version-counter bump (through `.data`?); backward used the "
                       f"modified values.{where}")
        incident["message"] = message
        self.add_incident(incident)
        if kind == "stale":
            err = InplaceModificationError(message)
            if st.depth > 0:
                st.pending.append(err)
            else:
                raise err

    def _write_json(self, w: _Write) -> dict:
        constructed = switched = None
        if w.inplace_module is not None:
            try:
                constructed = self.sites.get(w.inplace_module)
                switched = self.inplace_sites.get(w.inplace_module)
            except TypeError:
                constructed = None
        target = w.inplace_module if w.inplace_module is not None else w.module
        return {
            "seq": w.seq,
            "op": w.op,
            "aten": w.aten,
            "arg": w.arg,
            "version": w.version,
            "at": w.site,
            "module": _module_path(target, w.root, w.root_name) if w.root is not None else None,
            "module_type": type(target).__name__ if target is not None else None,
            "constructed_at": constructed,
            "inplace_set_at": switched,
            "optimizer": w.optimizer,
            "grad_enabled": w.grad_enabled,
            "target": w.target,
            "operands": w.operands,
            "caller": w.caller,
        }

    # -- writes ------------------------------------------------------------------------------------

    def on_write(self, func, written, args, kwargs) -> None:
        st = self.state
        live = st.live
        for i, name, kwarg_only in written:
            if kwarg_only or i >= len(args):
                a = kwargs.get(name) if kwargs else None
            else:
                a = args[i]
            if a is None:
                continue
            for t in (a if isinstance(a, (list, tuple)) else (a,)):
                if not isinstance(t, torch.Tensor):
                    continue
                key = _storage_key(t)
                saved = key is not None and key in live
                traced = st.trace is not None and (saved or (t.requires_grad and torch.is_grad_enabled()))
                if saved or traced:
                    self._log_write(st, key, func, name, t, args, kwargs, saved, traced)

    def _log_write(self, st: _State, key: int | None, func, arg: str, t, args=(), kwargs=None, saved: bool = True,
                   traced: bool = False) -> None:
        log = st.writes.setdefault(key, []) if saved else None
        if log is not None and len(log) >= MAX_WRITES_PER_STORAGE:
            st.dropped_writes += 1
            if not traced:
                return
            log = None
        w = _Write()
        w.seq = next(st.counter)
        w.op = func.overloadpacket.__name__
        w.aten = str(func)
        w.arg = arg
        try:
            w.version = t._version
        except Exception:
            w.version = None
        w.grad_enabled = torch.is_grad_enabled()
        w.geometry = _geometry(t)
        w.target = tensor_facts(t)
        w.operands = [operand_facts(a) for a in [*args[1:], *(kwargs or {}).values()] if a is not t]
        user = self._attribute(w, sys._getframe(2))
        w.caller = caller_binding(user, t) if user is not None and w.inplace_module is None else None
        w.trace_key = self._trace(st, w, saved) if traced else None
        if log is not None:
            log.append(w)

    def _trace(self, st: _State, w: _Write, saved: bool) -> tuple | None:
        """Add one execution of an in-place write to the trace (by site: the constructor of an
        ``inplace=True`` module, else the user's line)."""
        record = self._write_json(w)
        at = record["constructed_at"] or record["at"]
        if at is None:
            return None
        key = (at["file"], at["line"], at.get("col"), at.get("end_line"), at.get("end_col"))
        entry = st.trace.get(key)
        if entry is None:
            if len(st.trace) >= MAX_TRACE_SITES:
                return None
            entry = st.trace[key] = {
                "at": record["at"], "constructed_at": record["constructed_at"],
                "inplace_set_at": record["inplace_set_at"], "module_type": record["module_type"],
                "op": w.op, "count": 0, "targets": [], "operands": [], "saved": [], "broke": False,
                "saved_by": [], "caller": record["caller"],
            }
        entry["count"] += 1
        if len(entry["targets"]) < TRACE_SAMPLES:
            entry["targets"].append(w.target)
            entry["operands"].append(w.operands)
            entry["saved"].append(saved)
        return key

    def _attribute(self, w: _Write, frame):
        """Fill in where a write happened: the user line, the modules on the stack, the optimizer.
        Returns the user frame (None when the write ran in no code of the user's)."""
        module_cls = torch.nn.Module
        internal = _INTERNAL
        user = None
        optimizer = False
        inplace_module = None
        mods: list = []
        caller = None  # the first user frame outside the outermost module call (names the root)
        f = frame
        while f is not None:
            code = f.f_code
            i = internal.get(code)
            if i is None:
                i = _classify(code)
            if i and code.co_filename.startswith(_OPTIM):
                optimizer = True
            s = _frame_self(f)
            if isinstance(s, module_cls):
                if not mods or mods[-1] is not s:
                    if s not in mods:
                        mods.append(s)
                    caller = None
                if i and user is None and inplace_module is None and getattr(s, "inplace", None) is True:
                    inplace_module = s
            elif not i and mods and caller is None:
                caller = f
            if user is None and not i:
                user = f
            f = f.f_back
        w.site = _site(user) if user is not None else None
        w.optimizer = optimizer
        w.inplace_module = inplace_module
        w.module = mods[0] if mods else None
        w.root = mods[-1] if mods else None
        w.root_name = None
        if caller is not None and w.root is not None:
            try:
                for scope in (caller.f_locals, caller.f_globals):
                    for k, v in scope.items():
                        if v is w.root and not k.startswith("_"):
                            w.root_name = k
                            break
                    if w.root_name:
                        break
            except Exception:
                pass
        return user

    # -- report ------------------------------------------------------------------------------------

    def add_incident(self, incident: dict) -> None:
        st = self.state
        if len(st.incidents) >= MAX_INCIDENTS:
            st.dropped_incidents += 1
        else:
            st.incidents.append(incident)
        self.flush()

    def report(self, **extra) -> dict:
        st = self.state
        data = {
            "format": REPORT_FORMAT,
            "torch": torch.__version__,
            "program": st.program,
            "incidents": st.incidents,
            "dropped_incidents": st.dropped_incidents,
            "dropped_writes": st.dropped_writes,
        }
        if st.trace is not None:
            data["trace"] = list(st.trace.values())
        data.update(extra)
        return data

    def flush(self, **extra) -> None:
        path = self.state.report_path
        if not path or os.getpid() != self.state.pid:
            return
        if extra:
            self.state.program.update(extra)
        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.report(), f)
            os.replace(tmp, path)
        except OSError:
            pass


RECORDER = Recorder()


def install(report_path: str | None = None, program: dict | None = None, trace: bool = False) -> Recorder:
    """Install the instruments in this process (once) and start recording a run (`trace`: every
    in-place write on a tensor that requires grad, for `outplace trace`)."""
    RECORDER.install()
    RECORDER.start(report_path, program, trace)
    return RECORDER
