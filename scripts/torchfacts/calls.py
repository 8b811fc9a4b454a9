"""Every call the autograd probes run, for each Tensor method, torch function, torch.nn.functional
function and torch.nn module class the table knows.

A call is a `Case`: its op (category, name), a label (the inputs, for notes and evidence) and a
maker that builds fresh inputs and returns the call together with those inputs by *input key*:

* ``"self"``: a Tensor method's receiver; ``"0"``, ``"1"``...: positional arguments (after the
  receiver for methods; from the first argument for functions; a module's forward inputs);
  a keyword argument under its name;
* modules also ``"params"`` (the module's own parameters) and ``"buffers"`` (its buffers).

Where the inputs come from, in order (`run`):

1. generic: small deterministic float32 inputs that require grad (clones of leaves), with the
   generic argument patterns (a same-shape tensor, a same-kind Python scalar, nothing, 2, 1, 0, and
   op-specific ones), in SHAPES order up to the first shape on which something ran; complex64, then
   int64, only where nothing ran with float32.  F.* functions with ``inplace=`` also run with
   ``inplace=True``;
2. hand cases for ops whose leading argument is not the tensor or whose signature the generic
   patterns cannot guess;
3. PyTorch's own OpInfo samples (float64 requiring grad, the first OPINFO_SAMPLES of each entry);
4. modules: ModuleInfo samples in train() and eval() (float64 and float32: CPU kernels differ by dtype),
   else generic constructor arguments
   on generic inputs (float32), with ``inplace=True`` where the class takes it;
5. degenerate arguments under which a functional or module may hand back its input: ``p=0.0``
   and ``training=False`` for every F.* function whose signature has them, ``p=0.0`` for every
   module class whose constructor has it (train() mode; eval() is measured in 4 already).
"""

from __future__ import annotations

import inspect
import itertools
import types
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F

from .common import clean_label, describe, load_op_db, torch_attr
from .inputs import ArgList, f32, i64, leaf, make, scalar_for, special_args
from .patterns import ctor_flags

CATEGORIES = ("methods", "torch", "functional", "modules")
SHAPES = ((3, 4), (4,), (), (2, 3, 4, 4))
# In order; the next dtype is tried on a shape only when nothing ran with the previous one
# (complex64: imag...; int64: bitwise and other integer-only ops).
DTYPES = (torch.float32, torch.complex64, torch.int64)
OPINFO_SAMPLES = 6  # per OpInfo entry and name: enough variety, and the generator stays fast
MODULE_SAMPLES = 6  # per ModuleInfo entry and train/eval mode

# Their output is whatever their children return: not ops.
CONTAINER_MODULES = {
    "Container", "DataParallel", "Module", "ModuleDict", "ModuleList", "ParameterDict",
    "ParameterList", "Sequential",
}
# Public torch.nn.functional callables count when defined there or re-exported from torch's C
# bindings (F.conv2d is torch.conv2d); typing helpers and torch.overrides imports do not.
FUNCTIONAL_MODULES = ("torch.nn.functional", "torch", "torch._C._nn")

# Keyword arguments under which a functional or module may return its input unchanged (step 5).
DEGENERATE_KWARGS = {"p": 0.0, "training": False}

MakeCall = Callable[[], tuple[Callable[[], Any], dict[str, Any]]]


@dataclass(frozen=True, eq=False)
class Case:
    key: tuple[str, str]  # (category, name)
    label: str
    make: MakeCall
    int_only: bool = False  # integer inputs: never part of an autograd graph
    variant: str = ""  # "inplace=True", "p=0.0", "training=False" or "" (the keyword that made it)
    mode: str = ""  # modules: "train" or "eval"
    ctor_flags: frozenset[str] = frozenset()  # modules: return flags the construction set True

    @property
    def primary(self) -> str:
        """The input key of the tensor the op is applied to."""
        return "self" if self.key[0] == "methods" else "0"


Measure = Callable[[Case], bool]  # runs a case; False when it raised or returned no tensor


# --------------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------------

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


