"""Runtime facts (`outplace.runtime_facts`) and what they do in the engine, without torch: the format is
validated, a file whose text changed gets no facts, a fact makes a write the analysis could not see a
finding with the run's hazard, and never makes a fix safe; `check/fix --facts` use them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from outplace.engine import check_source, fix_selected, fix_source
from outplace.findings import HAZARDS
from outplace.plans import NoGradPlan, ReplaceExprPlan
from outplace.runtime_facts import FactsError, FactsSet, from_json, load, site_json, text_digest, to_json
from outplace.settings import Settings

# `self.act` is looked up in a registry: the analysis cannot tell that `g` is a tensor, and reports nothing.
HIDDEN = '''import torch
from torch import nn

ACTIVATION = "sigmoid"  # (a name only a run resolves: static analysis does not follow getattr of a variable)


class Gate(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.act = getattr(torch, ACTIVATION)
        self.temperature = 2.0

    def forward(self, x):
        g = self.act(self.proj(x))
        g /= self.temperature
        return g * x
'''
# `g /= self.temperature` on line 16: the span the recorder gives (the statement, character columns).
SPAN = (16, 8, 16, 29)
TARGET = {"type": "Tensor", "dtype": "float32", "shape": [16, 8], "requires_grad": True, "leaf": False,
          "view": False, "multi_view": False, "parameter": False}


def facts_for(path: str, text: str, **site) -> FactsSet:
    args = dict(targets=[TARGET], op="div_", form="/=", saved=[True], broke=[True],
                saved_by=[{"op": "sigmoid", "line": 15}], operands=[[{"kind": "scalar", "dtype": "float"}]])
    args.update(site)
    doc = to_json({path: {"sha256": text_digest(text), "sites": [site_json(SPAN, **args)]}},
                  base="/", torch_version="2.13.0", command=["train.py"])
    return from_json(json.loads(json.dumps(doc)), base="/")


def test_without_facts_the_write_is_invisible_and_with_them_it_breaks_with_an_unsafe_fix() -> None:
    settings = Settings(hazards=HAZARDS, unsafe_fixes=True)
    assert check_source(HIDDEN, settings, path="/p/model.py") == []
    [f] = check_source(HIDDEN, settings, path="/p/model.py", facts=facts_for("/p/model.py", HIDDEN))
    assert (f.code, f.line, f.hazard) == ("OP101", 16, "breaks")
    assert "backward needed the values this write overwrote (saved by `sigmoid` on line 15)" in f.why
    # A fact never makes a fix safe: what one run saw is not proven for every run.
    assert not f.fix.is_safe
    assert any("was a tensor" in r and "every run" in r for r in f.fix.reasons), f.fix.reasons
    result = fix_source(HIDDEN, settings, path="/p/model.py", facts=facts_for("/p/model.py", HIDDEN))
    assert "        g = g / self.temperature\n" in result.output


def test_facts_of_another_text_or_file_are_not_used() -> None:
    facts = facts_for("/p/model.py", HIDDEN)
    edited = HIDDEN.replace("return g * x", "return x * g")
    settings = Settings(hazards=HAZARDS)
    assert check_source(edited, settings, path="/p/model.py", facts=facts) == []
    assert check_source(HIDDEN, settings, path="/p/other.py", facts=facts) == []


def test_a_parameter_seen_at_the_write_rules_out_rebinding_it() -> None:
    text = "import torch\n\n\ndef init(E):\n    E[:, 0::2] = torch.sin(torch.arange(3.0))\n    return E.sum()\n"
    settings = Settings(hazards=HAZARDS, unsafe_fixes=True, clone=True)
    assert check_source(text, settings, path="/p/emb.py") == []  # nothing shows `E` is a tensor
    target = dict(TARGET, leaf=True, parameter=True)
    doc = {"/p/emb.py": {"sha256": text_digest(text), "sites": [site_json(
        (5, 4, 5, 14), targets=[target], op="copy_", form="__setitem__", error="leaf")]}}
    facts = from_json(to_json(doc, base="/", torch_version=None, command=[]), base="/")
    [f] = check_source(text, settings, path="/p/emb.py", facts=facts)
    assert f.fix is None and f.hazard == "breaks"
    assert "parameter of the model" in f.why and "torch.no_grad()" in f.why


def test_format_is_validated_and_unknown_fields_are_ignored(tmp_path: Path) -> None:
    doc = to_json({str(tmp_path / "m.py"): {"sha256": text_digest(HIDDEN), "sites": [site_json(SPAN, targets=[TARGET])]}},
                  base=str(tmp_path), torch_version="2.13.0", command=["x.py"])
    assert list(doc["files"]) == ["m.py"]  # inside the facts file's folder: relative
    doc["files"]["m.py"]["sites"][0]["future_field"] = {"anything": 1}
    good = tmp_path / "facts.json"
    good.write_text(json.dumps(doc))
    facts = load(good)
    assert facts.for_text(tmp_path / "m.py", HIDDEN).sites[0].span == SPAN

    def broken(mutate) -> str:
        d = json.loads(json.dumps(doc))
        mutate(d)
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(d))
        with pytest.raises(FactsError) as e:
            load(bad)
        return str(e.value)

    assert '"format"' in broken(lambda d: d.update(format="something-else"))
    assert "version" in broken(lambda d: d.update(version=99))
    assert "sha256" in broken(lambda d: d["files"]["m.py"].update(sha256="not a digest"))
    assert "span" in broken(lambda d: d["files"]["m.py"]["sites"][0].update(span=[0, 0, 0, 0]))
    assert '"leaf"' in broken(lambda d: d["files"]["m.py"]["sites"][0].update(leaf="perhaps"))
    assert "count" in broken(lambda d: d["files"]["m.py"]["sites"][0].update(count=True))
    assert "error" in broken(lambda d: d["files"]["m.py"]["sites"][0].update(error="boom"))
    (tmp_path / "notjson.json").write_text("{")
    with pytest.raises(FactsError, match="not JSON"):
        load(tmp_path / "notjson.json")
    # Data, never code: a string that looks like code stays a string.
    code = broken(lambda d: d["files"]["m.py"]["sites"][0].update(tensor="__import__('os').system('true')"))
    assert '"tensor"' in code


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "outplace", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "NO_COLOR": "1"}, timeout=120)


def test_check_and_fix_with_facts_and_a_stale_file(tmp_path: Path) -> None:
    (tmp_path / "model.py").write_text(HIDDEN)
    doc = to_json({str(tmp_path / "model.py"): {"sha256": text_digest(HIDDEN), "sites": [site_json(
        SPAN, targets=[TARGET], op="div_", form="/=", saved=[True], broke=[True])]}},
        base=str(tmp_path), torch_version="2.13.0", command=["train.py"])
    (tmp_path / "facts.json").write_text(json.dumps(doc))
    assert _cli("check", "--hazard", "all", "model.py", cwd=tmp_path).returncode == 0
    r = _cli("check", "--facts", "facts.json", "model.py", cwd=tmp_path)
    assert r.returncode == 1 and "model.py:16:9: OP101 [*]" in r.stdout and "(unsafe fix)" in r.stdout, r.stdout + r.stderr
    r = _cli("fix", "--facts", "facts.json", "model.py", cwd=tmp_path)  # unsafe only: nothing written
    assert (tmp_path / "model.py").read_text() == HIDDEN
    r = _cli("fix", "--facts", "facts.json", "--unsafe-fixes", "model.py", cwd=tmp_path)
    assert "g = g / self.temperature" in (tmp_path / "model.py").read_text(), r.stderr
    # The file changed since the run: its facts are ignored, with one line saying so.
    r = _cli("check", "--facts", "facts.json", "model.py", cwd=tmp_path)
    assert r.stderr.count("facts for model.py ignored: the file changed") == 1, r.stderr
    (tmp_path / "bad.json").write_text('{"format": "outplace-facts"}')
    r = _cli("check", "--facts", "bad.json", "model.py", cwd=tmp_path)
    assert r.returncode == 2 and "not an outplace facts file" in r.stderr


def test_no_grad_and_replace_expression_plans() -> None:
    from outplace.findings import Applicability, Finding, Fix

    src = ("import torch as th\n\n\ndef step(model, lr):\n    for p in model.parameters():\n        # update\n"
           "        p.add_(p.grad, alpha=-lr)  # sgd\n    for row in zip(x, m):\n        pass\n")

    def finding(plan):
        return Finding("OP102", "m", 1, 1, 1, 1, Fix(Applicability.UNSAFE, ("r",)), plan)

    new, landed = fix_selected(src, [finding(NoGradPlan((7, 8), "th", "    ")),
                                     finding(ReplaceExprPlan((8, 4), (8, 19, 8, 20), "(x[i] for i in range(len(x)))"))])
    assert len(landed) == 2
    assert new == ("import torch as th\n\n\ndef step(model, lr):\n    for p in model.parameters():\n        # update\n"
                   "        with th.no_grad():\n            p.add_(p.grad, alpha=-lr)  # sgd\n"
                   "    for row in zip((x[i] for i in range(len(x))), m):\n        pass\n")
    # A loop: the whole statement goes under no_grad.
    new, landed = fix_selected(src, [finding(NoGradPlan((5, 4), "th", "    "))])
    assert new.splitlines()[4:8] == ["    with th.no_grad():", "        for p in model.parameters():",
                                     "            # update", "            p.add_(p.grad, alpha=-lr)  # sgd"]
