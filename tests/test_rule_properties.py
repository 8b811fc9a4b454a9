"""Per rule, over dtypes, shapes, leaves, views and aliases: a SAFE rewrite computes what the original
computed, with torch, in process.

Each example is a small function in one of the code shapes the rules see (`x += y` with `x` and `y`
of various origins, `x.op_(y)`, `torch.op_(x)`, `F.relu(x, inplace=True)`, `out=`, `x[mask] = v`,
`x.fill_(v)`), called on generated tensors (bool, int64, float16/32/64, complex64; shapes that
broadcast and shapes that don't; with and without requires_grad). The engine rewrites it with the
safe policy (with and without --clone). Then, for every input:

- the original ran: the rewrite runs and returns identical values (dtype, shape, bits), leaves the
  caller's tensors identical, and gives identical gradients;
- the original raised an in-place autograd error: the rewrite computes what the oracle computed
  (the original with every saved tensor cloned, design.md §4), or still raises the same error;
- the original raised anything else: the rewrite raises the same exception type.

An unsafe fix is allowed to differ (that is what unsafe means) and is not run here; the goldens
show where it does (test_rule_golden_runs.py). The only `except` records what the *code under
test* raised, and every recorded exception is compared.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, assume, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from outplace.engine import check_source, fix_source  # noqa: E402
from outplace.harness.compare import classify_inplace_error  # noqa: E402
from outplace.harness.tensordiff import diff_tensor  # noqa: E402
from outplace.findings import HAZARDS
from outplace.settings import Settings  # noqa: E402

SAFE_POLICIES = (Settings(hazards=HAZARDS), Settings(hazards=HAZARDS, clone=True))
DTYPES = (torch.bool, torch.int64, torch.float16, torch.float32, torch.float64, torch.complex64)
# (shape of a, shape of b): same; b broadcasts into a; b is larger (in place raises); incompatible; 0-d b.
SHAPES = (((2, 3), (2, 3)), ((2, 3), (3,)), ((3,), (2, 3)), ((2,), (3,)), ((2, 3), ()), ((3, 3), (3, 3)))
HEADER = "import torch\nimport torch.nn.functional as F\n\n\ndef f(a: torch.Tensor, b: torch.Tensor):\n"

# Where the written tensor `x` comes from, and what the function returns besides `x`.
ORIGINS = {
    "clone": ("x = a.clone()", ""),
    "clone2": ("x = a.clone()", ""),  # fresh origins twice: they are the ones with safe fixes
    "tanh": ("x = torch.tanh(a)", ""),
    "arith": ("x = a * 2", ""),
    "sigmoid": ("x = torch.sigmoid(a)", ""),
    "exp": ("x = torch.exp(a)", ""),
    "sum": ("x = a + b", ""),
    "param": ("x = a", ""),  # the caller's tensor (a leaf when it requires grad)
    "alias": ("x = a.clone()\nz = x", ", z"),
    "view": ("base = a.clone()\nx = base[0]", ", base"),
    "saved": ("x = a.clone()\ns = x * b", ", s"),  # mul saves x: a write breaks s's backward
}
OPERANDS = ("b", "2", "0.5", "True", "-1", "1j", "b * 2", "b.sum()", "(b > 0)")
AUG_OPS = ("+", "-", "*", "/", "//", "%", "**", "&", "|", "^", "<<", ">>")
BINARY_METHODS = ("add", "sub", "mul", "div", "pow", "remainder", "maximum", "eq", "gt", "lt", "logical_and",
                  "bitwise_or", "atan2", "fmod", "copysign")
UNARY_METHODS = ("relu", "exp", "sigmoid", "tanh", "neg", "abs", "sqrt", "floor", "cumsum(0)", "clamp(min=0)",
                 "clamp(0, 1)", "round", "sign", "logical_not", "bitwise_not", "nan_to_num", "t")
TORCH_FUNCTIONS = ("relu", "sigmoid", "tanh", "exp", "abs", "neg", "sqrt", "floor", "clamp(min=0)")
INPLACE_ARG = ("relu", "relu6", "elu", "selu", "silu", "hardtanh", "leaky_relu", "hardswish", "mish",
               "celu", "hardsigmoid", "threshold(x, 0.5, 0.0", "dropout(x, 0.5, False")
OUT_FUNCTIONS = ("add", "mul", "sub", "div", "maximum")
MASKS = ("x > 0", "x != x", "x < 0.5", "torch.isnan(x)", "x.isnan()", "~(x > 0)", "(x > 0) & (x < 1)", "b > 0",
         "x > b", "torch.isnan(b)", "b.isnan()", "0", "slice(None)", "x[0] > 0")
# In-place forms that differentiate complex tensors where the out-of-place twin raises "does not
# support automatic differentiation for outputs with complex dtype" (torch 2.13).
COMPLEX_AUTOGRAD_ONLY_IN_PLACE = ("silu", "nan_to_num")
FILL_VALUES = ("0", "0.5", "True", "-1", "b.sum()", "float('nan')")


def rule_statements(rule: str, draw) -> list[str]:
    """One or two statements writing `x` in the rule's shapes."""
    y = draw(st.sampled_from(OPERANDS))
    if rule == "OP101":
        return [f"x {draw(st.sampled_from(AUG_OPS))}= {y}"]
    if rule == "OP102":
        kind = draw(st.sampled_from(("binary", "unary", "value", "chain")))
        if kind == "unary":
            m = draw(st.sampled_from(UNARY_METHODS))
            name, _, args = m.partition("(")
            return [f"x.{name}_({args.rstrip(')')})" if args else f"x.{m}_()"]
        m = draw(st.sampled_from(BINARY_METHODS))
        if kind == "value":
            return [f"u = x.{m}_({y})", "x = x + 0 if False else x"]
        if kind == "chain":
            return [f"x.{m}_({y}).add_(1)"]
        return [f"x.{m}_({y})"]
    if rule == "OP103":
        fn = draw(st.sampled_from(TORCH_FUNCTIONS))
        name, _, args = fn.partition("(")
        call = f"torch.{name}_(x{', ' + args.rstrip(')') if args else ''})"
        return [draw(st.sampled_from((call, f"u = {call}")))]
    if rule == "OP104":
        fn = draw(st.sampled_from(INPLACE_ARG))
        call = f"F.{fn}, inplace=True)" if "(" in fn else f"F.{fn}(x, inplace=True)"
        return [draw(st.sampled_from((call, f"u = {call}")))]
    if rule == "OP105":
        fn = draw(st.sampled_from(OUT_FUNCTIONS))
        return [f"torch.{fn}(a, {y}, out=x)"]
    if rule == "OP106":
        mask = draw(st.sampled_from(MASKS))
        v = draw(st.sampled_from(FILL_VALUES + ("b",)))
        write = f"x[{mask}] {draw(st.sampled_from(('=', '+=')))} {v}"
        between = draw(st.sampled_from(("", "x = x.t()", "x = x * 2", "y = x.t()")))
        if draw(st.booleans()):  # the mask by name, maybe with `x` rebound before the write
            return [f"m = {mask}", *([between] if between else []), write.replace(f"[{mask}]", "[m]", 1)]
        return [write]
    if rule == "OP107":
        form = draw(st.sampled_from(("fill", "zero", "copy", "diagonal")))
        v = draw(st.sampled_from(FILL_VALUES))
        return {"fill": [f"x.fill_({v})"], "zero": ["x.zero_()"], "copy": [f"x.copy_({y})"],
                "diagonal": [f"x.fill_diagonal_({v})"]}[form]
    raise AssertionError(rule)


