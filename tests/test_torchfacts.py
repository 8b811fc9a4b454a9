"""The measured facts the judgement core reads: `saves_inputs`, `saved_when`, the aliasing of
functionals and modules, `tensor_only_methods`, the shape facts and `no_grad_output`.  Each textbook row is checked
both ways: what the table says, and what torch does when the row is exercised; the verifier
(`scripts/verify_optable.py --facts`) must find a tampered row."""

from __future__ import annotations

import ast
import copy
import importlib
import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import pytest

from outplace.analysis.effects import TorchEffects
from outplace.optable import RETURN, OpTable, load_optable

torch = pytest.importorskip("torch")
F, nn = torch.nn.functional, torch.nn

ROOT = Path(__file__).resolve().parent.parent
INPLACE_ERROR = "modified by an inplace operation"


@pytest.fixture(scope="module")
def table() -> OpTable:
    return load_optable()


def t(*shape: int) -> Any:
    """A float tensor that requires grad and is not a leaf (writes into it are allowed)."""
    n = 1
    for s in shape:
        n *= s
    return torch.linspace(0.1, 0.9, n).reshape(shape).requires_grad_().clone()


def write_breaks_backward(outputs: Any, written: Any) -> bool:
    """Write into `written` (in place, values unchanged), then backward through `outputs`: True when
    backward raised the in-place error, False when it ran."""
    with torch.no_grad():
        for w in written if isinstance(written, (list, tuple)) else [written]:
            if w.dtype == torch.bool:
                w.bitwise_or_(False)
            else:
                w.add_(0)
    outs = [outputs] if isinstance(outputs, torch.Tensor) else [o for o in outputs if isinstance(o, torch.Tensor)]
    try:
        sum(o.float().sum() for o in outs if o.requires_grad).backward()
    except RuntimeError as e:
        assert INPLACE_ERROR in str(e)
        return True
    return False


# --- saves_inputs -------------------------------------------------------------------------------

def _linear() -> tuple[Any, Any]:
    x = t(3, 4)
    return nn.Linear(4, 2)(x), x


def _linear_params() -> tuple[Any, Any]:
    m = nn.Linear(4, 2)
    return m(t(3, 4)), list(m.parameters())


def _batch_norm_buffers() -> tuple[Any, Any]:
    m = nn.BatchNorm1d(4).train()
    return m(t(3, 4)), list(m.buffers())[:2]


def _pair(fn: Callable[[Any, Any], Any], which: int) -> Callable[[], tuple[Any, Any]]:
    def run() -> tuple[Any, Any]:
        a, b = t(3, 4), t(3, 4)
        return fn(a, b), (a, b)[which]
    return run


def _one(fn: Callable[[Any], Any], *shape: int) -> Callable[[], tuple[Any, Any]]:
    def run() -> tuple[Any, Any]:
        x = t(*(shape or (3, 4)))
        return fn(x), x
    return run


# (category, name, scalar_operands, inplace, input key, the call -> (outputs, the input written))
SAVED_INPUT_CASES = [
    ("methods", "exp", True, False, "self", _one(lambda x: x.exp())),
    ("methods", "mul", True, False, "self", _one(lambda x: x.mul(2))),
    ("methods", "mul", False, False, "self", _pair(lambda a, b: a.mul(b), 0)),
    ("methods", "mul", False, False, "0", _pair(lambda a, b: a.mul(b), 1)),
    ("methods", "mul", False, False, "other", _pair(lambda a, b: a.mul(other=b), 1)),
    ("methods", "div", True, False, "self", _one(lambda x: x.div(2))),
    ("methods", "div", False, False, "0", _pair(lambda a, b: a.div(b), 1)),
    ("methods", "pow", True, False, "self", _one(lambda x: x.pow(2))),
    ("torch", "pow", True, False, "0", _one(lambda x: torch.pow(x, 2))),
    ("torch", "mul", False, False, "other", _pair(lambda a, b: torch.mul(input=a, other=b), 1)),
    ("torch", "add", False, False, "0", _pair(torch.add, 0)),
    ("torch", "sub", False, False, "1", _pair(torch.sub, 1)),
    ("torch", "cat", False, False, "0", _pair(lambda a, b: torch.cat([a, b]), 0)),
    ("torch", "matmul", False, False, "0", _pair(lambda a, b: torch.matmul(a, b.T), 0)),
    ("torch", "where", False, False, "condition", lambda: (lambda c: (torch.where(c, t(3, 4), t(3, 4)), c))(
        torch.tensor([[True, False, True, False]] * 3))),
    ("methods", "masked_fill", False, False, "mask", lambda: (lambda m: (t(3, 4).masked_fill(m, 0.0), m))(
        torch.tensor([[True, False, True, False]] * 3))),
    ("functional", "relu", False, False, "0", _one(F.relu)),
    ("functional", "relu", False, True, "0", _one(lambda x: F.relu(x, inplace=True))),
    ("functional", "gelu", True, False, "0", _one(F.gelu)),
    ("functional", "linear", False, False, "0", _pair(lambda a, b: F.linear(a, b), 0)),
    ("functional", "linear", False, False, "weight", _pair(lambda a, b: F.linear(a, weight=b), 1)),
    ("functional", "conv2d", False, False, "0", lambda: (lambda x: (F.conv2d(x, t(2, 3, 2, 2)), x))(t(1, 3, 4, 4))),
    ("modules", "Linear", False, False, "0", _linear),
    ("modules", "Linear", False, False, "params", _linear_params),
    ("modules", "BatchNorm1d", False, False, "buffers", _batch_norm_buffers),
    ("modules", "ReLU", False, False, "0", _one(nn.ReLU())),
    ("modules", "ReLU", False, True, "0", _one(nn.ReLU(inplace=True))),
    ("modules", "Tanh", False, False, "0", _one(nn.Tanh())),
]


@pytest.mark.parametrize(
    "cat,name,scalar,inplace,key,run", SAVED_INPUT_CASES,
    ids=[f"{c[0]}.{c[1]}{'-scalar' if c[2] else ''}{'-inplace' if c[3] else ''}[{c[4]}]" for c in SAVED_INPUT_CASES])
