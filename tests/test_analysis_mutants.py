"""Judgements of analysis/ that the mutation run (scripts/mutation.py, group `analysis`) found no test
deciding: each test states a behaviour of `check` on a small program, and names the planted bug it
catches (tests/README.md, "Mutation testing").

Some behaviours depend on the order of a set of objects, which changes from run to run (object ids,
string hashes): those tests repeat the shape in many functions, so a bug that drops whatever follows
one object in that order shows on some of them in every run.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from outplace.analysis.project import ProjectIndex
from outplace.engine import check_source, fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

EVERYTHING = Settings(unsafe_fixes=True, clone=True, hazards=HAZARDS)
CALLER = "\n\ndef _train():\n    x = torch.randn(3, requires_grad=True)\n    return {calls}\n"


def _check(code: str) -> dict[int, object]:
    """Findings by line, every hazard and fix reported (one finding per line in these programs)."""
    found = {}
    for f in check_source(textwrap.dedent(code), EVERYTHING):
        assert f.line not in found, (f, found[f.line])
        found[f.line] = f
    return found


def _line(code: str, marker: str) -> int:
    """The line that ends with `marker` (a comment) or holds it (anything else)."""
    return next(i for i, text in enumerate(textwrap.dedent(code).splitlines(), 1)
                if (text.endswith(marker) if marker.startswith("#") else marker in text))


def _verdict(f) -> tuple[str, str]:
    return f.hazard, "none" if f.fix is None else f.fix.applicability.value


def _text(f) -> str:
    return " ".join([f.why, *(f.fix.reasons if f.fix else ())])


# ---- dtypes of factories and of `dtype=` --------------------------------------------------------------


def test_the_dtype_of_a_factory_comes_from_its_fill_value_only() -> None:
    """`torch.full(shape, 3)` is an integer tensor, so `/=` on it is no safe `/`; `torch.zeros(2, 3)`
    is floating whatever its sizes are; keyword arguments are read too (flow.py `_factory_dtype`:
    `name == "full" and 1 in inputs`)."""
    code = """
        import torch

        def f():
            z = torch.zeros(2, 3)
            z /= 2  # zeros
            i = torch.full((2,), 3)
            i /= 2  # full int
            g = torch.full((2,), 3.0)
            g /= 2  # full float
            k = torch.full(size=(2,), fill_value=3.0)
            k /= 2  # full by keyword
            return z, i, g, k
        """
    found = _check(code)
    assert _verdict(found[_line(code, "# zeros")]) == ("nograd", "safe")
    assert _verdict(found[_line(code, "# full float")]) == ("nograd", "safe")
    assert _verdict(found[_line(code, "# full by keyword")]) == ("nograd", "safe")
    integer = found[_line(code, "# full int")]
    assert _verdict(integer) == ("nograd", "unsafe") and "not known to be floating" in _text(integer)


def test_a_complex_dtype_keeps_abs_unsafe() -> None:
    """`abs_` raises on a complex tensor while `abs` returns real values: a tensor made with a complex
    `dtype=` must never get the safe fix a float or bool one gets (filecontext.py `dtype_of_expr`)."""
    code = """
        import torch

        def f():
            c = torch.zeros(3, dtype=torch.complex64)
            c.abs_()  # complex64
            d = torch.zeros(3, dtype=torch.cfloat)
            d.abs_()  # cfloat
            r = torch.zeros(3, dtype=torch.float32)
            r.abs_()  # float
            b = torch.zeros(3, dtype=torch.bool)
            b.abs_()  # bool
            return c, d, r, b
        """
    found = _check(code)
    for marker in ("# complex64", "# cfloat"):
        f = found[_line(code, marker)]
        assert _verdict(f) == ("nograd", "unsafe") and "not known to be a real tensor" in _text(f), marker
    # (a float dtype is no proof of a real tensor: a float-only op of a complex input is complex, and
    # the dtype classes do not tell the two apart, so only an integer or bool tensor is safe: eval49 D1)
    assert _verdict(found[_line(code, "# float")]) == ("nograd", "unsafe")
    assert _verdict(found[_line(code, "# bool")]) == ("nograd", "safe")


# ---- what saves what ------------------------------------------------------------------------------------


def test_an_in_place_op_outside_autograd_saves_nothing() -> None:
    """`y.sigmoid_()` saves its result only when `y` may require grad: on a tensor outside autograd a
    later write stays `nograd`; on a graph tensor it `breaks` (flow.py `_write`: `saves_output`)."""
    code = textwrap.dedent("""
        import torch

        def f(x):
            y = x * 2
            y.sigmoid_()
            y.mul_(3)  # graph
            z = torch.zeros(3)
            z.sigmoid_()
            z.mul_(3)  # outside
            return y, z
        """) + CALLER.format(calls="f(x)")
    found = _check(code)
    graph = found[_line(code, "# graph")]
    assert graph.hazard == "breaks" and "saved by `sigmoid_`" in graph.why
    assert found[_line(code, "# outside")].hazard == "nograd"


def test_a_tensor_passed_to_an_unknown_call_then_maybe_saved_reads_as_a_sentence() -> None:
    """The first event in the message is the call it was passed to: "`y` was passed to ..."
    (judge.py `_hazard`: only a "may be saved" event is quoted without "was")."""
    code = textwrap.dedent("""
        import torch

        def f(x, p):
            y = x * 2
            helper(y)
            z = torch.norm(y, p=p)
            y *= 3  # <-
            return z
        """) + CALLER.format(calls="f(x, 2)")
    f = _check(code)[_line(code, "# <-")]
    assert f.hazard == "breaks"
    assert f.why.startswith("`y` was passed to `helper`, which may save it for backward (line 6)"), f.why


def test_a_with_item_s_events_name_its_line() -> None:
    """An op in a `with` item is where the message says it is (flow.py `_step`: a `with` item has no
    line of its own; its context expression has)."""
    code = textwrap.dedent("""
        import contextlib
        import torch

        def f(x):
            with contextlib.nullcontext(y := torch.sigmoid(x)):
                y *= 2  # <-
            return y
        """) + CALLER.format(calls="f(x)")
    f = _check(code)[_line(code, "# <-")]
    assert f.hazard == "breaks"
    assert f"saved by `torch.sigmoid` as its result (line {_line(code, 'with contextlib')})" in f.why, f.why


def test_an_operand_that_is_a_view_of_the_target_is_a_reason() -> None:
    """`torch.clamp_(y, y[0])`: the bound is read from `y` while `y` is written, which out of place
    it is not: the fix says so (judge.py `_operand_is_target`: only the first argument is the target)."""
    code = textwrap.dedent("""
        import torch

        def f(x):
            y = x * 2
            torch.clamp_(y, y[0])  # positional
            torch.clamp_(y, min=y[0])  # keyword
            return y
        """)
    found = _check(code)
    for marker in ("# positional", "# keyword"):
        f = found[_line(code, marker)]
        assert "an operand shares memory with `y`" in _text(f), (marker, _text(f))


def test_a_write_through_dropout_in_eval_mode_breaks() -> None:
    """`F.dropout(h, training=False) is h`: writing its result writes `h`, which `torch.sigmoid`
    saved, so backward raises (a measured alias condition spelled out as a literal: the input itself).
    Found next to the mutant `filecontext.py:1119`."""
    code = textwrap.dedent("""
        import torch
        import torch.nn.functional as F

        def f(x):
            h = torch.sigmoid(x)
            y = F.dropout(h, training=False)
            y *= 2  # <-
            return y
        """) + CALLER.format(calls="f(x)")
    f = _check(code)[_line(code, "# <-")]
    assert f.hazard == "breaks", f.why


def test_a_class_deriving_from_a_dotted_optimizer_base_mutates_on_purpose() -> None:
    """`class Scaled(torch.optim.Optimizer)`: in-place writes in an optimizer are its job and are
    not reported; the same method in a plain class is (context.py `_base_name`: the last part of
    a dotted base)."""
    method = """
            def scale(self, x):
                y = torch.sigmoid(x)
                y *= 2
                return y
        """
    for base, reported in (("torch.optim.Optimizer", False), ("torch.optim.lr_scheduler.LRScheduler", False),
                           ("object", True)):
        code = f"import torch\n\n\nclass Scaled({base}):" + textwrap.dedent(method).replace("\n", "\n    ")
        found = _check(code)
        assert bool(found) == reported, (base, found)


def test_a_measured_alias_condition_is_matched_on_the_call_s_keywords() -> None:
    """Which `F.<name>(...)` calls may return their input, from the op table's conditions
    (`training=False`, `p=0.0`). Every such row in today's table also says "args" (any positional
    call may meet them), so no program reaches the keyword matching: it is decided here on a table
    without "args" (filecontext.py `_may_return_input`)."""
    from types import SimpleNamespace

    from outplace.analysis.filecontext import _may_return_input

    ops = SimpleNamespace(may_alias_input={"functional": {"dropout": frozenset({"training=False", "p=0.0",
                                                                                   "inplace=True"})}})

    def verdict(call: str) -> str:
        return _may_return_input(ops, "dropout", ast.parse(call, mode="eval").body)

    assert verdict("F.dropout(x, training=False)") == "view"  # the condition spelled out: its input
    assert verdict("F.dropout(x, p=0.0)") == "view"
    assert verdict("F.dropout(x, p=0)") == "view"  # the number, however it is spelled
    assert verdict("F.dropout(x, p=rate)") == "maybe"  # not a constant: it may be 0
    assert verdict("F.dropout(x, p=0.5, training=True)") == "no"
    assert verdict("F.dropout(x, p=0.5)") == "no"
    assert verdict("F.dropout(x, inplace=True)") == "no"  # the in-place form is judged as a write


# ---- summaries of the run's functions -------------------------------------------------------------------


def test_a_function_returning_a_saved_tensor_or_a_constant_is_summarised_by_both() -> None:
    """A helper that returns `None`, a number, a shape or a string on some paths and a tensor saved by
    `torch.sigmoid` on another: the caller's write into what it returned `breaks` (summaries.py
    `_part`: a constant among the returned objects is skipped, not the end of the list)."""
    helpers, calls = [], []
    for i in range(12):
        helpers.append(f"""
            def g{i}(x, c):
                y = None
                if c == 1:
                    y = 0
                if c == 2:
                    y = x.shape
                if c == 3:
                    y = "no"
                if c == 4:
                    y = 0.5
                if c == 0:
                    y = torch.sigmoid(x)
                return y
            """)
        calls.append(f"    y{i} = g{i}(x, c)\n    y{i} *= 2  # <- {i}\n")
    code = "import torch\n" + "".join(textwrap.dedent(h) for h in helpers) + "\n\ndef f(x, c):\n" + "".join(calls) \
        + "    return y0\n" + CALLER.format(calls="f(x * 2, 0)")
    found = _check(code)
    for i in range(12):
        f = found.get(_line(code, f"# <- {i}"))
        assert f is not None and f.hazard == "breaks" and f"saved by `torch.sigmoid` as its result inside `g{i}`" \
            in f.why, (i, f)


def test_iterating_a_range_or_a_list_of_tensors_keeps_the_tensors() -> None:
    """`list(src)` and `a, *rest = src`, where `src` is a range on one path and a list holding a
    saved tensor on another: the element written is that tensor (flow.py `_contents`: a range among
    the objects is expanded, and the others still are)."""
    parts, calls = [], []
    for i in range(8):
        parts.append(f"""
            def g{i}(x, c):
                t = torch.sigmoid(x)
                src = range(3) if c else [t]
                items = list(src)
                items[0].mul_(2)  # <- g{i}
                return items

            def h{i}(x, c):
                t = torch.sigmoid(x)
                src = [t] if c else range(3)
                a, *rest = src
                a.mul_(2)  # <- h{i}
                return a
            """)
        calls += [f"g{i}(x, 0)", f"h{i}(x, 0)"]
    code = "import torch\n" + "".join(textwrap.dedent(p) for p in parts) + CALLER.format(calls=", ".join(calls))
    found = _check(code)
    for i in range(8):
        for fn in ("g", "h"):
            f = found.get(_line(code, f"# <- {fn}{i}"))
            assert f is not None and f.hazard == "breaks" and "saved by `torch.sigmoid`" in f.why, (fn, i, f)


# ---- parameters and containers --------------------------------------------------------------------------


def test_an_element_of_a_parameter_list_is_judged_like_a_parameter() -> None:
    """`y = xs[0]` with `xs: List[Tensor]` (or `*xs`) is the caller's tensor, as a tensor parameter
    is: the fix is unsafe and says why; it is not the "no fix" of a container element the write is
    meant to change (flow.py `_element_of`: an element of "tensors" is a parameter)."""
    code = """
        import torch
        from typing import List

        def p(x: torch.Tensor):
            x *= 2  # parameter
            return x

        def f(xs: List[torch.Tensor]):
            y = xs[0]
            y *= 2  # list
            return y

        def g(*xs):
            y = xs[0]
            y.mul_(2)  # varargs
            return y
        """
    found = _check(code)
    assert _verdict(found[_line(code, "# parameter")])[1] == "unsafe"
    for marker in ("# list", "# varargs"):
        f = found[_line(code, marker)]
        assert _verdict(f)[1] == "unsafe" and "`y` is an element of `xs`" in _text(f), (marker, f)


# ---- module attributes ----------------------------------------------------------------------------------


def test_a_long_chain_of_conditional_module_aliases_is_cut_off() -> None:
    """Thirty `a{i} = a{i-1} if c else a{i-1}` before `nn.Sequential(a30)`: the module is looked up to
    a fixed depth, not along each of the 2**30 paths (modules.py `_local`: depth + 1). The write in
    `forward` is still judged."""
    lines = [f"        a{i} = a{i - 1} if c else a{i - 1}" for i in range(1, 31)]
    code = ("import torch\nfrom torch import nn\n\n\nclass M(nn.Module):\n    def __init__(self, c):\n"
            "        super().__init__()\n        a0 = nn.Sigmoid()\n" + "\n".join(lines) + "\n"
            "        self.act = nn.Sequential(a30)\n\n    def forward(self, x):\n"
            "        y = torch.sigmoid(self.act(x))\n        y *= 2  # <-\n        return y\n")
    f = _check(code)[_line(code, "# <-")]
    assert f.hazard == "breaks" and "saved by `torch.sigmoid`" in f.why


def test_a_module_assigned_on_two_paths_may_be_either() -> None:
    """`act = nn.Identity()`, then `if c: act = nn.Sigmoid()`: `self.act(h)` may be `h` itself (of
    unknown dtype) or a float result `nn.Sigmoid` saved, so the write `breaks` and its fix is
    unsafe; with one assignment it is that module (modules.py `_local`: one module, or either)."""
    code = textwrap.dedent("""
        import torch
        from torch import nn


        class Either(nn.Module):
            def __init__(self, c):
                super().__init__()
                act = nn.Identity()
                if c:
                    act = nn.Sigmoid()
                self.act = act

            def forward(self, x):
                y = self.act(x * 2)
                y *= 2  # either
                return y


        class One(nn.Module):
            def __init__(self, c):
                super().__init__()
                act = nn.Sigmoid()
                self.act = act

            def forward(self, x):
                y = self.act(x * 2)
                y *= 2  # one
                return y
        """)
    found = _check(code)
    either, one = found[_line(code, "# either")], found[_line(code, "# one")]
    assert _verdict(either) == ("breaks", "unsafe") and "the dtype of `y` is unknown" in _text(either)
    assert "saved by `nn.Sigmoid`" in either.why
    assert _verdict(one) == ("breaks", "safe") and "saved by `nn.Sigmoid`" in one.why


def test_a_shape_proof_reads_an_operand_twelve_levels_deep_and_gives_up_past_that() -> None:
    """`e /= e * 1 * ... * 1` keeps `e`'s shape and dtype: proven up to twelve nested operations (a
    safe fix), unproven past that (unsafe: deny by default) (shapes.py `_shaped_like`: depth > 12)."""
    code = "import torch\n\n\ndef f():\n" + "".join(
        f"    e{n} = torch.randn(3)\n    e{n} /= e{n}" + " * 1" * n + f"  # {n}\n" for n in (11, 12, 13)) + "    return e11\n"
    found = _check(code)
    assert _verdict(found[_line(code, "# 11")]) == ("nograd", "safe")
    assert _verdict(found[_line(code, "# 12")]) == ("nograd", "safe")
    deep = found[_line(code, "# 13")]
    assert _verdict(deep) == ("nograd", "unsafe") and "may broadcast `e13`" in _text(deep)


def test_a_list_from_an_unknown_builder_keeps_its_unknown_modules() -> None:
    """`layers = build()` (imported, unseen), `layers.append(nn.Identity())`: the chain's output may
    be anything `build`'s modules return, so nothing is proven about the write; with `list()` the
    chain is only `nn.Identity`, and the write into the saved `torch.sigmoid` result `breaks`
    (modules.py `_build_list`: only `list()` is an empty list)."""
    code = textwrap.dedent("""
        import torch
        from torch import nn
        from blocks import build


        class Built(nn.Module):
            def __init__(self):
                super().__init__()
                layers = build()
                layers.append(nn.Identity())
                self.net = nn.Sequential(*layers)

            def forward(self, x):
                y = self.net(torch.sigmoid(x))
                y *= 2  # built
                return y


        class Listed(nn.Module):
            def __init__(self):
                super().__init__()
                layers = list()
                layers.append(nn.Identity())
                self.net = nn.Sequential(*layers)

            def forward(self, x):
                y = self.net(torch.sigmoid(x))
                y *= 2  # listed
                return y
        """)
    found = _check(code)
    built = found.get(_line(code, "# built"))
    assert built is None or not (built.fix is not None and built.fix.is_safe), built
    listed = found[_line(code, "# listed")]
    assert _verdict(listed) == ("breaks", "safe") and "saved by `torch.sigmoid`" in listed.why


def test_modules_appended_to_a_list_are_the_ones_of_that_list() -> None:
    """`layers.append(nn.Sigmoid())` builds `layers`, not `acts`, and `acts.append(nn.Identity())`
    builds `acts`, not `layers`: `nn.Sequential(*layers)` ends in the sigmoid, whose saved result
    the write `breaks` (modules.py `_build_list`: appends to the list by that name)."""
    code = textwrap.dedent("""
        import torch
        from torch import nn


        class M(nn.Module):
            def __init__(self):
                super().__init__()
                layers = []
                acts = []
                layers.append(nn.Sigmoid())
                acts.append(nn.Identity())
                self.net = nn.Sequential(*layers)

            def forward(self, x):
                y = self.net(x)
                y *= 2  # <-
                return y
        """)
    f = _check(code)[_line(code, "# <-")]
    assert _verdict(f) == ("breaks", "safe") and "saved by `nn.Sigmoid` as its result" in f.why, f.why


def test_each_module_of_a_sequential_makes_its_own_result() -> None:
    """`nn.Sequential(nn.Sigmoid(), nn.Dropout(0.1))`: the dropout's output may be the sigmoid's
    saved result, so the write into it says so (filecontext.py `module_call`: each member's
    result has a site of its own, `part * 100 + i + 1`)."""
    code = textwrap.dedent("""
        import torch
        from torch import nn


        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.Sigmoid(), nn.Dropout(0.1))

            def forward(self, x):
                y = self.net(x)
                y *= 2  # <-
                return y
        """)
    f = _check(code)[_line(code, "# <-")]
    assert "saved by `nn.Sigmoid` as its result" in f.why, f.why


def test_a_module_called_on_graph_and_plain_tensors_takes_the_worse_hazard() -> None:
    """`self.act = nn.ReLU(inplace=True)` called first on `torch.zeros(3)` (outside autograd), then
    on a graph tensor: the constructor's finding is `inplace`, whichever call comes first
    (judge.py `HAZARD_RANK`: inplace above nograd)."""
    code = textwrap.dedent("""
        import torch
        from torch import nn


        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.act = nn.ReLU(inplace=True)  # <-

            def forward(self, x):
                a = self.act(torch.zeros(3))
                b = self.act(x * 2)
                return a, b
        """)
    f = _check(code)[_line(code, "# <-")]
    assert f.code == "OP104" and f.hazard == "inplace", (f.hazard, f.why)


def test_a_closure_variable_is_named_as_the_enclosing_function_s() -> None:
    """A write in a nested function into a variable of the function around it: no fix, and the
    reason names where the variable lives (filecontext.py `_enclosing_binds`)."""
    code = textwrap.dedent("""
        import torch

        def outer(x):
            y = torch.sigmoid(x)
            def inner():
                y.mul_(2)  # <-
            inner()
            return y
        """)
    f = _check(code)[_line(code, "# <-")]
    assert f.fix is None and "`y` of an enclosing function" in f.why, f.why


def test_a_mask_rebound_after_the_write_still_proves_masked_fill() -> None:
    """`m = p < 0.5`, `p[m] = 0`, then `m = p > 2`: the binding after the write does not reach it, so
    the fix is the masked fill (`torch.where`; scopes.py `reaching`: a later binding is not before `at`)."""
    code = textwrap.dedent("""
        import torch

        def f(x):
            p = torch.sigmoid(x)
            m = p < 0.5
            p[m] = 0
            m = p > 2
            return p, m
        """)
    out = fix_source(code, EVERYTHING).output
    assert "    p = torch.where(m, 0, p)\n" in out, out


def test_modules_added_with_add_module_are_the_sequential_s() -> None:
    """`self.net = nn.Sequential()` then `self.net.add_module("act", nn.Sigmoid())`: calling
    `self.net` runs the sigmoid, whose saved result the write `breaks` (modules.py `_adds`)."""
    code = textwrap.dedent("""
        import torch
        from torch import nn


        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential()
                self.net.add_module("act", nn.Sigmoid())

            def forward(self, x):
                y = self.net(x)
                y *= 2  # <-
                return y
        """)
    f = _check(code)[_line(code, "# <-")]
    assert _verdict(f) == ("breaks", "safe") and "saved by `nn.Sigmoid` as its result" in f.why


# ---- the project index ----------------------------------------------------------------------------------

GATE = ("import torch\nfrom torch import nn\n\n\nclass Gate(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.lin = nn.Linear(4, 4)\n\n    def forward(self, x):\n"
        "        return torch.sigmoid(self.lin(x))\n")
MODEL = ("from torch import nn\n\n{imp}\n\n\nclass Model(nn.Module):\n    def __init__(self):\n"
         "        super().__init__()\n        self.gate = Gate()\n\n    def forward(self, inp):\n"
         "        y = self.gate(inp)\n        y *= 2\n        return y.sum()\n")


def _project_finding(root: Path, model: Path) -> object:
    """The finding at `y *= 2` in `model`, with the project index a run over `root` builds."""
    index = ProjectIndex.for_run(root, [model])
    found = check_source(model.read_text(), Settings(hazards=HAZARDS), path=str(model), project=index)
    return next((f for f in found if f.line == 13), None)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_relative_imports_of_each_level_resolve_to_the_run_s_files(tmp_path: Path) -> None:
    """`from .blocks import Gate`, `from ..blocks import Gate`, `from ...blocks import Gate`: each
    finds `Gate` in the package it names, so the write into what `Gate` returned `breaks` because of
    the `torch.sigmoid` in the other file (project.py `absolute`)."""
    _write(tmp_path, {"pkg/__init__.py": "", "pkg/blocks.py": GATE, "pkg/a/__init__.py": "",
                      "pkg/a/b/__init__.py": "", "pkg/net.py": MODEL.format(imp="from .blocks import Gate"),
                      "pkg/a/net.py": MODEL.format(imp="from ..blocks import Gate"),
                      "pkg/a/b/net.py": MODEL.format(imp="from ...blocks import Gate")})
    for rel in ("pkg/net.py", "pkg/a/net.py", "pkg/a/b/net.py"):
        f = _project_finding(tmp_path, tmp_path / rel)
        assert f.hazard == "breaks" and "torch.sigmoid" in f.why, (rel, f.why)
    # The same import one level too deep finds no `Gate`: nothing says the write breaks backward.
    _write(tmp_path, {"pkg/a/wrong.py": MODEL.format(imp="from ...blocks import Gate")})
    wrong = _project_finding(tmp_path, tmp_path / "pkg/a/wrong.py")
    assert wrong is None or wrong.hazard != "breaks", wrong


def test_a_src_layout_s_modules_are_found_by_name(tmp_path: Path) -> None:
    """`from pkg.blocks import Gate` in a file outside the package, with the package under `src/`:
    the index looks under the project's `src/` too (project.py `for_project`)."""
    _write(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/blocks.py": GATE,
                      "scripts/train.py": MODEL.format(imp="from pkg.blocks import Gate")})
    f = _project_finding(tmp_path, tmp_path / "scripts" / "train.py")
    assert f.hazard == "breaks" and "torch.sigmoid" in f.why, f.why


