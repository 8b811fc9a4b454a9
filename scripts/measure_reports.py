#!/usr/bin/env python3
"""Measure outplace on the real bug reports in ``fixtures/reports/`` (the before/after figure of issues 15, 16).

For every case of ``fixtures/reports/index.json`` (a reporter's program that raises the in-place autograd
error, its culprit lines, whether a source rewrite can fix it) four questions are asked of the product as
a user runs it (the CLI, in subprocesses, on copies of the files):

    (a) check     ``outplace check NAME.py`` reports a line of every culprit
    (b) fix       ``outplace fix --unsafe-fixes --clone`` changes NAME.py and the result is *repaired*
    (c) diagnose  ``outplace diagnose NAME.py`` names a line of every culprit
    (d) repair    ``outplace diagnose --fix --unsafe-fixes`` changes NAME.py and the result is *repaired*

A culprit is a group of lines (the write, the constructor or attribute that makes a module write, or its
call site); naming any line of the group names the culprit. (b) and (d) are asked only where a source
rewrite can fix the case (the manifest's ``rewrite``).

*Repaired* means the harness (what ``outplace verify NAME.py --against REWRITTEN`` runs) says ``fixed``:
the rewrite runs and its values and gradients equal the oracle's. When the original raises at the write
itself (``error`` view, leaf, leaf-view) there is no oracle and ``fixed`` only means "it runs"; there the
rewrite must also behave exactly like the accepted fix: ``verify NAME.fixed.py --against REWRITTEN`` must
say ``preserved`` (a manual SGD step rewritten to ``p = p.add(...)`` runs, and trains nothing).

Run from the repository root::

    python3 scripts/measure_reports.py                     # per-case table and totals
    python3 scripts/measure_reports.py --markdown          # the table as markdown (for the README)
    python3 scripts/measure_reports.py --json out.json     # every answer with the evidence that decided it
    python3 scripts/measure_reports.py --cases 'glow*' 'gail*'   # only some cases (fnmatch on the name)

It takes a few minutes on 2 cores, mostly ``diagnose`` (two runs per case); every rewritten file is then
checked in one batch on a warm worker pool.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "fixtures" / "reports"
QUESTIONS = ("check", "fix", "diagnose", "repair")
RAISED_AT_THE_WRITE = {"view", "leaf", "leaf-view"}  # no oracle: judge the rewrite against the accepted fix
TIMEOUT = 300


@dataclass
class CaseResult:
    name: str
    pattern: str
    rewrite: bool
    check: bool = False
    fix: bool | None = None  # None: not asked (no source rewrite can fix the case)
    diagnose: bool = False
    repair: bool | None = None
    detail: dict = field(default_factory=dict)


def outplace(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "outplace", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )


def load_cases(patterns: list[str]) -> list[dict]:
    cases = json.loads((REPORTS / "index.json").read_text(encoding="utf-8"))["cases"]
    if patterns:
        cases = [c for c in cases if any(fnmatch.fnmatch(c["name"], p) for p in patterns)]
    return cases


def names_every_culprit(case: dict, lines: set[int]) -> bool:
    return all(lines & set(group["lines"]) for group in case["culprits"])


def check_findings(cases: list[dict]) -> dict[str, set[int]]:
    """(a): lines with a finding, per case, from one ``outplace check`` over all originals."""
    paths = [str(REPORTS / f"{c['name']}.py") for c in cases]
    proc = outplace("check", "--format", "json", "--no-cache", "--exit-zero", *paths)
    lines: dict[str, set[int]] = {c["name"]: set() for c in cases}
    for finding in json.loads(proc.stdout or "[]"):
        lines.setdefault(Path(finding["path"]).stem, set()).add(finding["line"])
    return lines


def fix_copies(cases: list[dict], workdir: Path) -> dict[str, Path]:
    """(b): ``outplace fix --unsafe-fixes --clone`` on copies of the rewritable originals; the copies it changed."""
    copies = {}
    for case in cases:
        if case["rewrite"]:
            copy = workdir / "fix" / case["name"] / f"{case['name']}.py"
            copy.parent.mkdir(parents=True)
            shutil.copyfile(REPORTS / f"{case['name']}.py", copy)
            copies[case["name"]] = copy
    if copies:
        outplace("fix", "--unsafe-fixes", "--clone", "--no-cache", "--quiet", *map(str, copies.values()), cwd=workdir)
    return {name: copy for name, copy in copies.items() if _changed(name, copy)}


def culprit_lines(diagnosis: dict, path: Path) -> set[int]:
    """Lines of `path` that diagnose names: the write, its `at` span and, for modules, the call site."""
    lines: set[int] = set()
    for culprit in diagnosis.get("culprits", []):
        if Path(culprit.get("path") or "").resolve() == path.resolve() and culprit.get("line"):
            lines.add(culprit["line"])
        for key in ("at", "called_at"):
            where = culprit.get(key) or {}
            if where.get("file") and Path(where["file"]).resolve() == path.resolve() and where.get("line"):
                lines.add(where["line"])
    return lines


def diagnose_case(case: dict, workdir: Path) -> dict:
    """(c), and the ``diagnose --fix --unsafe-fixes`` run of (d), each on its own copy of the original."""
    name = case["name"]
    copy = workdir / "diagnose" / name / f"{name}.py"
    copy.parent.mkdir(parents=True)
    shutil.copyfile(REPORTS / f"{name}.py", copy)
    proc = outplace("diagnose", "--format", "json", str(copy), cwd=copy.parent)
    diagnosis = _json_or_none(proc.stdout) or {}
    culprits = diagnosis.get("culprits", [])
    out = {
        "diagnose_exit": proc.returncode,
        "diagnose_lines": sorted(culprit_lines(diagnosis, copy)),
        "diagnose_kinds": [c.get("kind") for c in culprits],
        "diagnose_fixes": [(c.get("fix") or {}).get("applicability") for c in culprits],
    }
    if case["rewrite"]:
        repaired = workdir / "repair" / name / f"{name}.py"
        repaired.parent.mkdir(parents=True)
        shutil.copyfile(REPORTS / f"{name}.py", repaired)
        proc = outplace("diagnose", "--fix", "--unsafe-fixes", "--format", "json", str(repaired), cwd=repaired.parent)
        out["repair_exit"] = proc.returncode
        out["repaired"] = str(repaired) if _changed(name, repaired) else None
    return out


def _changed(name: str, copy: Path) -> bool:
    return copy.read_bytes() != (REPORTS / f"{name}.py").read_bytes()


def _json_or_none(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return None


def judge_rewrites(cases: list[dict], rewritten: dict[tuple[str, str], Path]) -> dict[tuple[str, str], dict]:
    """Is each rewritten file repaired? All comparisons in one batch on a warm pool."""
    from outplace.harness.testing import shared_pool, verify_pairs

    by_name = {c["name"]: c for c in cases}
    pairs, keys = [], []
    for (question, name), path in rewritten.items():
        pairs.append((REPORTS / f"{name}.py", path))
        keys.append((question, name, "oracle"))
        if by_name[name]["error"] in RAISED_AT_THE_WRITE:
            pairs.append((REPORTS / f"{name}.fixed.py", path))
            keys.append((question, name, "accepted"))
    judged: dict[tuple[str, str], dict] = {key: {} for key in rewritten}
    if pairs:
        for (question, name, against), result in zip(keys, verify_pairs(shared_pool(), pairs)):
            judged[(question, name)][against] = {"verdict": result.verdict, "reason": result.reason}
    for key, verdicts in judged.items():
        wanted = {"oracle": "fixed", "accepted": "preserved"}
        verdicts["repaired"] = all(verdicts[k]["verdict"] == wanted[k] for k in verdicts)
    return judged


def measure(cases: list[dict], jobs: int) -> list[CaseResult]:
    findings = check_findings(cases)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        fixed = fix_copies(cases, workdir)
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            diagnoses = dict(zip((c["name"] for c in cases), pool.map(diagnose_case, cases, [workdir] * len(cases))))
        rewritten = {("fix", name): path for name, path in fixed.items()}
        rewritten.update({("repair", n): Path(d["repaired"]) for n, d in diagnoses.items() if d.get("repaired")})
        judged = judge_rewrites(cases, rewritten)

    results = []
    for case in cases:
        name = case["name"]
        r = CaseResult(name, case["pattern"], case["rewrite"])
        r.check = names_every_culprit(case, findings.get(name, set()))
        r.diagnose = names_every_culprit(case, set(diagnoses[name]["diagnose_lines"]))
        if case["rewrite"]:
            r.fix = judged.get(("fix", name), {}).get("repaired", False)
            r.repair = judged.get(("repair", name), {}).get("repaired", False)
            r.detail["fix_changed_file"] = name in fixed
            r.detail["fix_verdicts"] = judged.get(("fix", name))
            r.detail["repair_verdicts"] = judged.get(("repair", name))
        r.detail["culprit_lines"] = [g["lines"] for g in case["culprits"]]
        r.detail["check_lines"] = sorted(findings.get(name, set()))
        r.detail.update({k: v for k, v in diagnoses[name].items() if k != "repaired"})
        results.append(r)
    return results


def totals(results: list[CaseResult]) -> dict[str, tuple[int, int]]:
    out = {}
    for q in QUESTIONS:
        asked = [getattr(r, q) for r in results if getattr(r, q) is not None]
        out[q] = (sum(asked), len(asked))
    return out


def _mark(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


def render(results: list[CaseResult], markdown: bool) -> str:
    header = ["case", "pattern", "(a) check", "(b) fix", "(c) diagnose", "(d) repair"]
    rows = [[r.name, r.pattern, *(_mark(getattr(r, q)) for q in QUESTIONS)] for r in results]
    t = totals(results)
    foot = ["total", "", *(f"{t[q][0]}/{t[q][1]}" for q in QUESTIONS)]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows + [foot]])
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, foot)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(fmt.format(*row) for row in [header, *rows, foot])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=[], help="fnmatch patterns on case names")
    parser.add_argument("--json", type=Path, help="write every answer and its evidence here")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="cases diagnosed at once")
    args = parser.parse_args(argv)

    cases = load_cases(args.cases)
    if not cases:
        parser.error("no case matches")
    results = measure(cases, args.jobs)
    print(render(results, args.markdown))
    if args.json:
        payload = {"totals": {q: list(v) for q, v in totals(results).items()}, "cases": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
