"""What a call returns: `tensor_methods` / `torch_functions` (fresh, alias, nontensor, factory) from
aten alias annotations corrected by measurement, and `float_only`."""

from __future__ import annotations

import inspect
import warnings
import types
from typing import Any, Callable

import torch

from .common import attempt, describe, note, shares_storage, tensors_in, torch_attr, torch_function_names
from .inputs import INT_DTYPES, make, probe_args
from .schemas import schema_class, schema_is_factory

# --------------------------------------------------------------------------------------------------
# Hand tables for what aten schemas cannot tell
# --------------------------------------------------------------------------------------------------

# Tensor methods and properties that are not aten ops, or whose aten schema misleads.
TENSOR_METHODS_HAND: dict[str, str] = {
    # Properties that are views of self.
    "T": "alias", "H": "alias",
    # The deprecated out-of-place `resize` returns a tensor on self's storage (checked below; no
    # argument the generic probe tries fits it).
    "resize": "alias",
    # `.data` shares self's storage (aten::data is annotated as returning a fresh Tensor).
    "data": "alias",
    # `.grad` is a tensor owned by autograd, observable elsewhere: never a fresh value.
    "grad": "alias",
    # dtype/device conversions return self when nothing changes (x.float() is x for float x).
    **{n: "alias" for n in (
        "bfloat16", "bool", "byte", "cdouble", "cfloat", "char", "double", "float", "half", "int",
        "long", "short", "ipu", "mtia", "xpu", "type",  # type(): a str without arguments
    )},
    # Same data as self under another class / the legacy constructor x.new(t) shares t.
    "as_subclass": "alias", "new": "alias",
    # Returns `other` prepared for load_state_dict (by default other itself): not a fresh tensor.
    "module_load": "alias",
    # Python-level in-place methods return self.
    "apply_": "alias", "map_": "alias", "map2_": "alias", "share_memory_": "alias",
    # Python-level, return new tensors.
    "new_tensor": "fresh", "to_sparse_coo": "fresh", "unique": "fresh", "lu": "fresh",
    # Removed from torch (they raise and point at torch.linalg); they used to return new tensors.
    "eig": "fresh", "lstsq": "fresh", "solve": "fresh", "symeig": "fresh",
    # Not tensors.
    **{n: "nontensor" for n in (
        "const_data_ptr", "data_ptr", "device", "dim_order", "dtype", "grad_dtype", "grad_fn",
        "is_cpu", "is_cuda", "is_ipu", "is_maia", "is_meta", "is_mkldnn", "is_mps", "is_mtia",
        "is_nested", "is_quantized", "is_shared", "is_sparse", "is_sparse_csr", "is_vulkan",
        "is_xla", "is_xpu", "itemsize", "layout", "name", "nbytes", "ndim", "ndimension",
        "nelement", "numpy", "register_hook", "register_post_accumulate_grad_hook", "reinforce",
        "requires_grad", "shape", "storage", "storage_type", "tolist", "untyped_storage", "volatile",
    )},
}