def names_by_category(methods_cls: dict[str, str], torch_cls: dict[str, str]) -> dict[str, list[str]]:
    """The names each category measures: Tensor methods and torch functions that return a tensor
    (fresh or alias), every public F.* function, every torch.nn module class but the containers."""
    return {
        "methods": sorted(n for n, c in methods_cls.items() if c in ("fresh", "alias")),
        "torch": sorted(n for n, c in torch_cls.items() if c in ("fresh", "alias")),
        "functional": functional_names(),
        "modules": module_names(),
    }


def is_property(name: str) -> bool:
    static = inspect.getattr_static(torch.Tensor, name)
    return isinstance(static, (property, types.GetSetDescriptorType, types.MemberDescriptorType))


def method_fn(name: str, prop: bool = False) -> Callable[..., Any]:
    if prop:
        return lambda x: getattr(x, name)
    return lambda x, *a, **k: getattr(x, name)(*a, **k)


def op_fn(cat: str, name: str) -> Callable[..., Any]:
    """What to call for a method, torch or functional name: f(primary, *args, **kwargs)."""
    if cat == "methods":
        return method_fn(name, is_property(name))
    return torch_attr(name) if cat == "torch" else getattr(F, name)


# --------------------------------------------------------------------------------------------------
# Makers: fresh inputs on every call, keyed by input key
# --------------------------------------------------------------------------------------------------

def fresh(obj: Any) -> Any:
    """Copies of every tensor in obj.  A tensor requiring grad becomes the clone of a new leaf: a
    non-leaf (its CloneBackward saves nothing, so writing into an output that aliases an input is
    allowed) whose gradient lands in a leaf of its own (repeated backward passes into one shared
    leaf fail on their own: sgn's ZeroTensor gradient cannot be accumulated into)."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().requires_grad_().clone() if obj.requires_grad else obj.clone()
    if isinstance(obj, list):
        return [fresh(o) for o in obj]
    if type(obj) is tuple:
        return tuple(fresh(o) for o in obj)
    if isinstance(obj, dict):
        return {k: fresh(v) for k, v in obj.items()}
    return obj


def keyed(first_key: str | None, args: Iterable[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Input keys for a call: `first_key` for the first value (None: the positions start at 0)."""
    args = list(args)
    out: dict[str, Any] = {}
    if first_key is not None and args:
        out[first_key] = args.pop(0)
    out.update({str(i): a for i, a in enumerate(args)})
    out.update(kwargs)
    return out


def call_maker(fn: Callable[..., Any], first: Any, args: tuple, kwargs: dict, method: bool) -> MakeCall:
    def make_call() -> tuple[Callable[[], Any], dict[str, Any]]:
        f, a, k = fresh(first), fresh(args), fresh(kwargs)
        return (lambda: fn(f, *a, **k)), keyed("self" if method else None, (f, *a), k)
    return make_call


def module_maker(cls: type, cargs: tuple, ckwargs: dict, fargs: tuple, fkwargs: dict,
                 dtype: torch.dtype, training: bool) -> MakeCall:
    def make_call() -> tuple[Callable[[], Any], dict[str, Any]]:
        torch.default_generator.manual_seed(0)
        m = cls(*cargs, **ckwargs).to(dtype)
        m.train(training)
        a, k = fresh(fargs), fresh(fkwargs)
        inputs = keyed(None, a, k)
        inputs.update(params=list(m.parameters()), buffers=list(m.buffers()))
        return (lambda: m(*a, **k)), inputs
    return make_call


def variant_of(extra: dict[str, Any]) -> str:
    return " ".join(f"{k}={v!r}" for k, v in extra.items())


# --------------------------------------------------------------------------------------------------
# 1. Generic inputs
# --------------------------------------------------------------------------------------------------

# Extra positional argument patterns for the generic probe, where the shared ones never fit.
EXTRA_ARGS: dict[tuple[str, str], list[tuple]] = {
    ("methods", "type"): [(torch.float64,), ("torch.DoubleTensor",), (torch.float32,)],
    ("methods", "to"): [(torch.float64,), (torch.float32,)],
}


