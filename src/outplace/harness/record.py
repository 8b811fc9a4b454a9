"""What a run records (runs inside a worker process; torch is passed in, never imported here at module level).

Two phases of records:

- *event* records, taken as they happen: the tensors handed to ``Tensor.backward``,
  ``torch.autograd.backward`` and ``torch.autograd.grad`` (their forward values, detached and cloned
  before autograd runs), the results of ``torch.autograd.grad``, and in entry mode the tensors
  ``outplace_case()`` returned.  Names: ``backward#1``, ``backward#2[0]``, ``grad#1.output[0]``,
  ``grad#1.result[0]``, ``output``, ``output[1]``, ``output['logits']``.
- *final* records, taken when the run ends: every tensor, Python number and ``nn.Module``
  parameter/buffer reachable by name from the script's globals (entry mode: ``outplace_case``'s
  locals at return, then the globals), plus the ``.grad`` of every leaf that requires grad. Leaves
  are named by the first route that finds them: a global/local name (``w``, ``model.fc.weight``,
  ``params[0]``), else a local of the script's frames at the time of a backward call (so scripts
  that keep everything inside ``main()`` still get named gradients), else their place in the
  autograd graph (``backward#1.leaf[2]``).

A run records at most ``byte_budget`` bytes of tensor data (the record file holds each storage
once). A tensor over the budget is still listed, with its dtype and shape, as ``"skipped": true``
and without data: the comparison reports it as not compared instead of guessing.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any

MAX_EVENTS = 10_000  # backward/grad calls recorded per run; later ones are counted, not stored
GRAPH_WALKS = 8  # backward calls whose autograd graph is walked for leaves nobody named
MAX_GRAPH_NODES = 100_000
MAX_CONTAINER = 1_000  # elements looked at in one list/tuple/dict
MAX_DEPTH = 2  # nesting of containers followed


class Recorder:
    def __init__(self, torch: Any, filename: str, byte_budget: int | None = None) -> None:
        self.torch = torch
        self.filename = filename
        self.byte_budget = byte_budget
        self.bytes = 0  # recorded so far
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.phases: list[str] = []
        self.tensors: list[Any] = []  # None where a tensor was over the budget
        self._skipped: dict[int, tuple[str, list[int]]] = {}  # index -> (dtype, shape) of a skipped tensor
        self._skipped_bytes = 0
        self._storages: set[int] = set()  # data pointers of storages recorded without a copy
        self._seen_names: set[str] = set()
        # id(leaf) -> [leaf, priority, order, name]; priority 0 names beat 1 beat 2.
        self._leaves: dict[int, list[Any]] = {}
        self._leaf_order = 0
        self._scanned_modules: set[int] = set()
        self.depth = 0
        self.n_backward = 0
        self.n_grad = 0
        self.notes: list[str] = []
        self._saved: dict[str, Any] = {}

    # ------------------------------------------------------------------ storing
    def _plain(self, t: Any, clone: bool) -> Any | None:
        torch = self.torch
        try:
            t = t.detach()
            if type(t) is not torch.Tensor:
                t = t.as_subclass(torch.Tensor)  # user subclasses can't be unpickled elsewhere
            if t.is_quantized:
                t = t.dequantize()
            if t.layout != torch.strided:
                t = t.to_dense()
            if t.device.type != "cpu":
                return t.to("cpu")  # a copy already
            return t.clone() if clone else t
        except Exception as exc:  # meta, nested or exotic tensors: note and skip
            self.notes.append(f"could not record a tensor ({type(exc).__name__}: {exc})"[:300])
            return None

    def _cost(self, t: Any, clone: bool) -> tuple[int, int | None]:
        """Bytes recording `t` adds to the record file, and the storage it shares (None: a copy)."""
        torch = self.torch
        try:
            if clone or t.device.type != "cpu" or t.layout != torch.strided or t.is_quantized:
                return t.numel() * t.element_size(), None
            storage = t.untyped_storage()
            key = storage.data_ptr()
            return (0 if key in self._storages else storage.nbytes()), key
        except Exception:
            return 0, None

    def add(self, name: str, kind: str, phase: str, tensor: Any, *, clone: bool) -> None:
        if name in self._seen_names:
            return
        cost, storage = self._cost(tensor, clone)
        if self.byte_budget is not None and self.bytes + cost > self.byte_budget:
            self._seen_names.add(name)
            self._skipped[len(self.tensors)] = (str(tensor.dtype).replace("torch.", ""), list(tensor.shape))
            self._skipped_bytes += cost
            self._append(name, kind, phase, None)
            return
        plain = self._plain(tensor, clone)
        if plain is None:
            return
        self._seen_names.add(name)
        self.bytes += cost
        if storage is not None:
            self._storages.add(storage)
        self._append(name, kind, phase, plain)

    def _append(self, name: str, kind: str, phase: str, tensor: Any) -> None:
        self.names.append(name)
        self.kinds.append(kind)
        self.phases.append(phase)
        self.tensors.append(tensor)

    def budget_note(self) -> str | None:
        if not self._skipped:
            return None
        return (f"{len(self._skipped)} tensor(s) ({self._skipped_bytes / 2**20:.0f} MB) over the record budget of "
                f"{self.byte_budget / 2**20:.0f} MB were not recorded and cannot be compared")

    def add_number(self, name: str, value: Any, phase: str) -> None:
        torch = self.torch
        if isinstance(value, bool):
            t = torch.tensor(value, dtype=torch.bool, device="cpu")
        elif isinstance(value, int):
            if not -(2**63) <= value < 2**63:
                return
            t = torch.tensor(value, dtype=torch.int64, device="cpu")
        elif isinstance(value, float):
            t = torch.tensor(value, dtype=torch.float64, device="cpu")
        elif isinstance(value, complex):
            t = torch.tensor(value, dtype=torch.complex128, device="cpu")
        else:
            return
        self.add(name, "value", phase, t, clone=False)

    def entries(self) -> list[dict[str, Any]]:
        out = []
        for i, (n, k, p, t) in enumerate(zip(self.names, self.kinds, self.phases, self.tensors)):
            if t is None:
                dtype, shape = self._skipped[i]
                out.append({"name": n, "kind": k, "phase": p, "dtype": dtype, "shape": shape, "skipped": True})
            else:
                out.append({"name": n, "kind": k, "phase": p, "dtype": str(t.dtype).replace("torch.", ""),
                            "shape": list(t.shape)})
        return out

    def save(self, path: str) -> None:
        try:
            self.torch.save(self.tensors, path)
        except RuntimeError as exc:
            # (`h` and `h.detach().view(torch.int32)` returned together: torch.save keeps each storage
            # once and refuses one viewed as two dtypes; copies of the tensors share nothing: eval45)
            if "different types" not in str(exc):
                raise
            self.torch.save([t.clone() if t is not None else None for t in self.tensors], path)

    # ------------------------------------------------------------------ leaves
    def register_leaf(self, t: Any, name: str, priority: int) -> None:
        if not (isinstance(t, self.torch.Tensor) and t.requires_grad and t.is_leaf):
            return
        slot = self._leaves.get(id(t))
        if slot is None:
            self._leaves[id(t)] = [t, priority, self._leaf_order, name]
            self._leaf_order += 1
        elif priority < slot[1]:
            slot[1], slot[3] = priority, name

    def finish_leaves(self) -> None:
        """Record every known leaf's value (if not already recorded by name) and its .grad."""
        for t, _prio, _order, name in sorted(self._leaves.values(), key=lambda s: (s[1], s[2])):
            self.add(name, "value", "final", t, clone=False)
            grad = t.grad
            if grad is not None:
                self.add(f"{name}.grad", "grad", "final", grad, clone=False)

    # ------------------------------------------------------------------ namespaces
    def walk(self, name: str, obj: Any, depth: int = 0, *, numbers: bool = True):
        """(name, tensor | module | number) pairs reachable from one named object.

        A list/tuple of plain Python numbers (``losses``) becomes one 1-d tensor, compared whole.
        """
        torch = self.torch
        if isinstance(obj, torch.Tensor):
            yield name, obj
        elif isinstance(obj, torch.nn.Module):
            yield name, obj
        elif isinstance(obj, (bool, int, float, complex)):
            if numbers:
                yield name, obj
        elif isinstance(obj, (list, tuple)) and obj and all(type(v) in (int, float) for v in obj):
            if numbers:
                dtype = torch.float64 if any(type(v) is float for v in obj) else torch.int64
                try:
                    yield name, torch.tensor(obj, dtype=dtype, device="cpu")
                except (OverflowError, RuntimeError, TypeError):
                    pass
        elif depth < MAX_DEPTH and isinstance(obj, (list, tuple)):
            for i, item in enumerate(obj[:MAX_CONTAINER]):
                yield from self.walk(f"{name}[{i}]", item, depth + 1, numbers=numbers)
        elif depth < MAX_DEPTH and type(obj) is dict:
            for i, (key, item) in enumerate(obj.items()):
                if i >= MAX_CONTAINER:
                    break
                if isinstance(key, (str, int)):
                    yield from self.walk(f"{name}[{key!r}]", item, depth + 1, numbers=numbers)
        elif numbers and depth < MAX_DEPTH and _is_ndarray(obj):
            try:
                if obj.dtype.kind in "biufc":
                    yield name, torch.from_numpy(obj.copy())
            except Exception:
                pass

    def collect_namespace(self, namespace: dict[str, Any], *, leaf_priority: int = 0) -> None:
        """Final records of a module's globals (or a function's locals)."""
        torch = self.torch
        for key, obj in list(namespace.items()):
            if not isinstance(key, str) or key.startswith("__") or _skip_object(obj):
                continue
            for name, item in self.walk(key, obj):
                if isinstance(item, torch.Tensor):
                    self.add(name, "value", "final", item, clone=False)
                    self.register_leaf(item, name, leaf_priority)
                    if item.requires_grad and not item.is_leaf and item.retains_grad and item.grad is not None:
                        self.add(f"{name}.grad", "grad", "final", item.grad, clone=False)
                elif isinstance(item, torch.nn.Module):
                    self._collect_module(name, item, leaf_priority, values=True)
                else:
                    self.add_number(name, item, "final")

    def _collect_module(self, name: str, module: Any, priority: int, *, values: bool) -> None:
        try:
            params = list(module.named_parameters(remove_duplicate=False))
            buffers = list(module.named_buffers(remove_duplicate=False)) if values else []
        except Exception:
            return
        for pname, p in params:
            if values:
                self.add(f"{name}.{pname}", "value", "final", p, clone=False)
            self.register_leaf(p, f"{name}.{pname}", priority)
        for bname, b in buffers:
            if b is not None:
                self.add(f"{name}.{bname}", "value", "final", b, clone=False)

    def scan_frames(self, frame: types.FrameType | None) -> None:
        """Name the leaves visible from the script's own frames at a backward call (priority 1)."""
        torch = self.torch
        while frame is not None:
            if frame.f_code.co_filename == self.filename and frame.f_code.co_name != "<module>":
                for key, obj in list(frame.f_locals.items()):
                    if _skip_object(obj):
                        continue
                    for name, item in self.walk(key, obj, 1, numbers=False):  # one level of containers
                        if isinstance(item, torch.Tensor):
                            self.register_leaf(item, name, 1)
                        elif isinstance(item, torch.nn.Module) and id(item) not in self._scanned_modules:
                            self._scanned_modules.add(id(item))
                            self._collect_module(name, item, 1, values=False)
            frame = frame.f_back

    def walk_graph(self, roots: list[Any], prefix: str) -> None:
        """Leaves reachable in the autograd graph from `roots`, named by DFS order (priority 2)."""
        seen: set[int] = set()
        stack = [r.grad_fn for r in reversed(roots) if getattr(r, "grad_fn", None) is not None]
        index = 0
        visited = 0
        while stack and visited < MAX_GRAPH_NODES:
            node = stack.pop()
            if node is None or id(node) in seen:
                continue
            seen.add(id(node))
            visited += 1
            variable = getattr(node, "variable", None)
            if variable is not None:
                self.register_leaf(variable, f"{prefix}.leaf[{index}]", 2)
                index += 1
                continue
            for nxt, _ in reversed(getattr(node, "next_functions", ()) or ()):
                if nxt is not None:
                    stack.append(nxt)
        for r in roots:
            self.register_leaf(r, prefix, 2)  # a leaf handed to backward directly

    # ------------------------------------------------------------------ events
    def _record_tensors(self, prefix: str, tensors: Any, kind: str) -> list[Any]:
        torch = self.torch
        if isinstance(tensors, torch.Tensor):
            self.add(prefix, kind, "event", tensors, clone=True)
            return [tensors]
        out = []
        if isinstance(tensors, (list, tuple)):
            for i, t in enumerate(tensors):
                if isinstance(t, torch.Tensor):
                    self.add(f"{prefix}[{i}]", kind, "event", t, clone=True)
                    out.append(t)
        return out

    def _on_backward(self, tensors: Any) -> None:
        self.n_backward += 1
        if self.n_backward + self.n_grad > MAX_EVENTS:
            return
        prefix = f"backward#{self.n_backward}"
        roots = self._record_tensors(prefix, tensors, "value")
        self.scan_frames(sys._getframe(2))
        if self.n_backward <= GRAPH_WALKS:
            self.walk_graph(roots, prefix)

    def _on_grad(self, outputs: Any) -> str | None:
        self.n_grad += 1
        if self.n_backward + self.n_grad > MAX_EVENTS:
            return None
        prefix = f"grad#{self.n_grad}"
        self._record_tensors(f"{prefix}.output", outputs, "value")
        return prefix

    def record_outputs(self, result: Any) -> list[Any]:
        """Entry mode: record what outplace_case() returned; return the tensors in it."""
        torch = self.torch
        found = []
        for name, item in self.walk("output", result):
            if isinstance(item, torch.Tensor):
                self.add(name, "value", "event", item, clone=True)
                found.append(item)
            elif isinstance(item, torch.nn.Module):
                continue
            else:
                self.add_number(name, item, "event")
        return found

    def install(self) -> None:
        """Patch Tensor.backward, torch.autograd.backward and torch.autograd.grad to record, then call through."""
        torch = self.torch
        rec = self
        orig_tensor_backward = torch.Tensor.backward
        orig_backward = torch.autograd.backward
        orig_grad = torch.autograd.grad
        self._saved = {"tensor_backward": orig_tensor_backward, "backward": orig_backward, "grad": orig_grad}

        @functools.wraps(orig_tensor_backward)
        def tensor_backward(self, *args, **kwargs):
            if rec.depth == 0:
                rec._on_backward(self)
            rec.depth += 1
            try:
                return orig_tensor_backward(self, *args, **kwargs)
            finally:
                rec.depth -= 1

        @functools.wraps(orig_backward)
        def backward(tensors, *args, **kwargs):
            if rec.depth == 0:
                rec._on_backward(tensors)
            rec.depth += 1
            try:
                return orig_backward(tensors, *args, **kwargs)
            finally:
                rec.depth -= 1

        @functools.wraps(orig_grad)
        def grad(outputs, *args, **kwargs):
            prefix = rec._on_grad(outputs) if rec.depth == 0 else None
            rec.depth += 1
            try:
                result = orig_grad(outputs, *args, **kwargs)
            finally:
                rec.depth -= 1
            if prefix is not None:
                rec._record_tensors(f"{prefix}.result", result, "grad")
            return result

        torch.Tensor.backward = tensor_backward
        torch.autograd.backward = backward
        torch.autograd.grad = grad

    def uninstall(self) -> None:
        if not self._saved:
            return
        torch = self.torch
        torch.Tensor.backward = self._saved["tensor_backward"]
        torch.autograd.backward = self._saved["backward"]
        torch.autograd.grad = self._saved["grad"]
        self._saved = {}

    @property
    def original_backward(self) -> Any:
        return self._saved.get("backward", self.torch.autograd.backward)


def _skip_object(obj: Any) -> bool:
    return isinstance(obj, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type, types.MethodType))


def _is_ndarray(obj: Any) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(obj, np.ndarray)