# Public torch.* callables that are not aten ops (or need a correction).
TORCH_FUNCTIONS_HAND: dict[str, str] = {
    # May return its input (or share its memory) instead of copying.
    "asarray": "alias", "from_dlpack": "alias",
    # No tensor input; share memory with a numpy array / buffer, never with a tensor.
    "from_numpy": "factory", "frombuffer": "factory",
    # einsum("ij->ij", x) returns x's storage (asserted in build_torch_functions); the generic probe
    # cannot guess an equation.
    "einsum": "alias",
    # A fresh uint8 tensor holding the generator state.
    "get_rng_state": "factory",
    # Python-level or sparse helpers that return new tensors.
    "dsmm": "fresh", "hsmm": "fresh", "saddmm": "fresh", "spmm": "fresh", "lobpcg": "fresh",
    "lu": "fresh", "pca_lowrank": "fresh", "svd_lowrank": "fresh", "unique": "fresh",
    "unravel_index": "fresh",
    # Removed (raise, pointing at torch.linalg); they used to return new tensors.
    "eig": "fresh", "lstsq": "fresh", "matrix_rank": "fresh", "solve": "fresh", "symeig": "fresh",
    # Everything else that is not an aten op returns no tensor: settings, queries, RNG seeding,
    # serialization, TorchScript/compile/vmap helpers (they return callables or objects).
    **{n: "nontensor" for n in (
        "are_deterministic_algorithms_enabled", "autocast_decrement_nesting",
        "autocast_increment_nesting", "broadcast_shapes", "can_cast", "classproperty",
        "clear_autocast_cache", "compile", "compiled_with_cxx11_abi", "fork",
        "get_autocast_cpu_dtype", "get_autocast_dtype", "get_autocast_gpu_dtype",
        "get_autocast_ipu_dtype", "get_autocast_xla_dtype", "get_default_device",
        "get_default_dtype", "get_deterministic_debug_mode", "get_device_module", "get_file_path",
        "get_float32_matmul_precision", "get_num_interop_threads", "get_num_threads",
        "import_ir_module", "import_ir_module_from_buffer", "init_num_threads", "initial_seed",
        "is_anomaly_check_nan_enabled", "is_anomaly_enabled", "is_autocast_cache_enabled",
        "is_autocast_cpu_enabled", "is_autocast_enabled", "is_autocast_ipu_enabled",
        "is_autocast_xla_enabled", "is_deterministic_algorithms_warn_only_enabled",
        "is_grad_enabled", "is_inference_mode_enabled", "is_storage", "is_tensor",
        "is_vulkan_available", "is_warn_always_enabled", "manual_seed",
        "merge_type_from_type_comment", "parse_ir", "parse_schema", "parse_type_comment",
        "prepare_multiprocessing_environment", "profiler_allow_cudagraph_cupti_lazy_reinit_cuda12",
        "promote_types", "save", "seed", "set_anomaly_enabled", "set_autocast_cache_enabled",
        "set_autocast_cpu_dtype", "set_autocast_cpu_enabled", "set_autocast_dtype",
        "set_autocast_enabled", "set_autocast_gpu_dtype", "set_autocast_ipu_dtype",
        "set_autocast_ipu_enabled", "set_autocast_xla_dtype", "set_autocast_xla_enabled",
        "set_default_device", "set_default_dtype", "set_default_tensor_type",
        "set_deterministic_debug_mode", "set_float32_matmul_precision", "set_flush_denormal",
        "set_num_interop_threads", "set_num_threads", "set_printoptions", "set_rng_state",
        "set_warn_always", "sym_constrain_range", "sym_constrain_range_for_size", "sym_float",
        "sym_fresh_size", "sym_int", "sym_ite", "sym_max", "sym_min", "sym_not", "sym_sqrt",
        "sym_sum", "thread_safe_generator", "to_dlpack", "typename", "unify_type_list",
        "use_deterministic_algorithms", "vmap",
    )},
}

# Creation ops with overloads taking 0-dim tensor bounds, which are not differentiable (asserted in
# build_torch_functions): factories all the same.
FACTORIES_WITH_TENSOR_BOUNDS = {"linspace", "logspace"}

LEGACY_TENSOR_TYPE = type(torch.FloatTensor)  # the metaclass of torch.FloatTensor & co.

# Deliberately left out of every list (the analysis must treat them as unknown):
# they return whatever user code or a file returns.
TORCH_FUNCTIONS_UNCLASSIFIED = {"cond", "while_loop", "load", "wait"}


