"""The checked-in operator table: its shape, its known rows, and that it is what torch says today."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from outplace.optable import PATTERNS, OpTable, load_optable, parse_optable

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "generate_optable.py"
EVIDENCE = ROOT / "src" / "outplace" / "data" / "optable_evidence.json"

KINDS = {"twin", "equivalent", "random", "view", "nonmath"}
DTYPES = {"same", "bool_result", "int_widens", "int_to_float", "unknown"}


@pytest.fixture(scope="module")
def table() -> OpTable:
    return load_optable()


@pytest.fixture(scope="module")
def raw() -> dict:
    text = resources.files("outplace").joinpath("data/optable.json").read_text(encoding="utf-8")
    return json.loads(text)


# --- the loader ---------------------------------------------------------------------------------

def test_loader_is_cached_and_read_only(table: OpTable) -> None:
    assert load_optable() is table
    with pytest.raises(dataclasses.FrozenInstanceError):
        table.float_only = frozenset()  # type: ignore[misc]
    with pytest.raises(TypeError):
        table.methods["add_"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        table.methods["add_"]["kind"] = "nonmath"  # type: ignore[index]
    assert isinstance(table.float_only, frozenset)
    assert all(isinstance(v, frozenset) for v in table.tensor_methods.values())
    with pytest.raises(TypeError):
        table.saves_inputs["methods"]["mul"]["any"] = frozenset()  # type: ignore[index]
    with pytest.raises(TypeError):
        table.keepdim_reductions["methods"]["sum"] = "tuple"  # type: ignore[index]
    with pytest.raises(TypeError):
        table.may_alias_input["modules"]["Linear"] = frozenset()  # type: ignore[index]
    assert isinstance(table.saves_inputs["methods"]["mul"]["any"], frozenset)
    assert isinstance(table.tensor_only_methods, frozenset)


def test_loader_mirrors_the_json(table: OpTable, raw: dict) -> None:
    renamed = {"saved_when_rows": "saved_when"}  # the field; `saved_when()` is its accessor
    assert set(raw) == {renamed.get(f.name, f.name) for f in dataclasses.fields(OpTable)}
    assert table.torch_version == raw["torch_version"] == "2.13.0"
    assert {k: dict(v) for k, v in table.methods.items()} == raw["methods"]
    assert {k: sorted(v) for k, v in table.torch_functions.items()} == raw["torch_functions"]
    assert table.notes == tuple(raw["notes"])


def test_parse_names_a_missing_key(raw: dict) -> None:
    broken = {k: v for k, v in raw.items() if k != "functional"}
    with pytest.raises(KeyError, match="functional"):
        parse_optable(broken)


def test_json_is_sorted_and_deterministic(raw: dict) -> None:
    text = resources.files("outplace").joinpath("data/optable.json").read_text(encoding="utf-8")
    assert text == json.dumps(raw, indent=1, sort_keys=True) + "\n"
    for groups in (raw["tensor_methods"], raw["torch_functions"]):
        for names in groups.values():
            assert names == sorted(set(names))
    assert raw["float_only"] == sorted(set(raw["float_only"]))


# --- shape and counts (design.md §2) ------------------------------------------------------------

def test_method_rows_are_well_formed(table: OpTable) -> None:
    for name, row in table.methods.items():
        assert set(row) == {"kind", "twin", "dtype", "template"}, name
        assert name.endswith("_") and not name.startswith("_") and not name.endswith("__"), name
        assert row["kind"] in KINDS and row["dtype"] in DTYPES, name
        if row["kind"] in ("twin", "view"):
            assert row["twin"] == name[:-1] and row["template"] is None, name
        else:
            assert row["twin"] is None, name
        if row["template"] is not None:
            placeholders = set(re.findall(r"\{(\w+)\}", row["template"]))
            assert placeholders <= {"self", "args", "arg0"} and "self" in placeholders, name


def test_method_counts(table: OpTable) -> None:
    # design.md counts 165 including the private _coalesced_, _philox_normal_ and _philox_uniform_
    # among its 15 "not math"; the table lists public methods only: 162.
    kinds: dict[str, set[str]] = {}
    for name, row in table.methods.items():
        kinds.setdefault(row["kind"], set()).add(name)
    assert len(table.methods) == 162
    assert len(kinds["twin"]) + len(kinds["view"]) == 138
    assert len(kinds["equivalent"]) + len(kinds["random"]) == 12
    assert len(kinds["nonmath"]) == 12
    assert kinds["view"] == {"t_", "transpose_", "squeeze_", "unsqueeze_", "swapaxes_", "swapdims_", "as_strided_"}
    assert kinds["random"] == {
        "uniform_", "normal_", "bernoulli_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_",
    }
    assert kinds["equivalent"] == {"zero_", "fill_", "copy_", "fill_diagonal_"}
    assert {"requires_grad_", "share_memory_", "resize_", "resize_as_", "set_", "apply_", "map_",
            "map2_", "detach_", "sparse_resize_", "sparse_resize_and_clear_"} <= kinds["nonmath"]


def test_dtype_classes(table: OpTable) -> None:
    by_dtype: dict[str, set[str]] = {}
    for name, row in table.methods.items():
        by_dtype.setdefault(row["dtype"], set()).add(name)
    assert by_dtype["bool_result"] == {
        "eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
        "not_equal_", "logical_and_", "logical_or_", "logical_xor_", "logical_not_",
    }
    assert by_dtype["int_widens"] == {"cumsum_", "cumprod_"}
    assert {"exp_", "sigmoid_", "tanh_", "sqrt_", "div_", "true_divide_", "log_", "float_power_"} <= by_dtype["int_to_float"]
    assert {"add_", "mul_", "sub_", "clamp_", "relu_", "masked_fill_", "index_add_", "scatter_"} <= by_dtype["same"]
    # Only rows with nothing to compare against are unknown: non-math ops and fill_diagonal_.
    nonmath = {n for n, r in table.methods.items() if r["kind"] == "nonmath"}
    assert by_dtype["unknown"] == nonmath | {"fill_diagonal_"}


def test_notes_record_no_value_difference(table: OpTable) -> None:
    # design.md §2: where both forms succeed, values never differ (only dtypes do).
    assert not [n for n in table.notes if "values differ" in n]
    assert any(n.startswith("opinfo: compared") for n in table.notes)


def test_spot_rows(table: OpTable) -> None:
    assert dict(table.methods["add_"]) == {"kind": "twin", "twin": "add", "dtype": "same", "template": None}
    assert dict(table.methods["t_"]) == {"kind": "view", "twin": "t", "dtype": "same", "template": None}
    assert table.methods["zero_"]["template"] == "torch.fill({self}, 0)"
    assert table.methods["fill_"]["template"] == "torch.fill({self}, {args})"
    assert table.methods["copy_"]["template"] == "{arg0}.expand_as({self}).to({self}, copy=True)"
    assert table.methods["fill_diagonal_"]["template"] is None
    assert table.methods["uniform_"]["template"] == "torch.empty_like({self}).uniform_({args})"
    assert table.methods["bernoulli_"]["twin"] is None  # Tensor.bernoulli() is a different op
    assert table.methods["requires_grad_"]["kind"] == "nonmath"


def test_functions(table: OpTable) -> None:
    assert len(table.functions) == 74
    assert dict(table.functions["relu_"]) == {"twin": "relu", "dtype": "same"}
    assert dict(table.functions["sigmoid_"]) == {"twin": "sigmoid", "dtype": "int_to_float"}
    assert table.functions["fill_"]["twin"] == "fill"
    for name in ("detach_", "resize_as_", "resize_as_sparse_", "zero_", "embedding_renorm_"):
        assert dict(table.functions[name]) == {"twin": None, "dtype": "unknown"}, name
    for name, row in table.functions.items():
        assert row["twin"] in (None, name[:-1]) and row["dtype"] in DTYPES, name


def test_functional_and_modules(table: OpTable) -> None:
    params = table.functional["inplace_param"]
    assert len(params) == 19
    assert params["relu"] == 1 and params["leaky_relu"] == 2 and params["dropout"] == 3 and params["rrelu"] == 4
    assert dict(table.functional["inplace_functions"]) == {
        "celu_": "celu", "elu_": "elu", "hardtanh_": "hardtanh", "leaky_relu_": "leaky_relu",
        "relu_": "relu", "rrelu_": "rrelu", "selu_": "selu", "threshold_": "threshold",
    }
    assert dict(table.modules_inplace) == {
        "ReLU": 0, "ReLU6": 0, "SELU": 0, "SiLU": 0, "Mish": 0, "Hardswish": 0, "Hardsigmoid": 0,
        "LeakyReLU": 1, "ELU": 1, "CELU": 1, "Dropout": 1, "Dropout1d": 1, "Dropout2d": 1,
        "Dropout3d": 1, "AlphaDropout": 1, "FeatureAlphaDropout": 1,
        "Hardtanh": 2, "RReLU": 2, "Threshold": 2,
    }


def test_tensor_methods_partition(table: OpTable) -> None:
    fresh, alias, nontensor = (table.tensor_methods[k] for k in ("fresh", "alias", "nontensor"))
    assert set(table.tensor_methods) == {"fresh", "alias", "nontensor"}
    assert not (fresh & alias) and not (fresh & nontensor) and not (alias & nontensor)
    assert set(table.methods) <= alias  # in-place methods return self
    assert {"to", "float", "half", "double", "int", "long", "bool", "cuda", "cpu", "contiguous",
            "type_as", "detach", "view_as", "expand_as", "reshape_as", "data", "view", "reshape",
            "T", "mT", "real", "transpose", "split", "unbind", "to_dense"} <= alias
    assert {"clone", "add", "exp", "sigmoid", "matmul", "sum", "new_zeros", "masked_fill"} <= fresh
    assert {"item", "tolist", "size", "dim", "numel", "stride", "data_ptr", "is_contiguous",
            "element_size", "get_device", "shape", "dtype", "device", "ndim", "numpy",
            "storage"} <= nontensor


def test_torch_functions_partition(table: OpTable) -> None:
    groups = table.torch_functions
    assert set(groups) == {"fresh", "alias", "nontensor", "factory"}
    names = [n for g in groups.values() for n in g]
    assert len(names) == len(set(names))  # disjoint
    assert {"empty", "zeros", "ones", "full", "rand", "randn", "randint", "arange", "linspace", "eye",
            "tensor", "empty_like", "zeros_like", "ones_like", "full_like", "rand_like",
            "randn_like", "randint_like"} <= groups["factory"]
    assert {"as_tensor", "asarray", "reshape", "squeeze", "split", "einsum", "Tensor"} <= groups["alias"]
    assert {"add", "exp", "sigmoid", "cat", "stack", "where", "clone"} <= groups["fresh"]
    assert {"is_tensor", "numel", "manual_seed", "no_grad", "dtype"} <= groups["nontensor"]
    assert not {"cond", "while_loop", "load"} & set(names)


SAVE_CATEGORIES = {"methods", "torch", "functional", "modules"}


def test_saves_output_shape(table: OpTable, raw: dict) -> None:
    assert set(raw["saves_output"]) == set(raw["output_not_saved"]) == SAVE_CATEGORIES
    for key in ("saves_output", "output_not_saved"):
        for names in raw[key].values():
            assert names == sorted(set(names))
        assert {k: sorted(v) for k, v in getattr(table, key).items()} == raw[key]
        assert all(isinstance(v, frozenset) for v in getattr(table, key).values())
    for cat in SAVE_CATEGORIES:
        assert not table.saves_output[cat] & table.output_not_saved[cat], cat
    # Methods and torch functions come from the "fresh" and "alias" lists (never "nontensor").
    methods = table.tensor_methods["fresh"] | table.tensor_methods["alias"]
    functions = table.torch_functions["fresh"] | table.torch_functions["alias"]
    for key in ("saves_output", "output_not_saved"):
        assert getattr(table, key)["methods"] <= methods
        assert getattr(table, key)["torch"] <= functions
    measured = {c: table.saves_output[c] | table.output_not_saved[c] for c in SAVE_CATEGORIES}
    assert len(measured["methods"]) > 450 and len(measured["torch"]) > 450
    assert len(measured["functional"]) > 110 and len(measured["modules"]) > 140
    # Not ops: containers are unknown (in neither list).
    assert not {"Sequential", "ModuleList", "ModuleDict", "Module"} & measured["modules"]


def test_saves_output_spot_rows(table: OpTable) -> None:
    saves, not_saved = table.saves_output, table.output_not_saved
    for cat in ("methods", "torch"):
        assert {"exp", "sigmoid", "tanh", "relu", "softmax", "log_softmax", "sqrt", "rsqrt",
                "reciprocal", "exp_", "sigmoid_", "prod", "cumprod", "logsumexp"} <= saves[cat], cat
        # Conservative: pow saves with a tensor exponent, max/min without dim, norm for p != 'nuc';
        # sort/topk save their indices.
        assert {"pow", "max", "min", "norm", "sort", "topk"} <= saves[cat], cat
        assert {"mul", "add", "sub", "div", "matmul", "lerp", "sign", "abs", "round", "clamp",
                "sum", "mean", "var", "where", "clone", "neg", "sin", "log"} <= not_saved[cat], cat
    assert {"to", "float", "double", "view", "reshape", "transpose", "contiguous", "detach", "T",
            "add_", "mul_", "copy_", "fill_", "zero_"} <= not_saved["methods"]
    assert {"cat", "stack", "einsum", "batch_norm", "layer_norm", "conv2d", "embedding"} <= not_saved["torch"]
    assert {"relu", "relu_", "softmax", "log_softmax", "softmin", "sigmoid", "tanh",
            "gumbel_softmax"} <= saves["functional"]
    assert {"linear", "conv1d", "conv2d", "conv_transpose2d", "layer_norm", "group_norm",
            "batch_norm", "gelu", "silu", "mish", "dropout", "cosine_similarity", "normalize",
            "embedding", "mse_loss", "cross_entropy", "pad", "avg_pool2d", "hardtanh", "hardtanh_",
            "threshold", "relu6"} <= not_saved["functional"]
    # Keyword-dependent, classified saving: return_indices=True saves the indices; inplace=True
    # saves the in-place result; SDPA's CPU flash kernel saves its output (4-D inputs only).
    assert {"max_pool2d", "adaptive_max_pool2d", "leaky_relu", "elu", "selu",
            "scaled_dot_product_attention"} <= saves["functional"]
    assert {"ReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmin", "ELU", "LeakyReLU",
            "MaxPool2d"} <= saves["modules"]
    # CPU's float32 LSTM kernel (mkldnn) saves its output; the float64 one does not (eval27's report).
    assert "LSTM" in saves["modules"] and "LSTM" in table.saved_output_positions_conditional["modules"]["any"]
    assert {"Linear", "Bilinear", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "BatchNorm1d",
            "BatchNorm2d", "LayerNorm", "GroupNorm", "InstanceNorm2d", "RMSNorm", "GELU", "SiLU",
            "Mish", "ReLU6", "Hardtanh", "Dropout", "Embedding", "EmbeddingBag", "AvgPool2d",
            "AdaptiveAvgPool2d", "Identity", "Flatten", "GRU", "MultiheadAttention",
            "TransformerEncoderLayer", "MSELoss", "CrossEntropyLoss"} <= not_saved["modules"]


def test_per_pattern_families_shape(table: OpTable, raw: dict) -> None:
    patterns = set(PATTERNS)
    for key in ("saved_output_positions", "tuple_returns", "inplace_written_saved", "pattern_args"):
        assert set(raw[key]) == SAVE_CATEGORIES, key
    for cat in SAVE_CATEGORIES:
        # Every measured name has its saved positions under every pattern its calls fell in.
        assert set(table.saved_output_positions[cat]) == set(raw["saves_inputs"][cat]), cat
        for name, row in table.saved_output_positions[cat].items():
            assert set(row) <= patterns and ("any" in row or set(row) == {"inplace"}), (cat, name)
            assert all(isinstance(v, frozenset) and all(isinstance(i, int) and i >= 0 for i in v)
                       for v in row.values())
        for name, row in table.tuple_returns[cat].items():
            assert set(row) <= set(table.saved_output_positions[cat].get(name, row)), (cat, name)
            assert any(v is not None for v in row.values()) and all(v is None or v >= 0 for v in row.values())
        for name, row in table.inplace_written_saved[cat].items():
            assert set(row) <= patterns and all(isinstance(v, bool) for v in row.values()), (cat, name)
        for groups in (raw["saved_output_positions_conditional"][cat], raw["tuple_returns_conditional"][cat]):
            assert set(groups) == patterns and all(names == sorted(set(names)) for names in groups.values())
    with pytest.raises(TypeError):
        table.tuple_returns["methods"]["max"]["dim"] = None  # type: ignore[index]
    assert table.pattern_args["methods"]["max"]["dim"] == ("0",)
    assert raw["return_flags"] == sorted(table.return_flags)


def test_saves_output_notes(table: OpTable) -> None:
    notes = "\n".join(n for n in table.notes if n.startswith("saves_output"))
    assert "saves_output: methods.pow saves its output on some inputs only" in notes
    assert "saves_output: functional.scaled_dot_product_attention saves its output on some inputs only" in notes
    assert re.search(r"functional: saved only with inplace=True .*\bleaky_relu\b", notes)
    assert re.search(r"methods: only a later returned tensor is saved .*\bsort\b", notes)
    assert not [n for n in table.notes if "disagree" in n]  # introspection == direct check


def test_float_only(table: OpTable) -> None:
    assert {"exp", "sigmoid", "tanh", "sqrt", "div", "true_divide", "log", "float", "double"} <= table.float_only
    # mean/softmax raise on integer input, and return floats on float input: what they return is floating.
    assert {"mean", "softmax", "log_softmax", "std", "var"} <= table.float_only
    # Integer in, integer out.
    assert not {"add", "mul", "relu", "abs", "cumsum", "clone"} & table.float_only


# --- against torch --------------------------------------------------------------------------------

def test_methods_are_all_public_inplace_tensor_methods(table: OpTable) -> None:
    torch = pytest.importorskip("torch")
    public = {n for n in dir(torch.Tensor) if n.endswith("_") and not n.endswith("__") and not n.startswith("_")}
    assert set(table.methods) == public
    for name, row in table.methods.items():
        if row["twin"]:
            assert hasattr(torch.Tensor, row["twin"]), name


def test_dtype_rows_hold_in_torch(table: OpTable) -> None:
    torch = pytest.importorskip("torch")
    x = torch.arange(1, 6, dtype=torch.int32)
    assert x.clone().cumsum_(0).dtype == torch.int32 and x.cumsum(0).dtype == torch.int64
    f = torch.tensor([0.5, 1.5])
    assert f.clone().lt_(1).dtype == torch.float32 and f.lt(1).dtype == torch.bool
    with pytest.raises(RuntimeError):
        x.clone().exp_()
    assert x.exp().dtype == torch.float32


@pytest.mark.parametrize("name", ["zero_", "fill_", "copy_"])
def test_equivalent_templates_evaluate_like_the_inplace_op(table: OpTable, name: str) -> None:
    torch = pytest.importorskip("torch")
    args = {"zero_": (), "fill_": (torch.tensor(2.5),), "copy_": (torch.arange(4, dtype=torch.float64),)}[name]
    x = torch.arange(12, dtype=torch.int64).reshape(3, 4)
    expected = x.clone()
    getattr(expected, name)(*args)
    code = table.methods[name]["template"].format(
        self="x", args=", ".join(f"a{i}" for i in range(len(args))), arg0="a0")
    got = eval(code, {"torch": torch, "x": x, **{f"a{i}": a for i, a in enumerate(args)}})  # noqa: S307
    assert got.dtype == expected.dtype and torch.equal(got, expected)
    assert got.data_ptr() != x.data_ptr()


def test_random_template_draws_the_same_stream(table: OpTable) -> None:
    torch = pytest.importorskip("torch")
    code = table.methods["uniform_"]["template"].format(self="x", args="-1.0, 2.0")
    x = torch.zeros(4, 5)
    torch.manual_seed(7)
    expected = x.clone().uniform_(-1.0, 2.0)
    torch.manual_seed(7)
    got = eval(code, {"torch": torch, "x": x})  # noqa: S307
    assert torch.equal(got, expected)


@pytest.mark.slow
def test_checked_in_table_is_what_the_generator_produces(raw: dict, tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.__version__.split("+")[0] != raw["torch_version"]:
        pytest.skip(f"the table was generated with torch {raw['torch_version']}, not {torch.__version__}")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from torchfacts.tensor_only import optional_types
    finally:
        sys.path.pop(0)
    if optional_types()[0]:
        pytest.skip("an optional package tensor_only_methods consults is installed; the table was generated without")
    out = tmp_path / "optable.json"
    proc = subprocess.run([sys.executable, str(GENERATOR), "--output", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "methods: 162" in proc.stdout  # the printed summary
    fresh = json.loads(out.read_text(encoding="utf-8"))
    for key in raw:  # key by key, so a failure names the part that drifted
        assert fresh[key] == raw[key], key
    assert out.read_text(encoding="utf-8") == (ROOT / "src/outplace/data/optable.json").read_text(encoding="utf-8")
    evidence = tmp_path / "optable_evidence.json"  # written next to the table
    assert evidence.read_text(encoding="utf-8") == EVIDENCE.read_text(encoding="utf-8")


# --- saves_output against torch: write into the output, then backward ------------------------------

def _direct_calls(torch):  # (category, name) -> () -> output; inputs are non-leaf, require grad
    F, nn = torch.nn.functional, torch.nn

    def x(*shape):
        return torch.linspace(0.1, 0.9, int(torch.tensor(shape).prod())).reshape(shape).requires_grad_().clone()

    def mod(cls, *args, inp=(3, 4), train=True):
        def run():
            torch.manual_seed(0)
            m = cls(*args).train(train)
            return m(x(*inp))
        return run

    return {
        # saves_output
        ("methods", "exp"): lambda: x(3, 4).exp(),
        ("methods", "sigmoid"): lambda: x(3, 4).sigmoid(),
        ("methods", "sqrt"): lambda: x(3, 4).sqrt(),
        ("methods", "softmax"): lambda: x(3, 4).softmax(1),
        ("methods", "tanh_"): lambda: x(3, 4).tanh_(),
        ("methods", "sort"): lambda: x(3, 4).sort(),
        ("torch", "exp"): lambda: torch.exp(x(3, 4)),
        ("torch", "tanh"): lambda: torch.tanh(x(3, 4)),
        ("torch", "relu"): lambda: torch.relu(x(3, 4)),
        ("torch", "prod"): lambda: torch.prod(x(3, 4)),
        ("torch", "pow"): lambda: torch.pow(x(3, 4), x(3, 4)),
        ("functional", "relu"): lambda: F.relu(x(3, 4)),
        ("functional", "softmax"): lambda: F.softmax(x(3, 4), dim=1),
        ("functional", "log_softmax"): lambda: F.log_softmax(x(3, 4), dim=1),
        ("functional", "leaky_relu"): lambda: F.leaky_relu(x(3, 4), inplace=True),
        ("modules", "ReLU"): mod(nn.ReLU),
        ("modules", "Sigmoid"): mod(nn.Sigmoid),
        ("modules", "Tanh"): mod(nn.Tanh),
        ("modules", "Softmax"): mod(nn.Softmax, 1),
        # output_not_saved
        ("methods", "mul"): lambda: x(3, 4).mul(x(3, 4)),
        ("methods", "matmul"): lambda: x(3, 4).matmul(x(4, 2)),
        ("methods", "lerp"): lambda: x(3, 4).lerp(x(3, 4), 0.5),
        ("methods", "sign"): lambda: x(3, 4).sign(),
        ("methods", "abs"): lambda: x(3, 4).abs(),
        ("methods", "round"): lambda: x(3, 4).round(),
        ("methods", "to"): lambda: x(3, 4).to(torch.float64),
        ("methods", "view"): lambda: x(3, 4).view(-1),
        ("torch", "add"): lambda: torch.add(x(3, 4), x(3, 4)),
        ("torch", "matmul"): lambda: torch.matmul(x(3, 4), x(4, 2)),
        ("torch", "clamp"): lambda: torch.clamp(x(3, 4), 0.2, 0.8),
        ("torch", "where"): lambda: torch.where(x(3, 4) > 0.5, x(3, 4), x(3, 4)),
        ("functional", "linear"): lambda: F.linear(x(3, 4), x(2, 4), x(2)),
        ("functional", "conv2d"): lambda: F.conv2d(x(1, 3, 4, 4), x(2, 3, 2, 2)),
        ("functional", "gelu"): lambda: F.gelu(x(3, 4)),
        ("functional", "layer_norm"): lambda: F.layer_norm(x(3, 4), (4,)),
        ("functional", "dropout"): lambda: F.dropout(x(3, 4), 0.5),
        ("functional", "cosine_similarity"): lambda: F.cosine_similarity(x(3, 4), x(3, 4)),
        ("modules", "Linear"): mod(nn.Linear, 4, 2),
        ("modules", "Conv2d"): mod(nn.Conv2d, 3, 2, 2, inp=(1, 3, 4, 4)),
        ("modules", "BatchNorm2d"): mod(nn.BatchNorm2d, 3, inp=(2, 3, 4, 4)),
        ("modules", "LayerNorm"): mod(nn.LayerNorm, 4),
        ("modules", "Dropout"): mod(nn.Dropout),
        ("modules", "Embedding"): lambda: nn.Embedding(5, 3)(torch.tensor([[0, 2], [4, 2]])),
    }


DIRECT_CASES = [
    ("methods", "exp"), ("methods", "sigmoid"), ("methods", "sqrt"), ("methods", "softmax"),
    ("methods", "tanh_"), ("methods", "sort"), ("torch", "exp"), ("torch", "tanh"), ("torch", "relu"),
    ("torch", "prod"), ("torch", "pow"), ("functional", "relu"), ("functional", "softmax"),
    ("functional", "log_softmax"), ("functional", "leaky_relu"), ("modules", "ReLU"),
    ("modules", "Sigmoid"), ("modules", "Tanh"), ("modules", "Softmax"),
    ("methods", "mul"), ("methods", "matmul"), ("methods", "lerp"), ("methods", "sign"),
    ("methods", "abs"), ("methods", "round"), ("methods", "to"), ("methods", "view"),
    ("torch", "add"), ("torch", "matmul"), ("torch", "clamp"), ("torch", "where"),
    ("functional", "linear"), ("functional", "conv2d"), ("functional", "gelu"),
    ("functional", "layer_norm"), ("functional", "dropout"), ("functional", "cosine_similarity"),
    ("modules", "Linear"), ("modules", "Conv2d"), ("modules", "BatchNorm2d"), ("modules", "LayerNorm"),
    ("modules", "Dropout"), ("modules", "Embedding"),
]


@pytest.mark.parametrize("cat,name", DIRECT_CASES, ids=[f"{c}.{n}" for c, n in DIRECT_CASES])
def test_saves_output_rows_hold_in_torch(table: OpTable, cat: str, name: str) -> None:
    """Writing add_(0) into every output breaks backward exactly when the table says it saves."""
    torch = pytest.importorskip("torch")
    saves = name in table.saves_output[cat]
    assert saves or name in table.output_not_saved[cat], f"{cat}.{name} is unknown"
    out = _direct_calls(torch)[(cat, name)]()
    outs = [out] if isinstance(out, torch.Tensor) else list(out)
    for t in outs:
        t.add_(0)
    loss = sum(t.sum() for t in outs if t.requires_grad)
    if saves:
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()
    else:
        loss.backward()


def test_tuple_grad_positions_are_what_torch_returns(table: OpTable) -> None:
    """Where the table says a position of a returned tuple never requires grad, torch agrees (and
    where it says one may, one does), for the calls people drop values from."""
    torch = pytest.importorskip("torch")
    x = torch.randn(3, 4, requires_grad=True)
    calls = {("methods", "max", "dim"): lambda: x.max(1), ("methods", "sort", "dim"): lambda: x.sort(1),
             ("methods", "topk", "scalar"): lambda: x.topk(2), ("torch", "min", "dim"): lambda: torch.min(x, 1),
             ("methods", "kthvalue", "scalar"): lambda: x.kthvalue(2)}
    for (category, name, pattern), call in calls.items():
        positions = table.grad_positions(category, name, pattern)
        assert positions is not None, (category, name, pattern)
        got = {i for i, t in enumerate(call()) if t.requires_grad}
        assert positions == got, (name, positions, got)
    assert table.grad_positions("methods", "exp") is None  # a single tensor: not a tuple fact


def test_einsum_of_several_operands_is_a_new_tensor() -> None:
    """effects.ONE_OPERAND_ALIAS: `einsum` may return its operand's memory with one operand only."""
    torch = pytest.importorskip("torch")
    from outplace.analysis.effects import ONE_OPERAND_ALIAS

    assert "einsum" in ONE_OPERAND_ALIAS
    t = torch.ones(3)
    assert torch.einsum("i->i", t).data_ptr() == t.data_ptr()
    a, b = torch.ones(2, 3), torch.ones(3, 2)
    for eq, ops in (("ij,jk->ik", (a, b)), ("ij,ij->ij", (a, a)), ("ij,->ij", (a, torch.tensor(2.0))),
                    ("ij,jk->ki", (a, b))):
        out = torch.einsum(eq, *ops)
        assert out.untyped_storage().data_ptr() not in {o.untyped_storage().data_ptr() for o in ops}, eq