def generic_patterns(key: tuple[str, str], x: torch.Tensor, property_like: bool = False,
                     max_positional: int | None = None) -> list[ArgList]:
    """The argument patterns tried after the input x.  `max_positional`: at most that many
    positional arguments (so that a generic value never lands in an `inplace` parameter)."""
    if property_like:
        return [((), {})]
    y = leaf(x.dtype, tuple(x.shape), 1)
    s = scalar_for(x.dtype)
    pats = [((y,), {}), ((s,), {}), ((), {}), ((2,), {}), ((1,), {}), ((0,), {})]
    pats += special_args(key[1].removesuffix("_"), x, y, s) + [(a, {}) for a in EXTRA_ARGS.get(key, ())]
    return [p for p in pats if max_positional is None or len(p[0]) <= max_positional]


def inplace_position(inplace_param: dict[str, int], name: str) -> int | None:
    """The most positional arguments after the input that stay clear of `inplace`."""
    return inplace_param[name] - 1 if name in inplace_param else None


def generic_cases(key: tuple[str, str], fn: Callable[..., Any], measure: Measure, list_input: bool = False,
                  property_like: bool = False, extra_kwargs: Iterable[dict] = (),
                  max_positional: int | None = None) -> None:
    variants = [{}] + list(extra_kwargs)
    for shape in SHAPES:
        for dtype in DTYPES:
            ran = False
            x = leaf(dtype, shape)
            for args, kwargs in generic_patterns(key, x, property_like, max_positional):
                for extra in variants:
                    kw = {**kwargs, **extra}
                    for first in ([x, [x]] if list_input else [x]):
                        label = clean_label(describe(x, args, kw) + (" (as [x])" if first is not x else ""))
                        ran |= measure(Case(key, label, call_maker(fn, first, args, kw, key[0] == "methods"),
                                            int_only=dtype == torch.int64, variant=variant_of(extra)))
            if ran:
                return


# --------------------------------------------------------------------------------------------------
# 2. Hand cases
# --------------------------------------------------------------------------------------------------

# Whole calls for ops whose leading argument is not the tensor or whose signature the generic
# patterns cannot guess: (category, name) -> [() -> (args, kwargs)].  Values are deterministic.
HAND_CASES: dict[tuple[str, str], list[Callable[[], tuple[tuple, dict]]]] = {
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
    # Return flags together, and as_tuple on more than one dim: how long the tuple is depends on them
    # (OpInfo passes one flag at a time, and as_tuple on a 0-dim input only).
    **{(cat, name): [lambda: ((f32(6),), {"return_inverse": True, "return_counts": True}),
                     lambda: ((f32(6),), {"return_inverse": True})]
       for cat in ("torch", "methods") for name in ("unique", "unique_consecutive")},
    **{(cat, "nonzero"): [lambda: ((f32(3, 4),), {"as_tuple": True}), lambda: ((f32(4),), {"as_tuple": True})]
       for cat in ("torch", "methods")},
    # Views whose elements share memory locations (overlapping_results): a zero stride, windows that overlap.
    **{(cat, "as_strided"): [lambda: ((f32(4), (2, 2), (0, 1)), {})] for cat in ("torch", "methods")},
    ("methods", "unfold"): [lambda: ((f32(6), 0, 3, 1), {})],
    ("functional", "multi_head_attention_forward"): [lambda: (
        (f32(2, 3, 4), f32(2, 3, 4), f32(2, 3, 4), 4, 2, f32(12, 4), f32(12), None, None, False,
         0.0, f32(4, 4), f32(4)), {})],
}


def hand_cases(names: dict[str, list[str]], measure: Measure) -> None:
    for (cat, name), cases in sorted(HAND_CASES.items()):
        if name not in names[cat]:
            raise SystemExit(f"HAND_CASES names what this torch does not list: {cat}.{name}")
        fn = method_fn(name) if cat == "methods" else op_fn(cat, name)
        for i, case in enumerate(cases):
            args, kwargs = case()
            measure(Case((cat, name), clean_label(f"hand#{i} {describe(args[0], args[1:], kwargs)}"),
                         call_maker(fn, args[0], tuple(args[1:]), kwargs, cat == "methods")))