# Calls that may hand back the receiver itself or a view of it (design.md §6), which the analysis
# relies on finding under "alias": each is run (float32, 1-D, contiguous) and must share the
# receiver's storage; a name classified otherwise is moved to alias with a note.
SELF_RETURNING_CALLS: dict[str, Callable[[torch.Tensor], Any]] = {
    "to": lambda x: x.to(x.dtype), "float": lambda x: x.float(), "contiguous": lambda x: x.contiguous(),
    "type_as": lambda x: x.type_as(x), "reshape": lambda x: x.reshape(x.shape),
    "reshape_as": lambda x: x.reshape_as(x), "view": lambda x: x.view(x.shape),
    "view_as": lambda x: x.view_as(x), "expand": lambda x: x.expand(x.shape),
    "expand_as": lambda x: x.expand_as(x), "flatten": lambda x: x.flatten(), "detach": lambda x: x.detach(),
    "cpu": lambda x: x.cpu(), "type": lambda x: x.type(x.type()), "squeeze": lambda x: x.squeeze(),
    "real": lambda x: x.real, "conj": lambda x: x.conj(), "resolve_conj": lambda x: x.resolve_conj(),
    "resolve_neg": lambda x: x.resolve_neg(), "to_dense": lambda x: x.to_dense(), "data": lambda x: x.data,
    "requires_grad_": lambda x: x.requires_grad_(False), "narrow": lambda x: x.narrow(0, 0, len(x)),
}


def self_like_args(x: torch.Tensor) -> list[tuple]:
    """Arguments that ask for what x already is: itself, its dtype, its shape."""
    return [(x,), (x.dtype,), (tuple(x.shape),)]


def confirm_self_returning(methods_cls: dict[str, str]) -> None:
    moved = []
    for name, call in sorted(SELF_RETURNING_CALLS.items()):
        x = make(torch.float32, (4,))
        res = call(x)
        if not shares_storage(res, [x]):
            raise SystemExit(f"Tensor.{name}: the call in SELF_RETURNING_CALLS no longer returns x's storage")
        if methods_cls[name] != "alias":
            methods_cls[name] = "alias"
            moved.append(name)
    note("aliasing: Tensor methods measured to return the receiver or a view of it on a float32 1-D "
         "contiguous receiver (x.to(x.dtype), x.float(), x.contiguous(), x.type_as(x)...), all classified "
         "alias: " + ", ".join(sorted(SELF_RETURNING_CALLS))
         + ("; moved from another class: " + ", ".join(moved) if moved else ""))


# --------------------------------------------------------------------------------------------------
# Return classification of all public Tensor methods and torch functions
# --------------------------------------------------------------------------------------------------

def find_aliasing(names: list[str], call: Callable[[str, Any, tuple], Any],
                  list_input: bool) -> dict[str, str]:
    """Names whose call was seen to return the storage of an input: name -> evidence.

    `list_input`: also pass `[x]` as the first argument (cat, block_diag, chain_matmul...).
    """
    found: dict[str, str] = {}
    for name in names:
        for dtype in (torch.float32, torch.int64):
            for shape in ((4,), (3, 4)):
                x = make(dtype, shape)
                firsts = [x, [x]] if list_input else [x]
                cands = [(first, args) for first in firsts for args in probe_args(x) + self_like_args(x)]
                for inp, args in cands:
                    res, err = attempt(lambda: call(name, inp, args))
                    if err is None and shares_storage(res, tensors_in([inp, args])):
                        found.setdefault(name, describe(x, args, {}) + (" (as [x])" if inp is not x else ""))
    return found


def opinfo_aliasing(op_db: list, fresh_functions: set[str], fresh_methods: set[str]) -> dict[str, str]:
    """Same check over OpInfo float32 samples (they know the arguments each op needs)."""
    found: dict[str, str] = {}
    for op in op_db:
        targets = []
        fn_name = getattr(op.op, "__name__", None)
        if fn_name in fresh_functions and getattr(torch, fn_name, None) is op.op:
            targets.append(("torch." + fn_name, op.op))
        m = op.method_variant
        if m is not None and getattr(m, "__name__", None) in fresh_methods:
            targets.append(("Tensor." + m.__name__, m))
        if not targets or torch.float32 not in op.supported_dtypes("cpu"):
            continue
        try:
            samples = list(op.sample_inputs("cpu", torch.float32, requires_grad=False))
        except Exception:  # noqa: BLE001
            continue
        for label, fn in targets:
            for sample in samples:
                res, err = attempt(lambda: fn(sample.input, *sample.args, **sample.kwargs))
                ins = tensors_in([sample.input, list(sample.args), sample.kwargs])
                if err is None and shares_storage(res, ins):
                    found.setdefault(label, describe(ins[0] if ins else torch.empty(0), sample.args,
                                                     sample.kwargs))
    return found