def test_saved_inputs_hold_in_torch(table: OpTable, cat: str, name: str, scalar: bool, inplace: bool, key: str,
                                    run: Callable[[], tuple[Any, Any]]) -> None:
    """Writing into the input breaks backward exactly when the table says autograd saved it."""
    saved = table.saved_inputs(cat, name, scalar_operands=scalar, inplace=inplace)
    assert saved is not None, f"{cat}.{name} is unknown"
    torch.manual_seed(0)
    outputs, written = run()
    assert write_breaks_backward(outputs, written) == (key in saved), sorted(saved)


def test_textbook_saving(table: OpTable) -> None:
    s = table.saved_inputs
    assert s("methods", "exp", True) == frozenset() and "exp" in table.saves_output["methods"]
    assert s("methods", "mul", True) == frozenset() and {"self", "0", "other"} <= s("methods", "mul")
    assert s("methods", "div", True) == frozenset() and {"self", "0"} <= s("methods", "div")
    assert s("methods", "pow", True) == {"self"}
    assert s("torch", "relu") == frozenset() and "relu" in table.saves_output["torch"]
    assert s("functional", "relu") == frozenset() and s("functional", "relu", inplace=True) == {"0", "input"}
    for cat, name in (("torch", "add"), ("torch", "sub"), ("torch", "cat"), ("methods", "add")):
        assert s(cat, name) == frozenset(), name
    assert {"0", "input", "1", "weight"} <= s("functional", "linear")
    assert {"0", "1"} <= s("torch", "matmul") and {"0", "input"} <= s("functional", "conv2d")
    assert {"0", "input", "params"} <= s("modules", "Linear") and {"0", "params"} <= s("modules", "Conv2d")
    assert "params" not in s("modules", "ReLU", inplace=True)
    # Conditional: mul saves nothing with a scalar operand, both with a tensor one.
    assert table.saves_inputs_conditionally("methods", "mul") and not table.saves_inputs_conditionally(
        "methods", "mul", scalar_operands=True)
    assert s("methods", "no_such_method") is None and s("modules", "Sequential") is None


def test_kron_saves_without_a_version_counter(table: OpTable) -> None:
    """Measured surprise: kron saves views of its inputs that do not share their version counter,
    so a write into an input goes unnoticed by backward and silently changes the gradient."""
    assert {"self", "0"} <= table.saved_inputs("methods", "kron")
    assert any("kron" in n and "silently" in n for n in table.notes)
    x, y = t(2, 2), t(2, 2)
    z = torch.kron(x, y)
    (expected,) = torch.autograd.grad(z.sum(), y, retain_graph=True)
    with torch.no_grad():
        x.mul_(3)
    (got,) = torch.autograd.grad(z.sum(), y)  # no error ...
    assert not torch.equal(got, expected)  # ... and another gradient


# --- aliasing -----------------------------------------------------------------------------------

def shares(a: Any, b: Any) -> bool:
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


def test_functional_aliasing_both_ways(table: OpTable) -> None:
    x = t(3, 4)
    dropout = table.may_alias_input["functional"]["dropout"]
    assert {"training=False", "p=0.0", "inplace=True"} <= dropout
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, p=0.0) is x
    torch.manual_seed(0)
    assert not shares(F.dropout(x, 0.5), x)
    assert table.may_return_input("functional", "dropout") is True
    # alpha_dropout's `training` defaults to False: a plain call hands back its input.
    assert "args" in table.may_alias_input["functional"]["alpha_dropout"] and F.alpha_dropout(x, 0.5) is x
    assert table.may_return_input("functional", "relu") is False and not shares(F.relu(x), x)
    assert table.may_return_input("functional", "relu", inplace=True) is True and F.relu(x, inplace=True) is x
    assert "linear" in table.no_input_alias["functional"]
    assert table.may_return_input("functional", "linear") is False
    assert table.may_return_input("functional", "no_such_function") is None


def test_module_aliasing_both_ways(table: OpTable) -> None:
    x = t(3, 4)
    may = table.may_alias_input["modules"]
    assert may["Identity"] == {"always"} and nn.Identity()(x) is x
    assert may["Flatten"] == {"always"} and shares(nn.Flatten(0)(x), x)
    assert {"eval", "p=0.0", "inplace=True"} == may["Dropout"]
    assert nn.Dropout(0.5).eval()(x) is x and nn.Dropout(0.0).train()(x) is x
    torch.manual_seed(0)
    assert not shares(nn.Dropout(0.5).train()(x), x)
    assert may["ReLU"] == {"inplace=True"} and nn.ReLU(inplace=True)(x) is x and nn.ReLU()(x) is not x
    # Measured surprise: nn.AlphaDropout accepts inplace= and ignores it.
    assert "inplace=True" not in may["AlphaDropout"]
    torch.manual_seed(0)
    assert not shares(nn.AlphaDropout(0.5, inplace=True).train()(x), x)
    assert "Linear" in table.no_input_alias["modules"] and not shares(nn.Linear(4, 4)(x), x)
    # What analysis/infer.py's hand-written ALIASING_MODULES holds, now measured.
    assert table.modules_returning_input() >= {"Identity", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                               "AlphaDropout", "FeatureAlphaDropout", "Flatten", "Unflatten"}
    assert not table.modules_returning_input() & {"ReLU", "Linear", "Conv2d", "LeakyReLU"}


SELF_RETURNING = {
    "to": lambda x: x.to(x.dtype), "float": lambda x: x.float(), "contiguous": lambda x: x.contiguous(),
    "type_as": lambda x: x.type_as(x), "reshape": lambda x: x.reshape(x.shape), "expand_as": lambda x: x.expand_as(x),
    "view_as": lambda x: x.view_as(x), "flatten": lambda x: x.flatten(), "detach": lambda x: x.detach(),
}


@pytest.mark.parametrize("name", sorted(SELF_RETURNING))
def test_may_return_self_methods_are_alias(table: OpTable, name: str) -> None:
    x = torch.arange(4.0)
    assert shares(SELF_RETURNING[name](x), x)
    assert name in table.tensor_methods["alias"]


