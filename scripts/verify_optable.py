#!/usr/bin/env python3
"""Verify every row of the checked-in op table (``src/outplace/data/optable.json``) against torch.

Each case is one in-place call (``x.add_(a0)``, ``torch.relu_(x)``, ``F.relu(x, inplace=True)``,
``nn.ReLU(inplace=True)(x)``) and the rewrite outplace itself makes of it; both run on identical
inputs and their results are compared. Run from the repository root::

    python3 scripts/verify_optable.py                      # fast subset (~30 s)
    python3 scripts/verify_optable.py --full               # the full sweep (~3 min)
    python3 scripts/verify_optable.py --full --json sweep.json
    python3 scripts/verify_optable.py --rows 'methods.cum*'  # only some rows (fnmatch on SECTION.NAME)
    python3 scripts/verify_optable.py --facts              # the measured facts, another way (~1 min)

Which rows: every row the fixer rewrites. ``methods`` of kind twin/view (OP102) and the
equivalent/random rows that carry a template (OP107); ``functions`` with a twin (OP103);
``functional.inplace_functions`` (``F.relu_``, OP103); ``functional.inplace_param``
(``F.relu(x, inplace=True)``, OP104, by keyword and by position) and ``modules_inplace``
(``nn.ReLU(inplace=True)``, OP104, by keyword and by position). Rows the fixer never rewrites
(non-math methods, ``fill_diagonal_``, functions without a twin) are counted, not run.

Where the inputs come from:

* ``opinfo``: PyTorch's own OpInfo samples (``torch.testing._internal.common_methods_invocations``,
  shipped in the wheel), for every OpInfo whose in-place variant, function or ``nn.functional``
  name is a row. Fast: float32, int64 and bool, the first ``--max-samples`` samples (default 4) of
  each. ``--full``: every sample, for every dtype the OpInfo supports on CPU.
* ``grid``: per row, each of float32/int64/bool (``--full``: eleven dtypes) x receiver layout
  (0-dim, contiguous (3, 4), transposed view, strided slice) x operand (same shape, a smaller shape
  that broadcasts, a Python scalar), values drawn from a fixed seed.
* ``hypothesis``: per row, ``--examples`` draws (fast 8, ``--full`` 50) of dtype, shape, layout,
  values (NaN, inf, -0.0 included), operand shape (same, broadcasting, growing the receiver), operand
  dtype (promotion) and op-specific arguments; ``derandomize=True``, so every run is the same.

How one case is checked (`check_row`):

1. The call is written out as a small program in which the analysis knows the receiver's dtype
   class (``x = torch.zeros(1, dtype=torch.int64).clone()``), knows tensor arguments as tensors and
   sees Python scalars as literals (the most it can know, so the fewest unsafe reasons: the strictest
   check). ``outplace.engine.check_source`` + ``fix_edit`` (unsafe fixes included) rewrite the
   statement exactly as ``outplace fix`` would, and give the fix's unsafe reasons.
2. The original statement and the rewrite run on layout-preserving copies of the inputs (same
   sizes, strides, offset and storage contents), each after seeding the CPU generator with 0.
3. The receiver after the in-place statement (for modules: the module's output) is compared with
   the rewritten statement's result. Outcomes:

   ``equal``                   same shape, dtype and values (NaN where NaN)
   ``both_raise``              nothing to preserve
   ``not_fixed``               the fixer offers no rewrite here: nothing can change
   ``inplace_raises_only``     in place raises, the rewrite computes
   ``outofplace_raises_only``  the rewrite raises (or does not compile) where the original worked
   ``dtype_differs``           both compute, dtypes differ
   ``value_differs``           both compute, values differ
   ``shape_differs``           the result has another shape (a tensor operand broadcast the receiver
                               to a larger shape: in place that raises)

4. Verdict: ``ok`` for the first three; otherwise ``flagged`` when the fix is unsafe (it names a
   reason: the rule respects the difference, ``outplace fix`` does not apply it without
   ``--unsafe-fixes``), else ``BUG``: a safe fix that changes behaviour. Every BUG row is listed
   with reproducers; the exit status is 1 when there is one, 2 when the verifier itself failed on
   some case (listed as verifier errors), else 0.

Values are compared exactly (NaN equals NaN, -0.0 equals 0.0); a difference within float rounding
is still ``value_differs``, with its relative size in the detail.

``--facts`` checks the measured facts instead (``torchfacts/verify.py``): the generator's call
sweep runs again with the tensors autograd saves seen by a ``saved_tensors_hooks`` pack hook
(the generator reads the autograd nodes and writes into each tensor), and ``saves_inputs``,
``saves_output``, ``saved_output_positions``, ``tuple_returns``, ``inplace_written_saved``, the
aliasing of functionals and modules, ``no_grad_output``, the modules' ``shape_preserving`` and
``saved_when`` (each call again with one input at a time requiring grad) must come out exactly as
checked in; ``tuple_returns`` is held against the aten schemas; the other
shape facts are tried on other shapes and float16; ``tensor_only_methods``, ``pattern_args`` and
``return_flags`` are recomputed (each first-position ``dim`` exercised); each bound of
``method_max_positional`` is exceeded by one (refused for the count) and held against the aten
schemas.  Exit status 1 on any disagreement.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import fnmatch
import functools
import inspect
import json
import math
import random
import sys
import time
import types
import warnings
import zlib
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from outplace.engine import check_source, fix_edit
from outplace.findings import HAZARDS
from outplace.optable import OpTable, load_optable
from outplace.settings import Settings

OUTCOMES = ("equal", "both_raise", "not_fixed", "inplace_raises_only", "outofplace_raises_only",
            "dtype_differs", "value_differs", "shape_differs")
FINE = {"equal", "both_raise", "not_fixed"}
COMPARED = {"equal", "inplace_raises_only", "outofplace_raises_only", "dtype_differs", "value_differs",
            "shape_differs"}  # the rewrite ran: the row was exercised
VERDICTS = ("ok", "flagged", "BUG")

SEED = 0
# Every hazard level: the sweep proves the rewrites, whatever the write does to autograd.
SETTINGS = Settings(unsafe_fixes=True, hazards=HAZARDS)

CI_DTYPES = (torch.float32, torch.int64, torch.bool)
FULL_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.complex64, torch.int64,
               torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)


# --------------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RowRef:
    section: str
    name: str
    row: tuple[tuple[str, Any], ...]  # the table row as sorted items (hashable)

    @property
    def label(self) -> str:
        return f"{self.section}.{self.name}"

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.row)

    @property
    def forms(self) -> tuple[str, ...]:
        """`inplace=True` by keyword and by position for OP104 rows; one form elsewhere."""
        return ("kw", "pos") if self.section in ("functional.inplace_param", "modules_inplace") else ("kw",)

    @property
    def base(self) -> str:
        """The out-of-place name the argument specs are keyed by (`add_` -> `add`)."""
        return self.name[:-1] if self.name.endswith("_") else self.name


def table_rows(table: OpTable | None = None) -> tuple[list[RowRef], dict[str, list[str]]]:
    """(rows the fixer rewrites, {"reason": [labels]} for the rows it never rewrites)."""
    table = table or load_optable()
    rows: list[RowRef] = []
    skipped: dict[str, list[str]] = collections.defaultdict(list)
    for name, row in sorted(table.methods.items()):
        if row["kind"] == "nonmath":
            skipped["methods: nonmath (never rewritten)"].append(name)
        elif row["kind"] in ("twin", "view") or row["template"]:
            rows.append(RowRef("methods", name, tuple(sorted(row.items()))))
        else:
            skipped["methods: no out-of-place form (reported without a fix)"].append(name)
    for name, row in sorted(table.functions.items()):
        if row["twin"]:
            rows.append(RowRef("functions", name, tuple(sorted(row.items()))))
        else:
            skipped["functions: no twin (never rewritten)"].append(name)
    for name, twin in sorted(table.functional["inplace_functions"].items()):
        rows.append(RowRef("functional.inplace_functions", name, (("twin", twin),)))
    for name, index in sorted(table.functional["inplace_param"].items()):
        rows.append(RowRef("functional.inplace_param", name, (("index", index),)))
    for name, index in sorted(table.modules_inplace.items()):
        rows.append(RowRef("modules_inplace", name, (("index", index),)))
    return rows, dict(skipped)


# --------------------------------------------------------------------------------------------------
# Copies that keep the layout
# --------------------------------------------------------------------------------------------------

def replica(value: Any) -> Any:
    """A copy with the same sizes, strides, storage offset and whole storage contents (`as_strided_`
    reads the storage; a strided slice must stay one), recursively through tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        t = value.detach()
        if t.is_conj() or t.is_neg():
            t = t.resolve_conj().resolve_neg()
        if t.layout != torch.strided or t.is_quantized:
            return t.clone()
        out = torch.empty(0, dtype=t.dtype, device=t.device)
        out.set_(t.untyped_storage().clone(), t.storage_offset(), t.size(), t.stride())
        return out
    if isinstance(value, tuple):
        return tuple(replica(v) for v in value)
    if isinstance(value, list):
        return [replica(v) for v in value]
    if isinstance(value, dict):
        return {k: replica(v) for k, v in value.items()}
    return value