def check_hand_table(table: dict[str, str], namespace: Any, label: str) -> None:
    stale = sorted(n for n in table if n not in dir(namespace))
    if stale:
        raise SystemExit(f"{label} names what this torch does not have: {stale}")


def build_tensor_methods() -> dict[str, str]:
    check_hand_table(TENSOR_METHODS_HAND, torch.Tensor, "TENSOR_METHODS_HAND")
    classes: dict[str, str] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (deprecated)
        t = torch.ones(3, 4)
        assert t.resize(12).data_ptr() == t.data_ptr()
    for name in sorted(n for n in dir(torch.Tensor) if not n.startswith("_")):
        if name in TENSOR_METHODS_HAND:
            classes[name] = TENSOR_METHODS_HAND[name]
            continue
        c = schema_class(name, method=True)
        if c is None:
            raise SystemExit(f"unclassified Tensor.{name}: add it to TENSOR_METHODS_HAND")
        classes[name] = c
    return classes


def build_torch_functions() -> dict[str, str]:
    check_hand_table(TORCH_FUNCTIONS_HAND, torch, "TORCH_FUNCTIONS_HAND")
    classes: dict[str, str] = {}
    for name in torch_function_names():
        obj = torch_attr(name)
        if not callable(obj) or name in TORCH_FUNCTIONS_UNCLASSIFIED:
            continue
        if name in TORCH_FUNCTIONS_HAND:
            classes[name] = TORCH_FUNCTIONS_HAND[name]
        elif isinstance(obj, type) or type(obj) is LEGACY_TENSOR_TYPE:
            # Classes: torch.Tensor(t) and the legacy torch.FloatTensor(t) share t's storage
            # (checked below); every other class (dtype, Size, no_grad, Generator...) is no tensor.
            legacy = type(obj) is LEGACY_TENSOR_TYPE or (isinstance(obj, type) and issubclass(obj, torch.Tensor))
            classes[name] = "alias" if legacy else "nontensor"
        else:
            c = schema_class(name, method=False)
            if c is None:
                raise SystemExit(f"unclassified torch.{name}: add it to TORCH_FUNCTIONS_HAND")
            if c == "fresh" and (
                schema_is_factory(name) or name.endswith("_like") or name in FACTORIES_WITH_TENSOR_BOUNDS
            ):
                c = "factory"  # *_like read only self's metadata: no differentiable input
            classes[name] = c
    note("torch_functions: left out of every list (they return whatever user code or a file returns): "
         + ", ".join(sorted(TORCH_FUNCTIONS_UNCLASSIFIED)))
    t = torch.ones(3)
    assert torch.Tensor(t).data_ptr() == t.data_ptr() and torch.FloatTensor(t).data_ptr() == t.data_ptr()
    assert torch.einsum("i->i", t).data_ptr() == t.data_ptr()
    # Sparse constructors keep the memory of their values (outplace's effects.SPARSE_CONSTRUCTORS).
    v, idx = torch.ones(2), torch.tensor([[0, 1]])
    assert torch.sparse_coo_tensor(idx, v, (2,))._values().data_ptr() == v.data_ptr()
    crow, col = torch.tensor([0, 1, 2]), torch.tensor([0, 1])
    assert torch.sparse_csr_tensor(crow, col, v, (2, 2)).values().data_ptr() == v.data_ptr()
    # ... and with several operands a new tensor (outplace's effects.ONE_OPERAND_ALIAS).
    a, b, s = torch.ones(2, 3), torch.ones(3, 2), torch.tensor(2.0)
    for eq, operands in (("ij,jk->ik", (a, b)), ("ij,ij->ij", (a, a)), ("ij,->ij", (a, s)), ("ij,kl->ijkl", (a, b)),
                         ("ij,jk->ki", (a, b)), ("ii,i->i", (torch.ones(2, 2), torch.ones(2)))):
        out = torch.einsum(eq, *operands)
        assert out.untyped_storage().data_ptr() not in {o.untyped_storage().data_ptr() for o in operands}, eq
    bound = torch.tensor(0.0, requires_grad=True)
    for name in sorted(FACTORIES_WITH_TENSOR_BOUNDS):
        assert not getattr(torch, name)(bound, bound + 1, 5).requires_grad, name
    return classes