def program(rule: str, origin: str, statements: list[str]) -> str:
    setup, extra = ORIGINS[origin]
    body = "\n".join([setup, *statements, f"return x{extra}" + (", u" if any(s.startswith("u = ") for s in statements) else "")])
    return HEADER + textwrap.indent(body, "    ") + "\n"


@dataclass
class Run:
    raised: type | None = None
    message: str = ""
    values: list = field(default_factory=list)  # (name, tensor): outputs, the caller's tensors, grads

    @property
    def inplace_error(self) -> str | None:
        return classify_inplace_error(self.message) if self.raised else None


def make_inputs(dtype_a, dtype_b, shapes, grad: bool, seed: int):
    g = torch.Generator().manual_seed(seed)

    def make(shape, dtype):
        t = torch.randn(shape, generator=g, dtype=torch.float64) * 3
        if dtype == torch.bool:
            return t > 0
        if dtype.is_complex:
            return torch.complex(t, t.flip(-1) if t.dim() else t).to(dtype)
        return t.to(dtype)

    a, b = make(shapes[0], dtype_a), make(shapes[1], dtype_b)
    if grad and (a.is_floating_point() or a.is_complex()):
        a.requires_grad_()
    return a, b


def execute(source: str, inputs, *, oracle: bool = False) -> Run:
    namespace: dict = {}
    exec(compile(source, "<property>", "exec"), namespace)
    a, b = (t.detach().clone().requires_grad_(t.requires_grad) for t in inputs)
    hooks = (torch.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t) if oracle
             else _nothing())
    torch.manual_seed(0)
    try:
        with hooks:
            out = namespace["f"](a, b)
            outputs = out if isinstance(out, tuple) else (out,)
            roots = [(t.real if t.is_complex() else t).sum() for t in outputs
                     if isinstance(t, torch.Tensor) and t.requires_grad]
            if roots:
                torch.autograd.backward(roots)
    except Exception as exc:  # noqa: BLE001 - what the code under test raised: compared by the caller
        return Run(type(exc), str(exc))
    values = [(f"output[{i}]", t.detach()) for i, t in enumerate(outputs) if isinstance(t, torch.Tensor)]
    values += [("a", a.detach()), ("b", b.detach())]
    if a.grad is not None:
        values.append(("a.grad", a.grad))
    return Run(values=values)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def differences(ref: Run, new: Run) -> list[str]:
    """Forward values and the caller's tensors: identical bits (the harness's comparison).
    Gradients: within a few units in the last place, since in-place and out-of-place backward
    formulas may round differently (`elu_` differentiates through its result, `elu` its input)."""
    found = [n for n, _ in ref.values if n not in dict(new.values)]
    new_values = dict(new.values)
    for name, t in ref.values:
        if name in new_values:
            grad = name.endswith(".grad")
            tol = 8 * torch.finfo(t.dtype).eps if grad and (t.is_floating_point() or t.is_complex()) else 0.0
            d = diff_tensor(torch, name, "grad" if grad else "value", t, new_values[name], rtol=tol, atol=tol)
            if d is not None:
                found.append(f"{name}: {d['kind']} {d['detail']}")
    return found


