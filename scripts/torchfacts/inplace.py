"""In-place ops and their out-of-place forms: `methods`, `functions`, `functional`,
`modules_inplace`, the dtype class of each rewrite, and the checks of templates and OpInfo values."""

from __future__ import annotations

import collections
import inspect
from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F

from .common import attempt, describe, note, same_values
from .inputs import PROBE_DTYPES, PROBE_SHAPES, arg_lists, is_integral, make, scalar_for
from .schemas import writes_first_argument

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


# --------------------------------------------------------------------------------------------------
# The dtype class of a rewrite: both forms side by side
# --------------------------------------------------------------------------------------------------


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