# ---- what other files of the run do (interprocedural review, X17) ---------------------------------------

_XF_MAIN = """import torch
import torch.nn as nn
{head}

class Net({base}):
{body}
    def forward(self, a, b):
        g = torch.sigmoid(b)
        r = {call}
        s = r.sin()
        r.mul_(2)
        return g * 1.0, r * 1.0, s
"""


def _xf_fix(root: Path, main: str, others: dict[str, str]):
    """The fix of `r.mul_(2)` in main.py, with the project index of a run over the folder."""
    _write(root, {"main.py": main, **others})
    model = root / "main.py"
    index = ProjectIndex.for_run(root, sorted(root.glob("*.py")))
    found = check_source(model.read_text(), Settings(hazards=HAZARDS), path=str(model), project=index)
    f = next(f for f in found if f.line == main.splitlines().index("        r.mul_(2)") + 1)
    return f.fix


def test_a_name_imported_from_one_of_two_files_resolves_to_neither(tmp_path: Path) -> None:
    """`try: from fast import pick / except ImportError: from slow import pick`: `fast.pick`
    returns its argument; which one runs is the machine's: no safe fix (imports.py)."""
    others = {"fast.py": "def pick(x):\n    return x\n", "slow.py": "def pick(x):\n    return x * 1.0\n"}
    for head in ("try:\n    from slow import pick\nexcept ImportError:\n    from fast import pick\n",
                 "import os\nif os.environ.get('FAST'):\n    from fast import pick\nelse:\n    from slow import pick\n"):
        fix = _xf_fix(tmp_path, _XF_MAIN.format(head=head, base="nn.Module", body="", call="pick(g)"), others)
        assert fix is None or not fix.is_safe, head
    # One import of the fresh one: the fix is safe (the test has teeth).
    fix = _xf_fix(tmp_path, _XF_MAIN.format(head="from slow import pick\n", base="nn.Module", body="",
                                            call="pick(g)"), others)
    assert fix is not None and fix.is_safe


