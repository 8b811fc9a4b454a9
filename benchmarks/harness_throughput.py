"""Throughput of the differential harness with warm workers: verified cases per second.

    python benchmarks/harness_throughput.py [--jobs 2] [--repeat 5]

Every (NAME.py, NAME.TAG.py) pair in fixtures/runnable is one case (original + rewritten runs, the
oracle where the original raised an in-place error, the record comparison). The pool is started
and warmed up first; the figure counts only the verification itself. Worker start-up (importing
torch) is reported separately.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from outplace.harness.cases import collect_cases  # noqa: E402
from outplace.harness.pipeline import Options, run_cases  # noqa: E402
from outplace.harness.runner import WorkerPool  # noqa: E402


def fixture_cases():
    runnable = ROOT / "fixtures" / "runnable"
    cases = []
    for base in sorted(runnable.glob("*.py")):
        if "." in base.stem:
            continue
        for rewrite in sorted(runnable.glob(f"{base.stem}.*.py")):
            cases += collect_cases([base], rewrite)
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds over all fixture pairs")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per worker (default: cores / jobs)")
    args = parser.parse_args()

    cases = fixture_cases()
    t0 = time.perf_counter()
    pool = WorkerPool(args.jobs, threads=args.threads)
    try:
        pool.start()
        # Warm-up round: waits for every worker to be ready and pays first-call costs.
        run_cases(pool, cases, Options())
        startup = time.perf_counter() - t0
        rates = []
        verdicts: Counter[str] = Counter()
        for _ in range(args.repeat):
            start = time.perf_counter()
            results = run_cases(pool, cases, Options())
            elapsed = time.perf_counter() - start
            rates.append(len(results) / elapsed)
            verdicts.update(r.verdict for r in results)
    finally:
        pool.close()
    print(f"torch {pool.info.get('torch')}, {args.jobs} worker(s) x {pool.threads} thread(s), {len(cases)} cases per round")
    print(f"pool start + warm-up round: {startup:.2f} s")
    print(f"verdicts per round: {dict(sorted((k, v // args.repeat) for k, v in verdicts.items()))}")
    print(
        f"throughput: {statistics.median(rates):.1f} cases/s (median of {args.repeat}; "
        f"min {min(rates):.1f}, max {max(rates):.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