# --- tensor_only_methods ------------------------------------------------------------------------

def test_tensor_only_methods(table: OpTable) -> None:
    numpy = pytest.importorskip("numpy")
    only = table.tensor_only_methods
    assert {"masked_fill", "unsqueeze", "detach", "numel", "softmax", "index_select", "requires_grad",
            "register_hook", "add_", "mul_"} <= only
    # On numpy arrays (sum, reshape, T, shape), nn.Module (cuda, to, float, half), str/list (index, count).
    assert not {"sum", "reshape", "T", "shape", "mean", "cuda", "to", "float", "half", "cpu", "index",
                "count", "copy", "item", "tolist", "real"} & only
    others = (numpy.ndarray, numpy.generic, nn.Module, list, tuple, dict, str, bytes, set, int, float, bool)
    for name in only:
        assert hasattr(torch.Tensor, name), name
        assert not any(hasattr(o, name) for o in others), name


# --- method_max_positional ---------------------------------------------------------------------

def test_method_max_positional_both_ways(table: OpTable) -> None:
    bounds = table.method_max_positional
    assert bounds["dot"] == 1 and bounds["mul"] == 1 and bounds["zero_"] == 0 and bounds["item"] == 0
    assert bounds["transpose"] == 2 and bounds["index_select"] == 2
    # Sizes and dims given one by one: any number (`t.view(2, 3)`, `t.permute(0, 2, 1)`).
    assert not {"view", "permute", "reshape", "expand", "repeat", "new_zeros", "flip", "tile"} & set(bounds)
    t, u = torch.randn(3), torch.randn(3)
    t.dot(u)  # the bound itself is accepted...
    with pytest.raises(TypeError):
        t.dot(u, u)  # ... one more is refused for its count
    torch.randn(2, 3, 4).permute(2, 0, 1)


# --- shape facts --------------------------------------------------------------------------------

def test_shape_preserving_both_ways(table: OpTable) -> None:
    keep = table.shape_preserving
    assert {"exp", "sigmoid", "abs", "neg", "clamp", "relu", "mul", "softmax", "cumsum"} <= keep["methods"]
    assert {"exp", "sigmoid", "tanh", "clamp"} <= keep["torch"]
    assert {"relu", "gelu", "softmax", "leaky_relu"} <= keep["functional"]
    assert {"ReLU", "Sigmoid", "LayerNorm", "Dropout", "Identity"} <= keep["modules"]
    assert not {"squeeze", "t", "sum", "float_power", "double", "argmax", "to_sparse"} & keep["methods"]
    assert not {"Linear", "Conv2d", "Flatten"} & keep["modules"]
    for dtype in (torch.float32, torch.float64):
        for shape in ((1, 4), (2, 3, 4), ()):
            x = torch.rand(shape, dtype=dtype)
            for y in (x.exp(), x.sigmoid(), x.clamp(min=0.5), F.relu(x), nn.ReLU()(x), x.mul(2)):
                assert y.shape == x.shape and y.dtype == dtype
    x = torch.rand(1, 4)
    assert x.squeeze().shape != x.shape and torch.rand(3, 4).t().shape != (3, 4)
    assert x.float_power(2).dtype == torch.float64


def test_keepdim_reductions_both_ways(table: OpTable) -> None:
    kd = table.keepdim_reductions
    for name in ("sum", "mean", "norm", "amax", "logsumexp", "std", "var"):
        assert kd["methods"][name] == "tensor" and kd["torch"][name] == "tensor", name
    assert kd["methods"]["max"] == "tuple" and kd["torch"]["median"] == "tuple"
    assert not {"argmax", "all", "cumsum", "softmax"} & set(kd["methods"])
    x = torch.rand(2, 3, 4, dtype=torch.float64)
    assert x.sum(dim=-1, keepdim=True).shape == (2, 3, 1) and x.norm(dim=(0, -1), keepdim=True).shape == (1, 3, 1)
    assert x.max(dim=1, keepdim=True)[0].shape == (2, 1, 4) and x.std(1, keepdim=True).dtype == torch.float64
    assert x.argmax(dim=-1, keepdim=True).dtype == torch.int64


# --- no_grad_output ------------------------------------------------------------------------------

def test_no_grad_output_both_ways(table: OpTable) -> None:
    none = table.no_grad_output
    assert {"argmax", "argsort", "eq", "gt", "isnan", "detach", "long", "new_zeros", "nonzero"} <= none["methods"]
    assert {"argmax", "argsort", "eq", "detach", "searchsorted"} <= none["torch"]
    assert not {"sign", "round", "floor", "abs", "exp", "float", "max", "sort"} & none["methods"]
    x = t(3, 4)
    for y in (x.argmax(), x.argsort(), x.eq(0.5), x.detach(), x.long(), x.new_zeros(2)):
        assert not y.requires_grad
    for y in (x.sign(), x.round(), x.floor(), x.float()):
        assert y.requires_grad


# --- saved_output_positions: per argument pattern, per tuple position ------------------------------

def _pool(return_indices: bool) -> Callable[[Any], Any]:
    return lambda x: nn.MaxPool2d(2, return_indices=return_indices)(x)