def test_a_base_class_in_another_file_may_set_the_module_last(tmp_path: Path) -> None:
    """`Base.__init__` (base.py) calls `self.setup()` (which sets `self.act = nn.GELU()` here) and then
    sets `self.act = nn.Identity()`: what `self.act(g)` returns may be `g` (filecontext._class_facts)."""
    base = ("import torch.nn as nn\n\n\nclass Base(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.setup()\n        self.act = ACT\n\n    def setup(self):\n        pass\n")
    main = _XF_MAIN.format(head="from base import Base\n", base="Base",
                           body="    def setup(self):\n        self.act = nn.GELU()\n", call="self.act(g)")
    fix = _xf_fix(tmp_path, main, {"base.py": base.replace("ACT", "nn.Identity()")})
    assert fix is None or not fix.is_safe
    fix = _xf_fix(tmp_path, main, {"base.py": base.replace("ACT", "nn.Tanh()")})
    assert fix is not None and fix.is_safe


def test_a_hook_the_module_s_own_file_registers_may_return_its_input(tmp_path: Path) -> None:
    """blocks.py registers a forward hook in `Block.__init__` that returns the input: the call of a
    `Block` in main.py may give `g` back (filecontext.module_call reads the class's file too)."""
    blocks = ("import torch.nn as nn\n\n\nclass Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
              "        HOOK\n\n    def forward(self, x):\n        return x * 1.0\n")
    main = _XF_MAIN.format(head="from blocks import Block\n", base="nn.Module",
                           body="    def __init__(self):\n        super().__init__()\n        self.block = Block()\n",
                           call="self.block(g)")
    fix = _xf_fix(tmp_path, main, {"blocks.py": blocks.replace(
        "HOOK", "self.register_forward_hook(lambda m, args, out: args[0])")})
    assert fix is None or not fix.is_safe
    fix = _xf_fix(tmp_path, main, {"blocks.py": blocks.replace("HOOK", "pass")})
    assert fix is not None and fix.is_safe
