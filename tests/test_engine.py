"""The engine's public functions, beyond what the fixtures cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from outplace.engine import check_source, fix_edit, fix_selected, fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

SOURCE = ("import torch\n\n\ndef f(x: torch.Tensor):\n    y = torch.sigmoid(x)\n    z = torch.tanh(x)\n"
          "    y *= 2\n    z += y\n    x.mul_(2)\n    return x, y, z\n")


def test_fix_selected_applies_exactly_the_chosen_findings_whatever_their_safety() -> None:
    findings = check_source(SOURCE, Settings(hazards=HAZARDS))
    unsafe = [f for f in findings if f.fix and not f.fix.is_safe]
    assert {f.line for f in unsafe} == {8, 9}
    new, applied = fix_selected(SOURCE, [unsafe[0]])
    assert applied == [unsafe[0]]
    assert "    z = z + y\n" in new and "    y *= 2\n" in new and "    x.mul_(2)\n" in new
    assert fix_selected(SOURCE, []) == (SOURCE, [])


def test_fix_edit_is_one_findings_fix_and_fix_source_all_safe_ones() -> None:
    [safe] = [f for f in check_source(SOURCE, Settings(hazards=HAZARDS)) if f.fix and f.fix.is_safe]
    edit = fix_edit(SOURCE, safe)
    assert SOURCE[edit.start:edit.end] == "y *= 2" and edit.content == "y = y * 2"
    result = fix_source(SOURCE, Settings(hazards=HAZARDS))
    assert result.output == SOURCE.replace("y *= 2", "y = y * 2")
    assert [f.line for f in result.held_back] == [8, 9]


def test_files_without_torch_are_not_analysed() -> None:
    assert check_source("x = [1]\nx += [2]\n", Settings(hazards=HAZARDS, unsafe_fixes=True)) == []


def _every_fixture_source() -> list[Path]:
    root = Path(__file__).resolve().parent.parent
    return sorted(p for d in ("fixtures", "examples") for p in (root / d).rglob("*.py"))


@pytest.mark.parametrize("settings", [Settings(hazards=HAZARDS), Settings(hazards=HAZARDS, unsafe_fixes=True, clone=True)], ids=["safe", "unsafe-clone"])
def test_candidate_lines_only_narrow_the_work_never_the_findings(monkeypatch, settings: Settings) -> None:
    """The regex pre-pass picks the scopes worth analysing; analysing every scope must find exactly
    the same. Run over every fixture and example (clean_* files hold the lines it skips on purpose:
    string keys, annotations)."""
    import outplace.analysis as analysis

    paths = _every_fixture_source()
    narrowed = [check_source(p.read_text(encoding="utf-8"), settings) for p in paths]
    monkeypatch.setattr(analysis, "candidate_lines", lambda source, ops: set(range(1, source.count("\n") + 2)))
    everything = [check_source(p.read_text(encoding="utf-8"), settings) for p in paths]
    assert sum(map(len, everything)) > 100  # the comparison is not vacuous
    for path, a, b in zip(paths, narrowed, everything):
        assert a == b, path


def test_candidate_lines_skip_string_keys_and_annotations_but_keep_real_stores() -> None:
    from outplace.analysis import candidate_lines
    from outplace.optable import load_optable

    src = ("def f(x: Optional[Tensor] = None, y: List[int] = []):\n"   # 1 annotations
           "    d['a'] = 1\n"                                          # 2 string key
           "    if ok: x[m] = 0\n"                                     # 3 a store after a colon
           "    z: Optional[Union[int, List[int]]] = None\n"           # 4 nested annotation
           "    y[i:x[0]] = 1\n"                                       # 5 slice holding an index
           "    a[b:c] = 2\n"                                          # 6 slice
           "    q: dict[str, int] = {}\n"                              # 7 annotation
           "    x <<= 1\n"                                             # 8 shift
           "    w[k] == v\n")                                          # 9 comparison
    assert sorted(candidate_lines(src, load_optable())) == [3, 5, 6, 8]


def test_the_analysis_leaves_no_reference_cycles_behind() -> None:
    """The runner keeps the cycle collector off while a file is processed and does not collect
    after it (speed): what the analysis builds must be freed by reference counting alone, or every
    flow state of a file would stay in memory until a collection. A cycle (a flow referring to its
    file's context, which caches the flow) must be broken when the file is done."""
    import gc

    from outplace.analysis.project import ProjectIndex
    from outplace.runner import process

    examples = Path(__file__).resolve().parent.parent / "examples"
    files = sorted(p for p in examples.rglob("*") if p.suffix in (".py", ".ipynb"))  # a notebook's path too
    project = ProjectIndex(ProjectIndex.for_run(examples, files).roots)
    settings = Settings(hazards=HAZARDS)
    for path in files:  # warm: imports, the op table, dependency contexts the project index keeps
        process(path, settings, False, project)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        analysed = 0
        for path in files:
            analysed += bool(process(path, settings, False, project).findings)
        gc.collect()
        left = {type(o).__module__ + "." + type(o).__qualname__ for o in gc.garbage
                if type(o).__module__.startswith("outplace")}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert analysed >= 3, "the examples should exercise the analysis"
    assert left == set()


def test_the_reference_index_is_exact_and_changes_no_finding(monkeypatch) -> None:
    """A large state's object table keeps an index of who refers to whom (model.IndexedObjs), so
    that retiring a key need not look at every object. With the table of every block run indexed,
    the index must match the table after each run, and the findings must be those of no index."""
    import sys
    from collections import defaultdict

    import outplace.analysis.flow as flow
    import outplace.analysis.model as model

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from loop_scaling import program

    sources = [p.read_text(encoding="utf-8") for p in _every_fixture_source()] + [program(12)]
    settings = Settings(hazards=HAZARDS, unsafe_fixes=True)
    monkeypatch.setattr(model, "INDEX_FROM", 10 ** 9)
    plain = [check_source(s, settings) for s in sources]

    checked: list[int] = []

    def exact(state: model.State) -> None:
        assert type(state.objs) is model.IndexedObjs
        want = defaultdict(set)
        for k, o in state.objs.items():
            for r in model._refs(k, o):
                want[r].add(k)
        assert {k: set(v) for k, v in state.objs.refs.items()} == dict(want)
        checked.append(1)

    block = flow.ScopeFlow._block

    def checked_block(self, b, state):
        out = block(self, b, state)
        if out is not None:  # (None: the block's path raised, flow._block)
            exact(out)
        return out

    monkeypatch.setattr(model, "INDEX_FROM", -1)
    monkeypatch.setattr(flow, "MADE_TO_INDEX", 0)
    monkeypatch.setattr(flow.ScopeFlow, "_block", checked_block)
    indexed = [check_source(s, settings) for s in sources]
    assert len(checked) > 1000 and sum(map(len, plain)) > 100  # neither side is vacuous
    assert indexed == plain


def test_a_flow_past_its_work_budget_stops_and_proves_nothing(monkeypatch):
    """A function whose paths multiply stops at flow.WORK_LIMIT (objects renamed, storages an event
    touched) and is approximate: its writes get no safe fix. Here the budget is none at all."""
    import outplace.analysis.flow as flow_module

    source = ("import torch\n\ndef f(x):\n    h = x * 1.0\n    h.mul_(2.0)\n    y = torch.sigmoid(h)\n"
              "    z = y + 1\n    return z\n")
    found = [f for f in check_source(source, Settings(hazards=("breaks", "inplace"))) if f.line == 5]
    assert found and found[0].fix is not None and found[0].fix.applicability.value == "safe"
    monkeypatch.setattr(flow_module, "WORK_LIMIT", 0)
    found = [f for f in check_source(source, Settings(hazards=("breaks", "inplace"))) if f.line == 5]
    assert found and (found[0].fix is None or found[0].fix.applicability.value != "safe")
    assert "stopped following" in " ".join([found[0].why, *(found[0].fix.reasons if found[0].fix else ())])


def test_an_annotated_store_into_an_item_is_analysed_without_an_internal_error() -> None:
    """`ranks[i]: np.ndarray = r.numpy()` (sbi's plot.py): an AnnAssign has no operator, unlike `x[i] += v`."""
    code = ("import numpy as np\nfrom torch import Tensor\n\n\n"
            "def f(ranks):\n    for i, r in enumerate(ranks):\n        if isinstance(r, Tensor):\n"
            "            ranks[i]: np.ndarray = r.numpy()\n    return ranks\n")
    assert check_source(code, Settings(hazards=("breaks", "inplace", "nograd"))) == []


def test_writes_into_one_name_get_one_copy_before_the_first_not_one_before_each() -> None:
    """TSAN's CSB block: `out = x`, then four quadrant writes into `out`; `x` is read afterwards only
    for its size. One `out = out.clone()` before the first write makes every later write go into
    that copy (the next pass finds nothing left to fix)."""
    code = ("import torch\n\n\ndef f(x):\n    h = torch.sigmoid(x)\n    out = h\n"
            "    out[:, : h.size(1) // 2] = 0\n    out[:, h.size(1) // 2:] = 1\n    return out\n\n\n"
            "def _train():\n    x = torch.randn(2, 4, requires_grad=True)\n    return f(x)\n")
    result = fix_source(code, Settings(unsafe_fixes=True, clone=True))
    assert result.output.count(".clone()") == 1
    assert "    out = out.clone()\n    out[:, : h.size(1) // 2] = 0\n" in result.output