def assert_same_behaviour(original: str, rewritten: str, inputs) -> None:
    before, after = execute(original, inputs), execute(rewritten, inputs)
    context = f"\n--- original\n{original}--- safe rewrite\n{rewritten}inputs: " + ", ".join(
        f"{t.dtype} {tuple(t.shape)}{' requires_grad' if t.requires_grad else ''}" for t in inputs)
    if before.raised is None:
        assert after.raised is None, f"the original ran; the rewrite raised {after.raised.__name__}: {after.message}{context}"
        assert not differences(before, after), f"{differences(before, after)}{context}"
    elif before.inplace_error:
        # The reference is the forward as executed: the original with every saved tensor cloned.
        reference = execute(original, inputs, oracle=True)
        if after.raised is not None and after.inplace_error == before.inplace_error:
            return  # not fixed, not changed either
        if reference.raised is None:
            assert after.raised is None, f"the oracle ran; the rewrite raised {after.message}{context}"
            assert not differences(reference, after), f"vs the oracle: {differences(reference, after)}{context}"
        elif not reference.inplace_error:  # past the in-place error the original would have failed anyway
            assert after.raised is reference.raised, f"the oracle raised {reference.message}; the rewrite " \
                f"{after.message or 'ran'}{context}"
        # else: raised at the op (leaf, view): nothing to compare a rewrite that runs with
    else:
        assert after.raised is before.raised, (
            f"the original raised {before.raised.__name__}: {before.message}; the rewrite "
            f"{'ran' if after.raised is None else 'raised ' + after.raised.__name__}{context}")