# (category, name, pattern, the call on fresh inputs (two (3, 4) tensors; the first 4-D for pooling))
SAVED_OUTPUT_CASES = [
    ("methods", "exp", "scalar", lambda a, b: a.exp()),
    ("torch", "max", "tensors", lambda a, b: torch.max(a, b)),
    ("torch", "min", "tensors", lambda a, b: torch.min(a, b)),
    ("torch", "max", "scalar", lambda a, b: torch.max(a)),
    ("methods", "max", "dim", lambda a, b: a.max(1)),
    ("torch", "max", "dim", lambda a, b: torch.max(a, dim=0)),
    ("methods", "median", "scalar", lambda a, b: a.median()),
    ("methods", "median", "dim", lambda a, b: a.median(1)),
    ("methods", "pow", "scalar", lambda a, b: a.pow(2)),
    ("methods", "pow", "tensors", lambda a, b: a.pow(b)),
    ("torch", "pow", "scalar", lambda a, b: torch.pow(a, 3)),
    ("torch", "sort", "scalar", lambda a, b: torch.sort(a)),
    ("methods", "topk", "scalar", lambda a, b: a.topk(2)),
    ("methods", "kthvalue", "dim", lambda a, b: a.kthvalue(2, 1)),
    ("functional", "max_pool2d", "scalar", lambda a, b: F.max_pool2d(a, 2)),
    ("functional", "max_pool2d", "flags", lambda a, b: F.max_pool2d(a, 2, return_indices=True)),
    ("modules", "MaxPool2d", "scalar", lambda a, b: _pool(False)(a)),
    ("modules", "MaxPool2d", "flags", lambda a, b: _pool(True)(a)),
]


@pytest.mark.parametrize("cat,name,pattern,call", SAVED_OUTPUT_CASES,
                         ids=[f"{c[0]}.{c[1]}-{c[2]}" for c in SAVED_OUTPUT_CASES])
def test_saved_output_positions_hold_in_torch(table: OpTable, cat: str, name: str, pattern: str,
                                              call: Callable[[Any, Any], Any]) -> None:
    """Writing into one position of what the call returned breaks backward exactly when the table
    says autograd saved that position (0 for a single tensor)."""
    saved = table.saved_outputs(cat, name, pattern)
    assert saved is not None, f"{cat}.{name} {pattern} is unknown"
    assert table.saved_output(cat, name, pattern) == bool(saved)
    shape = (1, 2, 4, 4) if "pool" in name.lower() else (3, 4)
    n = len(call(t(*shape), t(3, 4))) if isinstance(call(t(*shape), t(3, 4)), tuple) else 1
    for position in range(n):
        torch.manual_seed(0)
        result = call(t(*shape), t(3, 4))
        parts = list(result) if isinstance(result, tuple) else [result]
        assert write_breaks_backward(parts, parts[position]) == (position in saved), (position, sorted(saved))


def test_saved_output_positions_split_what_saves_output_merges(table: OpTable) -> None:
    """saves_output keeps the union; the patterns tell the overloads apart."""
    so = table.saved_outputs
    for cat in ("methods", "torch"):
        assert {"max", "min", "pow"} <= table.saves_output[cat]
        assert so(cat, "max", "tensors") == so(cat, "min", "tensors") == frozenset()
        assert so(cat, "max", "scalar") == {0} and so(cat, "max", "dim") == {1} and so(cat, "max") == {0, 1}
        assert so(cat, "pow", "scalar") == frozenset() and so(cat, "pow", "tensors") == {0}
        assert so(cat, "sort") == {1} and so(cat, "topk") == {1}
    assert "MaxPool2d" in table.saves_output["modules"] and so("modules", "MaxPool2d", "scalar") == frozenset()
    assert table.saves_output_conditionally("methods", "max") and not table.saves_output_conditionally(
        "methods", "max", "dim")
    # A pattern not measured for a name reads as "any"; "inplace" never does.
    assert so("methods", "exp", "tensors") == so("methods", "exp", "any") == {0}
    assert so("functional", "gelu", "inplace") is None and so("methods", "no_such_method") is None
    for cat, rows in table.saved_output_positions.items():  # the union is the old list, name for name
        assert {n for n, r in rows.items() if any(r.values())} == table.saves_output[cat], cat


# --- tuple_returns --------------------------------------------------------------------------------

def _attention() -> Any:
    return nn.MultiheadAttention(4, 2)(t(3, 1, 4), t(3, 1, 4), t(3, 1, 4))


# (category, name, pattern, the call)
TUPLE_CASES = [
    ("methods", "max", "scalar", lambda: t(3, 4).max()),
    ("methods", "max", "dim", lambda: t(3, 4).max(1)),
    ("torch", "max", "tensors", lambda: torch.max(t(3, 4), t(3, 4))),
    ("torch", "sort", "scalar", lambda: torch.sort(t(3, 4))),
    ("methods", "topk", "scalar", lambda: t(3, 4).topk(2)),
    ("methods", "exp", "scalar", lambda: t(3, 4).exp()),
    ("functional", "max_pool2d", "scalar", lambda: F.max_pool2d(t(1, 1, 4, 4), 2)),
    ("functional", "max_pool2d", "flags", lambda: F.max_pool2d(t(1, 1, 4, 4), 2, return_indices=True)),
    ("modules", "MaxPool2d", "flags", lambda: nn.MaxPool2d(2, return_indices=True)(t(1, 1, 4, 4))),
    ("modules", "MultiheadAttention", "tensors", _attention),
    ("modules", "LSTM", "scalar", lambda: nn.LSTM(4, 3)(t(2, 1, 4))),
    ("modules", "GRU", "scalar", lambda: nn.GRU(4, 3)(t(2, 1, 4))),
    ("modules", "RNN", "scalar", lambda: nn.RNN(4, 3)(t(2, 1, 4))),
    ("modules", "LSTMCell", "tensors", lambda: nn.LSTMCell(4, 3)(t(2, 4), (t(2, 3), t(2, 3)))),
    ("modules", "GRUCell", "tensors", lambda: nn.GRUCell(4, 3)(t(2, 4), t(2, 3))),
    ("modules", "Linear", "scalar", lambda: nn.Linear(4, 3)(t(2, 4))),
]


@pytest.mark.parametrize("cat,name,pattern,call", TUPLE_CASES, ids=[f"{c[0]}.{c[1]}-{c[2]}" for c in TUPLE_CASES])
def test_tuple_returns_hold_in_torch(table: OpTable, cat: str, name: str, pattern: str,
                                     call: Callable[[], Any]) -> None:
    torch.manual_seed(0)
    result = call()
    expected = len(result) if isinstance(result, (tuple, list)) else None
    assert table.returns_tuple(cat, name, pattern) == expected
    assert not table.returns_tuple_conditionally(cat, name, pattern)