# --------------------------------------------------------------------------------------------------
# Writing a case out as source, and what the fixer makes of it
# --------------------------------------------------------------------------------------------------

BEGIN, END = "# -- case --", "# -- end --"
PRELUDE = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n"


def dtype_text(dtype: torch.dtype) -> str:
    return "torch." + str(dtype).removeprefix("torch.")


class Renderer:
    """Turns argument values into source text; tensors become names declared with their dtype."""

    def __init__(self) -> None:
        self.decls: list[str] = []
        self.env: dict[str, Any] = {}
        self.n_tensor = 0
        self.n_other = 0

    def __call__(self, v: Any) -> str:
        if isinstance(v, torch.Tensor):
            name = f"a{self.n_tensor}"
            self.n_tensor += 1
            self.decls.append(f"{name} = torch.zeros(1, dtype={dtype_class_text(v.dtype)})")
            self.env[name] = v
            return name
        if v is None or isinstance(v, (bool, str)):
            return repr(v)
        if isinstance(v, int):
            return repr(v)
        if isinstance(v, float):
            return repr(v) if math.isfinite(v) else f"float({str(v)!r})"
        if isinstance(v, complex):
            return f"complex({self(v.real)}, {self(v.imag)})"
        if isinstance(v, (torch.dtype, torch.memory_format, torch.layout)):
            return str(v)
        if isinstance(v, torch.Size):
            v = tuple(v)
        if isinstance(v, tuple):
            inner = ", ".join(self(e) for e in v)
            return f"({inner},)" if len(v) == 1 else f"({inner})"
        if isinstance(v, list):
            return "[" + ", ".join(self(e) for e in v) + "]"
        if hasattr(v, "item") and not isinstance(v, torch.Tensor):  # numpy scalars
            try:
                return self(v.item())
            except Exception:  # noqa: BLE001
                pass
        name = f"o{self.n_other}"  # anything else: an opaque name the analysis knows nothing about
        self.n_other += 1
        self.env[name] = v
        return name

    def call_args(self, args: tuple, kwargs: dict) -> list[str]:
        return [self(a) for a in args] + [f"{k}={self(v)}" for k, v in kwargs.items()]


@dataclasses.dataclass(frozen=True)
class Rewrite:
    statement: str | None  # the rewritten statement; None: no fix offered
    reasons: tuple[str, ...]
    codes: tuple[str, ...]  # rules that reported the statement


def dtype_class_text(dtype: torch.dtype) -> str:
    """One dtype per class the analysis tells apart (float, int, bool, complex): declarations that
    differ only within a class are the same program to the fixer."""
    if dtype == torch.bool:
        return "torch.bool"
    if dtype.is_complex:
        return "torch.complex64"
    return "torch.float32" if dtype.is_floating_point else "torch.int64"


@functools.lru_cache(maxsize=None)
def rewrite(source: str) -> Rewrite:
    """What `outplace fix --unsafe-fixes` does to the statement between the markers of `source`."""
    lines = source.splitlines()
    first = lines.index(BEGIN) + 2  # 1-based line of the statement
    last = lines.index(END)  # 1-based line of the END marker
    findings = [f for f in check_source(source, SETTINGS) if first <= f.line < last + 1]
    codes = tuple(sorted({f.code for f in findings}))
    for f in findings:
        if f.fix is None:
            continue
        stmt = _rewritten_statement(source, f, "\n".join(lines[first - 1:last]), f"{f.code} {f.plan!r}")
        if stmt is None:
            continue
        return Rewrite(stmt, tuple(f.fix.reasons), codes)
    return Rewrite(None, (), codes)


_REWRITTEN: dict[tuple[str, str], str | None] = {}


def _rewritten_statement(source: str, finding: Any, stmt: str, plan: str) -> str | None:
    """The statement after `finding`'s fix (materialising a fix costs a libcst pass; the result
    depends only on the statement and the plan, not on the declarations above it)."""
    key = (stmt, plan)
    if key not in _REWRITTEN:
        edit = fix_edit(source, finding)
        if edit is None:
            _REWRITTEN[key] = None
        else:
            new_lines = (source[:edit.start] + edit.content + source[edit.end:]).splitlines()
            _REWRITTEN[key] = "\n".join(new_lines[new_lines.index(BEGIN) + 1: new_lines.index(END)])
    return _REWRITTEN[key]


def build_statement(ref: RowRef, args: tuple, kwargs: dict, form: str, r: Renderer) -> tuple[str, str]:
    """(statement, name of the value to compare) for one call of `ref`."""
    name, row = ref.name, ref.data
    if ref.section == "methods":
        return f"x.{name}({', '.join(r.call_args(args, kwargs))})", "x"
    if ref.section == "functions":
        return f"torch.{name}({', '.join(['x', *r.call_args(args, kwargs)])})", "x"
    if ref.section == "functional.inplace_functions":
        return f"F.{name}({', '.join(['x', *r.call_args(args, kwargs)])})", "x"
    if ref.section == "functional.inplace_param":
        if form == "pos":
            assert not kwargs and len(args) == row["index"] - 1, (name, args, kwargs)
            return f"F.{name}({', '.join(['x', *r.call_args(args, {}), 'True'])})", "x"
        return f"F.{name}({', '.join(['x', *r.call_args(args, kwargs), 'inplace=True'])})", "x"
    if ref.section == "modules_inplace":
        if form == "pos":
            assert not kwargs and len(args) == row["index"], (name, args, kwargs)
            ctor = ", ".join([*r.call_args(args, {}), "True"])
        else:
            ctor = ", ".join([*r.call_args(args, kwargs), "inplace=True"])
        return f"y = nn.{name}({ctor})(x)", "y"
    raise ValueError(ref.section)


# --------------------------------------------------------------------------------------------------
# Running and comparing
# --------------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _compiled(stmt: str) -> types.CodeType:
    return compile(stmt, "<case>", "exec")