# --------------------------------------------------------------------------------------------------
# 3. OpInfo samples
# --------------------------------------------------------------------------------------------------

def _opinfo_samples(op: Any) -> list:
    supported = op.supported_dtypes("cpu")
    dtype = next((d for d in (torch.float64, torch.float32) if d in supported), None)
    if dtype is None:
        return []
    torch.manual_seed(0)
    try:
        return list(itertools.islice(op.sample_inputs("cpu", dtype, requires_grad=True), OPINFO_SAMPLES))
    except Exception:  # noqa: BLE001
        return []


def opinfo_cases(op_db: list, names: dict[str, list[str]], inplace_param: dict[str, int],
                 measure: Measure) -> None:
    method_names, torch_names = set(names["methods"]), set(names["torch"])
    # (`torch.linalg.norm` is named `linalg_norm`: found by identity)
    namespaced = {id(torch_attr(n)): n for n in torch_names if "." in n}
    f_names = set(names["functional"])
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
            elif id(f) in namespaced:
                targets.append((("torch", namespaced[id(f)]), f, []))
            if name in f_names and getattr(F, name, None) is f:
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
                    measure(Case(key, label, call_maker(fn, sample.input, tuple(sample.args), kwargs,
                                                        key[0] == "methods"), variant=variant_of(extra)))


# --------------------------------------------------------------------------------------------------
# 4. Modules
# --------------------------------------------------------------------------------------------------

def load_module_db() -> list:
    load_op_db()  # installs the expecttest stand-in if needed
    from torch.testing._internal.common_modules import module_db

    return module_db


# Modules without a ModuleInfo whose arguments the generic attempts below cannot guess:
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
MODULE_DTYPES = (torch.float64, torch.float32)
MODULE_GENERIC_SHAPES = ((3, 4), (2, 3, 4), (2, 3, 4, 4), (2, 3, 4, 4, 4))


def generic_module_inputs(name: str) -> list[tuple[str, tuple, tuple]]:
    """(constructor label, constructor args, forward inputs) for a class without a ModuleInfo."""
    if name in MODULE_HAND_CASES:
        torch.manual_seed(0)
        ca, fargs = MODULE_HAND_CASES[name]()
        return [("hand", ca, fargs)]
    cases = []
    for shape in MODULE_GENERIC_SHAPES:
        x, y, z = f32(*shape), leaf(torch.float32, shape, 1), f32(*shape)
        for ca in MODULE_GENERIC_CTOR:
            cases += [(repr(ca), ca, (x,)), (repr(ca), ca, (x, y)), (repr(ca), ca, (x, y, z))]
    cases += [(repr(ca), ca, (torch.tensor([[0, 1], [2, 1]]),)) for ca in MODULE_GENERIC_CTOR]
    return cases


def _module_case(name: str, label: str, maker: MakeCall, extra: dict, training: bool,
                 flags: frozenset[str] = frozenset()) -> Case:
    return Case(("modules", name), label, maker, variant=variant_of(extra), mode="train" if training else "eval",
                ctor_flags=flags)


