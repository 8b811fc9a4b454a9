#!/usr/bin/env python3
"""Generate ``src/outplace/data/optable.json`` from the installed torch.

The fixer never imports torch: everything it needs to know about torch's operators is measured here,
once, and checked in.  Run from the repository root::

    python3 scripts/generate_optable.py                 # rewrite the checked-in table
    python3 scripts/generate_optable.py --output X.json # write elsewhere (the tests compare the two)

What is measured, and how (see shared design.md §2 and §3 for the facts this reproduces):

* ``methods``: every public ``torch.Tensor`` method ending in a single ``_``, with a kind (twin,
  equivalent, random, view, nonmath), its out-of-place twin or an expression template, and a dtype
  class decided by running the in-place and the out-of-place form side by side on small inputs
  (plus PyTorch's own OpInfo samples for the value check).
* ``functions``: public ``torch.*_`` functions whose aten schema writes their first argument.
* ``functional`` / ``modules_inplace``: ``inplace=`` parameters, read with ``inspect.signature``.
* ``tensor_methods`` / ``torch_functions``: whether a call returns a fresh tensor, an alias of an
  input, or no tensor at all, from aten schemas (alias annotations) corrected by measurement and by
  a hand table for Python-level methods (each hand entry says why).
* ``float_only``: out-of-place methods whose result is floating even for integer input, measured.
* ``saves_output`` / ``output_not_saved``: Tensor methods, torch functions, torch.nn.functional
  functions and torch.nn modules whose autograd graph does / does not hold on to a returned tensor
  (so an in-place write into that output would / would not break backward), measured by
  introspecting the autograd nodes a call creates and confirmed by writing into the output and
  running backward.  Names in neither list could not be run.

The output is deterministic: single-threaded torch, fixed seeds, sorted keys and lists, and notes
that never contain addresses or timings.
"""

from __future__ import annotations

import argparse
import collections
import inspect
import itertools
import json
import re
import sys
import time
import types
import unittest
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "outplace" / "data" / "optable.json"

torch.set_num_threads(1)  # reductions and RNG streams must not depend on the thread count
warnings.filterwarnings("ignore")  # deprecated ops warn on every call; the results are what matter

# Anything measured that contradicts an expectation ends up in the JSON's "notes": a message, and
# the inputs it was seen on (aggregated, so one message per finding).
NOTES: dict[str, set[str]] = collections.defaultdict(set)


def note(msg: str, case: str | None = None) -> None:
    NOTES[msg].update([case] if case else [])


def rendered_notes() -> list[str]:
    return sorted(f"{m} [{'; '.join(sorted(c))}]" if c else m for m, c in NOTES.items())


# --------------------------------------------------------------------------------------------------
# Kinds of in-place Tensor methods (design.md §2).  Everything not listed here must have a same-name
# out-of-place method and becomes kind "twin"; the generator fails if a new torch adds a method
# that fits none of these.
# --------------------------------------------------------------------------------------------------

VIEW = {"t_", "transpose_", "squeeze_", "unsqueeze_", "swapaxes_", "swapdims_", "as_strided_"}

# Not math: they change metadata, storage or autograd state, or run Python callbacks.  Never rewrite.
NONMATH = {
    "requires_grad_", "share_memory_", "resize_", "resize_as_", "resize_as_sparse_", "set_",
    "apply_", "map_", "map2_", "detach_", "sparse_resize_", "sparse_resize_and_clear_",
}

# Random fills.  Drawing the same op on torch.empty_like(x) consumes the RNG exactly like the
# in-place call whenever x is dense (contiguous or permuted); verify_random() checks each layout and
# notes where that fails (normal_ on a strided slice: empty_like is contiguous there).  `Tensor.bernoulli()` exists but is a
# different op (it reads the probabilities from self), so bernoulli_ is no twin.
RANDOM = {
    "uniform_", "normal_", "bernoulli_", "random_", "exponential_", "geometric_", "cauchy_",
    "log_normal_",
}
RANDOM_TEMPLATE = "torch.empty_like({self}).%s({args})"

# Equivalents under another name.  Placeholders: {self} the receiver, {args} the call's argument
# text, {arg0} its first positional argument.  None: no exact out-of-place form exists.
EQUIVALENT: dict[str, str | None] = {
    # fill keeps the graph (zeros_like would not: backward through it raises "does not require grad").
    "zero_": "torch.fill({self}, 0)",
    # full_like rejects a tensor fill value; torch.fill takes a Scalar or a 0-dim tensor.
    "fill_": "torch.fill({self}, {args})",
    # copy_ broadcasts src to self's shape and casts it to self's dtype and device.
    "copy_": "{arg0}.expand_as({self}).to({self}, copy=True)",
    "fill_diagonal_": None,
}

INT_DTYPES = (torch.int64, torch.int32)
PROBE_DTYPES = (torch.float32, torch.int64, torch.int32, torch.bool)
PROBE_SHAPES = ((), (4,), (3, 4), (2, 3, 4))


# --------------------------------------------------------------------------------------------------
# Small deterministic inputs
# --------------------------------------------------------------------------------------------------

def make(dtype: torch.dtype, shape: tuple[int, ...], variant: int = 0) -> torch.Tensor:
    """A small tensor with domain-friendly values: floats in (0, 1), ints in 1..5, mixed bools."""
    n = 1
    for s in shape:
        n *= s
    k = torch.arange(n)
    if dtype.is_floating_point or dtype.is_complex:
        lo, hi = ((0.1, 0.9), (0.2, 0.7))[variant]
        t = torch.linspace(lo, hi, n) if n > 1 else torch.tensor([lo + 0.25 * variant])
    elif dtype == torch.bool:
        t = (k % (2 + variant)) == 0
    else:
        t = (k * (1 + 2 * variant)) % (4 + variant) + 1
    return t.to(dtype).reshape(shape)


def scalar_for(dtype: torch.dtype) -> Any:
    """A Python scalar of the same kind as dtype, so that it never promotes the result."""
    if dtype == torch.bool:
        return True
    if dtype.is_floating_point:
        return 0.5
    return 2


def is_integral(dtype: torch.dtype) -> bool:
    return not (dtype.is_floating_point or dtype.is_complex)


ArgList = tuple[tuple, dict]


def _idx2() -> torch.Tensor:
    return torch.tensor([1, 0])


def _special_args(base: str, x: torch.Tensor, y: torch.Tensor, s: Any) -> list[ArgList]:
    """Argument lists for ops whose signature needs more than (other,), (scalar,) or ()."""
    dt, d = x.dtype, x.dim()
    mask = make(torch.bool, tuple(x.shape), 1)
    if base == "addbmm" and d == 2:
        return [((make(dt, (2, x.shape[0], 5)), make(dt, (2, 5, x.shape[1]), 1)), {})]
    if base == "baddbmm" and d == 3:
        b, n, m = x.shape
        return [((make(dt, (b, n, 5)), make(dt, (b, 5, m), 1)), {})]
    if base == "addmm" and d == 2:
        return [((make(dt, (x.shape[0], 5)), make(dt, (5, x.shape[1]), 1)), {})]
    if base == "addmv" and d == 1:
        return [((make(dt, (x.shape[0], 5)), make(dt, (5,), 1)), {})]
    if base == "addr" and d == 2:
        return [((make(dt, (x.shape[0],)), make(dt, (x.shape[1],), 1)), {})]
    if base in ("addcdiv", "addcmul", "clamp", "clip"):
        return [((y, y), {})]
    if base in ("cumsum", "cumprod", "squeeze", "unsqueeze", "mvlgamma", "polygamma"):
        return [((0,), {}), ((1,), {})] if base in ("mvlgamma", "polygamma") else [((0,), {})]
    if base in ("transpose", "swapaxes", "swapdims"):
        return [((0, 1), {})] if d >= 2 else [((0, 0), {})]
    if base == "as_strided":
        return [(((1,), (1,)), {})]
    if base == "round":
        return [((), {"decimals": 1})]
    if base in ("div", "divide"):
        return [((y,), {"rounding_mode": "floor"}), ((y,), {"rounding_mode": "trunc"})]
    if base == "lerp":
        return [((y, 0.5), {}), ((y, y), {})]
    if base == "logit":
        return [((0.1,), {})]
    if base == "nan_to_num":
        return [((0.0, 1.0, -1.0), {})]
    if base == "renorm" and d >= 1:
        return [((2, 0, 1.0), {})]
    if base == "masked_fill":
        return [((mask, s), {})]
    if base == "masked_scatter":
        return [((mask, y), {})]
    if base == "put":
        k = min(2, x.numel())
        return [((torch.tensor([1, 0][2 - k:]), y.reshape(-1)[:k]), {})]
    if d >= 1 and x.shape[0] >= 2:
        src = y.narrow(0, 0, 2)
        if base in ("index_add", "index_copy"):
            return [((0, _idx2(), src), {})]
        if base == "index_fill":
            return [((0, _idx2(), s), {})]
        if base == "index_put":
            return [(((_idx2(),), src), {}), (((_idx2(),), src, True), {})]
        if base == "index_reduce":
            return [((0, _idx2(), src, r), {}) for r in ("prod", "mean", "amax", "amin")]
    if base in ("scatter", "scatter_add", "scatter_reduce") and d >= 1:
        index = torch.zeros_like(x, dtype=torch.long)
        if base == "scatter":
            return [((0, index, y), {}), ((0, index, s), {})]
        if base == "scatter_add":
            return [((0, index, y), {})]
        return [((0, index, y, r), {}) for r in ("sum", "prod", "mean", "amax", "amin")]
    # torch.* functions only
    if base == "threshold":
        return [((s, s), {})]
    if base in ("dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"):
        return [((0.5, True), {}), ((0.5, False), {})]
    if base == "rrelu":
        return [((0.1, 0.3, True), {}), ((0.1, 0.3, False), {})]
    return []


