"""Which ops save their output for backward: `saves_output` / `output_not_saved`."""

from __future__ import annotations

import collections
import inspect
import itertools
import types
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F

from .common import attempt, clean_label, describe, examples, note, storage_ptr, tensors_in
from .inputs import ArgList, f32, i64, leaf, make, scalar_for, special_args
from .common import load_op_db

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
    return [t for t in tensors_in(res) if t.numel() and storage_ptr(t)]


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
        found += [(attr, t) for t in tensors_in(value)]
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
    ins = tensors_in(inputs)
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
    ptrs = {storage_ptr(t) for t in outs}
    saved_ptrs: set[int] = set()
    evidence: set[str] = set()
    for n in _created_nodes(outs, stop):
        for attr, t in _saved_by(n):
            if t.numel() and storage_ptr(t) in ptrs:
                evidence.add(f"{type(n).__name__}.{attr}")
                saved_ptrs.add(storage_ptr(t))
    positions = {i for i, t in enumerate(outs) if storage_ptr(t) in saved_ptrs}
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
        y = leaf(x.dtype, tuple(x.shape), 1)
        s = scalar_for(x.dtype)
        pats = [((y,), {}), ((s,), {}), ((), {}), ((2,), {}), ((1,), {}), ((0,), {})]
        pats += special_args(base, x, y, s) + [(a, {}) for a in SAVE_EXTRA_ARGS.get(key, ())]
        return [p for p in pats if max_positional is None or len(p[0]) <= max_positional]

    for shape in SAVE_SHAPES:
        for dtype in SAVE_DTYPES:
            ran = False
            x = leaf(dtype, shape)
            for args, kwargs in patterns(x):
                for extra in variants:
                    kw = {**kwargs, **extra}
                    for first in ([x, [x]] if list_input else [x]):
                        label = clean_label(describe(x, args, kw) + (" (as [x])" if first is not x else ""))
                        ran |= measure_saving(key, label, _call_maker(fn, first, args, kw),
                                              int_only=dtype == torch.int64)
            if ran:
                return


# Extra positional argument patterns for the generic probe, where the shared ones never fit.
SAVE_EXTRA_ARGS: dict[tuple[str, str], list[tuple]] = {
    ("methods", "type"): [(torch.float64,), ("torch.DoubleTensor",), (torch.float32,)],
    ("methods", "to"): [(torch.float64,), (torch.float32,)],
}