def module_cases(names: list[str], modules_inplace: dict[str, int], measure: Measure) -> None:
    wanted = set(names)
    covered = set()
    for mi in load_module_db():
        cls = mi.module_cls
        if cls.__name__ not in wanted or getattr(torch.nn, cls.__name__) is not cls:
            continue
        covered.add(cls.__name__)
        extras = [{}] + ([{"inplace": True}] if cls.__name__ in modules_inplace else [])
        # float32 too: the dtype models run in picks other kernels (CPU LSTM: mkldnn in float32,
        # which saves its output; the native float64 one does not).
        for training, dtype in itertools.product((True, False), MODULE_DTYPES):
            try:
                inputs = mi.module_inputs_func(mi, device="cpu", dtype=dtype,
                                               requires_grad=True, training=training)
            except Exception:  # noqa: BLE001
                continue
            inputs = [i for i in inputs if i.forward_input is not None][:MODULE_SAMPLES]
            for n, mod_in in enumerate(inputs):
                c, f = mod_in.constructor_input, mod_in.forward_input
                for extra in extras:
                    label = clean_label(f"{'train' if training else 'eval'}{' inplace=True' if extra else ''}"
                                        f" {str(dtype).removeprefix('torch.')} moduleinfo#{n} "
                                        f"{describe(f.args, (), f.kwargs)}")
                    ckwargs = {**c.kwargs, **extra}
                    measure(_module_case(cls.__name__, label, module_maker(
                        cls, tuple(c.args), ckwargs, tuple(f.args), f.kwargs, dtype, training),
                        extra, training, ctor_flags(cls.__name__, tuple(c.args), ckwargs)))
    for name in sorted(wanted - covered):
        cls = getattr(torch.nn, name)
        extras = [{}] + ([{"inplace": True}] if name in modules_inplace else [])
        # A generic constructor value must not land in `inplace` (Hardsigmoid(3) writes in place).
        cases = [c for c in generic_module_inputs(name)
                 if c[0] == "hand" or len(c[1]) <= modules_inplace.get(name, len(c[1]))]
        for training in (True, False):
            ran = 0
            for ctor, ca, fargs in cases:
                if ran >= MODULE_SAMPLES:
                    break
                for extra in extras:
                    label = (f"{'train' if training else 'eval'}{' inplace=True' if extra else ''} "
                             f"{name}{ctor} on {describe(fargs, (), {})}")
                    ran += measure(_module_case(name, label, module_maker(
                        cls, ca, extra, fargs, {}, torch.float32, training), extra, training,
                        ctor_flags(name, ca, extra)))


# --------------------------------------------------------------------------------------------------
# 5. Degenerate arguments
# --------------------------------------------------------------------------------------------------

def _parameters(fn: Callable[..., Any]) -> list[str]:
    try:
        return list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return []


def degenerate_cases(names: dict[str, list[str]], inplace_param: dict[str, int], measure: Measure) -> None:
    """p=0.0 / training=False, by keyword, where the signature has them: float32 inputs of the
    generic shapes and patterns, up to the first shape on which something ran."""
    for name in names["functional"]:
        params = _parameters(getattr(F, name))
        extras = [{k: v} for k, v in DEGENERATE_KWARGS.items() if k in params]
        for extra in extras:
            for shape in SHAPES:
                x = leaf(torch.float32, shape)
                ran = False
                for args, kwargs in generic_patterns(("functional", name), x,
                                                     max_positional=min(params.index(k) for k in extra) - 1):
                    kw = {**kwargs, **extra}
                    ran |= measure(Case(("functional", name), clean_label(describe(x, args, kw)),
                                        call_maker(getattr(F, name), x, args, kw, False),
                                        variant=variant_of(extra)))
                if ran:
                    break
    for name in names["modules"]:
        cls = getattr(torch.nn, name)
        if "p" not in _parameters(cls.__init__):
            continue
        for shape in MODULE_GENERIC_SHAPES:  # one input; two-input classes (losses) do not run
            fargs = (f32(*shape),)
            label = f"train p=0.0 {name}(p=0.0) on {describe(fargs, (), {})}"
            measure(_module_case(name, label, module_maker(cls, (), {"p": 0.0}, fargs, {}, torch.float32, True),
                                 {"p": 0.0}, True))


def run(names: dict[str, list[str]], op_db: list, inplace_param: dict[str, int],
        modules_inplace: dict[str, int], measure: Measure) -> None:
    """Every case, in the order of the module docstring."""
    for name in names["methods"]:
        prop = is_property(name)
        generic_cases(("methods", name), method_fn(name, prop), measure, property_like=prop)
    for name in names["torch"]:
        generic_cases(("torch", name), torch_attr(name), measure, list_input=True)
    for name in names["functional"]:
        extra = [{"inplace": True}] if name in inplace_param else []
        generic_cases(("functional", name), getattr(F, name), measure, extra_kwargs=extra,
                      max_positional=inplace_position(inplace_param, name))
    hand_cases(names, measure)
    opinfo_cases(op_db, names, inplace_param, measure)
    module_cases(names["modules"], modules_inplace, measure)
    degenerate_cases(names, inplace_param, measure)
