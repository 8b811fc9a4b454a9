"""Mutation testing of the fixer's judgement with cosmic-ray: plant one small bug at a time in the
rules, analysis/, engine.py, source.py and cache.py, run the fast tests that cover that module, and
list the bugs no test noticed.

    pip install -e ".[dev,mutation]"
    python scripts/mutation.py                       # a seeded sample per module group; prints survivors
    python scripts/mutation.py --sample 0            # every mutant (about 4,500: hours on 2 cores)
    python scripts/mutation.py --group engine --json out.json
    python scripts/mutation.py --retest out.json     # only the survivors of that run, after new tests
    python scripts/mutation.py --compare before.json after.json

The working tree is copied to a temporary folder and mutated there (never in place: the copy is
imported through PYTHONPATH, so subprocess tests see the mutant too). Each group has its own test
selection (`GROUPS`), ordered so the quickest killers run first, with `-x`. A mutant is *killed*
when the tests fail or time out, *survived* when they pass. The sample is drawn by a hash of each
mutant's place (file, operator, occurrence), so two runs over the same code try the same mutants:
compare scores before and after a change to the tests with the same --sample and --seed.
The latest scores are in tests/README.md.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Group:
    name: str
    modules: tuple[str, ...]  # paths (files or folders) to mutate, relative to the repository
    tests: tuple[str, ...]  # pytest arguments, quickest killers first; missing files are dropped


# Fast, in-process tests first; the selection stays per module so one mutant costs seconds.
RULE_TESTS = (
    "tests/test_rule_fixtures.py", "tests/test_judgement_table.py", "tests/test_noqa.py", "tests/test_engine.py",
    "tests/test_engine_edits.py", "tests/test_codemod_commands.py", "tests/test_properties.py",
    "tests/test_rule_golden_runs.py", "tests/test_rule_properties.py",
)
# The judgement model's own tests (hazard levels, saved tensors, aliases, summaries, caller flows)
# decide most analysis/ mutants in seconds; the adversarial programs and their generated alias
# shapes go before the slow rule properties.
ANALYSIS_TESTS = (
    "tests/test_judgement.py", "tests/test_judgement_table.py", "tests/test_analysis_mutants.py", "tests/test_scopes.py",
    "tests/test_cfg.py", "tests/test_guards.py",  # main's, for cfg.py and guards.py (dropped where missing)
    "tests/test_rule_fixtures.py", "tests/test_engine_edits.py", "tests/test_noqa.py", "tests/test_adversarial.py",
    "tests/test_engine.py", "tests/test_adversarial_properties.py", "tests/test_codemod_commands.py",
    "tests/test_torchfacts.py::test_analysis_classifies_calls_like_the_generator",
    "tests/test_rule_golden_runs.py", "tests/test_properties.py", "tests/test_rule_properties.py",
)
GROUPS = (
    Group("rules", ("codemods",), RULE_TESTS),
    Group("analysis", ("src/outplace/analysis",), ANALYSIS_TESTS),
    Group("engine", ("src/outplace/engine.py",), ("tests/test_safety_nets.py", *RULE_TESTS)),
    Group("source", ("src/outplace/source.py",), ("tests/test_source.py", "tests/test_source_edges.py",
                                                  "tests/test_safety_nets.py", "tests/test_robustness.py")),
    Group("cache", ("src/outplace/cache.py",), ("tests/test_cache.py", "tests/test_cache_behaviour.py")),
)


def copy_tree(dest: Path) -> None:
    """The working tree as git sees it (tracked and untracked, not ignored files)."""
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    # outplace.codemods is installed from codemods/ (package-dir): the same mapping by a link.
    os.symlink("../../codemods", dest / "src" / "outplace" / "codemods")


def sample_keys(keys: list[str], sample: int, seed: str) -> set[str]:
    """`sample` of the keys, chosen by a hash of each: the same code gives the same sample."""
    if sample <= 0:
        return set(keys)
    return set(sorted(keys, key=lambda k: hashlib.sha256(f"{seed}:{k}".encode()).digest())[:sample])


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where annotations are in a module that never evaluates them (`from __future__ import
    annotations`): a mutant there is equivalent by construction, so it is not tried."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations"
               for a in n.names) for n in tree.body):
        return []
    nodes = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nodes.append(node.returns)
        elif isinstance(node, ast.arg):
            nodes.append(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            nodes.append(node.annotation)
    return [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in nodes if n is not None]


def in_annotation(item, tree: Path, spans: dict) -> bool:
    m = item.mutations[0]
    path = tree / m.module_path
    if path not in spans:
        spans[path] = annotation_spans(path)
    return any(start <= tuple(m.start_pos) and tuple(m.end_pos) <= end for start, end in spans[path])


def write_config(path: Path, group: Group, tree: Path, timeout: float) -> None:
    tests = [t for t in group.tests if (tree / t.split("::")[0]).exists()]
    command = f"{sys.executable} -m pytest -x -q -p no:cacheprovider -p no:randomly {' '.join(tests)}"
    modules = ", ".join(json.dumps(m) for m in group.modules)
    path.write_text(
        "[cosmic-ray]\n"
        f"module-path = [{modules}]\n"
        f"timeout = {timeout}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "[cosmic-ray.distributor]\nname = \"local\"\n"
    )


def run_group(group: Group, tree: Path, args: argparse.Namespace, env: dict) -> dict:
    config, session = tree / f"cr-{group.name}.toml", tree / f"cr-{group.name}.sqlite"
    tests = [t for t in group.tests if (tree / t.split("::")[0]).exists()]
    started = time.monotonic()
    baseline = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                              cwd=tree, env=env, capture_output=True, text=True)
    base_s = time.monotonic() - started
    if baseline.returncode != 0:
        raise SystemExit(f"{group.name}: the tests fail on unmutated code:\n{baseline.stdout[-3000:]}")
    write_config(config, group, tree, timeout=max(60.0, 3 * base_s))
    subprocess.run(["cosmic-ray", "init", str(config), str(session)], cwd=tree, env=env, check=True)

    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(str(session), WorkDB.Mode.open) as db:
        spans: dict = {}
        items = [i for i in db.work_items]
        annotations = {i.job_id for i in items if in_annotation(i, tree, spans)}
        chosen = sample_keys([_key(i) for i in items if i.job_id not in annotations], args.sample, args.seed)
        if args.retest is not None:  # only the survivors of an earlier run (same code: same keys)
            chosen &= {s["mutant"] for r in json.loads(args.retest.read_text()) if r["group"] == group.name
                       for s in r["survivors"]}
        skip = [i.job_id for i in items if _key(i) not in chosen]
        if skip:
            db.set_multiple_results(skip, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
    print(f"[{group.name}] {len(items) - len(skip)} of {len(items)} mutants ({len(annotations)} in "
          f"annotations, never evaluated, left out); tests: {' '.join(tests)} "
          f"({base_s:.0f} s unmutated)", flush=True)
    subprocess.run(["cosmic-ray", "exec", str(config), str(session)], cwd=tree, env=env, check=True)

    survivors, killed, incompetent, tried_keys = [], 0, 0, []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            tried_keys.append(_key(item))
            if result.test_outcome is None or result.test_outcome.value == "incompetent":
                incompetent += 1
            elif result.is_killed:
                killed += 1
            else:
                survivors.append({"mutant": _key(item), "diff": result.diff or ""})
    tried = killed + len(survivors)
    return {"group": group.name, "total": len(items), "annotations": len(annotations), "tried": tried, "killed": killed,
            "survived": len(survivors), "incompetent": incompetent,
            "score": round(100 * killed / tried, 1) if tried else None,
            "seconds": round(time.monotonic() - started), "survivors": survivors, "tried_keys": tried_keys}


def _key(item) -> str:
    m = item.mutations[0]
    return f"{m.module_path}:{m.start_pos[0]}:{m.operator_name}:{m.occurrence}"


def compare(before_path: Path, after_path: Path) -> None:
    """Scores of two --json runs side by side, and on the mutants both tried (same code, same key)."""
    before = {r["group"]: r for r in json.loads(before_path.read_text())}
    after = {r["group"]: r for r in json.loads(after_path.read_text())}
    print("| group | before | after | both tried: before -> after |")
    print("|---|---|---|---|")
    for name in after:
        b, a = before.get(name), after[name]
        cell = (lambda r: f"{r['killed']}/{r['tried']} ({r['score']} %)" if r else "-")
        common = ""
        if b is not None and "tried_keys" in b and "tried_keys" in a:
            both = set(b["tried_keys"]) & set(a["tried_keys"])
            survived_b = {s["mutant"] for s in b["survivors"]} & both
            survived_a = {s["mutant"] for s in a["survivors"]} & both
            common = f"{len(both) - len(survived_b)}/{len(both)} -> {len(both) - len(survived_a)}/{len(both)}"
        print(f"| {name} | {cell(b)} | {cell(a)} | {common} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", action="append", choices=[g.name for g in GROUPS],
                        help="module group(s) to mutate (default: all)")
    parser.add_argument("--sample", type=int, default=60,
                        help="mutants tried per group, drawn by a stable hash (0: all)")
    parser.add_argument("--seed", default="outplace")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--retest", type=Path, metavar="JSON",
                        help="try only the survivors recorded in an earlier --json (after adding tests)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"),
                        help="print two --json runs' scores side by side and exit")
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return 0
    if shutil.which("cosmic-ray") is None:
        print("cosmic-ray is not installed: pip install -e '.[mutation]'", file=sys.stderr)
        return 2

    tree = Path(tempfile.mkdtemp(prefix="outplace-mutation-"))
    results = []
    try:
        copy_tree(tree)
        # Fewer property draws per mutant (tests/test_rule_properties.py): a killed mutant fails fast anyway.
        env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OUTPLACE_PROPERTY_EXAMPLES": "100"}
        for group in GROUPS:
            if args.group and group.name not in args.group:
                continue
            result = run_group(group, tree, args, env)
            results.append(result)
            print(f"[{group.name}] killed {result['killed']} of {result['tried']} "
                  f"({result['score']} %), {result['survived']} survived, {result['seconds']} s", flush=True)
            for s in result["survivors"]:
                print(f"  survived {s['mutant']}\n" + "".join(f"    {line}\n" for line in s["diff"].splitlines()
                                                              if line[:1] in "+-" and line[:3] not in ("+++", "---")))
            if args.json:
                args.json.write_text(json.dumps(results, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(tree, ignore_errors=True)
    killed = sum(r["killed"] for r in results)
    tried = sum(r["tried"] for r in results)
    print(f"total: killed {killed} of {tried} ({100 * killed / max(tried, 1):.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