# Whole calls for ops whose leading argument is not the tensor or whose signature the generic
# patterns cannot guess: (category, name) -> [() -> (args, kwargs)].  Values are deterministic.
SAVE_HAND_CASES: dict[tuple[str, str], list[Callable[[], tuple[tuple, dict]]]] = {
    ("torch", "einsum"): [lambda: (("ij,jk->ik", f32(3, 4), f32(4, 3)), {}),
                          lambda: (("ii->i", f32(3, 3)), {})],
    ("torch", "where"): [lambda: ((f32(3, 4) > 0.5, f32(3, 4), f32(3, 4)), {}),
                         lambda: ((f32(3, 4) > 0.5, f32(3, 4), 0.0), {})],
    ("methods", "where"): [lambda: ((f32(3, 4), f32(3, 4) > 0.5, f32(3, 4)), {})],
    ("torch", "batch_norm"): [
        lambda t=t: ((f32(2, 3, 4), f32(3), f32(3), torch.zeros(3), torch.ones(3), t, 0.1, 1e-5, False),
                     {})
        for t in (True, False)],
    ("torch", "instance_norm"): [
        lambda: ((f32(2, 3, 4), f32(3), f32(3), None, None, True, 0.1, 1e-5, False), {})],
    ("torch", "embedding"): [lambda: ((f32(5, 3), i64([0, 2], [4, 2])), {})],
    ("torch", "embedding_bag"): [lambda m=m: ((f32(5, 3), i64(0, 1, 2, 4), i64(0, 2)), {"mode": m})
                                 for m in (0, 1, 2)],
    ("torch", "native_dropout"): [lambda: ((f32(3, 4), 0.5, True), {}),
                                  lambda: ((f32(3, 4), 0.5, False), {})],
    ("torch", "convolution"): [
        lambda: ((f32(2, 3, 4, 4), f32(2, 3, 2, 2), None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1), {})],
    ("torch", "margin_ranking_loss"): [lambda: ((f32(4), f32(4), torch.tensor([1.0, -1.0, 1.0, -1.0]),
                                                 0.0, 1), {})],
    ("torch", "cosine_embedding_loss"): [lambda: ((f32(3, 4), f32(3, 4), torch.tensor([1.0, -1.0, 1.0]),
                                                   0.0, 1), {})],
    ("torch", "triplet_margin_loss"): [lambda: ((f32(3, 4), f32(3, 4), f32(3, 4), 1.0, 2.0, 1e-6,
                                                 False, 1), {})],
    ("torch", "poisson_nll_loss"): [lambda: ((f32(3, 4), f32(3, 4), True, False, 1e-8, 1), {})],
    ("torch", "ctc_loss"): [lambda: ((f32(5, 2, 3).log_softmax(2).detach().requires_grad_(),
                                      i64([1, 2], [1, 1]), [5, 5], [2, 2]), {})],
    ("torch", "grid_sampler"): [lambda: ((f32(1, 1, 3, 3), f32(1, 2, 2, 2), 0, 0, False), {})],
    ("torch", "istft"): [lambda: ((torch.stft(make(torch.float32, (16,)), 4, return_complex=True)
                                   .requires_grad_(), 4), {})],
    ("methods", "istft"): [lambda: ((torch.stft(make(torch.float32, (16,)), 4, return_complex=True)
                                     .requires_grad_(), 4), {})],
    ("functional", "embedding"): [lambda: ((i64([0, 2], [4, 2]), f32(5, 3)), {}),
                                  lambda: ((i64([0, 2], [4, 2]), f32(5, 3)), {"padding_idx": 0}),
                                  lambda: ((i64([0, 2], [4, 2]), f32(5, 3)), {"max_norm": 1.0})],
    ("functional", "embedding_bag"): [lambda m=m: ((i64([0, 2], [4, 2]), f32(5, 3)), {"mode": m})
                                      for m in ("mean", "sum", "max")],
    ("functional", "scaled_dot_product_attention"): [
        lambda: ((f32(1, 2, 3, 4), f32(1, 2, 3, 4), f32(1, 2, 3, 4)), {}),
        lambda: ((f32(1, 2, 3, 4), f32(1, 2, 3, 4), f32(1, 2, 3, 4)), {"is_causal": True}),
        lambda: ((f32(2, 3, 4), f32(2, 3, 4), f32(2, 3, 4)), {}),
        lambda: ((f32(1, 2, 3, 4).double(), f32(1, 2, 3, 4).double(), f32(1, 2, 3, 4).double()), {})],
    ("functional", "lp_pool1d"): [lambda: ((f32(2, 3, 4), 2.0, 2), {})],
    ("functional", "lp_pool2d"): [lambda: ((f32(2, 3, 4, 4), 2.0, 2), {})],
    ("functional", "lp_pool3d"): [lambda: ((f32(2, 3, 4, 4, 4), 2.0, 2), {})],
    ("functional", "fold"): [lambda: ((f32(1, 4, 4), (3, 3), (2, 2)), {})],
    ("functional", "affine_grid"): [lambda: ((f32(2, 2, 3), [2, 1, 3, 3]), {"align_corners": False})],
    ("functional", "conv_tbc"): [lambda: ((f32(5, 2, 3), f32(2, 3, 4), f32(4)), {})],
    ("torch", "conv_tbc"): [lambda: ((f32(5, 2, 3), f32(2, 3, 4), f32(4)), {})],
    ("torch", "polygamma"): [lambda: ((1, f32(3, 4)), {}), lambda: ((0, f32(4)), {})],
    **{("functional", f"fractional_max_pool{d}d{suffix}"): [
        lambda d=d: ((f32(1, 1, *(4,) * d), 2), {"output_size": 2}),
        lambda d=d: ((f32(1, 1, *(4,) * d), 2), {"output_size": 2, "return_indices": True})]
       for d in (2, 3) for suffix in ("", "_with_indices")},
    ("functional", "multi_head_attention_forward"): [lambda: (
        (f32(2, 3, 4), f32(2, 3, 4), f32(2, 3, 4), 4, 2, f32(12, 4), f32(12), None, None, False,
         0.0, f32(4, 4), f32(4)), {})],
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
                    label = clean_label(f"opinfo {entry}#{i} {describe(sample.input, sample.args, kwargs)}")
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


# Modules without a ModuleInfo whose arguments the generic attempts below cannot guess:
# name -> [(constructor args, constructor kwargs, forward inputs)].
# name -> () -> (constructor args, forward inputs).
MODULE_HAND_CASES: dict[str, Callable[[], tuple[tuple, tuple]]] = {
    "AdaptiveLogSoftmaxWithLoss": lambda: ((3, 4, [2]), (f32(2, 3), torch.tensor([0, 3]))),
    "Fold": lambda: (((3, 3), (2, 2)), (f32(1, 4, 4),)),
    "MaxUnpool1d": lambda: ((2,), (f32(1, 1, 2), torch.tensor([[[1, 3]]]))),
    "MaxUnpool2d": lambda: ((2,), (f32(1, 1, 2, 2), torch.tensor([[[[0, 3], [8, 11]]]]))),
    "MaxUnpool3d": lambda: ((2,), (f32(1, 1, 1, 1, 1), torch.tensor([[[[[5]]]]]))),
    "NLLLoss2d": lambda: ((), (f32(2, 3, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long))),
    "PixelShuffle": lambda: ((2,), (f32(1, 4, 2, 2),)),
    "PixelUnshuffle": lambda: ((2,), (f32(1, 1, 4, 4),)),
    "TransformerDecoder": lambda: ((torch.nn.TransformerDecoderLayer(4, 2, 8, 0.0), 1),
                                   (f32(2, 3, 4), f32(2, 3, 4))),
    "Unflatten": lambda: ((1, (2, 2)), (f32(3, 4),)),
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
                    label = clean_label(f"{'train' if training else 'eval'}{' inplace=True' if extra else ''}"
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
                x, y, z = f32(*shape), leaf(torch.float32, shape, 1), f32(*shape)
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
            measure_saving((cat, name), clean_label(f"hand#{i} {describe(args[0], args[1:], kwargs)}"),
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
                     f"{examples(plain_saved)} || not on {examples(plain_unsaved)}")
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