def known_bug(source: str, inputs) -> bool:
    """Inputs that hit a bug already pinned by a strict xfail test below (so the property looks for
    new ones): complex tensors, where the rewrite's op behaves differently from the in-place one."""
    if not inputs[0].is_complex():
        return False
    float_only = ("torch.sigmoid(a)", "torch.exp(a)", "torch.tanh(a)")
    if any(origin in source for origin in float_only) and "abs" in source:
        return True  # test_complex_results_of_float_only_ops
    return inputs[0].requires_grad and any(op in source for op in COMPLEX_AUTOGRAD_ONLY_IN_PLACE)


@st.composite
def examples(draw, rule: str):
    origin = draw(st.sampled_from(tuple(ORIGINS)))
    source = program(rule, origin, rule_statements(rule, draw))
    inputs = make_inputs(draw(st.sampled_from(DTYPES)), draw(st.sampled_from(DTYPES)), draw(st.sampled_from(SHAPES)),
                         draw(st.booleans()), draw(st.integers(0, 3)))
    assume(not known_bug(source, inputs))
    return source, inputs


RULES = ("OP101", "OP102", "OP103", "OP104", "OP105", "OP106", "OP107")
# Draws per rule; scripts/mutation.py asks for fewer (each mutant runs this file once).
EXAMPLES = int(os.environ.get("OUTPLACE_PROPERTY_EXAMPLES", "400"))


@pytest.mark.parametrize("rule", RULES)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_a_safe_rewrite_computes_what_the_original_computed(rule: str, data) -> None:
    source, inputs = data.draw(examples(rule))
    for policy in SAFE_POLICIES:
        rewritten = fix_source(source, policy).output
        event(f"clone={policy.clone}: {'safe rewrite' if rewritten != source else 'no safe fix'}")
        if rewritten != source:
            assert_same_behaviour(source, rewritten, inputs)


# Not vacuous: in each rule's shapes, fresh locals do get safe fixes, which the property then runs.
SAFE_EXAMPLES = {
    "OP101": "x = torch.sigmoid(a)\nx *= 2",
    "OP102": "x = torch.sigmoid(a)\nx.mul_(2)",
    "OP103": "x = torch.exp(a)\ntorch.relu_(x)",
    "OP104": "x = torch.sigmoid(a)\nF.relu(x, inplace=True)",
    "OP106": "x = torch.sigmoid(a)\nx[x > 0.5] = 0",
    "OP107": "x = torch.tanh(a)\nx.fill_(0.5)",
}


@pytest.mark.parametrize("rule", sorted(SAFE_EXAMPLES))
def test_each_rule_has_safe_fixes_in_the_generated_shapes(rule: str) -> None:
    source = HEADER + textwrap.indent(SAFE_EXAMPLES[rule] + "\nreturn x", "    ") + "\n"
    assert any(f.code == rule and f.fix and f.fix.is_safe for f in check_source(source, Settings(hazards=HAZARDS))), source
    rewritten = fix_source(source, Settings(hazards=HAZARDS)).output
    assert rewritten != source
    for dtype in (torch.float16, torch.float32, torch.float64):
        for grad in (False, True):
            assert_same_behaviour(source, rewritten, make_inputs(dtype, dtype, ((2, 3), (2, 3)), grad, 0))