def test_tuple_returns_of_variable_length(table: OpTable) -> None:
    x = t(3, 4)
    for name, calls in (("split", (lambda: x.split(2), lambda: x.split(1))),
                        ("unbind", (lambda: x.unbind(), lambda: x.unbind(1))),
                        ("nonzero", (lambda: x.nonzero(as_tuple=True), lambda: x[0].nonzero(as_tuple=True))),
                        ("unique", (lambda: x.unique(return_counts=True),
                                    lambda: x.unique(return_inverse=True, return_counts=True)))):
        lengths = {len(c()) for c in calls}
        assert len(lengths) == 2, name
        pattern = "flags" if name in ("nonzero", "unique") else "any"
        assert table.returns_tuple("methods", name, pattern) == 0, name
    assert table.returns_tuple("methods", "unique", "scalar") is None and not isinstance(x.unique(), tuple)
    # x.max() and x.max(1) meet in "any": a tuple on some calls only.
    assert table.returns_tuple("methods", "max") == 2 and table.returns_tuple_conditionally("methods", "max")
    assert table.returns_tuple("methods", "no_such_method") is None


def test_pattern_args_name_the_positions_that_decide(table: OpTable) -> None:
    args = table.pattern_args
    assert args["methods"]["max"]["dim"] == ("0",) and args["torch"]["max"]["dim"] == ("1",)
    assert args["functional"]["max_pool2d"]["return_indices"] == ("6",)  # a boolean dispatch's True branch
    assert args["modules"]["MaxPool2d"] == {"return_indices": ("4",)}
    assert args["torch"]["unique"]["return_counts"] == ("3",)
    assert {"return_indices", "return_counts", "return_inverse", "as_tuple"} <= table.return_flags
    x = torch.linspace(0.1, 0.9, 12).reshape(3, 4)
    assert torch.equal(torch.max(x, 1).indices, torch.max(x, dim=1).indices)
    assert len(F.max_pool2d(x[None, None], 2, 2, 0, 1, False, True)) == 2  # position 6 is return_indices


# --- inplace_written_saved ------------------------------------------------------------------------

def _relu_module_inplace(x: Any) -> Any:
    return nn.ReLU(inplace=True)(x)


# (category, name, pattern, the in-place call on (x, other))
WRITTEN_CASES = [
    ("methods", "sigmoid_", "scalar", lambda x, w: x.sigmoid_()),
    ("methods", "exp_", "scalar", lambda x, w: x.exp_()),
    ("methods", "pow_", "scalar", lambda x, w: x.pow_(2)),
    ("methods", "pow_", "tensors", lambda x, w: x.pow_(w)),
    ("methods", "mul_", "tensors", lambda x, w: x.mul_(w)),
    ("methods", "mul_", "scalar", lambda x, w: x.mul_(2)),
    ("methods", "add_", "tensors", lambda x, w: x.add_(w)),
    ("torch", "sigmoid_", "scalar", lambda x, w: torch.sigmoid_(x)),
    ("functional", "relu_", "scalar", lambda x, w: F.relu_(x)),
    ("functional", "relu", "inplace", lambda x, w: F.relu(x, inplace=True)),
    ("modules", "ReLU", "inplace", lambda x, w: _relu_module_inplace(x)),
    ("functional", "hardtanh", "inplace", lambda x, w: F.hardtanh(x, inplace=True)),
]


@pytest.mark.parametrize("cat,name,pattern,call", WRITTEN_CASES, ids=[f"{c[0]}.{c[1]}-{c[2]}" for c in WRITTEN_CASES])
def test_inplace_written_saved_holds_in_torch(table: OpTable, cat: str, name: str, pattern: str,
                                              call: Callable[[Any, Any], Any]) -> None:
    """After the in-place call, writing into the tensor it wrote breaks backward exactly when the
    table says autograd saved that tensor (not a copy of its original value)."""
    written = table.inplace_saves_written(cat, name, pattern)
    assert written is not None, f"{cat}.{name} {pattern} is unknown"
    x, w = t(3, 4), t(3, 4)
    out = call(x, w)
    assert out is x
    assert write_breaks_backward(out, x) == written


def test_inplace_written_saved_rows(table: OpTable) -> None:
    w = table.inplace_saves_written
    assert w("methods", "pow_") and w("methods", "pow_", "scalar") is False  # "any" is the union
    assert w("methods", "sigmoid_") and w("methods", "tanh_") and w("torch", "relu_")
    assert w("methods", "mul_") is False and w("methods", "add_") is False and w("methods", "copy_") is False
    assert w("functional", "relu") is None and w("functional", "relu", "inplace") is True
    assert w("modules", "Hardtanh", "inplace") is False and w("modules", "ELU", "inplace") is True
    assert w("methods", "exp") is None  # not an in-place op
    assert any("PowBackward0._saved_self" in n or "pow_" in n for n in (
        json.loads((ROOT / "src/outplace/data/optable_evidence.json").read_text())
        ["inplace_written_saved"]["methods"]["pow_"].values()))


# --- saved_when: which inputs must require grad for each to be saved -------------------------------

Spec = dict[str, Any]  # input key -> a shape (a float tensor), a bool tensor (never requires grad), or a module maker


def _saved_when_inputs(spec: Spec, grads: set[str]) -> dict[str, Any]:
    """Fresh inputs, only the keys in `grads` requiring grad (a module's parameters: key "params")."""
    torch.manual_seed(0)
    out: dict[str, Any] = {}
    for key, what in spec.items():
        if isinstance(what, torch.Tensor):
            out[key] = what.clone()
        elif callable(what):
            out[key] = what().requires_grad_(key in grads)
        else:
            out[key] = t(*what) if key in grads else t(*what).detach()
    return out


def _written(value: Any) -> list[Any]:
    return list(value.parameters()) if isinstance(value, nn.Module) else [value]


MASK = torch.tensor([[True, False, True, False]] * 3)