def run_statement(stmt: str, env: dict[str, Any], result: str) -> tuple[Any, BaseException | None]:
    ns = {"torch": torch, "F": F, "nn": nn, **replica(env)}
    # The CPU generator is all these ops draw from (torch.manual_seed also queues CUDA/XPU seeding,
    # recording a stack trace each time: slow).
    torch.default_generator.manual_seed(SEED)
    try:
        exec(_compiled(stmt), ns)  # noqa: S102 - our own statements and the fixer's rewrite of them
        return ns[result], None
    except Exception as e:  # noqa: BLE001 - every failure is an observation (SyntaxError included)
        return None, e


# Lossless widenings for dtypes whose CPU kernels lack `equal`/`isnan`.
_WIDER = {torch.complex32: torch.complex64, torch.uint16: torch.int64, torch.uint32: torch.int64}
_WIDER.update({d: torch.float32 for d in (getattr(torch, n, None) for n in (
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu")) if d is not None})


def same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal values, NaN equal to NaN (a and b have the same shape and dtype)."""
    if a.dtype in _WIDER:
        a, b = a.to(_WIDER[a.dtype]), b.to(_WIDER[a.dtype])
    try:
        if a.dtype.is_floating_point or a.dtype.is_complex:
            na, nb = torch.isnan(a), torch.isnan(b)
            if not torch.equal(na, nb):
                return False
            return torch.equal(a[~na], b[~nb])
        return torch.equal(a, b)
    except (RuntimeError, NotImplementedError):  # anything else exotic: the same bytes
        return torch.equal(a.reshape(-1).contiguous().view(torch.uint8), b.reshape(-1).contiguous().view(torch.uint8))


def _err(e: BaseException) -> str:
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}: {msg[:160]}"


def compare(x: torch.Tensor, got_in: Any, e_in: BaseException | None, got_out: Any,
            e_out: BaseException | None) -> tuple[str, str]:
    if e_in is not None and e_out is not None:
        return "both_raise", _err(e_in)
    if e_out is not None:
        return "outofplace_raises_only", _err(e_out)
    if not isinstance(got_out, torch.Tensor):
        return "value_differs", f"the rewrite gives {type(got_out).__name__}, not a tensor"
    if e_in is not None:
        if tuple(got_out.shape) != tuple(x.shape):
            return "shape_differs", f"in place raises ({_err(e_in)}); out of place {list(got_out.shape)}"
        return "inplace_raises_only", f"in place raises ({_err(e_in)}); out of place {got_out.dtype}"
    if got_in.shape != got_out.shape:
        return "shape_differs", f"{list(got_in.shape)} in place, {list(got_out.shape)} out of place"
    if got_in.dtype != got_out.dtype:
        return "dtype_differs", f"{got_in.dtype} in place, {got_out.dtype} out of place"
    if not same_values(got_in, got_out):
        return "value_differs", _first_difference(got_in, got_out)
    return "equal", ""


def _first_difference(a: torch.Tensor, b: torch.Tensor) -> str:
    try:
        a, b = a.to(_WIDER.get(a.dtype, a.dtype)), b.to(_WIDER.get(b.dtype, b.dtype))
        nan = (torch.isnan(a) & torch.isnan(b)) if (a.dtype.is_floating_point or a.dtype.is_complex) else False
        diff = (a != b) & ~nan
        idx = tuple(int(i) for i in diff.nonzero()[0]) if a.dim() else ()
        text = f"at {list(idx)}: {a[idx].item()!r} in place, {b[idx].item()!r} out of place"
        if a.dtype.is_floating_point or a.dtype.is_complex:
            finite = torch.isfinite(a) & torch.isfinite(b)
            rel = ((a - b).abs() / b.abs().clamp_min(1e-30))[finite & diff]
            if rel.numel() and float(rel.max()) < 1e-5:
                text += f" (rounding: max relative difference {float(rel.max()):.1e})"
        return text
    except Exception:  # noqa: BLE001 - the description is a courtesy
        return "values differ"


def describe_tensor(t: torch.Tensor, limit: int = 24) -> str:
    """Source that rebuilds `t` (values, dtype, strides) when it is small, else a summary."""
    dt = dtype_text(t.dtype)
    if t.numel() > limit:
        return f"<{dt} {list(t.shape)} stride={list(t.stride())}>"
    vals = t.tolist()
    text = f"torch.tensor({vals!r}, dtype={dt})".replace("nan", "float('nan')").replace("inf", "float('inf')")
    if t.dim() and not t.is_contiguous():
        text = f"torch.empty_strided({tuple(t.shape)}, {tuple(t.stride())}, dtype={dt}).copy_({text})"
    return text


@dataclasses.dataclass
class Outcome:
    label: str  # SECTION.NAME
    outcome: str
    verdict: str
    detail: str
    statement: str
    rewritten: str | None
    reasons: tuple[str, ...]
    inputs: str  # python that rebuilds the inputs (`x = ...; a0 = ...`)
    origin: str = ""  # opinfo:<op>:<dtype>#<i> / grid:<...> / hypothesis
    x_dtype: str = ""  # the receiver's dtype ("float32")

    def reproducer(self) -> str:
        rewritten = self.rewritten if self.rewritten is not None else "(no fix)"
        return (f"{self.inputs}; {self.statement}  # vs  {rewritten}  -> {self.outcome}: {self.detail}"
                f"  [{self.origin}]")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_row(section: str, name: str, row: Any, x: torch.Tensor, args: tuple = (), kwargs: dict | None = None,
              *, form: str = "kw", origin: str = "") -> Outcome:
    """Run `x.name(*args, **kwargs)` (or the section's call) and outplace's rewrite of it; compare.

    `row` is the table row (a mapping; for the functional/modules sections the twin name or the
    `inplace` index); `form` "pos" passes `inplace=True` by position (OP104 rows; then `args` are
    exactly the parameters before it).
    """
    kwargs = dict(kwargs or {})
    if isinstance(row, int):
        row = {"index": row}
    elif isinstance(row, str):
        row = {"twin": row}
    ref = RowRef(section, name, tuple(sorted(dict(row).items())))
    r = Renderer()
    stmt, result = build_statement(ref, tuple(args), kwargs, form, r)
    # `x * 1` uses x between its creation and the write, as in failing code (an op that may save
    # x); without it the write is harmless and outplace rightly reports nothing.
    decls = [f"x = torch.zeros(1, dtype={dtype_class_text(x.dtype)}).clone()", "_used = x * 1", *r.decls]
    source = PRELUDE + "\n".join(decls) + f"\n{BEGIN}\n{stmt}\n{END}\nprint({result})\n"
    rw = rewrite(source)
    env = {"x": x, **r.env}
    inputs = "; ".join([f"x = {describe_tensor(x)}"] + [
        f"{k} = {describe_tensor(v) if isinstance(v, torch.Tensor) else repr(v)}" for k, v in r.env.items()])
    xd = str(x.dtype).removeprefix("torch.")
    if rw.statement is None:
        detail = "reported without a fix" if rw.codes else "not reported"
        return Outcome(ref.label, "not_fixed", "ok", detail, stmt, None, rw.reasons, inputs, origin, xd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got_in, e_in = run_statement(stmt, env, result)
        got_out, e_out = run_statement(rw.statement, env, result)
        outcome, detail = compare(x, got_in, e_in, got_out, e_out)
    if outcome in FINE:
        verdict = "ok"
    else:
        verdict = "flagged" if rw.reasons else "BUG"
    return Outcome(ref.label, outcome, verdict, detail, stmt, rw.statement, rw.reasons, inputs, origin, xd)


@dataclasses.dataclass
class Case:
    ref: RowRef
    x: torch.Tensor
    args: tuple
    kwargs: dict
    form: str = "kw"
    origin: str = ""

    def check(self) -> Outcome:
        return check_row(self.ref.section, self.ref.name, self.ref.data, self.x, self.args, self.kwargs,
                         form=self.form, origin=self.origin)


# --------------------------------------------------------------------------------------------------
# Generated inputs: one generator, two sources of choices (a seeded RNG for the grid, hypothesis)
# --------------------------------------------------------------------------------------------------

FLOAT_SPECIALS = (0.0, -0.0, 1.0, -1.0, 0.5, 2.0, float("nan"), float("inf"), float("-inf"), 1e-30)
# Python scalar arguments come from small sets: each distinct literal is one more program for the
# fixer to analyse, and the kind of a literal (int, float, negative, special) is what matters to it.
INT_SCALARS = (-3, -1, 0, 1, 2, 3, 4)
FLOAT_SCALARS = (0.5, -1.5, 2.0, 0.0, -0.0, 3.25, -0.75, 1e-30, float("nan"), float("inf"), float("-inf"))
LAYOUTS = ("0-dim", "contiguous", "transposed", "sliced")
SHAPES = {"0-dim": [()], "contiguous": [(3, 4), (4,), (2, 3, 4), (3, 1), (1, 4)],
          "transposed": [(3, 4), (2, 3, 4), (4, 1)], "sliced": [(3, 4), (4,), (2, 3, 4)]}
OPERANDS = ("same", "broadcast", "scalar", "zerodim", "grow")


class RandomChoices:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: list | tuple) -> Any:
        return options[self.rng.randrange(len(options))]

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def floats(self, n: int) -> list[float]:
        return [self.rng.choice(FLOAT_SPECIALS) if self.rng.random() < 0.1 else round(self.rng.uniform(-4, 4), 3)
                for _ in range(n)]

    def ints(self, n: int, lo: int, hi: int) -> list[int]:
        return [self.rng.randint(lo, hi) for _ in range(n)]


class HypothesisChoices:
    def __init__(self, data: Any) -> None:
        self.data = data

    def choice(self, options: list | tuple) -> Any:
        return self.data.draw(_sampled(tuple(options)))

    def integer(self, lo: int, hi: int) -> int:
        return self.data.draw(_integers(lo, hi))

    def floats(self, n: int) -> list[float]:
        return self.data.draw(_float_lists(n))

    def ints(self, n: int, lo: int, hi: int) -> list[int]:
        return self.data.draw(_int_lists(n, lo, hi))


# Strategies are built once (building one per draw costs more than the draw).
@functools.lru_cache(maxsize=None)
def _sampled(options: tuple) -> Any:
    from hypothesis import strategies as st

    return st.sampled_from(options)


@functools.lru_cache(maxsize=None)
def _integers(lo: int, hi: int) -> Any:
    from hypothesis import strategies as st

    return st.integers(lo, hi)


@functools.lru_cache(maxsize=None)
def _float_lists(n: int) -> Any:
    from hypothesis import strategies as st

    element = st.one_of(st.floats(-4, 4, width=32), st.sampled_from(FLOAT_SPECIALS))
    return st.lists(element, min_size=n, max_size=n)


@functools.lru_cache(maxsize=None)
def _int_lists(n: int, lo: int, hi: int) -> Any:
    from hypothesis import strategies as st

    return st.lists(st.integers(lo, hi), min_size=n, max_size=n)


def numel(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


class Gen:
    """Draws receivers, operands and op arguments. `forced` pins choices (the grid): keys
    "dtype", "layout", "operand", "operand_dtype" ("same"), "shape"."""

    def __init__(self, choices: RandomChoices | HypothesisChoices, dtypes: tuple[torch.dtype, ...],
                 forced: dict[str, Any] | None = None) -> None:
        self.c = choices
        self.dtypes = dtypes
        self.forced = forced or {}
        self.used_operand = False

    # -- plain choices --
    def pick(self, key: str | None, options: list | tuple) -> Any:
        if key is not None and key in self.forced and self.forced[key] in options:
            return self.forced[key]
        return self.c.choice(options)

    def flag(self) -> bool:
        return self.c.choice((False, True))

    def integer(self, lo: int, hi: int) -> int:
        return self.c.integer(lo, hi)

    def prob(self) -> float:
        return self.pick(None, (0.0, 0.2, 0.5, 1.0))

    def values(self, n: int, dtype: torch.dtype) -> list:
        if dtype == torch.bool:
            return [bool(v) for v in self.c.ints(n, 0, 1)]
        if dtype.is_complex:
            re, im = self.c.floats(n), self.c.floats(n)
            return [complex(a, b) for a, b in zip(re, im)]
        if dtype.is_floating_point:
            return self.c.floats(n)
        return self.c.ints(n, 0 if dtype == torch.uint8 else -5, 6)

    # -- tensors --
    def tensor(self, shape: tuple[int, ...], dtype: torch.dtype, layout: str = "contiguous") -> torch.Tensor:
        shape = tuple(shape)
        if layout == "transposed" and len(shape) >= 2:
            base_shape = shape[:-2] + (shape[-1], shape[-2])
            base = torch.tensor(self.values(numel(base_shape), dtype), dtype=dtype).reshape(base_shape)
            return base.transpose(-1, -2)
        if layout == "sliced" and len(shape) >= 1:
            base_shape = shape[:-1] + (2 * shape[-1],)
            base = torch.tensor(self.values(numel(base_shape), dtype), dtype=dtype).reshape(base_shape)
            return base[..., ::2]
        return torch.tensor(self.values(numel(shape), dtype), dtype=dtype).reshape(shape)

    def dtype(self, dtypes: Iterable[torch.dtype] | None = None) -> torch.dtype:
        pool = tuple(d for d in (dtypes or self.dtypes) if d in self.dtypes) or tuple(dtypes or self.dtypes)
        return self.pick("dtype", pool)

    def receiver(self, shape: tuple[int, ...] | None = None, *, min_ndim: int = 0, max_ndim: int = 9,
                 dtypes: Iterable[torch.dtype] | None = None) -> torch.Tensor:
        dtype = self.dtype(dtypes)
        if shape is not None:
            layouts = [lay for lay in LAYOUTS[1:] if lay != "transposed" or len(shape) >= 2]
            if not shape:
                layouts = ["contiguous"]
            layout = self.pick("layout", layouts)
        else:
            layouts = [lay for lay in LAYOUTS
                       if any(min_ndim <= len(s) <= max_ndim for s in SHAPES[lay])]
            layout = self.pick("layout", layouts)
            shape = self.pick("shape", [s for s in SHAPES[layout] if min_ndim <= len(s) <= max_ndim])
        return self.tensor(shape, dtype, layout)

    def operand(self, x: torch.Tensor, *, scalar: bool = True, tensor: bool = True,
                dtype: torch.dtype | None = None) -> Any:
        """A math operand for x: a tensor of x's shape, of a smaller shape that broadcasts, of a
        shape that grows x, a 0-dim tensor, or a Python scalar; usually of x's dtype."""
        self.used_operand = True
        modes = [m for m in OPERANDS if (m == "scalar" and scalar) or (m != "scalar" and tensor)]
        mode = self.pick("operand", modes)
        if mode == "scalar":
            return self.scalar(x.dtype)
        if dtype is None:
            same = self.forced.get("operand_dtype") == "same"
            dtype = x.dtype if same else self.pick(None, (x.dtype, x.dtype, x.dtype, *self.dtypes))
        shape = tuple(x.shape)
        if mode == "zerodim":
            shape = ()
        elif mode == "broadcast":
            options = [()] + [shape[i:] for i in range(1, len(shape))]
            options += [shape[:i] + (1,) + shape[i + 1:] for i in range(len(shape)) if shape[i] != 1]
            shape = self.pick(None, options)
        elif mode == "grow":
            options = [(2,) + shape] + [shape[:i] + (3,) + shape[i + 1:] for i in range(len(shape)) if shape[i] == 1]
            shape = self.pick(None, options)
        layout = self.pick(None, ("contiguous", "contiguous", "transposed", "sliced")) if shape else "contiguous"
        return self.tensor(shape, dtype, layout)

    def scalar(self, dtype: torch.dtype, kind: str | None = None) -> Any:
        own = "bool" if dtype == torch.bool else "float" if (dtype.is_floating_point or dtype.is_complex) else "int"
        if kind is None:
            kind = own if self.forced.get("operand_dtype") == "same" else self.pick(
                None, (own, own, own, "int", "float", "bool"))
        if kind == "bool":
            return self.flag()
        if kind == "int":
            return self.c.choice(INT_SCALARS)
        return self.c.choice(FLOAT_SCALARS)

    def dim(self, x: torch.Tensor, extra: int = 0) -> int:
        n = max(x.dim(), 1)
        return self.integer(-n - extra, n - 1 + extra)

    def index(self, size: int, count: int) -> torch.Tensor:
        return torch.tensor([self.integer(0, size - 1) for _ in range(count)], dtype=torch.long)

    def mask(self, shape: tuple[int, ...]) -> torch.Tensor:
        return self.tensor(shape, torch.bool)


# --- per-op argument specs: Gen -> (x, args, kwargs) ------------------------------------------------

Spec = Callable[[Gen], tuple[torch.Tensor, tuple, dict]]


def _unary(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    return g.receiver(), (), {}


def _binary(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.operand(x),), {}


def _alpha(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.operand(x),), ({"alpha": g.scalar(x.dtype)} if g.flag() else {})


def _div(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    mode = g.pick(None, ("none", "floor", "trunc", "absent"))
    return x, (g.operand(x),), ({} if mode == "absent" else {"rounding_mode": None if mode == "none" else mode})


def _clamp(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    form = g.pick(None, ("both", "min", "kw_min", "kw_max", "kw_both"))
    lo, hi = g.operand(x), g.operand(x)
    return x, {"both": (lo, hi), "min": (lo,)}.get(form, ()), {
        "kw_min": {"min": lo}, "kw_max": {"max": hi}, "kw_both": {"min": lo, "max": hi}}.get(form, {})


def _addc(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.operand(x, scalar=False), g.operand(x, scalar=False)), (
        {"value": g.scalar(x.dtype)} if g.flag() else {})


def _lerp(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.operand(x, scalar=False), g.operand(x)), {}


def _betas(g: Gen, dtype: torch.dtype) -> dict:
    return {"beta": g.scalar(dtype), "alpha": g.scalar(dtype)} if g.flag() else {}


def _addmm(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver((3, 4))
    return x, (g.tensor((3, 2), x.dtype), g.tensor((2, 4), x.dtype)), _betas(g, x.dtype)


def _addbmm(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver((3, 4))
    return x, (g.tensor((2, 3, 2), x.dtype), g.tensor((2, 2, 4), x.dtype)), _betas(g, x.dtype)


def _baddbmm(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver((2, 3, 4))
    return x, (g.tensor((2, 3, 2), x.dtype), g.tensor((2, 2, 4), x.dtype)), _betas(g, x.dtype)


def _addmv(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver((3,))
    return x, (g.tensor((3, 2), x.dtype), g.tensor((2,), x.dtype)), _betas(g, x.dtype)


def _addr(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver((3, 4))
    return x, (g.tensor((3,), x.dtype), g.tensor((4,), x.dtype)), _betas(g, x.dtype)


def _cum(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    kw = {"dtype": g.pick(None, (torch.float64, torch.int64, x.dtype))} if g.pick(None, (0, 0, 1)) else {}
    return x, (g.dim(x),), kw


def _int_arg(lo: int, hi: int) -> Spec:
    def spec(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
        return g.receiver(), (g.integer(lo, hi),), {}
    return spec


def _renorm(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver(min_ndim=1)
    return x, (g.pick(None, (1, 2, 3.0)), g.dim(x), g.pick(None, (0.5, 1.0, 5.0))), {}


def _round(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (), ({"decimals": g.integer(-1, 2)} if g.flag() else {})


def _nan_to_num(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    if g.flag():
        return x, (), {}
    return x, (), {"nan": g.scalar(x.dtype, "float"), "posinf": 3.0, "neginf": -3.0}


def _logit(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, ((g.pick(None, (0.1, 0.25)),) if g.flag() else ()), {}


def _tri(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver(min_ndim=2)
    return x, ((g.integer(-2, 2),) if g.flag() else ()), {}


def _squeeze(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, ((g.dim(x),) if g.flag() else ()), {}


def _unsqueeze(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.integer(-x.dim() - 1, x.dim()),), {}


def _transpose(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.dim(x), g.dim(x)), {}


def _t(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    return g.receiver(max_ndim=2), (), {}


def _as_strided(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    n = max(1, x.numel())
    k = g.integer(1, n)
    args: tuple = ((k,), (1,))
    if g.flag():
        args += (g.integer(0, x.untyped_storage().nbytes() // x.element_size() - k),)
    return x, args, {}


def _index_shape(x: torch.Tensor, d: int, k: int) -> tuple[int, ...]:
    shape = list(x.shape) or [1]
    shape[d] = k
    return tuple(shape) if x.dim() else (k,)


def _index_op(kind: str) -> Spec:
    def spec(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
        x = g.receiver(min_ndim=1)
        d = g.dim(x)
        k = g.integer(1, 3)
        index = g.index(x.shape[d], k)
        src = g.tensor(_index_shape(x, d, k), x.dtype, g.pick(None, ("contiguous", "transposed")))
        if kind == "add":
            return x, (d, index, src), ({"alpha": g.scalar(x.dtype)} if g.flag() else {})
        if kind == "copy":
            return x, (d, index, src), {}
        if kind == "fill":
            return x, (d, index, g.operand(x) if g.flag() else g.scalar(x.dtype)), {}
        reduce = g.pick(None, ("prod", "mean", "amax", "amin"))
        return x, (d, index, src, reduce), ({"include_self": g.flag()} if g.flag() else {})
    return spec


def _index_put(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver(min_ndim=1)
    if g.flag():
        mask = g.mask(tuple(x.shape))
        indices: tuple = (mask,)
        values = g.tensor((), x.dtype)
    else:
        k = g.integer(1, 3)
        indices = (g.index(x.shape[0], k),)
        values = g.tensor(g.pick(None, ((k,) + tuple(x.shape[1:]), tuple(x.shape[1:]), ())), x.dtype)
    return x, (indices, values), ({"accumulate": g.flag()} if g.flag() else {})


def _masked_fill(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    mask = g.mask(g.pick(None, (tuple(x.shape), tuple(x.shape)[1:], ())))
    return x, (mask, g.scalar(x.dtype) if g.flag() else g.tensor((), g.dtype())), {}


def _masked_scatter(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.mask(tuple(x.shape)), g.tensor(tuple(x.shape), x.dtype)), {}


def _put(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    k = g.integer(1, 3)
    n = max(1, x.numel())
    index = torch.tensor([g.integer(-n, n - 1) for _ in range(k)], dtype=torch.long)
    return x, (index, g.tensor((k,), x.dtype)), ({"accumulate": g.flag()} if g.flag() else {})


def _scatter(kind: str) -> Spec:
    def spec(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
        x = g.receiver(min_ndim=1)
        d = g.dim(x)
        ishape = tuple(g.integer(1, s) if s else 0 for s in x.shape)
        index = torch.tensor([g.integer(0, x.shape[d] - 1) for _ in range(numel(ishape))],
                             dtype=torch.long).reshape(ishape)
        src = g.tensor(tuple(x.shape), x.dtype)
        if kind == "scatter":
            value = g.scalar(x.dtype) if g.flag() else src
            kw = {"reduce": g.pick(None, ("add", "multiply"))} if g.pick(None, (0, 0, 1)) else {}
            return x, (d, index, value), kw
        if kind == "add":
            return x, (d, index, src), {}
        reduce = g.pick(None, ("sum", "prod", "mean", "amax", "amin"))
        return x, (d, index, src, reduce), ({"include_self": g.flag()} if g.flag() else {})
    return spec


def _fill(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.scalar(x.dtype) if g.flag() else g.tensor((), g.dtype()),), {}


def _copy(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
    x = g.receiver()
    return x, (g.operand(x, scalar=False, dtype=g.pick(None, (x.dtype, *g.dtypes))),), {}


def _random(name: str) -> Spec:
    arg_options: dict[str, list[tuple]] = {
        "uniform": [(), (-1.0, 2.0)], "normal": [(), (1.0, 2.0)], "bernoulli": [(), (0.3,), ("p",)],
        "random": [(), (10,), (2, 10)], "exponential": [(), (2.0,)], "geometric": [(0.3,)],
        "cauchy": [(), (1.0, 2.0)], "log_normal": [(), (1.0, 0.5)],
    }

    def spec(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
        x = g.receiver()
        args = g.pick(None, arg_options[name])
        args = tuple(g.tensor(tuple(x.shape), torch.float32).clamp(0, 1).nan_to_num(0.5) if a == "p" else a
                     for a in args)
        return x, args, {}
    return spec


def _dropout_fn(g: Gen) -> tuple[torch.Tensor, tuple, dict]:  # torch.dropout_(x, p, train)
    x = g.receiver(min_ndim=1)
    return x, (g.prob(), g.flag()), {}


# Parameters of F.* / nn.* before `inplace`, by name: draws a value for x.
PARAMS: dict[str, Callable[[Gen, torch.Tensor], Any]] = {
    "p": lambda g, x: g.prob(),
    "training": lambda g, x: g.flag(),
    "alpha": lambda g, x: g.pick(None, (1.0, 0.5, 2.0)),
    "negative_slope": lambda g, x: g.pick(None, (0.01, 0.2, -0.5, 2)),
    "min_val": lambda g, x: g.pick(None, (-1.0, -0.5, 0, -2)),
    "max_val": lambda g, x: g.pick(None, (1.0, 0.5, 2, 3.0)),
    "lower": lambda g, x: g.pick(None, (0.125, 0.1)),
    "upper": lambda g, x: g.pick(None, (1 / 3, 0.3)),
    "threshold": lambda g, x: g.scalar(x.dtype),
    "value": lambda g, x: g.scalar(x.dtype),
}


def _params_spec(params: list[str], min_ndim: int = 0) -> Spec:
    """Positional parameters by name (F.leaky_relu_(x, negative_slope), torch.rrelu_(x, l, u, t))."""
    def spec(g: Gen) -> tuple[torch.Tensor, tuple, dict]:
        x = g.receiver(min_ndim=min_ndim)
        n = len(params) if not params else g.integer(0, len(params))
        return x, tuple(PARAMS[p](g, x) for p in params[:n]), {}
    return spec


SPECS: dict[str, Spec] = {}
for _n in ("abs absolute acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh "
           "bitwise_not ceil conj_physical cos cosh deg2rad digamma erf erfc erfinv exp2 exp expm1 fix floor "
           "frac i0 lgamma log10 log1p log2 log logical_not neg negative rad2deg reciprocal relu rsqrt sgn "
           "sigmoid sign sin sinc sinh sqrt square tan tanh trunc selu zero").split():
    SPECS[_n] = _unary
for _n in ("mul multiply true_divide floor_divide remainder fmod pow float_power atan2 arctan2 copysign hypot "
           "igamma igammac nextafter heaviside xlogy ldexp gcd lcm bitwise_and bitwise_or bitwise_xor "
           "bitwise_left_shift bitwise_right_shift eq ne lt le gt ge greater greater_equal less less_equal "
           "not_equal logical_and logical_or logical_xor clamp_max clamp_min").split():
    SPECS[_n] = _binary
SPECS.update({
    "add": _alpha, "sub": _alpha, "subtract": _alpha, "div": _div, "divide": _div,
    "clamp": _clamp, "clip": _clamp, "addcdiv": _addc, "addcmul": _addc, "lerp": _lerp,
    "addmm": _addmm, "addbmm": _addbmm, "baddbmm": _baddbmm, "addmv": _addmv, "addr": _addr,
    "cumsum": _cum, "cumprod": _cum, "mvlgamma": _int_arg(1, 3), "polygamma": _int_arg(0, 2),
    "renorm": _renorm, "round": _round, "nan_to_num": _nan_to_num, "logit": _logit,
    "tril": _tri, "triu": _tri, "squeeze": _squeeze, "unsqueeze": _unsqueeze,
    "transpose": _transpose, "swapaxes": _transpose, "swapdims": _transpose, "t": _t,
    "as_strided": _as_strided,
    "index_add": _index_op("add"), "index_copy": _index_op("copy"), "index_fill": _index_op("fill"),
    "index_reduce": _index_op("reduce"), "index_put": _index_put,
    "masked_fill": _masked_fill, "masked_scatter": _masked_scatter, "put": _put,
    "scatter": _scatter("scatter"), "scatter_add": _scatter("add"), "scatter_reduce": _scatter("reduce"),
    "fill": _fill, "copy": _copy,
    **{n: _random(n) for n in ("uniform", "normal", "bernoulli", "random", "exponential", "geometric",
                               "cauchy", "log_normal")},
    # torch.* in-place functions (positional, as their schemas take them)
    "dropout": _dropout_fn, "alpha_dropout": _dropout_fn, "feature_dropout": _dropout_fn,
    "feature_alpha_dropout": _dropout_fn,
    "rrelu": _params_spec(["lower", "upper", "training"]),
    "celu": _params_spec(["alpha"]), "elu": _params_spec(["alpha"]),
    "threshold": lambda g: (lambda x: (x, (g.scalar(x.dtype), g.scalar(x.dtype)), {}))(g.receiver()),
    "leaky_relu": _params_spec(["negative_slope"]), "hardtanh": _params_spec(["min_val", "max_val"]),
})
FEATURE_DROPOUT = {"dropout1d": 2, "dropout2d": 3, "dropout3d": 4, "feature_dropout": 3,
                   "feature_alpha_dropout": 3}  # ndim that the channel-wise dropouts want


def _positional_params(fn: Callable, index: int, skip_first: bool) -> list[str]:
    names = list(inspect.signature(fn).parameters)
    return names[1 if skip_first else 0: index + (1 if skip_first else 0)]


def draw_case(ref: RowRef, g: Gen, form: str = "kw", origin: str = "") -> Case:
    """One generated call for row `ref`."""
    if ref.section in ("functional.inplace_param", "modules_inplace"):
        index = ref.data["index"]
        if ref.section == "functional.inplace_param":
            names = _positional_params(getattr(F, ref.name), index, skip_first=False)[1:]
        else:
            names = _positional_params(getattr(nn, ref.name).__init__, index, skip_first=True)
        ndim = FEATURE_DROPOUT.get(ref.name.lower(), 0)
        x = g.receiver((2, 3, 4, 2)[:ndim]) if ndim else g.receiver()
        values = [PARAMS[n](g, x) for n in names]
        if form == "pos":
            return Case(ref, x, tuple(values), {}, form, origin)
        how = g.pick(None, ("positional", "keyword", "defaults")) if names else "defaults"
        if how == "positional":
            return Case(ref, x, tuple(values), {}, form, origin)
        if how == "keyword":
            return Case(ref, x, (), dict(zip(names, values)), form, origin)
        required = [n for n in names if inspect.signature(
            getattr(F, ref.name) if ref.section == "functional.inplace_param" else getattr(nn, ref.name).__init__
        ).parameters[n].default is inspect.Parameter.empty]
        return Case(ref, x, (), {n: v for n, v in zip(names, values) if n in required}, form, origin)
    spec = SPECS.get(ref.base)
    if spec is None:
        raise KeyError(f"no argument spec for {ref.label}: add one to SPECS")
    ndim = FEATURE_DROPOUT.get(ref.base)
    if ndim and ref.section == "functions":
        x = g.receiver((2, 3, 4, 2)[:ndim])
        return Case(ref, x, (g.prob(), g.flag()), {}, form, origin)
    x, args, kwargs = spec(g)
    return Case(ref, x, args, kwargs, form, origin)


def grid_cases(ref: RowRef, dtypes: tuple[torch.dtype, ...]) -> Iterator[Case]:
    """dtype x layout x operand mode, values from a seed fixed per combination."""
    for form in ref.forms:
        for dtype in dtypes:
            for layout in LAYOUTS:
                for operand in ("same", "broadcast", "scalar"):
                    seed = zlib.crc32(f"{ref.label}|{form}|{dtype}|{layout}|{operand}".encode())
                    forced = {"dtype": dtype, "layout": layout, "operand": operand, "operand_dtype": "same",
                              "shape": (3, 4) if layout != "0-dim" else ()}
                    g = Gen(RandomChoices(seed), dtypes, forced)
                    yield draw_case(ref, g, form, f"grid:{str(dtype).removeprefix('torch.')}/{layout}/{operand}")
                    if not g.used_operand:
                        break  # the operand mode made no difference


def hypothesis_cases(ref: RowRef, examples: int, dtypes: tuple[torch.dtype, ...],
                     check: Callable[[Case], Any]) -> None:
    """`examples` hypothesis draws per form of `ref` (derandomized: the same every run), each
    handed to `check`."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    for form in ref.forms:
        @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                  phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
        @given(st.data())
        def run(data: Any) -> None:
            check(draw_case(ref, Gen(HypothesisChoices(data), dtypes), form, "hypothesis"))

        run()


# --------------------------------------------------------------------------------------------------
# OpInfo samples
# --------------------------------------------------------------------------------------------------

def torchfacts() -> types.ModuleType:
    """The generator's package (scripts/torchfacts), imported from next to this script."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        import torchfacts.verify  # noqa: F401 - imports the package and its verifier
        import torchfacts
    finally:
        sys.path.pop(0)
    return torchfacts


def load_op_db() -> list:
    """PyTorch's OpInfo database (the generator's loader: one place knows about `expecttest`)."""
    return torchfacts().common.load_op_db()


def check_facts(out: Any = sys.stdout) -> int:
    """`--facts`: the measured facts (saves_inputs, saved outputs per pattern, tuple results,
    in-place saves, aliasing of functionals and modules, no_grad_output, shape facts,
    tensor_only_methods, argument patterns) measured again another way; 1 on any disagreement."""
    t0 = time.monotonic()
    table = json.loads(resources.files("outplace").joinpath("data/optable.json").read_text(encoding="utf-8"))
    problems, unexercised = torchfacts().verify.verify_facts(
        table, log=lambda m: print(f"[{time.monotonic() - t0:6.1f}s] {m}", file=sys.stderr))
    p = functools.partial(print, file=out)
    p(f"torch {torch.__version__}: facts measured again in {time.monotonic() - t0:.1f} s; "
      f"{len(problems)} disagreements; {len(unexercised)} listed rows no new input exercised")
    for line in problems:
        p(f"  DISAGREE {line}")
    if unexercised:
        p("  not exercised on the new inputs: " + ", ".join(unexercised))
    return 1 if problems else 0


def opinfo_targets(op_db: list, rows: list[RowRef]) -> list[tuple[Any, RowRef]]:
    """(OpInfo, row) pairs: the OpInfo's samples, called through the row's in-place form."""
    by_label = {r.label: r for r in rows}
    pairs: list[tuple[Any, RowRef]] = []
    for op in op_db:
        found: list[RowRef] = []
        for o in (op, *op.aliases):
            ip = o.inplace_variant
            n = getattr(ip, "__name__", None)
            if n and getattr(torch.Tensor, n, None) is ip and f"methods.{n}" in by_label:
                found.append(by_label[f"methods.{n}"])
            fn = o.op
            n = getattr(fn, "__name__", None)
            if n and getattr(torch, n, None) is fn and f"functions.{n}_" in by_label:
                found.append(by_label[f"functions.{n}_"])
        if op.name.startswith("nn.functional."):
            b = op.name.removeprefix("nn.functional.")
            for label in (f"functions.{b}_", f"functional.inplace_functions.{b}_",
                          f"functional.inplace_param.{b}"):
                if label in by_label:
                    found.append(by_label[label])
        for ref in dict.fromkeys(found):
            pairs.append((op, ref))
    return pairs


def opinfo_cases(op_db: list, rows: list[RowRef], dtypes: tuple[torch.dtype, ...] | None,
                 max_samples: int | None) -> Iterator[Case]:
    """Cases from OpInfo samples; `dtypes` None: every dtype the OpInfo supports on CPU."""
    for op, ref in opinfo_targets(op_db, rows):
        supported = op.supported_dtypes("cpu")
        for dtype in sorted(supported, key=str) if dtypes is None else [d for d in dtypes if d in supported]:
            torch.manual_seed(SEED)
            try:
                samples = op.sample_inputs("cpu", dtype, requires_grad=False)
                for i, sample in enumerate(samples):
                    if max_samples is not None and i >= max_samples:
                        break
                    if not isinstance(sample.input, torch.Tensor):
                        continue
                    args, kwargs = tuple(sample.args), dict(sample.kwargs)
                    if ref.section == "functional.inplace_param" and "inplace" in kwargs:
                        continue
                    origin = f"opinfo:{op.name}{'.' + op.variant_test_name if op.variant_test_name else ''}" \
                             f":{str(dtype).removeprefix('torch.')}#{i}"
                    yield Case(ref, sample.input, args, kwargs, "kw", origin)
            except Exception as e:  # noqa: BLE001 - a sample generator that fails on this dtype
                print(f"  (opinfo {op.name} {dtype}: sample_inputs failed: {type(e).__name__})", file=sys.stderr)


# --------------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Sweep:
    rows: list[RowRef]
    skipped: dict[str, list[str]]
    outcomes: list[Outcome] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)  # the verifier's own failures
    seconds: float = 0.0
    cpu_seconds: float = 0.0

    def check(self, case: Case) -> None:
        try:
            self.outcomes.append(case.check())
        except Exception as e:  # noqa: BLE001 - a verifier bug must not end a long sweep; it is reported
            self.errors.append(f"{case.ref.label} [{case.origin}]: {_err(e)}")

    def counts(self) -> dict[str, Any]:
        by_outcome = collections.Counter(o.outcome for o in self.outcomes)
        by_verdict = collections.Counter(o.verdict for o in self.outcomes)
        by_source = collections.Counter(o.origin.split(":")[0] for o in self.outcomes)
        table = collections.Counter((o.outcome, o.verdict) for o in self.outcomes)
        return {
            "rows_checked": len(self.rows),
            "rows_by_section": dict(collections.Counter(r.section for r in self.rows)),
            "rows_skipped": sum(len(v) for v in self.skipped.values()),
            "cases": len(self.outcomes),
            "cases_by_source": dict(sorted(by_source.items())),
            "outcomes": {k: by_outcome.get(k, 0) for k in OUTCOMES},
            "verdicts": {k: by_verdict.get(k, 0) for k in VERDICTS},
            "outcome_verdict": {f"{o}/{v}": n for (o, v), n in sorted(table.items())},
            "verifier_errors": len(self.errors),
            "seconds": round(self.seconds, 1),
            "cpu_seconds": round(self.cpu_seconds, 1),
        }

    def bugs(self) -> dict[str, list[Outcome]]:
        out: dict[str, list[Outcome]] = collections.defaultdict(list)
        for o in self.outcomes:
            if o.verdict == "BUG":
                out[o.label].append(o)
        return dict(sorted(out.items()))

    def uncovered(self) -> list[str]:
        """Rows no case exercised (the rewrite never ran on inputs where the original worked or raised
        differently)."""
        seen = {o.label for o in self.outcomes if o.outcome in COMPARED}
        return [r.label for r in self.rows if r.label not in seen]

    def to_json(self) -> dict[str, Any]:
        bugs = self.bugs()
        return {
            "torch_version": torch.__version__,
            "counts": self.counts(),
            "skipped_rows": self.skipped,
            "uncovered_rows": self.uncovered(),
            "bug_rows": {label: {"cases": len(v), "kinds": dict(collections.Counter(o.outcome for o in v)),
                                 "examples": [o.to_json() for o in v[:5]]} for label, v in bugs.items()},
            "flagged": {f"{o.label}/{o.outcome}": o.reproducer() for o in self.outcomes if o.verdict == "flagged"},
            "verifier_errors": self.errors,
            "per_row": {r.label: dict(collections.Counter(o.outcome for o in self.outcomes if o.label == r.label))
                        for r in self.rows},
        }


def run_sweep(*, full: bool, max_samples: int | None, examples: int, use_opinfo: bool = True,
              use_grid: bool = True, use_hypothesis: bool = True, row_pattern: str | None = None,
              progress: bool = True) -> Sweep:
    t0, c0 = time.monotonic(), time.process_time()
    torch.set_num_threads(1)  # reductions and RNG streams must not depend on the thread count
    rows, skipped = table_rows()
    if row_pattern:
        rows = [r for r in rows if fnmatch.fnmatch(r.label, row_pattern)]
    sweep = Sweep(rows, skipped)
    dtypes = FULL_DTYPES if full else CI_DTYPES

    def log(msg: str) -> None:
        if progress:
            print(f"[{time.monotonic() - t0:6.1f}s] {msg}", file=sys.stderr)

    if use_grid:
        for ref in rows:
            for case in grid_cases(ref, dtypes):
                sweep.check(case)
        log(f"grid: {len(sweep.outcomes)} cases")
    if use_hypothesis:
        n0 = len(sweep.outcomes)
        for ref in rows:
            hypothesis_cases(ref, examples, dtypes, sweep.check)
        log(f"hypothesis: {len(sweep.outcomes) - n0} cases")
    if use_opinfo:
        n0 = len(sweep.outcomes)
        op_db = load_op_db()
        log("opinfo: op_db loaded")
        for case in opinfo_cases(op_db, rows, None if full else CI_DTYPES, max_samples):
            sweep.check(case)
        log(f"opinfo: {len(sweep.outcomes) - n0} cases")
    sweep.seconds = time.monotonic() - t0
    sweep.cpu_seconds = time.process_time() - c0
    return sweep


def print_report(sweep: Sweep, out: Any = sys.stdout) -> None:
    c = sweep.counts()
    p = functools.partial(print, file=out)
    p(f"torch {torch.__version__}: {c['rows_checked']} rows checked "
      f"({', '.join(f'{k} {v}' for k, v in c['rows_by_section'].items())}); "
      f"{c['rows_skipped']} rows never rewritten, not run")
    p(f"cases: {c['cases']} ({', '.join(f'{k} {v}' for k, v in c['cases_by_source'].items())}) "
      f"in {c['seconds']} s ({c['cpu_seconds']} s CPU)")
    if sweep.errors:
        p(f"verifier errors (cases the verifier itself failed on): {len(sweep.errors)}")
        for e in sweep.errors[:10]:
            p(f"  {e}")
    p("outcomes: " + ", ".join(f"{k} {v}" for k, v in c["outcomes"].items()))
    p("verdicts: " + ", ".join(f"{k} {v}" for k, v in c["verdicts"].items()))
    p("outcome/verdict: " + ", ".join(f"{k} {v}" for k, v in c["outcome_verdict"].items()))
    uncovered = sweep.uncovered()
    p(f"rows no case exercised: {len(uncovered)}" + (f" ({', '.join(uncovered)})" if uncovered else ""))
    bugs = sweep.bugs()
    p(f"BUG rows: {len(bugs)}")
    for label, cases in bugs.items():
        kinds = ", ".join(f"{k} {v}" for k, v in collections.Counter(o.outcome for o in cases).items())
        p(f"  {label}: {len(cases)} cases ({kinds})")
        shown: set[str] = set()
        for o in cases:
            key = o.outcome + o.detail.split(":")[0]
            if key in shown:
                continue
            shown.add(key)
            p(f"    {o.reproducer()}")
            if len(shown) >= 3:
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every OpInfo sample and CPU dtype; 50 hypothesis examples")
    parser.add_argument("--max-samples", type=int, default=None,
                        help="OpInfo samples per op and dtype (default: 4; --full: all)")
    parser.add_argument("--examples", type=int, default=None,
                        help="hypothesis examples per row and form (8; --full: 50)")
    parser.add_argument("--json", type=Path, help="write counts, bug rows and per-row outcomes here")
    parser.add_argument("--rows", help="only rows whose SECTION.NAME matches this fnmatch pattern")
    parser.add_argument("--no-opinfo", action="store_true")
    parser.add_argument("--no-hypothesis", action="store_true")
    parser.add_argument("--no-grid", action="store_true")
    parser.add_argument("--facts", action="store_true",
                        help="instead: measure saves_inputs, aliasing, shape and grad facts again another way")
    ns = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if ns.facts:
        return check_facts()
    max_samples = ns.max_samples if ns.max_samples is not None else (None if ns.full else 4)
    examples = ns.examples if ns.examples is not None else (50 if ns.full else 8)
    sweep = run_sweep(full=ns.full, max_samples=max_samples, examples=examples, use_opinfo=not ns.no_opinfo,
                      use_grid=not ns.no_grid, use_hypothesis=not ns.no_hypothesis, row_pattern=ns.rows)
    print_report(sweep)
    if ns.json:
        ns.json.write_text(json.dumps(sweep.to_json(), indent=1, default=str) + "\n", encoding="utf-8")
    return 1 if sweep.bugs() else 2 if sweep.errors else 0


if __name__ == "__main__":
    sys.exit(main())