# The surviving mutant of issue 12: `m /= 2` on an integer tensor raises in place; `m = m / 2` would
# silently return floats. Wherever the dtype is not known to be floating, the fix must be unsafe.
INTEGER_TRAPS = [
    ("x = a * 2", "x /= 2"), ("x = a * 2", "x /= b"), ("x = a.clone()", "x.div_(2)"), ("x = a + b", "x **= 0.5"),
    ("x = a * 2", "x.exp_()"), ("x = a.clone()", "x.sqrt_()"), ("x = a * 2", "x += 0.5"), ("x = a.clone()", "x.mul_(0.5)"),
    ("x = a * 2", "x.sigmoid_()"), ("x = a.clone()", "x[x > 0] = 0.5"), ("x = a * 2", "x.fill_(0.5)"),
    ("x = a * 2", "torch.sigmoid_(x)"), ("x = a.clone()", "x *= 1j"),
]


@pytest.mark.parametrize("setup,write", INTEGER_TRAPS)
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.float16], ids=str)
def test_integer_writes_that_would_change_dtype_are_never_safe(setup: str, write: str, dtype) -> None:
    # `s = x * b` saves x for backward, so the write is a finding (not a harmless write nothing saved).
    source = HEADER + textwrap.indent(f"{setup}\ns = x * b\n{write}\nreturn x, s", "    ") + "\n"
    assert any(f.line == 8 for f in check_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True))), "not even reported"
    for policy in SAFE_POLICIES:
        rewritten = fix_source(source, policy).output
        if rewritten != source:
            assert_same_behaviour(source, rewritten, make_inputs(dtype, dtype, ((2, 3), (2, 3)), False, 1))


# The result of a float-only op (`torch.sigmoid(a)`) is complex for a complex `a`, and no dtype is
# known to be real: the ops whose two forms part on a complex tensor (optable.complex_traps: `abs_`
# raises in place where `abs` computes; in-place `silu` differentiates complex where `F.silu` raises)
# get no safe fix on a tensor not known to be an integer or bool one (eval49 D1, D2).
@pytest.mark.parametrize("write", ["torch.abs_(x)", "x.abs_()", "F.silu(x, inplace=True)"])
def test_complex_results_of_float_only_ops(write: str) -> None:
    source = HEADER + textwrap.indent(f"x = torch.sigmoid(a)\n{write}\nreturn x", "    ") + "\n"
    rewritten = fix_source(source, Settings(hazards=HAZARDS)).output
    for grad in (False, True):
        assert_same_behaviour(source, rewritten, make_inputs(torch.complex64, torch.complex64, ((2, 3), (2, 3)), grad, 0))


# `F.silu` and `nan_to_num` refuse complex autograd out of place while their in-place forms
# differentiate it (optable.complex_traps, measured by scripts/generate_optable.py): no safe fix on
# a tensor of unknown dtype, with unsafe fixes it is offered with that reason.
@pytest.mark.parametrize("setup,write", [("x = a.clone()\ns = x * b", "F.silu(x, inplace=True)"),
                                         ("x = torch.tanh(a)", "x.nan_to_num_()")])
def test_complex_autograd_only_in_place(setup: str, write: str) -> None:
    source = HEADER + textwrap.indent(f"{setup}\n{write}\nreturn x", "    ") + "\n"
    rewritten = fix_source(source, Settings(hazards=HAZARDS)).output
    found = [f for f in check_source(source, Settings(hazards=HAZARDS, unsafe_fixes=True)) if f.fix is not None]
    assert found and any("not known to be a real tensor" in r for f in found for r in f.fix.reasons), found
    assert_same_behaviour(source, rewritten, make_inputs(torch.complex64, torch.complex64, ((2, 3), (2, 3)), True, 0))