def apply_measured_aliasing(op_db: list, methods_cls: dict[str, str],
                            torch_cls: dict[str, str]) -> None:
    """Move names measured to return an input's storage from fresh to alias, with a note."""
    fresh_m = sorted(n for n, c in methods_cls.items() if c == "fresh" and n not in TENSOR_METHODS_HAND)
    fresh_f = sorted(n for n, c in torch_cls.items() if c == "fresh" and n not in TORCH_FUNCTIONS_HAND)

    def method_call(name: str, x: torch.Tensor, args: tuple) -> Any:
        return getattr(x, name)(*args)

    def function_call(name: str, x: Any, args: tuple) -> Any:
        return torch_attr(name)(x, *args)

    found = {"Tensor." + k: v for k, v in find_aliasing(fresh_m, method_call, False).items()}
    found.update({"torch." + k: v for k, v in find_aliasing(fresh_f, function_call, True).items()})
    for k, v in opinfo_aliasing(op_db, set(fresh_f), set(fresh_m)).items():
        found.setdefault(k, v)
    for label, evidence in sorted(found.items()):
        ns, name = label.split(".", 1)
        (methods_cls if ns == "Tensor" else torch_cls)[name] = "alias"
        note(f"aliasing: {label} is fresh per its aten schema but returned an input's storage; "
             "classified alias", evidence)
    confirm_self_returning(methods_cls)


def float_only_methods(methods_cls: dict[str, str]) -> list[str]:
    """Out-of-place methods whose every successful call on integer input returned a floating tensor;
    and those that never succeed on integer or bool input (`softmax`: "not implemented for 'Long'")
    and returned a floating tensor on every successful call on float32: either way, a tensor they
    return is floating.

    Probed with int64 and int32 inputs and integer-only arguments (an int tensor, an int scalar,
    a dim), so a floating result comes from the op, never from argument promotion.
    """
    out = []
    for name in sorted(n for n, c in methods_cls.items() if c in ("fresh", "alias")):
        fn = inspect.getattr_static(torch.Tensor, name)
        if name.endswith("_") or isinstance(fn, (property, types.GetSetDescriptorType)):
            continue
        results = _result_dtypes(name, INT_DTYPES)
        if not results and not _result_dtypes(name, (torch.bool,)):
            results = _result_dtypes(name, (torch.float32,))
        if results and all(d.is_floating_point for d in results):
            out.append(name)
    return out


def bool_to_int_methods(methods_cls: dict[str, str]) -> list[str]:
    """Out-of-place methods whose every successful call on a bool input returned an integer tensor
    (`sum`, `prod`, `cumsum`: a count, not a bool): the dtype "same as the input" would be wrong."""
    out = []
    for name in sorted(n for n, c in methods_cls.items() if c in ("fresh", "alias")):
        fn = inspect.getattr_static(torch.Tensor, name)
        if name.endswith("_") or isinstance(fn, (property, types.GetSetDescriptorType)):
            continue
        results = _result_dtypes(name, (torch.bool,))
        if results and all(not d.is_floating_point and not d.is_complex and d != torch.bool for d in results):
            out.append(name)
    return out


def _result_dtypes(name: str, dtypes: tuple) -> list:
    """The dtypes of the tensors the method returned on inputs of `dtypes` (failed calls left out)."""
    results = []
    for dtype in dtypes:
        for shape in ((4,), (3, 4)):
            x = make(dtype, shape)
            for args in probe_args(x):
                res, err = attempt(lambda: getattr(x, name)(*args))
                if err is None and isinstance(res, torch.Tensor):
                    results.append(res.dtype)
    return results
