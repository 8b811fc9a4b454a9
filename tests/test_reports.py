"""Real bug reports of the in-place autograd error, rewritten as their reporters' code (fixtures/reports/).

Facts about the cases only, never about what outplace currently finds (scripts/measure_reports.py
measures that): every original raises the in-place error class its manifest entry names, every
NAME.fixed.py runs and `verify --against` gives the verdict the manifest records (`fixed`, or for an
optimizer step between backward passes the accepted fix's `changed`, with exactly the differences
listed), and the manifest's line numbers point at the code they claim. All pairs run in one batch on the
shared warm worker pool.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from outplace.harness.cases import read_expectation
from outplace.harness.command import torch_available
from outplace.harness.testing import shared_pool, verify_pairs

REPORTS = Path(__file__).resolve().parent.parent / "fixtures" / "reports"
MANIFEST = json.loads((REPORTS / "index.json").read_text(encoding="utf-8"))
CASES = MANIFEST["cases"]
IDS = [c["name"] for c in CASES]

PATTERNS = {"inplace-module", "augmented-assign", "index-assign", "inplace-method", "multi-output-view", "leaf", "optimizer-step"}
ERRORS = {"saved", "view", "leaf", "leaf-view"}
RAISED_AT_THE_WRITE = {"view", "leaf", "leaf-view"}  # raised by the op itself, not by backward


def _code_lines(name: str) -> list[str]:
    return (REPORTS / f"{name}.py").read_text(encoding="utf-8").splitlines()


def _changed_lines(name: str) -> set[int]:
    """Lines of NAME.py the hand-made fix replaces or deletes, or inserts before (the `# expect:` line and
    the fix's line-2 note aside)."""
    original = _code_lines(name)[1:]
    fixed = (REPORTS / f"{name}.fixed.py").read_text(encoding="utf-8").splitlines()
    assert fixed[1].startswith("# fixed: "), f"{name}.fixed.py: line 2 should say what the fix is"
    fixed = fixed[2:]
    changed: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(a=original, b=fixed, autojunk=False).get_opcodes():
        if tag in ("replace", "delete"):
            changed.update(range(i1 + 2, i2 + 2))
        elif tag == "insert":
            changed.add(i1 + 2)
    return changed


def test_every_case_file_is_in_the_manifest():
    originals = {p.stem for p in REPORTS.glob("*.py") if "." not in p.stem}
    fixed = {p.name[: -len(".fixed.py")] for p in REPORTS.glob("*.fixed.py")}
    assert originals == set(IDS) == fixed
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_manifest_entry(case):
    name = case["name"]
    assert case["pattern"] in PATTERNS and case["error"] in ERRORS
    assert case["source"]["url"].startswith("http") and case["source"]["title"] and case["summary"]
    lines = _code_lines(name)
    for group in case["culprits"] + case["latent"]:
        assert len(group["lines"]) == len(group["code"]) >= 1
        for number, code in zip(group["lines"], group["code"]):
            assert lines[number - 1].strip() == code, f"{name}.py:{number} is not `{code}`"
    assert case["culprits"], name
    # The accepted fix changes exactly the lines the manifest says.
    assert _changed_lines(name) == set(case["fix"]["lines"])
    # `# expect:` of the original is what a correct source rewrite gets; of the fix, its verdict.
    expected = read_expectation((REPORTS / f"{name}.py").read_text(encoding="utf-8"))
    assert expected == ("fixed" if case["rewrite"] else "unfixed")
    assert read_expectation((REPORTS / f"{name}.fixed.py").read_text(encoding="utf-8")) == case["fixed_verdict"]
    assert case["fixed_verdict"] == "fixed" or not case["rewrite"]


@pytest.fixture(scope="module")
def verdicts():
    if not torch_available():
        pytest.skip("torch is not installed")
    pairs = [(REPORTS / f"{name}.py", REPORTS / f"{name}.fixed.py") for name in IDS]
    return {Path(r.path).stem: r for r in verify_pairs(shared_pool(), pairs)}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_original_raises_the_inplace_error(verdicts, case):
    original = verdicts[case["name"]].original
    assert original.inplace_error == case["error"], (original.status, original.error)
    if case["error"] in RAISED_AT_THE_WRITE:
        # The op raised: the script's deepest frame is a culprit line.
        assert original.error.line in {n for g in case["culprits"] for n in g["lines"]}, original.error.traceback


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fixed_runs_and_verifies(verdicts, case):
    result = verdicts[case["name"]]
    assert result.rewritten.status == "ok", result.rewritten.error
    assert result.verdict == case["fixed_verdict"], (result.reason, [d.short() for d in result.differences])
    if case["error"] == "saved":
        assert result.reference == "oracle", result.notes  # gradients compared, not only values
    if "fixed_differs" in case:
        assert {d.tensor for d in result.differences} == set(case["fixed_differs"])
        assert {d.kind for d in result.differences} == {"grad"}


# The reports whose every culprit default `check` reports (scripts/measure_reports.py, column (a)),
# measured when this list was written: a ratchet. A case that drops out names the regression; a case
# found that is not listed is progress (add it).
CHECK_FINDS = {
    "xception_relu_inplace", "vqa_classifier_dropout_inplace", "leaky_dropout_inplace_sequential",
    "pspnet_dropout2d_inplace", "bdrar_modules_inplace_loop", "mlcolvar_dropout_layers_loop",
    "efficientdet_fusion_weight_relu_leaf", "resnet_residual_unit_iadd", "residual_block_sequential_relu_iadd",
    "multiresunet_respath_iadd", "fpn_laterals_iadd", "beats_pos_conv_iadd", "gail_policy_chunk_clamp",
    "textgan_relational_memory_split_scale", "scorecam_denormalize_unbind", "tinynn_gru_hidden_unbind_squeeze",
    "bidaf_lstm_bias_chunk_fill", "rknet_attention_polish_index", "sigmoid_output_index_assign",
    "diffusion_lm_ids_masked_fill", "distribution_balanced_logit_reg_iadd", "word_language_model_manual_sgd_leaf",
    "hardnet_fuse_bn_weight_copy", "transformer_sinusoidal_embeddings_leaf", "glow_coupling_split_feature_iadd",
    "wolf_affine_chunk_inplace_chain", "fast_neural_style_tanh_mean_helper", "unsupdis_homography_chunk_mask_fill",
    "mmdet_fused_semantic_head_lateral_iadd", "mmdet_pafpn_inter_outs_iadd", "mmocr_fpem_ffm_iadd",
    "fairseq_gec_multihead_qkv_chunk_scale", "rnn_docstring_hidden_index_loop",
    "sparsellm_leaf_minibatch_step",
}


@pytest.mark.parametrize("name", sorted(CHECK_FINDS))
def test_check_still_reports_every_culprit(name):
    from outplace.engine import check_source
    from outplace.settings import Settings

    case = next(c for c in CASES if c["name"] == name)
    path = REPORTS / f"{name}.py"
    lines = {f.line for f in check_source(path.read_text(encoding="utf-8"), Settings(), path=str(path))}
    missed = [g["lines"] for g in case["culprits"] if not lines & set(g["lines"])]
    assert not missed, f"{name}: default check no longer reports culprit lines {missed} (it reports {sorted(lines)})"