def test_reflected_scalar_saves_are_what_torch_does(table: OpTable) -> None:
    """`number <op> tensor`: a write into what the table says is saved breaks backward; into what
    it says is not, it does not."""
    torch = pytest.importorskip("torch")
    import operator

    ops = {"Div": operator.truediv, "Sub": operator.sub, "Pow": operator.pow, "Mult": operator.mul}
    for name, op in ops.items():
        saved = table.reflected_saves(name)
        assert saved is not None, name
        for written in ("operand", "result"):
            x = (torch.rand(3, dtype=torch.float64) + 0.5).requires_grad_()
            y = x * 1
            z = op(3.0, y)
            (y if written == "operand" else z).add_(1)
            try:
                z.sum().backward()
                broke = False
            except RuntimeError as e:
                assert "inplace" in str(e)
                broke = True
            assert broke == (written in saved), (name, written, saved)


def test_sparse_constructors_keep_their_values_memory() -> None:
    """effects.SPARSE_CONSTRUCTORS: the sparse tensor is on its values' memory (a write into one is
    a write into the other), for every public constructor torch has."""
    torch = pytest.importorskip("torch")
    from outplace.analysis.effects import SPARSE_CONSTRUCTORS

    public = {n for n in dir(torch) if n.startswith("sparse_") and n.endswith("_tensor")}
    assert public <= SPARSE_CONSTRUCTORS, public - SPARSE_CONSTRUCTORS
    v = torch.ones(2)
    assert torch.sparse_coo_tensor(torch.tensor([[0, 1]]), v, (2,))._values().data_ptr() == v.data_ptr()
    c = torch.sparse_csr_tensor(torch.tensor([0, 1, 2]), torch.tensor([0, 1]), v, (2, 2))
    assert c.values().data_ptr() == v.data_ptr()