# (category, name, pattern, inputs by key, the call on them)
SAVED_WHEN_CASES = [
    ("methods", "mul", "tensors", {"self": (3, 4), "0": (3, 4)}, lambda i: i["self"].mul(i["0"])),
    ("methods", "mul", "scalar", {"self": (3, 4)}, lambda i: i["self"].mul(2)),
    ("torch", "mul", "tensors", {"0": (3, 4), "1": (3, 4)}, lambda i: torch.mul(i["0"], i["1"])),
    ("methods", "div", "tensors", {"self": (3, 4), "0": (3, 4)}, lambda i: i["self"].div(i["0"])),
    ("methods", "matmul", "tensors", {"self": (3, 4), "0": (4, 2)}, lambda i: i["self"].matmul(i["0"])),
    ("torch", "matmul", "tensors", {"0": (3, 4), "1": (4, 2)}, lambda i: torch.matmul(i["0"], i["1"])),
    ("torch", "addcmul", "tensors", {"0": (3, 4), "1": (3, 4), "2": (3, 4)},
     lambda i: torch.addcmul(i["0"], i["1"], i["2"])),
    ("torch", "where", "tensors", {"0": MASK, "1": (3, 4), "2": (3, 4)}, lambda i: torch.where(i["0"], i["1"], i["2"])),
    ("functional", "linear", "tensors", {"0": (3, 4), "1": (2, 4), "2": (2,)}, lambda i: F.linear(i["0"], i["1"], i["2"])),
    ("functional", "conv2d", "tensors", {"0": (1, 3, 4, 4), "1": (2, 3, 2, 2), "2": (2,)},
     lambda i: F.conv2d(i["0"], i["1"], i["2"])),
    ("methods", "exp", "scalar", {"self": (3, 4)}, lambda i: i["self"].exp()),
    ("methods", "sigmoid", "scalar", {"self": (3, 4)}, lambda i: i["self"].sigmoid()),
    ("torch", "sigmoid", "scalar", {"0": (3, 4)}, lambda i: torch.sigmoid(i["0"])),
    ("methods", "mul_", "tensors", {"self": (3, 4), "0": (3, 4)}, lambda i: i["self"].mul_(i["0"])),
    ("modules", "Linear", "scalar", {"0": (3, 4), "params": lambda: nn.Linear(4, 2)}, lambda i: i["params"](i["0"])),
    ("modules", "Conv2d", "scalar", {"0": (1, 3, 4, 4), "params": lambda: nn.Conv2d(3, 2, 2)},
     lambda i: i["params"](i["0"])),
    ("modules", "Bilinear", "tensors", {"0": (3, 4), "1": (3, 5), "params": lambda: nn.Bilinear(4, 5, 2)},
     lambda i: i["params"](i["0"], i["1"])),
]


@pytest.mark.parametrize("cat,name,pattern,spec,call", SAVED_WHEN_CASES,
                         ids=[f"{c[0]}.{c[1]}-{c[2]}" for c in SAVED_WHEN_CASES])
def test_saved_when_holds_in_torch(table: OpTable, cat: str, name: str, pattern: str, spec: Spec,
                                   call: Callable[[dict], Any]) -> None:
    """With only one input requiring grad (and with all), writing into each input (and into the
    result) breaks backward exactly when the row says that input makes it saved."""
    when = table.saved_when(cat, name, pattern)
    assert when is not None, f"{cat}.{name} {pattern} is unknown"
    assert not table.saved_when_conditionally(cat, name, pattern)
    grad_keys = [k for k, v in spec.items() if not isinstance(v, torch.Tensor)]
    for grads in [{g} for g in grad_keys] + [set(grad_keys)]:
        for key in [*spec, RETURN]:
            inputs = _saved_when_inputs(spec, grads)
            result = call(inputs)
            written = [result] if key == RETURN else _written(inputs[key])
            expected = bool(when.get(key, frozenset()) & grads)
            assert write_breaks_backward(result, written) == expected, (sorted(grads), key, dict(when))


def test_saved_when_textbook_rows(table: OpTable) -> None:
    w = table.saved_when
    assert w("methods", "mul", "tensors")["self"] == {"0", "other"} and w("methods", "mul", "tensors")["0"] == {"self"}
    assert w("methods", "mul", "scalar") == {}  # `x * 2` saves nothing
    assert w("methods", "div", "tensors")["self"] == {"0", "other"}
    assert w("methods", "div", "tensors")["0"] == {"self", "0", "other"}
    assert w("functional", "linear", "tensors")["0"] == w("functional", "linear", "tensors")["input"] == {"1", "weight"}
    assert w("modules", "Linear", "scalar")["0"] == {"params"}  # always, unless the layer is frozen
    assert w("methods", "exp")[RETURN] == {"self"} and set(w("methods", "exp")) == {RETURN}
    assert w("functional", "dropout") == {}  # its mask is no input: nothing an input requires saves one
    # A pattern not measured for a name reads as "any"; "inplace" never does; an unknown name is None.
    assert w("methods", "exp", "tensors") == w("methods", "exp", "any")
    assert w("functional", "gelu", "inplace") is None and w("methods", "no_such_method") is None
    assert table.saved_when_conditionally("methods", "pow") and not table.saved_when_conditionally("methods", "pow",
                                                                                                   "tensors")
    # Every input saves_inputs lists is a key of the same pattern's saved_when row (where one ran with grad).
    for cat, rows in table.saves_inputs.items():
        for name, row in rows.items():
            for pattern, keys in row.items():
                got = table.saved_when_rows[cat].get(name, {}).get(pattern)
                assert got is None or set(keys) == set(got) - {RETURN}, (cat, name, pattern)
    assert _torchfacts("saved_when").RETURN == RETURN


# --- the analysis classifies a call as the generator did ------------------------------------------