def arg_lists(base: str, x: torch.Tensor) -> list[ArgList]:
    """Generic candidates (same-dtype tensor, same-kind scalar, nothing), then op-specific ones."""
    y = make(x.dtype, tuple(x.shape), 1)
    s = scalar_for(x.dtype)
    return [((y,), {}), ((s,), {}), ((), {})] + _special_args(base, x, y, s)


# --------------------------------------------------------------------------------------------------
# Running things and comparing results
# --------------------------------------------------------------------------------------------------

def attempt(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    # Random ops (dropout_, rrelu_) then draw the same stream in both forms.  Everything runs on the
    # CPU: seeding its generator alone is what torch.manual_seed does there, minus the lazy
    # per-device seeding that formats a stack trace on every call (milliseconds each).
    torch.default_generator.manual_seed(0)
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - any failure is an observation
        return None, e


def same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal shape and values (NaN equals NaN), after casting b to a's dtype."""
    if a.shape != b.shape:
        return False
    try:
        torch.testing.assert_close(b.to(a.dtype), a, rtol=0, atol=0, equal_nan=True, check_stride=False)
    except AssertionError:
        return False
    return True


def describe(x: torch.Tensor, args: tuple, kwargs: dict, shapes: bool = True) -> str:
    def one(a: Any) -> str:
        if isinstance(a, torch.Tensor):
            return str(a.dtype).removeprefix("torch.") + (str(list(a.shape)) if shapes else "")
        if isinstance(a, (tuple, list)):
            return "(" + ", ".join(one(v) for v in a) + ")"
        return repr(a)

    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return f"x={one(x)} args=({', '.join(parts)})"


# Behaviours one (input, args) pair can show; the dtype class is the strongest one seen.
DTYPE_PRIORITY = ("bool_result", "int_widens", "int_to_float", "same")


def observe(
    label: str,
    inplace: Callable[[torch.Tensor, tuple, dict], Any],
    outplace: Callable[[torch.Tensor, tuple, dict], Any],
    x: torch.Tensor,
    args: tuple,
    kwargs: dict,
) -> str | None:
    """Run both forms once; return the behaviour, or None when there is nothing to learn."""
    # Each form gets its own clone: as_strided reads the storage directly, so both must see the same.
    xc, xo = x.clone(), x.clone()
    r_in, e_in = attempt(lambda: inplace(xc, args, kwargs))
    r_out, e_out = attempt(lambda: outplace(xo, args, kwargs))
    if isinstance(e_in, TypeError) and isinstance(e_out, TypeError):
        return None  # the signature does not take these arguments
    if e_in is None and r_in is not xc:
        note(f"{label}: the in-place form did not return self", describe(x, args, kwargs, False))
    if e_out is not None or not isinstance(r_out, torch.Tensor):
        if e_in is None and e_out is not None:
            note(f"{label}: in-place succeeds where out-of-place raises {type(e_out).__name__}",
                 describe(x, args, kwargs, False))
        return None
    if e_in is not None:
        if is_integral(x.dtype) and r_out.dtype.is_floating_point:
            return "int_to_float"
        if x.dtype != r_out.dtype:
            # Not in the vocabulary: the rewrite would turn code that raised into code that computes.
            note(f"{label}: in-place raises but out-of-place returns {r_out.dtype}",
                 describe(x, args, kwargs, False))
        return None
    if not same_values(xc, r_out):
        note(f"{label}: values differ between the in-place and out-of-place forms",
             describe(x, args, kwargs))
    if xc.dtype == r_out.dtype:
        return "same"
    if r_out.dtype == torch.bool and xc.dtype == x.dtype:
        return "bool_result"
    if is_integral(x.dtype) and is_integral(r_out.dtype) and xc.dtype == x.dtype:
        if r_out.element_size() > x.element_size() or x.dtype == torch.bool:
            return "int_widens"
    note(f"{label}: in-place gives {xc.dtype}, out-of-place {r_out.dtype}", describe(x, args, kwargs, False))
    return None


def classify_dtype(
    label: str,
    base: str,
    inplace: Callable[[torch.Tensor, tuple, dict], Any],
    outplace: Callable[[torch.Tensor, tuple, dict], Any],
) -> str:
    seen: set[str] = set()
    for dtype in PROBE_DTYPES:
        for shape in PROBE_SHAPES:
            x = make(dtype, shape)
            for args, kwargs in arg_lists(base, x):
                b = observe(label, inplace, outplace, x, args, kwargs)
                if b:
                    seen.add(b)
    for b in DTYPE_PRIORITY:
        if b in seen:
            return b
    return "unknown"


# --------------------------------------------------------------------------------------------------
# Aten schemas: alias annotations
# --------------------------------------------------------------------------------------------------

def aten_schemas() -> dict[str, list]:
    by_name: dict[str, list] = collections.defaultdict(list)
    for s in torch._C._jit_get_all_schemas():
        if s.name.startswith("aten::"):
            by_name[s.name[len("aten::"):]].append(s)
    return by_name


SCHEMAS = aten_schemas()


def _mentions_tensor(t: Any) -> bool:
    return "Tensor" in str(t)


def schema_class(name: str, method: bool) -> str | None:
    """fresh / alias / nontensor from the aten overloads of `name`, or None when aten has none.

    out= overloads are ignored (they return the `out` tensor, a separate write the analysis handles).
    Method view: only overloads with a Tensor `self`.  Function view: overloads that mention a
    Tensor somewhere (TorchScript also registers list/str/int overloads such as `aten::add.str`).
    """
    classes = set()
    for s in SCHEMAS.get(name, ()):
        if any(a.alias_info is not None and a.alias_info.is_write and a.kwarg_only for a in s.arguments):
            continue
        if method:
            if not any(a.name == "self" and str(a.type) == "Tensor" for a in s.arguments):
                continue
        elif not any(_mentions_tensor(a.type) for a in s.arguments) and not any(
            _mentions_tensor(r.type) for r in s.returns
        ):
            continue
        if any(r.alias_info is not None for r in s.returns):
            classes.add("alias")
        elif any(_mentions_tensor(r.type) for r in s.returns):
            classes.add("fresh")
        else:
            classes.add("nontensor")
    for c in ("alias", "fresh", "nontensor"):  # an overload that may alias makes the name alias
        if c in classes:
            return c
    return None


def schema_is_factory(name: str) -> bool:
    """Every (non-out) overload takes no Tensor argument and returns a Tensor: a creation op."""
    overloads = [
        s for s in SCHEMAS.get(name, ())
        if not any(a.alias_info is not None and a.alias_info.is_write for a in s.arguments)
    ]
    return bool(overloads) and all(
        not any(_mentions_tensor(a.type) for a in s.arguments)
        and [str(r.type) for r in s.returns] == ["Tensor"]
        for s in overloads
    )


def writes_first_argument(name: str) -> bool:
    return any(
        s.arguments and s.arguments[0].alias_info is not None and s.arguments[0].alias_info.is_write
        for s in SCHEMAS.get(name, ())
    )


# --------------------------------------------------------------------------------------------------
# Hand tables for what aten schemas cannot tell
# --------------------------------------------------------------------------------------------------

# Tensor methods and properties that are not aten ops, or whose aten schema misleads.
TENSOR_METHODS_HAND: dict[str, str] = {
    # Properties that are views of self.
    "T": "alias", "H": "alias",
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

# Deliberately left out of every list (the analysis must treat them as unknown):
# they return whatever user code or a file returns.
# Creation ops with overloads taking 0-dim tensor bounds, which are not differentiable (asserted in
# build_torch_functions): factories all the same.
FACTORIES_WITH_TENSOR_BOUNDS = {"linspace", "logspace"}

LEGACY_TENSOR_TYPE = type(torch.FloatTensor)  # the metaclass of torch.FloatTensor & co.

TORCH_FUNCTIONS_UNCLASSIFIED = {"cond", "while_loop", "load", "wait"}


# --------------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------------

def public_inplace(names: Iterable[str]) -> list[str]:
    return sorted(n for n in names if n.endswith("_") and not n.endswith("__") and not n.startswith("_"))


def tensor_inplace_call(name: str) -> Callable[[torch.Tensor, tuple, dict], Any]:
    return lambda x, a, k: getattr(x, name)(*a, **k)


def torch_call(name: str) -> Callable[[torch.Tensor, tuple, dict], Any]:
    return lambda x, a, k: getattr(torch, name)(x, *a, **k)


def build_methods() -> dict[str, dict]:
    methods: dict[str, dict] = {}
    for name in public_inplace(dir(torch.Tensor)):
        base = name[:-1]
        if name in NONMATH:
            row = {"kind": "nonmath", "twin": None, "dtype": "unknown", "template": None}
        elif name in RANDOM:
            row = {"kind": "random", "twin": None, "dtype": "same", "template": RANDOM_TEMPLATE % name}
        elif name in EQUIVALENT:
            row = {"kind": "equivalent", "twin": None, "dtype": "same", "template": EQUIVALENT[name]}
        elif name in VIEW or hasattr(torch.Tensor, base):
            kind = "view" if name in VIEW else "twin"
            if not writes_first_argument(name):
                note(f"methods.{name}: aten schema does not mark self as written")
            dtype = classify_dtype(f"methods.{name}", base, tensor_inplace_call(name),
                                   tensor_inplace_call(base))
            row = {"kind": kind, "twin": base, "dtype": dtype, "template": None}
        else:
            raise SystemExit(f"unclassified in-place method Tensor.{name}: add it to a kind table")
        methods[name] = row
    if "fill_diagonal_" in methods:
        methods["fill_diagonal_"]["dtype"] = "unknown"  # no out-of-place form to compare with
    return methods


def build_functions(methods: dict[str, dict]) -> dict[str, dict]:
    functions: dict[str, dict] = {}
    for name in public_inplace(dir(torch)):
        if not callable(getattr(torch, name)) or not writes_first_argument(name):
            note(f"functions: torch.{name} left out: its schema does not write its first argument")
            continue
        base = name[:-1]
        twin = base if hasattr(torch, base) else None
        if methods.get(name, {}).get("kind") == "nonmath":
            twin = None  # detach_, resize_as_...: the same-name function is not a rewrite target
        dtype = "unknown"
        if twin is not None:
            dtype = classify_dtype(f"functions.{name}", base, torch_call(name), torch_call(base))
        functions[name] = {"twin": twin, "dtype": dtype}
    return functions


def build_functional() -> dict[str, dict]:
    inplace_param: dict[str, int] = {}
    for name in sorted(dir(F)):
        fn = getattr(F, name)
        if name.startswith("_") or not callable(fn) or isinstance(fn, type):
            continue
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            continue
        names = [p.name for p in params]
        if "inplace" in names:
            p = params[names.index("inplace")]
            assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, (name, p.kind)
            inplace_param[name] = names.index("inplace")
    inplace_functions = {}
    for name in public_inplace(dir(F)):
        assert hasattr(F, name[:-1]), name
        inplace_functions[name] = name[:-1]
    return {"inplace_param": inplace_param, "inplace_functions": inplace_functions}


def build_modules_inplace() -> dict[str, int]:
    out: dict[str, int] = {}
    for name in sorted(dir(torch.nn)):
        cls = getattr(torch.nn, name)
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            continue
        params = [p for p in inspect.signature(cls.__init__).parameters.values() if p.name != "self"]
        names = [p.name for p in params]
        if "inplace" in names:
            assert params[names.index("inplace")].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
            out[name] = names.index("inplace")
    return out


# --------------------------------------------------------------------------------------------------
# Verifying templates (equivalent and random kinds)
# --------------------------------------------------------------------------------------------------

def eval_template(template: str, x: torch.Tensor, args: tuple) -> Any:
    """Evaluate a template string exactly as the fixer will write it, with x and args bound."""
    env: dict[str, Any] = {"torch": torch, "x": x}
    env.update({f"a{i}": a for i, a in enumerate(args)})
    code = template.format(self="x", args=", ".join(f"a{i}" for i in range(len(args))), arg0="a0")
    return eval(code, env)  # noqa: S307 - our own template strings


def verify_equivalents() -> None:
    """Evaluate each template against the in-place op on many inputs; any mismatch is a note."""
    checked: collections.Counter[str] = collections.Counter()

    def check(name: str, x: torch.Tensor, args: tuple) -> None:
        xc = x.clone()
        _, e_in = attempt(lambda: getattr(xc, name)(*args))
        if e_in is not None:
            return  # nothing to preserve: the original raised
        r_t, e_t = attempt(lambda: eval_template(EQUIVALENT[name], x, args))
        checked[name] += 1
        if e_t is not None or r_t.dtype != xc.dtype or not same_values(xc, r_t):
            note(f"methods.{name}: template disagrees with the in-place op", describe(x, args, {}))

    for dtype in PROBE_DTYPES:
        for shape in ((), (4,), (3, 4)):
            x = make(dtype, shape)
            check("zero_", x, ())
            for v in (scalar_for(dtype), 0.5, 3, True, torch.tensor(0.75), torch.tensor(2)):
                check("fill_", x, (v,))
            for src_dtype in PROBE_DTYPES + (torch.float64,):
                for src_shape in ((), (4,), shape):
                    check("copy_", x, (make(src_dtype, src_shape, 1),))
    note("methods: equivalent templates verified against the in-place op on "
         + ", ".join(f"{k} ({v} cases)" for k, v in sorted(checked.items())))


def verify_random() -> list[str]:
    """Same seed: in-place draw on x vs. the same op on torch.empty_like(x), for several layouts.

    Returns the random ops for which the template was exact on every dense layout.
    """
    def layouts(dtype: torch.dtype) -> dict[str, Callable[[], torch.Tensor]]:
        return {
            "0-dim": lambda: torch.zeros((), dtype=dtype),
            "contiguous(3,4)": lambda: torch.zeros(3, 4, dtype=dtype),
            "contiguous(8,8)": lambda: torch.zeros(8, 8, dtype=dtype),
            "transposed(8,8)": lambda: torch.zeros(8, 8, dtype=dtype).t(),
            "strided-slice(8,16)[:, ::2]": lambda: torch.zeros(8, 16, dtype=dtype)[:, ::2],
        }

    random_args: dict[str, list[tuple]] = {
        "uniform_": [(), (-1.0, 2.0)], "normal_": [(), (1.0, 2.0)],
        "bernoulli_": [(), (0.3,), ("p",)], "random_": [(), (10,), (2, 10)],
        "exponential_": [(), (2.0,)], "geometric_": [(0.3,)], "cauchy_": [(), (1.0, 2.0)],
        "log_normal_": [(), (1.0, 0.5)],
    }
    exact_dense = []
    for name in sorted(random_args):
        ok_dense, bad_nondense = True, []
        for dtype in (torch.float32, torch.float64, torch.int64):
            for layout, mk in layouts(dtype).items():
                for args in random_args[name]:
                    target = mk()
                    real = tuple(torch.full_like(target, 0.3, dtype=torch.float32) if a == "p" else a
                                 for a in args)
                    torch.manual_seed(1234)
                    try:
                        a_res = getattr(target, name)(*real)
                    except Exception:  # noqa: BLE001 - e.g. uniform_ on int64
                        continue
                    torch.manual_seed(1234)
                    b_res = eval_template(RANDOM_TEMPLATE % name, mk(), real)
                    if a_res.dtype == b_res.dtype and torch.equal(a_res, b_res):
                        continue
                    if "strided-slice" in layout:
                        bad_nondense.append(f"{str(dtype).removeprefix('torch.')}{args}")
                    else:
                        ok_dense = False
                        note(f"methods.{name}: empty_like template draws a different stream on "
                             f"{layout} {dtype} args={args}")
        if ok_dense:
            exact_dense.append(name)
        if bad_nondense:
            note(f"methods.{name}: empty_like template differs on a non-dense (strided-slice) self, "
                 f"where empty_like gives a contiguous tensor: {', '.join(sorted(set(bad_nondense)))}")
    note("methods: random templates verified bit-identical under the same seed on 0-dim, "
         "contiguous and transposed self for: " + ", ".join(exact_dense))
    return exact_dense


# --------------------------------------------------------------------------------------------------
# OpInfo samples: when both forms succeed, values must agree
# --------------------------------------------------------------------------------------------------

def load_op_db() -> list:
    # common_utils imports `expecttest` (a test-only package) for its TestCase base class; the
    # samples do not need it, so a stand-in module is enough when it is not installed.
    if "expecttest" not in sys.modules:
        try:
            import expecttest  # noqa: F401
        except ImportError:
            stub = types.ModuleType("expecttest")
            stub.TestCase = unittest.TestCase  # type: ignore[attr-defined]
            sys.modules["expecttest"] = stub
    from torch.testing._internal.common_methods_invocations import op_db

    return op_db


OPINFO_DTYPES = (torch.float32, torch.float64, torch.int64, torch.int32, torch.uint8, torch.bool)


def opinfo_value_check(op_db: list, methods: dict[str, dict]) -> dict[str, int]:
    """Compare in-place and method variants on every OpInfo sample where both succeed.

    Returns name -> number of samples where both forms succeeded and were compared.
    """
    compared: dict[str, int] = collections.Counter()
    for op in op_db:
        # An OpInfo also covers its aliases (absolute_ for abs_, arccos_ for acos_...).
        pairs = [(op.inplace_variant, op.method_variant)]
        pairs += [(a.inplace_variant, a.method_variant) for a in op.aliases]
        pairs = [
            (ip, mv) for ip, mv in pairs
            if mv is not None and methods.get(getattr(ip, "__name__", None), {}).get("kind") in ("twin", "view")
        ]
        if not pairs:
            continue
        supported = op.supported_dtypes("cpu")
        for dtype in OPINFO_DTYPES:
            if dtype not in supported:
                continue
            torch.manual_seed(0)
            try:
                samples = list(op.sample_inputs("cpu", dtype, requires_grad=False))
            except Exception:  # noqa: BLE001
                continue
            for ip, mv in pairs:
                name = ip.__name__
                for sample in samples:
                    x = sample.input
                    if not isinstance(x, torch.Tensor):
                        continue
                    xc, xo = x.clone(), x.clone()
                    r_in, e_in = attempt(lambda: ip(xc, *sample.args, **sample.kwargs))
                    r_out, e_out = attempt(lambda: mv(xo, *sample.args, **sample.kwargs))
                    if e_in is not None or e_out is not None or not isinstance(r_out, torch.Tensor):
                        continue
                    compared[name] += 1
                    if not same_values(xc, r_out):
                        note(f"methods.{name}: OpInfo sample values differ between forms",
                             describe(x, sample.args, sample.kwargs))
    return compared


# --------------------------------------------------------------------------------------------------
# Return classification of all public Tensor methods and torch functions
# --------------------------------------------------------------------------------------------------

def _tensors_in(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors_in(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors_in(o)]
    return []


def _storage(t: torch.Tensor) -> int:
    try:
        return t.untyped_storage().data_ptr()
    except Exception:  # noqa: BLE001 - sparse and other layouts without a plain storage
        return 0


def shares_storage(result: Any, inputs: Iterable[torch.Tensor]) -> bool:
    ptrs = {_storage(t) for t in inputs if t.numel()} - {0}
    return any(_storage(r) in ptrs for r in _tensors_in(result) if r.numel())


GENERIC_PROBE_ARGS = ((), ("y",), (2,), (1,), (0,))


def _probe_args(x: torch.Tensor) -> list[tuple]:
    y = make(x.dtype, tuple(x.shape), 1)
    return [tuple(y if a == "y" else a for a in args) for args in GENERIC_PROBE_ARGS]


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
                cands = [(first, args) for first in firsts for args in _probe_args(x)]
                for inp, args in cands:
                    res, err = attempt(lambda: call(name, inp, args))
                    if err is None and shares_storage(res, _tensors_in([inp, args])):
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
                ins = _tensors_in([sample.input, list(sample.args), sample.kwargs])
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
    for name in sorted(n for n in dir(torch) if not n.startswith("_")):
        obj = getattr(torch, name)
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
        return getattr(torch, name)(x, *args)

    found = {"Tensor." + k: v for k, v in find_aliasing(fresh_m, method_call, False).items()}
    found.update({"torch." + k: v for k, v in find_aliasing(fresh_f, function_call, True).items()})
    for k, v in opinfo_aliasing(op_db, set(fresh_f), set(fresh_m)).items():
        found.setdefault(k, v)
    for label, evidence in sorted(found.items()):
        ns, name = label.split(".", 1)
        (methods_cls if ns == "Tensor" else torch_cls)[name] = "alias"
        note(f"aliasing: {label} is fresh per its aten schema but returned an input's storage; "
             "classified alias", evidence)


def float_only_methods(methods_cls: dict[str, str]) -> list[str]:
    """Out-of-place methods whose every successful call on integer input returned a floating tensor.

    Probed with int64 and int32 inputs and integer-only arguments (an int tensor, an int scalar,
    a dim), so a floating result comes from the op, never from argument promotion.
    """
    out = []
    for name in sorted(n for n, c in methods_cls.items() if c in ("fresh", "alias")):
        fn = inspect.getattr_static(torch.Tensor, name)
        if name.endswith("_") or isinstance(fn, (property, types.GetSetDescriptorType)):
            continue
        results = []
        for dtype in INT_DTYPES:
            for shape in ((4,), (3, 4)):
                x = make(dtype, shape)
                for args in _probe_args(x):
                    res, err = attempt(lambda: getattr(x, name)(*args))
                    if err is None and isinstance(res, torch.Tensor):
                        results.append(res.dtype)
        if results and all(d.is_floating_point for d in results):
            out.append(name)
    return out


# --------------------------------------------------------------------------------------------------
# Which ops save their output for backward
# --------------------------------------------------------------------------------------------------
#
# An in-place write into a tensor breaks a later backward only if an autograd node saved that tensor:
# the saved variable's version check fails ("... modified by an inplace operation").  So for each op
# we run it on inputs that require grad and inspect the autograd nodes that the call created (from
# each output's grad_fn through next_functions, views included, stopping at the inputs' own nodes):
# the op saves its output when one of them holds a saved tensor (`_saved_*`, or `saved_tensors` for
# a Python autograd.Function) that shares storage with a returned tensor (`_saved_result`,
# `_saved_indices` of sort/max, or a saved input the output is a view of).  Inputs are clones of
# leaves, so the output of an aliasing op (x.float() is x) is never a leaf and CloneBackward saves
# nothing.  The direct check then confirms it: write `add_(0)` into every output and run backward,
# which must fail with INPLACE_ERROR exactly when the op saves its output.
#
# An op is listed as saving when any measured input does (conservative, with a note where inputs
# disagree), as not saving when every input measured says so, and in neither list when nothing
# ran.  Measured on CPU: other devices can pick other kernels (cuDNN, flash attention...).

INPLACE_ERROR = "modified by an inplace operation"
SAVE_CATEGORIES = ("methods", "torch", "functional", "modules")
SAVE_SHAPES = ((3, 4), (4,), (), (2, 3, 4, 4))
# In order; the next dtype is tried on a shape only when nothing ran with the previous one
# (complex64: imag...; int64: bitwise and other integer-only ops).
SAVE_DTYPES = (torch.float32, torch.complex64, torch.int64)
OPINFO_SAVE_SAMPLES = 6  # per OpInfo entry and name: enough variety, and the generator stays fast
MODULE_SAVE_SAMPLES = 6  # per ModuleInfo entry and train/eval mode

# Their output is whatever their children return: not ops.
CONTAINER_MODULES = {
    "Container", "DataParallel", "Module", "ModuleDict", "ModuleList", "ParameterDict",
    "ParameterList", "Sequential",
}
# Public torch.nn.functional callables count when defined there or re-exported from torch's C
# bindings (F.conv2d is torch.conv2d); typing helpers and torch.overrides imports do not.
FUNCTIONAL_MODULES = ("torch.nn.functional", "torch", "torch._C._nn")


class SaveRecord:
    """What the samples of one name showed."""

    def __init__(self) -> None:
        self.saved: list[str] = []      # case labels where the output was saved
        self.unsaved: list[str] = []    # case labels where it was not
        self.evidence: set[str] = set()  # Node._saved_attr names that held the output
        self.disagree: list[str] = []   # introspection and the direct check disagreed
        self.direct = 0                 # samples where the direct check was conclusive
        self.int_only = False           # only integer inputs ran (not differentiable)
        self.positions: set[int] = set()  # which returned tensors were saved (0: the first)
        self.broken_backward: list[str] = []  # backward fails even without a write


SAVE_RECORDS: dict[tuple[str, str], SaveRecord] = collections.defaultdict(SaveRecord)


def _fresh(obj: Any) -> Any:
    """Copies of every tensor in obj.  A tensor requiring grad becomes the clone of a new leaf: a
    non-leaf (its CloneBackward saves nothing, so writing into an output that aliases an input is
    allowed) whose gradient lands in a leaf of its own (repeated backward passes into one shared
    leaf fail on their own: sgn's ZeroTensor gradient cannot be accumulated into)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().requires_grad_().clone() if obj.requires_grad else obj.clone()
    if isinstance(obj, list):
        return [_fresh(o) for o in obj]
    if type(obj) is tuple:
        return tuple(_fresh(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _fresh(v) for k, v in obj.items()}
    return obj


def _outputs(res: Any) -> list[torch.Tensor]:
    return [t for t in _tensors_in(res) if t.numel() and _storage(t)]


def _created_nodes(outs: list[torch.Tensor], stop: list[Any]) -> list[Any]:
    stop_ids = {id(n) for n in stop}  # `stop` keeps those nodes alive, so ids stay unique
    nodes, seen = [], set()
    stack = [t.grad_fn for t in outs if t.grad_fn is not None]
    while stack and len(nodes) < 10000:
        n = stack.pop()
        if n is None or id(n) in seen or id(n) in stop_ids:
            continue
        seen.add(id(n))
        nodes.append(n)
        stack.extend(f for f, _ in n.next_functions)
    return nodes


def _saved_by(node: Any) -> list[tuple[str, torch.Tensor]]:
    found = []
    for attr in dir(node):
        if not (attr.startswith("_saved_") or attr == "saved_tensors"):
            continue
        try:
            value = getattr(node, attr)
        except Exception:  # noqa: BLE001 - e.g. a freed buffer
            continue
        found += [(attr, t) for t in _tensors_in(value)]
    return found


MakeCall = Callable[[], tuple[Callable[[], Any], Any]]


def direct_check(make: MakeCall, write: bool = True) -> bool | None:
    """Write add_(0) into every output, then backward: True when that raised INPLACE_ERROR, False
    when backward ran, None when inconclusive (nothing differentiable, the write was refused, or
    backward raises INPLACE_ERROR even without the write: torch.vander in 2.13)."""
    try:
        call, _inputs = make()
    except Exception:  # noqa: BLE001
        return None
    res, err = attempt(call)
    if err is not None:
        return None
    outs = _outputs(res)
    diff = [t for t in outs if t.requires_grad]
    if not diff:
        return None
    try:
        for t in outs if write else ():
            if t.dtype == torch.bool:
                t.bitwise_or_(False)
            else:
                t.add_(0)
    except Exception:  # noqa: BLE001 - views of multi-output ops, overlapping memory...
        return None
    try:
        torch.autograd.backward([(t.real if t.is_complex() else t).sum() for t in diff])
    except Exception as e:  # noqa: BLE001
        if INPLACE_ERROR not in str(e):
            return None
        if write and direct_check(make, write=False) is not False:
            BACKWARD_BROKEN.add(make)
            return None
        return True
    return False


BACKWARD_BROKEN: set[Any] = set()  # makers whose backward raises INPLACE_ERROR with no write at all


def measure_saving(key: tuple[str, str], label: str, make: MakeCall, int_only: bool = False) -> bool:
    """Run one case of op `key`; record what it showed.  False when the call raised or returned
    no tensor (nothing learned)."""
    try:
        call, inputs = make()
    except Exception:  # noqa: BLE001 - a module that cannot be constructed with these arguments
        return False
    ins = _tensors_in(inputs)
    differentiable = any(t.requires_grad for t in ins)  # before the call: detach_ changes it
    stop = [t.grad_fn for t in ins if t.grad_fn is not None]
    res, err = attempt(call)
    if err is not None:
        return False
    outs = _outputs(res)
    if not outs:
        return False
    if not int_only and not differentiable:
        return True  # ran, but nothing was differentiable: no evidence either way
    ptrs = {_storage(t) for t in outs}
    saved_ptrs: set[int] = set()
    evidence: set[str] = set()
    for n in _created_nodes(outs, stop):
        for attr, t in _saved_by(n):
            if t.numel() and _storage(t) in ptrs:
                evidence.add(f"{type(n).__name__}.{attr}")
                saved_ptrs.add(_storage(t))
    positions = {i for i, t in enumerate(outs) if _storage(t) in saved_ptrs}
    del res, outs, stop
    direct = direct_check(make)
    rec = SAVE_RECORDS[key]
    if make in BACKWARD_BROKEN:
        rec.broken_backward.append(label)
    if direct is not None:
        rec.direct += 1
        if direct != bool(evidence):
            rec.disagree.append(f"{label}: {'only the direct check' if direct else 'only introspection'}"
                                " says saved")
    if evidence or direct:
        rec.saved.append(label)
        rec.evidence |= evidence
        rec.positions |= positions if evidence else {0}
    else:
        rec.unsaved.append(label)
        rec.int_only = rec.int_only or int_only
    return True


def _call_maker(fn: Callable[..., Any], first: Any, args: tuple, kwargs: dict) -> MakeCall:
    def make() -> tuple[Callable[[], Any], Any]:
        f, a, k = _fresh(first), _fresh(args), _fresh(kwargs)
        return (lambda: fn(f, *a, **k)), [f, a, k]
    return make


def _leaf(dtype: torch.dtype, shape: tuple[int, ...], variant: int = 0) -> torch.Tensor:
    t = make(dtype, shape, variant)
    return t.requires_grad_() if (dtype.is_floating_point or dtype.is_complex) else t


def generic_saving(key: tuple[str, str], fn: Callable[..., Any], list_input: bool = False,
                   property_like: bool = False, extra_kwargs: Iterable[dict] = (),
                   max_positional: int | None = None) -> None:
    """Small deterministic float32 inputs with the generic argument patterns the rest of the
    generator uses (OpInfo samples add float64).  Shapes in SAVE_SHAPES order, up to the first one
    on which something ran; complex64, then int64, only where nothing ran with float32.
    `max_positional`: at most that many positional arguments after the input (so that a generic
    value never lands in an `inplace` parameter; inplace=True comes through `extra_kwargs`)."""
    base = key[1].removesuffix("_")
    variants = [{}] + list(extra_kwargs)

    def patterns(x: torch.Tensor) -> list[ArgList]:
        if property_like:
            return [((), {})]
        y = _leaf(x.dtype, tuple(x.shape), 1)
        s = scalar_for(x.dtype)
        pats = [((y,), {}), ((s,), {}), ((), {}), ((2,), {}), ((1,), {}), ((0,), {})]
        pats += _special_args(base, x, y, s) + [(a, {}) for a in SAVE_EXTRA_ARGS.get(key, ())]
        return [p for p in pats if max_positional is None or len(p[0]) <= max_positional]

    for shape in SAVE_SHAPES:
        for dtype in SAVE_DTYPES:
            ran = False
            x = _leaf(dtype, shape)
            for args, kwargs in patterns(x):
                for extra in variants:
                    kw = {**kwargs, **extra}
                    for first in ([x, [x]] if list_input else [x]):
                        label = _label(describe(x, args, kw) + (" (as [x])" if first is not x else ""))
                        ran |= measure_saving(key, label, _call_maker(fn, first, args, kw),
                                              int_only=dtype == torch.int64)
            if ran:
                return


# Extra positional argument patterns for the generic probe, where the shared ones never fit.
SAVE_EXTRA_ARGS: dict[tuple[str, str], list[tuple]] = {
    ("methods", "type"): [(torch.float64,), ("torch.DoubleTensor",), (torch.float32,)],
    ("methods", "to"): [(torch.float64,), (torch.float32,)],
}


def _i64(*values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


# Whole calls for ops whose leading argument is not the tensor or whose signature the generic
# patterns cannot guess: (category, name) -> [() -> (args, kwargs)].  Values are deterministic.
SAVE_HAND_CASES: dict[tuple[str, str], list[Callable[[], tuple[tuple, dict]]]] = {
    ("torch", "einsum"): [lambda: (("ij,jk->ik", _f32(3, 4), _f32(4, 3)), {}),
                          lambda: (("ii->i", _f32(3, 3)), {})],
    ("torch", "where"): [lambda: ((_f32(3, 4) > 0.5, _f32(3, 4), _f32(3, 4)), {}),
                         lambda: ((_f32(3, 4) > 0.5, _f32(3, 4), 0.0), {})],
    ("methods", "where"): [lambda: ((_f32(3, 4), _f32(3, 4) > 0.5, _f32(3, 4)), {})],
    ("torch", "batch_norm"): [
        lambda t=t: ((_f32(2, 3, 4), _f32(3), _f32(3), torch.zeros(3), torch.ones(3), t, 0.1, 1e-5, False),
                     {})
        for t in (True, False)],
    ("torch", "instance_norm"): [
        lambda: ((_f32(2, 3, 4), _f32(3), _f32(3), None, None, True, 0.1, 1e-5, False), {})],
    ("torch", "embedding"): [lambda: ((_f32(5, 3), _i64([0, 2], [4, 2])), {})],
    ("torch", "embedding_bag"): [lambda m=m: ((_f32(5, 3), _i64(0, 1, 2, 4), _i64(0, 2)), {"mode": m})
                                 for m in (0, 1, 2)],
    ("torch", "native_dropout"): [lambda: ((_f32(3, 4), 0.5, True), {}),
                                  lambda: ((_f32(3, 4), 0.5, False), {})],
    ("torch", "convolution"): [
        lambda: ((_f32(2, 3, 4, 4), _f32(2, 3, 2, 2), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1), {})],
    ("torch", "margin_ranking_loss"): [lambda: ((_f32(4), _f32(4), torch.tensor([1.0, -1.0, 1.0, -1.0]),
                                                 0.0, 1), {})],
    ("torch", "cosine_embedding_loss"): [lambda: ((_f32(3, 4), _f32(3, 4), torch.tensor([1.0, -1.0, 1.0]),
                                                   0.0, 1), {})],
    ("torch", "triplet_margin_loss"): [lambda: ((_f32(3, 4), _f32(3, 4), _f32(3, 4), 1.0, 2.0, 1e-6,
                                                 False, 1), {})],
    ("torch", "poisson_nll_loss"): [lambda: ((_f32(3, 4), _f32(3, 4), True, False, 1e-8, 1), {})],
    ("torch", "ctc_loss"): [lambda: ((_f32(5, 2, 3).log_softmax(2).detach().requires_grad_(),
                                      _i64([1, 2], [1, 1]), [5, 5], [2, 2]), {})],
    ("torch", "grid_sampler"): [lambda: ((_f32(1, 1, 3, 3), _f32(1, 2, 2, 2), 0, 0, False), {})],
    ("torch", "istft"): [lambda: ((torch.stft(make(torch.float32, (16,)), 4, return_complex=True)
                                   .requires_grad_(), 4), {})],
    ("methods", "istft"): [lambda: ((torch.stft(make(torch.float32, (16,)), 4, return_complex=True)
                                     .requires_grad_(), 4), {})],
    ("functional", "embedding"): [lambda: ((_i64([0, 2], [4, 2]), _f32(5, 3)), {}),
                                  lambda: ((_i64([0, 2], [4, 2]), _f32(5, 3)), {"padding_idx": 0}),
                                  lambda: ((_i64([0, 2], [4, 2]), _f32(5, 3)), {"max_norm": 1.0})],
    ("functional", "embedding_bag"): [lambda m=m: ((_i64([0, 2], [4, 2]), _f32(5, 3)), {"mode": m})
                                      for m in ("mean", "sum", "max")],
    ("functional", "scaled_dot_product_attention"): [
        lambda: ((_f32(1, 2, 3, 4), _f32(1, 2, 3, 4), _f32(1, 2, 3, 4)), {}),
        lambda: ((_f32(1, 2, 3, 4), _f32(1, 2, 3, 4), _f32(1, 2, 3, 4)), {"is_causal": True}),
        lambda: ((_f32(2, 3, 4), _f32(2, 3, 4), _f32(2, 3, 4)), {}),
        lambda: ((_f32(1, 2, 3, 4).double(), _f32(1, 2, 3, 4).double(), _f32(1, 2, 3, 4).double()), {})],
    ("functional", "lp_pool1d"): [lambda: ((_f32(2, 3, 4), 2.0, 2), {})],
    ("functional", "lp_pool2d"): [lambda: ((_f32(2, 3, 4, 4), 2.0, 2), {})],
    ("functional", "lp_pool3d"): [lambda: ((_f32(2, 3, 4, 4, 4), 2.0, 2), {})],
    ("functional", "fold"): [lambda: ((_f32(1, 4, 4), (3, 3), (2, 2)), {})],
    ("functional", "affine_grid"): [lambda: ((_f32(2, 2, 3), [2, 1, 3, 3]), {"align_corners": False})],
    ("functional", "conv_tbc"): [lambda: ((_f32(5, 2, 3), _f32(2, 3, 4), _f32(4)), {})],
    ("torch", "conv_tbc"): [lambda: ((_f32(5, 2, 3), _f32(2, 3, 4), _f32(4)), {})],
    ("torch", "polygamma"): [lambda: ((1, _f32(3, 4)), {}), lambda: ((0, _f32(4)), {})],
    **{("functional", f"fractional_max_pool{d}d{suffix}"): [
        lambda d=d: ((_f32(1, 1, *(4,) * d), 2), {"output_size": 2}),
        lambda d=d: ((_f32(1, 1, *(4,) * d), 2), {"output_size": 2, "return_indices": True})]
       for d in (2, 3) for suffix in ("", "_with_indices")},
    ("functional", "multi_head_attention_forward"): [lambda: (
        (_f32(2, 3, 4), _f32(2, 3, 4), _f32(2, 3, 4), 4, 2, _f32(12, 4), _f32(12), None, None, False,
         0.0, _f32(4, 4), _f32(4)), {})],
}


def _opinfo_samples(op: Any) -> list:
    supported = op.supported_dtypes("cpu")
    dtype = next((d for d in (torch.float64, torch.float32) if d in supported), None)
    if dtype is None:
        return []
    torch.manual_seed(0)
    try:
        return list(itertools.islice(op.sample_inputs("cpu", dtype, requires_grad=True),
                                     OPINFO_SAVE_SAMPLES))
    except Exception:  # noqa: BLE001
        return []


def _label(text: str) -> str:
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)  # callables in sample args: no addresses


def opinfo_saving(op_db: list, method_names: set[str], torch_names: set[str],
                  functional_names: set[str], inplace_param: dict[str, int]) -> None:
    """PyTorch's own OpInfo samples (they know the arguments each op needs), float64 requiring
    grad, the first OPINFO_SAVE_SAMPLES of each entry."""
    for op in op_db:
        targets: list[tuple[tuple[str, str], Callable[..., Any], list[dict]]] = []
        for v in [op] + list(op.aliases):
            for attr in ("method_variant", "inplace_variant"):
                m = getattr(v, attr, None)
                name = getattr(m, "__name__", None)
                if name in method_names and getattr(torch.Tensor, name, None) is m:
                    targets.append((("methods", name), m, []))
            f = v.op
            name = getattr(f, "__name__", None)
            if name in torch_names and getattr(torch, name, None) is f:
                targets.append((("torch", name), f, []))
            if name in functional_names and getattr(F, name, None) is f:
                extra = [{"inplace": True}] if name in inplace_param else []
                targets.append((("functional", name), f, extra))
        if not targets:
            continue
        samples = _opinfo_samples(op)
        entry = op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")
        for key, fn, extras in targets:
            for i, sample in enumerate(samples):
                for extra in [{}] + extras:
                    kwargs = {**sample.kwargs, **extra}
                    label = _label(f"opinfo {entry}#{i} {describe(sample.input, sample.args, kwargs)}")
                    measure_saving(key, label, _call_maker(fn, sample.input, tuple(sample.args), kwargs))


def functional_names() -> list[str]:
    out = []
    for name in sorted(dir(F)):
        obj = getattr(F, name)
        if (name.startswith("_") or not callable(obj) or isinstance(obj, type)
                or getattr(obj, "__module__", None) not in FUNCTIONAL_MODULES):
            continue
        out.append(name)
    return out


def module_names() -> list[str]:
    return sorted(
        n for n in dir(torch.nn)
        if not n.startswith("_") and isinstance(getattr(torch.nn, n), type)
        and issubclass(getattr(torch.nn, n), torch.nn.Module) and n not in CONTAINER_MODULES
    )


def load_module_db() -> list:
    load_op_db()  # installs the expecttest stand-in if needed
    from torch.testing._internal.common_modules import module_db

    return module_db


def _module_maker(cls: type, cargs: tuple, ckwargs: dict, fargs: tuple, fkwargs: dict,
                  dtype: torch.dtype, training: bool) -> MakeCall:
    def make() -> tuple[Callable[[], Any], Any]:
        torch.default_generator.manual_seed(0)
        m = cls(*cargs, **ckwargs).to(dtype)
        m.train(training)
        a, k = _fresh(fargs), _fresh(fkwargs)
        return (lambda: m(*a, **k)), [a, k, list(m.parameters())]
    return make


def _f32(*shape: int) -> torch.Tensor:
    return _leaf(torch.float32, shape)


# Modules without a ModuleInfo whose arguments the generic attempts below cannot guess:
# name -> [(constructor args, constructor kwargs, forward inputs)].
# name -> () -> (constructor args, forward inputs).
MODULE_HAND_CASES: dict[str, Callable[[], tuple[tuple, tuple]]] = {
    "AdaptiveLogSoftmaxWithLoss": lambda: ((3, 4, [2]), (_f32(2, 3), torch.tensor([0, 3]))),
    "Fold": lambda: (((3, 3), (2, 2)), (_f32(1, 4, 4),)),
    "MaxUnpool1d": lambda: ((2,), (_f32(1, 1, 2), torch.tensor([[[1, 3]]]))),
    "MaxUnpool2d": lambda: ((2,), (_f32(1, 1, 2, 2), torch.tensor([[[[0, 3], [8, 11]]]]))),
    "MaxUnpool3d": lambda: ((2,), (_f32(1, 1, 1, 1, 1), torch.tensor([[[[[5]]]]]))),
    "NLLLoss2d": lambda: ((), (_f32(2, 3, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long))),
    "PixelShuffle": lambda: ((2,), (_f32(1, 4, 2, 2),)),
    "PixelUnshuffle": lambda: ((2,), (_f32(1, 1, 4, 4),)),
    "TransformerDecoder": lambda: ((torch.nn.TransformerDecoderLayer(4, 2, 8, 0.0), 1),
                                   (_f32(2, 3, 4), _f32(2, 3, 4))),
    "Unflatten": lambda: ((1, (2, 2)), (_f32(3, 4),)),
}
MODULE_GENERIC_CTOR = ((), (3,), (2,), (3, 3))
MODULE_GENERIC_SHAPES = ((3, 4), (2, 3, 4), (2, 3, 4, 4), (2, 3, 4, 4, 4))


def module_saving(modules_inplace: dict[str, int]) -> None:
    names = set(module_names())
    covered = set()
    for mi in load_module_db():
        cls = mi.module_cls
        if cls.__name__ not in names or getattr(torch.nn, cls.__name__) is not cls:
            continue
        covered.add(cls.__name__)
        extras = [{}] + ([{"inplace": True}] if cls.__name__ in modules_inplace else [])
        for training in (True, False):
            try:
                inputs = mi.module_inputs_func(mi, device="cpu", dtype=torch.float64,
                                               requires_grad=True, training=training)
            except Exception:  # noqa: BLE001
                continue
            inputs = [i for i in inputs if i.forward_input is not None][:MODULE_SAVE_SAMPLES]
            for n, mod_in in enumerate(inputs):
                c, f = mod_in.constructor_input, mod_in.forward_input
                for extra in extras:
                    label = _label(f"{'train' if training else 'eval'}{' inplace=True' if extra else ''}"
                                   f" moduleinfo#{n} {describe(f.args, (), f.kwargs)}")
                    measure_saving(("modules", cls.__name__), label, _module_maker(
                        cls, tuple(c.args), {**c.kwargs, **extra}, tuple(f.args), f.kwargs,
                        torch.float64, training))
    for name in sorted(names - covered):
        cls = getattr(torch.nn, name)
        extras = [{}] + ([{"inplace": True}] if name in modules_inplace else [])
        if name in MODULE_HAND_CASES:
            torch.manual_seed(0)
            ca, fargs = MODULE_HAND_CASES[name]()
            cases = [("hand", ca, fargs)]
        else:
            cases = []
            for shape in MODULE_GENERIC_SHAPES:
                x, y, z = _f32(*shape), _leaf(torch.float32, shape, 1), _f32(*shape)
                for ca in MODULE_GENERIC_CTOR:
                    cases += [(repr(ca), ca, (x,)), (repr(ca), ca, (x, y)), (repr(ca), ca, (x, y, z))]
            cases += [(repr(ca), ca, (torch.tensor([[0, 1], [2, 1]]),)) for ca in MODULE_GENERIC_CTOR]
        for training in (True, False):
            ran = 0
            for ctor, ca, fargs in cases:
                if ran >= MODULE_SAVE_SAMPLES:
                    break
                for extra in extras:
                    label = (f"{'train' if training else 'eval'}{' inplace=True' if extra else ''} "
                             f"{name}{ctor} on {describe(fargs, (), {})}")
                    ran += measure_saving(("modules", name), label, _module_maker(
                        cls, ca, extra, fargs, {}, torch.float32, training))


def _method_fn(name: str, prop: bool) -> Callable[..., Any]:
    if prop:
        return lambda x: getattr(x, name)
    return lambda x, *a, **k: getattr(x, name)(*a, **k)


def _examples(labels: list[str], k: int = 2) -> str:
    return "; ".join(sorted(labels)[:k]) + (f"; +{len(labels) - k} more" if len(labels) > k else "")


def build_saves_output(op_db: list, methods_cls: dict[str, str], torch_cls: dict[str, str],
                       functional: dict[str, dict], modules_inplace: dict[str, int]
                       ) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    SAVE_RECORDS.clear()
    BACKWARD_BROKEN.clear()
    method_names = sorted(n for n, c in methods_cls.items() if c in ("fresh", "alias"))
    torch_names = sorted(n for n, c in torch_cls.items() if c in ("fresh", "alias"))
    f_names = functional_names()
    inplace_param = functional["inplace_param"]
    names = {"methods": method_names, "torch": torch_names, "functional": f_names,
             "modules": module_names()}

    for name in method_names:
        static = inspect.getattr_static(torch.Tensor, name)
        prop = isinstance(static, (property, types.GetSetDescriptorType, types.MemberDescriptorType))
        generic_saving(("methods", name), _method_fn(name, prop), property_like=prop)
    for name in torch_names:
        generic_saving(("torch", name), getattr(torch, name), list_input=True)
    for name in f_names:
        extra = [{"inplace": True}] if name in inplace_param else []
        generic_saving(("functional", name), getattr(F, name), extra_kwargs=extra,
                       max_positional=inplace_param[name] - 1 if name in inplace_param else None)
    namespaces = {"methods": None, "torch": torch, "functional": F}
    for (cat, name), cases in sorted(SAVE_HAND_CASES.items()):
        if name not in names[cat]:
            raise SystemExit(f"SAVE_HAND_CASES names what this torch does not list: {cat}.{name}")
        fn = _method_fn(name, False) if cat == "methods" else getattr(namespaces[cat], name)
        for i, case in enumerate(cases):
            args, kwargs = case()
            measure_saving((cat, name), _label(f"hand#{i} {describe(args[0], args[1:], kwargs)}"),
                           _call_maker(fn, args[0], tuple(args[1:]), kwargs))
    opinfo_saving(op_db, set(method_names), set(torch_names), set(f_names), inplace_param)
    module_saving(modules_inplace)

    saves: dict[str, list[str]] = {}
    not_saved: dict[str, list[str]] = {}
    direct_cases = 0
    for cat in SAVE_CATEGORIES:
        saves[cat], not_saved[cat] = [], []
        unknown, int_only, only_inplace, train_eval, secondary, broken = [], [], [], [], [], []
        unconfirmed = []
        for name in names[cat]:
            rec = SAVE_RECORDS.get((cat, name))
            if rec is None or not (rec.saved or rec.unsaved):
                unknown.append(name)
                continue
            direct_cases += rec.direct
            if not rec.direct:
                unconfirmed.append(name)
            if rec.broken_backward:
                broken.append(name)
            for d in rec.disagree:
                note(f"saves_output: {cat}.{name}: introspection and the direct add_-then-backward "
                     "check disagree (classified saving)", d)
            if not rec.saved:
                not_saved[cat].append(name)
                if rec.int_only and all("int64" in lab.split(" args=")[0] for lab in rec.unsaved):
                    int_only.append(name)
                continue
            saves[cat].append(name)
            if 0 not in rec.positions:
                secondary.append(name)
            plain_saved = [lab for lab in rec.saved if "inplace=True" not in lab]
            if not plain_saved:
                only_inplace.append(name)
                continue
            if cat == "modules":
                modes = {lab.split(" ", 1)[0] for lab in rec.saved}
                if len(modes) == 1 and any(lab.startswith("train" if "eval" in modes else "eval")
                                           for lab in rec.unsaved):
                    train_eval.append(f"{name} (only in {modes.pop()}())")
            plain_unsaved = [lab for lab in rec.unsaved if "inplace=True" not in lab]
            if plain_unsaved:
                note(f"saves_output: {cat}.{name} saves its output on some inputs only (classified "
                     f"saving; by {', '.join(sorted(rec.evidence)) or 'the direct check'}): saved on "
                     f"{_examples(plain_saved)} || not on {_examples(plain_unsaved)}")
        if only_inplace:
            note(f"saves_output: {cat}: saved only with inplace=True (the in-place result is saved; "
                 "classified saving): " + ", ".join(only_inplace))
        if secondary:
            note(f"saves_output: {cat}: only a later returned tensor is saved (indices, statistics), "
                 "never the first: " + ", ".join(secondary))
        if train_eval:
            note(f"saves_output: {cat}: train() and eval() differ (classified saving): "
                 + ", ".join(train_eval))
        elif cat == "modules":
            note("saves_output: modules: train() and eval() agree on every module (each measured in "
                 "both modes)")
        if int_only:
            note(f"saves_output: {cat}: ran on integer inputs only (float32 and complex64 raised), so "
                 "never part of an autograd graph: " + ", ".join(int_only))
        if broken:
            note(f"saves_output: {cat}: backward raises '{INPLACE_ERROR}' even with no write into the "
                 "output (a torch bug; the direct check is inconclusive there): " + ", ".join(broken))
        if unconfirmed:
            note(f"saves_output: {cat}: classified by introspection alone, the direct check was "
                 "inconclusive on every call (no differentiable output, or the write into it was "
                 "refused): " + ", ".join(unconfirmed))
        note(f"saves_output: {cat}: unknown (no measured call returned a tensor): "
             + (", ".join(unknown) or "none"))
    note(f"saves_output: measured on CPU by introspecting the autograd nodes each call creates; the "
         f"direct add_(0)-then-backward check was conclusive on {direct_cases} calls")
    return saves, not_saved


# --------------------------------------------------------------------------------------------------

def group(classes: dict[str, str], keys: Iterable[str]) -> dict[str, list[str]]:
    return {k: sorted(n for n, c in classes.items() if c == k) for k in keys}


def generate() -> dict:
    t0 = time.monotonic()
    methods = build_methods()
    functions = build_functions(methods)
    verify_equivalents()
    verify_random()
    op_db = load_op_db()
    compared = opinfo_value_check(op_db, methods)
    untested = sorted(n for n, r in methods.items() if r["kind"] in ("twin", "view") and not compared[n])
    note(f"opinfo: compared in-place and out-of-place values on {sum(compared.values())} samples of "
         f"{len(compared)} methods; no OpInfo samples for: {', '.join(untested)}")
    methods_cls = build_tensor_methods()
    torch_cls = build_torch_functions()
    apply_measured_aliasing(op_db, methods_cls, torch_cls)
    functional = build_functional()
    modules_inplace = build_modules_inplace()
    t1 = time.monotonic()
    saves, not_saved = build_saves_output(op_db, methods_cls, torch_cls, functional, modules_inplace)
    print(f"saves_output measured in {time.monotonic() - t1:.1f} s", file=sys.stderr)
    table = {
        "torch_version": torch.__version__.split("+")[0],
        "methods": methods,
        "functions": functions,
        "functional": functional,
        "modules_inplace": modules_inplace,
        "tensor_methods": group(methods_cls, ("fresh", "alias", "nontensor")),
        "torch_functions": group(torch_cls, ("fresh", "alias", "nontensor", "factory")),
        "float_only": float_only_methods(methods_cls),
        "saves_output": saves,
        "output_not_saved": not_saved,
        "notes": rendered_notes(),
    }
    print(f"generated in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return table


def summary(table: dict) -> str:
    lines = [f"torch {table['torch_version']}"]
    m = table["methods"]
    lines.append(f"methods: {len(m)}  kind {dict(sorted(collections.Counter(r['kind'] for r in m.values()).items()))}")
    lines.append(f"  dtype {dict(sorted(collections.Counter(r['dtype'] for r in m.values()).items()))}")
    f = table["functions"]
    lines.append(f"functions: {len(f)}  dtype {dict(sorted(collections.Counter(r['dtype'] for r in f.values()).items()))}"
                 f"  without twin {sorted(n for n, r in f.items() if r['twin'] is None)}")
    fn = table["functional"]
    lines.append(f"functional: inplace= {len(fn['inplace_param'])}, F.*_ {len(fn['inplace_functions'])}")
    lines.append(f"modules_inplace: {len(table['modules_inplace'])}")
    lines.append("tensor_methods: " + ", ".join(f"{k} {len(v)}" for k, v in table["tensor_methods"].items()))
    lines.append("torch_functions: " + ", ".join(f"{k} {len(v)}" for k, v in table["torch_functions"].items()))
    lines.append(f"float_only: {len(table['float_only'])}")
    for key in ("saves_output", "output_not_saved"):
        lines.append(f"{key}: " + ", ".join(f"{k} {len(v)}" for k, v in table[key].items()))
    lines.append(f"notes: {len(table['notes'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON")
    ns = parser.parse_args(argv)
    table = generate()
    ns.output.parent.mkdir(parents=True, exist_ok=True)
    ns.output.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(summary(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