def test_bool_to_int_is_what_torch_returns(table: OpTable) -> None:
    """`mask.sum()` is an integer count (optable.bool_to_int); `mask.clone()` stays a bool tensor."""
    torch = pytest.importorskip("torch")
    mask = torch.tensor([True, False, True])
    for name in ("sum", "cumsum", "prod", "nansum"):
        assert name in table.bool_to_int
        args = (0,) if name == "cumsum" else ()
        out = getattr(mask, name)(*args)
        assert not out.is_floating_point() and out.dtype != torch.bool, (name, out.dtype)
    assert "clone" not in table.bool_to_int and mask.clone().dtype == torch.bool


def test_complex_traps_are_what_torch_does(table: OpTable) -> None:
    """On a complex tensor, `abs_` raises where `abs` returns real values, and with grad `F.silu(z,
    inplace=True)` runs where `F.silu(z)` raises (optable.complex_traps); `mul_` and `F.relu` are no
    trap: both forms agree there."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = torch.randn(3, dtype=torch.complex64)
    assert {"abs_", "absolute_", "nan_to_num_"} <= set(table.complex_traps["methods"])
    assert "silu" in table.complex_traps["functional"]
    assert "mul_" not in table.complex_traps["methods"] and "relu" not in table.complex_traps["functional"]
    with pytest.raises(RuntimeError):
        z.clone().abs_()
    assert z.abs().dtype == torch.float32
    g = torch.randn(3, dtype=torch.complex64, requires_grad=True) * 1
    F.silu(g * 1, inplace=True)
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        F.silu(g * 1)
    assert z.clone().mul_(2).dtype == z.mul(2).dtype


def test_layout_changing_is_what_torch_does(table: OpTable) -> None:
    """`tril`, `cumsum`, `masked_fill` return a contiguous tensor for a non-contiguous one (optable.
    layout_changing); `mul` keeps the input's strides, as its in-place form does."""
    torch = pytest.importorskip("torch")
    x = torch.randn(4, 3).t().clone()
    assert not x.is_contiguous() and x._base is None
    assert {"tril_", "cumsum_", "masked_fill_"} <= table.layout_changing["methods"]
    assert "mul_" not in table.layout_changing["methods"]
    assert x.tril().stride() != x.clone().tril_().stride()
    assert x.cumsum(0).stride() != x.clone().cumsum_(0).stride()
    assert x.mul(2).stride() == x.clone().mul_(2).stride() == x.stride()
