"""The harness's pure parts: error classes, verdict table, tensor identity, case discovery, reporting."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from outplace.harness import compare, protocol, report
from outplace.harness.cases import UsageError, collect_cases, detect_mode, find_files, read_expectation
from outplace.harness.compare import ComparisonPlan, classify_inplace_error, decide, plan_comparison
from outplace.harness.results import CaseResult, Difference, ErrorInfo, Outcome, RecordEntry

# --- in-place error classes, on the messages torch 2.13 prints ---------------------------------------------

MESSAGES = {
    "saved": "one of the variables needed for gradient computation has been modified by an inplace operation: "
    "[torch.FloatTensor [3]], which is output 0 of ExpBackward0, is at version 1; expected version 0 instead.",
    "leaf": "a leaf Variable that requires grad is being used in an in-place operation.",
    "leaf-view": "a view of a leaf Variable that requires grad is being used in an in-place operation.",
    "view": "Output 0 of UnbindBackward0 is a view and is being modified inplace. This view is the output of a "
    "function that returns multiple views.",
    "out": "mul(): functions with out=... arguments don't support automatic differentiation, but one of the "
    "arguments requires grad.",
    "inference": "Inplace update to inference tensor outside InferenceMode is not allowed.",
}


@pytest.mark.parametrize("kind", sorted(MESSAGES))
def test_classify_inplace_error(kind):
    assert classify_inplace_error(MESSAGES[kind]) == kind


def test_no_grad_view_and_ordinary_errors():
    assert classify_inplace_error(
        "A view was created in no_grad mode and is being modified inplace with grad mode enabled."
    ) == "view"
    assert classify_inplace_error("Trying to backward through the graph a second time") is None
    assert classify_inplace_error("mat1 and mat2 shapes cannot be multiplied (4x3 and 4x3)") is None


def test_live_torch_messages_classify():
    torch = pytest.importorskip("torch")

    def message(fn):
        try:
            fn()
        except RuntimeError as exc:
            return str(exc)
        raise AssertionError("did not raise")

    def saved():
        x = torch.randn(3, requires_grad=True)
        y = x.sigmoid()
        y.mul_(2)
        y.sum().backward()

    def leaf():
        x = torch.randn(3, requires_grad=True)
        x += 1

    def leaf_view():
        x = torch.randn(3, requires_grad=True)
        x[0] = 1

    def view():
        a, _ = (torch.randn(2, 3, requires_grad=True) * 1).unbind(0)
        a.mul_(2)

    def no_grad_view():
        y = torch.randn(2, 3, requires_grad=True) * 1
        with torch.no_grad():
            v = y[0]
        v.mul_(2)

    def out():
        torch.mul(torch.randn(3, requires_grad=True), 2, out=torch.empty(3))

    got = {name: classify_inplace_error(message(fn)) for name, fn in
           [("saved", saved), ("leaf", leaf), ("leaf-view", leaf_view), ("view", view), ("no_grad_view", no_grad_view),
            ("out", out)]}
    assert got == {"saved": "saved", "leaf": "leaf", "leaf-view": "leaf-view", "view": "view",
                   "no_grad_view": "view", "out": "out"}


def test_normalize_message():
    text = "object at 0x7f3a in /tmp/x/bug.py is at version 3; expected version 2 instead"
    assert compare.normalize_message(text, "/tmp/x/bug.py") == (
        "object at 0x? in <script> is at version ?; expected version ? instead"
    )
    # An in-place op and its twin refuse the same input under their own names: the same error.
    assert compare.normalize_message("derivative for aten::floor_divide_ is not implemented") == \
        compare.normalize_message("derivative for aten::floor_divide is not implemented")
    assert compare.normalize_message("t_() expects a tensor with <= 2 dimensions") == \
        compare.normalize_message("t() expects a tensor with <= 2 dimensions")
    # ... but other names ending in `_` and other ops stay apart.
    assert compare.normalize_message("name my_var_ is unset") == "name my_var_ is unset"
    assert compare.normalize_message("aten::mul failed") != compare.normalize_message("aten::div failed")


# --- the verdict table ----------------------------------------------------------------------------------


RECORDED = [RecordEntry("backward#1", "value", "event"), RecordEntry("x", "value", "final")]


def ok(**kw) -> Outcome:
    kw.setdefault("entries", list(RECORDED))
    return Outcome("ok", record_path="r", **kw)


def err(kind: str | None, message: str = "boom", type_: str = "RuntimeError") -> Outcome:
    msg = MESSAGES[kind] if kind else message
    return Outcome("error", ErrorInfo(type_, msg, normalized=msg, line=3, inplace=kind), record_path="r",
                   entries=list(RECORDED))


VALUE_DIFF = [Difference("x.grad", "grad", 0.5, "1 of 3 element(s) differ")]


def test_fixed_against_the_oracle():
    o, r, oracle = err("saved"), ok(), ok()
    plan = plan_comparison(o, r, oracle)
    assert plan == ComparisonPlan("oracle", "all")
    d = decide(o, r, oracle, [], plan)
    assert d.verdict == "fixed" and d.reference == "oracle" and not d.notes


def test_fixed_without_an_oracle_is_noted():
    o, r, oracle = err("leaf"), ok(), err("leaf")
    plan = plan_comparison(o, r, oracle)
    assert plan == ComparisonPlan("original", "events")
    d = decide(o, r, oracle, [], plan)
    assert d.verdict == "fixed" and "gradients not verified" in d.notes[0]


def test_changed_unfixed_broken():
    plan = plan_comparison(err("saved"), ok(), ok())
    assert decide(err("saved"), ok(), ok(), VALUE_DIFF, plan).verdict == "changed"
    assert decide(err("saved"), err("saved"), ok()).verdict == "unfixed"
    assert decide(err("saved"), err("out"), ok()).verdict == "unfixed"  # still an in-place error
    assert decide(err("saved"), err(None), ok()).verdict == "broken"
    assert decide(err("saved"), Outcome("crash", exit_code=3), ok()).verdict == "broken"
    assert decide(ok(), err("saved")).verdict == "broken"
    assert decide(ok(), Outcome("crash", exit_code=-11)).verdict == "broken"


def test_preserved_and_changed_for_a_running_original():
    plan = plan_comparison(ok(), ok(), None)
    assert plan == ComparisonPlan("original", "all")
    assert decide(ok(), ok(), None, [], plan).verdict == "preserved"
    assert decide(ok(), ok(), None, VALUE_DIFF, plan).verdict == "changed"
    exit0 = Outcome("exit", exit_code=0, record_path="r")
    assert decide(ok(), exit0, None, [], plan_comparison(ok(), exit0, None)).verdict == "preserved"


def test_ordinary_errors():
    same = decide(err(None, "bad"), err(None, "bad"), None, [], plan_comparison(err(None, "bad"), err(None, "bad"), None))
    assert same.verdict == "preserved"
    assert decide(err(None, "bad"), err(None, "other")).verdict == "broken"
    assert decide(err(None, "bad"), err(None, "bad", "ValueError")).verdict == "broken"
    silently = decide(err(None, "bad"), ok())
    assert silently.verdict == "changed" and silently.differences[0].kind == "outcome"
    assert decide(Outcome("exit", exit_code=3), Outcome("exit", exit_code=4)).verdict == "broken"
    assert decide(err(None, "bad"), Outcome("timeout")).verdict == "broken"  # raised before; hangs now


def _decided(original: Outcome, rewritten: Outcome, oracle: Outcome | None = None, diffs=(), not_compared=()):
    plan = plan_comparison(original, rewritten, oracle)
    return decide(original, rewritten, oracle, list(diffs), plan, list(not_compared))


def test_inconclusive_when_nothing_could_be_compared():
    exit2 = Outcome("exit", exit_code=2, record_path="r")  # exited before recording anything
    nothing = Outcome("ok", record_path="r")
    memory = Outcome("memory", record_path="r", entries=list(RECORDED))
    for original, rewritten, why in [
        (Outcome("timeout"), Outcome("timeout"), "the original timed out"),
        (Outcome("crash", exit_code=3), Outcome("crash", exit_code=3), "both runs crashed"),
        (exit2, Outcome("exit", exit_code=2, record_path="r"), "recorded nothing"),
        (nothing, Outcome("ok", record_path="r"), "recorded nothing"),
        (Outcome("timeout"), ok(), "the original timed out"),  # it might have computed the same, later
        (memory, ok(), "ran out of memory"),
        (ok(), memory, "ran out of memory"),
        (err("saved"), Outcome("timeout"), "ran past it"),  # the fixed script got further, then hit the limit
    ]:
        d = _decided(original, rewritten, ok())
        assert (d.verdict, why in d.reason) == ("inconclusive", True), (original.status, rewritten.status, d.reason)
    # One run standing for both still needs that run to have finished.
    crash = Outcome("crash", exit_code=-9)
    assert _decided(crash, crash).verdict == "inconclusive"
    assert _decided(nothing, nothing).verdict == "preserved"  # identical source, ran: nothing can differ


def test_values_that_differ_because_the_random_draws_differ_are_inconclusive():
    """Off the CPU, in-place and out-of-place dropout draw through different kernels: a difference then says
    nothing about the rewrite. Equal draws (or draws not listed, as on the CPU) leave `changed` alone."""
    inplace = [["aten.randn.default", 1], ["aten.bernoulli_.float", 1]]
    fused = [["aten.randn.default", 1], ["aten.native_dropout.default", 1]]
    d = _decided(err("saved"), ok(random_draws=fused), ok(random_draws=inplace), diffs=VALUE_DIFF)
    assert d.verdict == "inconclusive", d.reason
    assert "native_dropout" in d.reason and "bernoulli_" in d.reason and "x.grad" in d.reason
    assert _decided(ok(random_draws=inplace), ok(random_draws=fused), diffs=VALUE_DIFF).verdict == "inconclusive"
    for ref, new in [(inplace, inplace), (None, fused), (inplace, None)]:
        assert _decided(ok(random_draws=ref), ok(random_draws=new), diffs=VALUE_DIFF).verdict == "changed"
    # Only a difference is softened: a broken or unfixed rewrite stays so whatever it drew.
    assert decide(err("saved"), err("saved", ), ok()).verdict == "unfixed"
    assert decide(ok(random_draws=inplace), Outcome("crash", exit_code=3, random_draws=fused)).verdict == "broken"
    # A list cut short is never taken as equal.
    cut = [["aten.rand.default", 5], ["(more)", 0]]
    assert _decided(ok(random_draws=cut), ok(random_draws=cut), diffs=VALUE_DIFF).verdict == "inconclusive"


def test_tensors_over_the_record_budget_make_it_inconclusive_unless_another_differs():
    d = _decided(ok(), ok(), not_compared=["big"])
    assert d.verdict == "inconclusive" and "big" in d.reason and "record budget" in d.reason
    assert _decided(ok(), ok(), diffs=VALUE_DIFF, not_compared=["big"]).verdict == "changed"
    assert _decided(err("saved"), ok(), ok(), not_compared=["big"]).verdict == "inconclusive"


# --- tensor identity ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def diff(torch, a, b, **kw):
    from outplace.harness.tensordiff import diff_tensor

    return diff_tensor(torch, "t", "value", a, b, **kw)


def test_identity_is_bitwise_with_nan_matched(torch):
    nan = float("nan")
    assert diff(torch, torch.tensor([1.0, nan]), torch.tensor([1.0, nan])) is None
    assert diff(torch, torch.tensor([nan]), -torch.tensor([nan])) is None  # any NaN payload matches
    z = diff(torch, torch.tensor([0.0]), torch.tensor([-0.0]))
    assert z["kind"] == "value" and z["max_abs_diff"] == 0.0 and "sign of zero" in z["detail"]
    assert diff(torch, torch.tensor([0.0]), torch.tensor([-0.0]), atol=1e-9) is None
    m = diff(torch, torch.tensor([1.0, nan]), torch.tensor([1.0, 2.0]))
    assert m["max_abs_diff"] is None and "NaN/inf" in m["detail"]


def test_tolerance_dtype_shape(torch):
    a = torch.tensor([1.0, 2.0])
    assert diff(torch, a, a + 1e-7)["max_abs_diff"] == pytest.approx(1.1920929e-07, rel=1e-3)
    assert diff(torch, a, a + 1e-7, rtol=1e-5) is None
    d = diff(torch, a, a.double())
    assert d["kind"] == "dtype" and d["max_abs_diff"] == 0.0 and "float32 vs float64" in d["detail"]
    s = diff(torch, a, a.view(2, 1))
    assert s["kind"] == "shape" and s["detail"] == "[2] vs [2, 1]"
    assert diff(torch, torch.tensor([1 + 2j]), torch.tensor([1 + 2j])) is None
    assert diff(torch, torch.tensor([1, 2]), torch.tensor([1, 3]))["max_abs_diff"] == 1.0
    assert diff(torch, torch.tensor([1.0], dtype=torch.bfloat16), torch.tensor([1.0], dtype=torch.bfloat16)) is None


def test_compare_runs_missing_and_extra(torch, tmp_path):
    from outplace.harness.tensordiff import compare_runs

    def run(name, entries, tensors):
        path = tmp_path / f"{name}.pt"
        torch.save(tensors, path)
        return {"path": str(path), "entries": [{"name": n, "kind": k, "phase": p} for n, k, p in entries]}

    ref = run("ref", [("backward#1", "value", "event"), ("w", "value", "final"), ("w.grad", "grad", "final")],
              [torch.tensor(1.0), torch.ones(2), torch.ones(2)])
    new = run("new", [("backward#1", "value", "event"), ("backward#2", "value", "event"), ("w", "value", "final"),
                      ("tmp", "value", "final")],
              [torch.tensor(1.0), torch.tensor(2.0), torch.ones(2), torch.ones(1)])
    diffs, skipped = compare_runs(torch, ref, new, rtol=0, atol=0, scope="all")
    assert [(d["tensor"], d["kind"]) for d in diffs] == [("w.grad", "missing"), ("backward#2", "missing")]
    assert skipped == []
    assert compare_runs(torch, ref, new, rtol=0, atol=0, scope="events") == ([], [])
    # A tensor one side skipped (over its record budget, stored as None) is not compared, not "missing".
    big = run("big", [("backward#1", "value", "event"), ("w", "value", "final"), ("w.grad", "grad", "final")],
              [torch.tensor(1.0), None, torch.ones(2)])
    assert compare_runs(torch, ref, big, rtol=0, atol=0, scope="all") == ([], ["w"])


def test_chunked_comparison_matches_the_whole_tensor_comparison(torch, monkeypatch):
    from outplace.harness import tensordiff

    a = torch.arange(60, dtype=torch.float32).reshape(3, 4, 5)
    b = a.clone()
    b[1, 2, 3] = float("nan")
    b[2, 0, 1] = -7.0
    b[0, 0, 0] = -0.0
    cases = [(a, b), (a.transpose(0, 2), b.transpose(0, 2)), (a, a.double()), (a[:, ::2], b[:, ::2])]
    whole = [tensordiff.diff_tensor(torch, "t", "value", x, y) for x, y in cases]
    monkeypatch.setattr(tensordiff, "CHUNK", 7)  # many chunks, some rows split, some not contiguous
    assert [tensordiff.diff_tensor(torch, "t", "value", x, y) for x, y in cases] == whole
    assert whole[0]["count"] == 3 and "first at (0, 0, 0)" in whole[0]["detail"] and whole[0]["max_abs_diff"] is None


# --- cases and reports ------------------------------------------------------------------------------------


def test_modes_and_expectations():
    assert detect_mode("def outplace_case():\n    return 1\n") == "entry"
    assert detect_mode("def helper():\n    def outplace_case(): pass\n") == "script"
    assert detect_mode("outplace_case = 1\n") == "script"
    assert detect_mode("def outplace_case(:\n") == "script"  # the run will report the SyntaxError
    assert read_expectation("# expect: fixed\nimport torch\n") == "fixed"
    assert read_expectation("# expect: great\n") is None


def test_find_files_skips_rewrites_excluded_and_hidden(tmp_path):
    for rel in ("a.py", "a.fixed.py", "sub/b.py", ".hidden/c.py", "build/d.py", "notes.txt"):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    assert [p.relative_to(tmp_path).as_posix() for p in find_files([tmp_path])] == ["a.py", "sub/b.py"]
    assert find_files([tmp_path / "a.fixed.py"]) == [tmp_path / "a.fixed.py"]  # named explicitly: taken
    with pytest.raises(UsageError):
        collect_cases([tmp_path / "a.py", tmp_path / "sub/b.py"], tmp_path / "a.fixed.py")


def test_protocol_round_trip_without_nonfinite_floats():
    line = protocol.encode({"a": float("inf"), "b": [1.5, float("nan")], "c": "x\ny"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert protocol.decode(line[:-1]) == {"a": None, "b": [1.5, None], "c": "x\ny"}


def test_report_plain_and_json():
    r = CaseResult(
        path="bug.py", device="cpu", verdict="changed", reason="x.grad: grad, max abs diff 0.5 vs the oracle",
        original=Outcome("error", ErrorInfo("RuntimeError", MESSAGES["saved"], inplace="saved")),
        rewritten=Outcome("ok"), differences=VALUE_DIFF, tolerance={"rtol": 0.0, "atol": 0.0, "exact": True},
    )
    out = io.StringIO()
    report.render(out=out, results=[r])
    assert out.getvalue().splitlines()[0] == "bug.py [cpu] changed: x.grad: grad, max abs diff 0.5 vs the oracle"
    data = json.loads(report.dumps([r]))[0]
    assert data["differences"] == [{"tensor": "x.grad", "kind": "grad", "max_abs_diff": 0.5,
                                    "detail": "1 of 3 element(s) differ", "count": None, "numel": None}]
    assert data["original"]["error"]["inplace"] == "saved"
    assert "1 changed" in report.summary([r], 0.0, 0.0)


def test_harness_modules_do_not_import_torch_at_import_time():
    import subprocess
    import sys

    code = ("import sys; import outplace.harness.command, outplace.harness.runner, outplace.harness.pipeline, "
            "outplace.harness.worker, outplace.harness.record, outplace.harness.tensordiff, outplace.harness.testing; "
            "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))")
    src = str(Path(__file__).resolve().parent.parent / "src")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr


def test_the_rewrite_verify_checks_is_the_one_fix_writes_with_the_other_files_of_the_project(tmp_path):
    """`outplace verify` rewrites a file as `outplace fix` does: with the project's other files read
    (a helper imported from a sibling module is summarised, not an unknown call), or a cross-file
    bug would be verified on a rewrite `fix` never makes."""
    from outplace.analysis.project import ProjectIndex
    from outplace.engine import fix_source
    from outplace.harness.cases import collect_cases, rewrite_with_engine
    from outplace.settings import Settings

    (tmp_path / "helpers.py").write_text("import torch\n\n\ndef double(x):\n    return x * 2\n")
    main = tmp_path / "main.py"
    main.write_text(
        "import torch\nfrom helpers import double\n\n\ndef f(a):\n    b = torch.sigmoid(a)\n"
        "    c = double(b)\n    b.mul_(2)\n    return b, c\n\n\n"
        "def outplace_case():\n    return f(torch.randn(3, requires_grad=True))\n")
    settings = Settings(hazards=("breaks", "inplace"))
    with_index = fix_source(main.read_text(), settings, path=str(main),
                            project=ProjectIndex.for_run(tmp_path, [main])).output
    alone = fix_source(main.read_text(), settings, path=str(main)).output
    assert with_index != alone  # (the case decides: the index changes the rewrite)
    [case] = collect_cases([main])
    rewrite_with_engine([case], settings)
    assert case.rewritten == with_index