# (category, name, the call's source with `x` / `w` tensors, its primary argument excluded from `w`s)
PATTERN_CALLS = [
    ("torch", "max", "torch.max(x, w)", "tensors"),
    ("torch", "max", "torch.max(x, 1)", "dim"),
    ("torch", "max", "torch.max(x, dim=0)", "dim"),
    ("torch", "max", "torch.max(x)", "scalar"),
    ("methods", "max", "x.max(1)", "dim"),
    ("methods", "max", "x.max(w)", "tensors"),
    ("methods", "pow", "x.pow(2)", "scalar"),
    ("methods", "sum", "x.sum(0, keepdim=True)", "dim"),
    ("methods", "unique", "x.unique(return_counts=True)", "flags"),
    ("torch", "unique", "torch.unique(x, True, True)", "flags"),
    ("methods", "nonzero", "x.nonzero(as_tuple=True)", "flags"),
    ("functional", "max_pool2d", "F.max_pool2d(x, 2, return_indices=True)", "flags"),
    ("functional", "max_pool2d", "F.max_pool2d(x, 2, 2, 0, 1, False, True)", "flags"),
    ("functional", "max_pool2d", "F.max_pool2d(x, 2)", "scalar"),
    ("functional", "softmax", "F.softmax(x, 1)", "dim"),
    ("torch", "cat", "torch.cat([x, w], 1)", "dim"),
    ("functional", "pad", "F.pad(x, (1, 2))", "scalar"),
    ("functional", "pad", "F.pad(x, (1, 2), mode='constant', value=0.0)", "scalar"),
    ("functional", "pad", "F.pad(x, (1, 2), 'constant')", "scalar"),
    ("functional", "pad", "F.pad(x, (1, 2), mode='reflect')", "modes"),
    ("functional", "pad", "F.pad(x, (1, 2), 'replicate')", "modes"),
    ("functional", "mse_loss", "F.mse_loss(x, w, reduction='none')", "modes"),
    ("functional", "mse_loss", "F.mse_loss(x, w)", "tensors"),
]


@pytest.mark.parametrize("cat,name,source,pattern", PATTERN_CALLS, ids=[c[2] for c in PATTERN_CALLS])
def test_analysis_classifies_calls_like_the_generator(table: OpTable, cat: str, name: str, source: str,
                                                      pattern: str) -> None:
    calls, common, patterns = _torchfacts("calls"), _torchfacts("common"), _torchfacts("patterns")
    node = ast.parse(source, mode="eval").body
    env = {"torch": torch, "F": F, "x": t(1, 1, 4, 4) if "pool" in name else t(3, 4), "w": t(3, 4)}
    args = [eval(ast.unparse(a), env) for a in node.args]  # noqa: S307 - the literal calls above
    kwargs = {k.arg: eval(ast.unparse(k.value), env) for k in node.keywords}  # noqa: S307
    if cat == "methods":
        inputs = calls.keyed("self", [env["x"], *args], kwargs)
    else:
        inputs = calls.keyed(None, args, kwargs)
    primary = "self" if cat == "methods" else "0"
    operands = [v for k, v in inputs.items() if k != primary]
    generated = patterns.classify(cat, name, inputs, bool(common.tensors_in(operands)), "", frozenset())
    # What the analysis knows: which arguments (after the receiver / first argument) hold a tensor.
    first = 0 if cat == "methods" else 1
    tensor_args = [i for i, a in enumerate(node.args) if i >= first and isinstance(a, ast.Name) and a.id == "w"]
    analysed = TorchEffects(table).call_pattern(cat, name, node, tensor_args)
    assert generated == analysed == pattern


def test_call_pattern_when_the_arguments_cannot_tell(table: OpTable) -> None:
    effects = TorchEffects(table)

    def pattern(cat: str, name: str, source: str, tensor_args: tuple = (), ctor: str | None = None) -> str:
        node = ast.parse(source, mode="eval").body
        built = ast.parse(ctor, mode="eval").body if ctor else None
        return effects.call_pattern(cat, name, node, tensor_args, ctor=built)

    assert pattern("functional", "max_pool2d", "F.max_pool2d(x, 2, return_indices=r)") == "any"
    assert pattern("functional", "max_pool2d", "F.max_pool2d(x, **cfg)") == "any"
    assert pattern("functional", "max_pool2d", "F.max_pool2d(x, 2, return_indices=False)") == "scalar"
    assert pattern("methods", "sum", "x.sum(*dims)") == "any" and pattern("methods", "view", "x.view(*s)") == "scalar"
    assert pattern("methods", "sum", "x.sum(dim=None)") == "scalar" and pattern("methods", "sum", "x.sum(d)") == "dim"
    assert pattern("modules", "MaxPool2d", "m(x)", ctor="nn.MaxPool2d(2, 2, 0, 1, True)") == "flags"
    assert pattern("modules", "MaxPool2d", "m(x)", ctor="nn.MaxPool2d(2)") == "scalar"
    assert pattern("modules", "MaxPool2d", "m(x)") == "any"  # built where the analysis cannot see
    assert pattern("modules", "Linear", "m(x)") == "scalar"
    assert pattern("functional", "pad", "F.pad(x, p, mode=m)") == "any"  # a mode not written down
    assert pattern("functional", "pad", "F.pad(x, p, *rest)") == "any" and pattern("functional", "pad", "F.pad(x, **kw)") == "any"
    assert pattern("modules", "MultiheadAttention", "m(q, k, v)", (1, 2), ctor="nn.MultiheadAttention(4, 2)") == "tensors"


# --- the verifier ---------------------------------------------------------------------------------

def _torchfacts(module: str) -> Any:
    """A module of the generator's package (scripts/torchfacts)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module(f"torchfacts.{module}")
    finally:
        sys.path.pop(0)


def _verifier() -> Any:
    return _torchfacts("verify")


def _raw() -> dict:
    return json.loads(resources.files("outplace").joinpath("data/optable.json").read_text(encoding="utf-8"))


@pytest.mark.filterwarnings("ignore")
def test_shape_facts_hold_on_other_inputs() -> None:
    unexercised: list[str] = []
    assert _verifier().check_shapes(_raw(), unexercised) == []
    assert len(unexercised) < 5


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")  # the sweep calls deprecated ops on purpose
def test_verifier_agrees_and_finds_tampered_rows() -> None:
    raw = _raw()
    tampered = copy.deepcopy(raw)
    tampered["saves_inputs"]["methods"]["exp"]["any"] = ["self"]
    tampered["no_grad_output"]["methods"].remove("argmax")
    tampered["shape_preserving"]["methods"].append("squeeze")
    tampered["keepdim_reductions"]["methods"]["sum"] = "tuple"
    tampered["may_alias_input"]["modules"].pop("Identity")
    tampered["tensor_only_methods"].append("sum")
    tampered["method_max_positional"]["dot"] = 0
    tampered["saved_output_positions"]["torch"]["max"]["tensors"] = [0]
    tampered["tuple_returns"]["modules"]["LSTM"]["scalar"] = None
    tampered["inplace_written_saved"]["methods"]["pow_"]["scalar"] = True
    tampered["pattern_args"]["methods"]["max"]["dim"] = ["1"]
    tampered["saved_when"]["methods"]["mul"]["tensors"]["self"] = ["self"]
    problems, _ = _verifier().verify_facts(tampered)
    assert sorted(p.split(":")[0] for p in problems) == [
        "inplace_written_saved.methods.pow_.scalar", "keepdim_reductions.methods.sum",
        "may_alias_input.modules.Identity", "method_max_positional", "no_grad_output.methods", "pattern_args.methods.max.dim",
        "saved_output_positions.torch.max.tensors", "saved_when.methods.mul.tensors.self", "saves_inputs.methods.exp.any",
        "shape_preserving.methods.squeeze", "tensor_only_methods", "tuple_returns.modules.LSTM.scalar"], problems


def test_hand_listed_aliasing_facts_hold_in_torch() -> None:
    """The aliasing facts effects.py lists by hand (the generator measures `F.*` and modules only):
    each holds in torch, and its opposite where the analysis relies on one."""
    from outplace.analysis.effects import LEGACY_CONSTRUCTORS, MEMORY_WRAPPING_FACTORIES, RETURN_INPUT_UNLESS_TRAINING

    x = torch.linspace(0.1, 0.9, 24).reshape(2, 3, 4)
    for name in RETURN_INPUT_UNLESS_TRAINING:
        assert getattr(torch, name)(x, 0.5, False) is x, name
        torch.manual_seed(0)
        assert not shares(getattr(torch, name)(x, 0.5, True), x), name
    array = x.numpy()
    assert "from_numpy" in MEMORY_WRAPPING_FACTORIES and shares(torch.from_numpy(array), x)
    assert "frombuffer" in MEMORY_WRAPPING_FACTORIES
    buffer = bytearray(16)
    wrapped = torch.frombuffer(buffer, dtype=torch.uint8)
    wrapped[0] = 7
    assert buffer[0] == 7
    assert LEGACY_CONSTRUCTORS["Tensor"] == "float" and shares(torch.Tensor(x), x)
    assert shares(torch.FloatTensor(x), x)
    assert not shares(torch.Tensor(2, 3), x) and torch.Tensor(2, 3).shape == (2, 3)
    assert (+x) is x  # unary plus: flow._e_UnaryOp returns the operand itself
    from outplace.analysis.effects import DETACHING_WRAPPERS

    assert "torch.autograd.Variable" in DETACHING_WRAPPERS
    for wrapped in (torch.autograd.Variable(x), torch.autograd.Variable(x, requires_grad=False)):
        assert wrapped is not x and shares(wrapped, x) and not wrapped.requires_grad
        before = x._version
        wrapped.add_(0)
        assert x._version == before + 1  # one version counter, as `.detach()`


def test_multi_view_writes_raise_only_for_the_ops_listed() -> None:
    """effects.MULTI_VIEW_WRITE_RAISES: writing in place into a part of `chunk`/`split`/`unbind`/
    `split_with_sizes` raises (autograd's "several views of one call"); the other MULTI_VIEW ops
    (`tensor_split`, `hsplit`, `vsplit`, `dsplit`, `unsafe_chunk`, `unsafe_split`) return plain views."""
    from outplace.analysis.effects import MULTI_VIEW, MULTI_VIEW_WRITE_RAISES

    calls = {"chunk": lambda h: h.chunk(2), "split": lambda h: h.split(2), "unbind": lambda h: h.unbind(),
             "split_with_sizes": lambda h: h.split_with_sizes([2, 2]), "tensor_split": lambda h: h.tensor_split(2),
             "hsplit": lambda h: h.hsplit(2), "vsplit": lambda h: h.vsplit(2), "dsplit": lambda h: h.dsplit(2),
             "unsafe_chunk": lambda h: h.unsafe_chunk(2), "unsafe_split": lambda h: h.unsafe_split(2)}
    assert set(calls) == MULTI_VIEW
    for name, call in calls.items():
        h = torch.sigmoid(torch.randn(4, 4, 4, requires_grad=True))
        part = call(h)[0]
        assert part.untyped_storage().data_ptr() == h.untyped_storage().data_ptr(), name
        try:
            part.mul_(2)
            raised = False
        except RuntimeError as e:
            raised = "multiple views" in str(e)
        assert raised == (name in MULTI_VIEW_WRITE_RAISES), name


def test_augmented_operators_without_an_in_place_method_rebind() -> None:
    """flow.REBINDING_AUGMENTED_OPS: the augmented operators `torch.Tensor` has no in-place dunder
    for, so `y op= w` rebinds `y`; every other one writes in place."""
    from outplace.analysis.flow import REBINDING_AUGMENTED_OPS

    dunders = {ast.Add: "iadd", ast.Sub: "isub", ast.Mult: "imul", ast.Div: "itruediv", ast.FloorDiv: "ifloordiv",
               ast.Mod: "imod", ast.Pow: "ipow", ast.MatMult: "imatmul", ast.BitAnd: "iand", ast.BitOr: "ior",
               ast.BitXor: "ixor", ast.LShift: "ilshift", ast.RShift: "irshift"}
    rebinding = {op for op, d in dunders.items() if not hasattr(torch.Tensor, f"__{d}__")}
    assert rebinding == REBINDING_AUGMENTED_OPS
    y = torch.eye(2)
    before = y
    y @= torch.eye(2) * 2
    assert y is not before and torch.equal(before, torch.eye(2))
