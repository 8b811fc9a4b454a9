"""Does the analysis of a loop where k tensors update each other grow linearly in k?

    python benchmarks/loop_scaling.py              # k = 2, 4, 8, 16, 32, 64
    python benchmarks/loop_scaling.py --k 8 16     # chosen sizes

Each case is one function with nested loops in which every tensor is updated from the others in
place and out of place (the shape of numeric code that made the old inference re-evaluate loop
bodies exponentially). Prints the time per k and the time per tensor: a flat last column is
linear growth. Timings are CPU seconds of `check_source` on the generated text (median of 3).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time


def program(k: int) -> str:
    names = [f"t{i}" for i in range(k)]
    lines = ["import torch", "", "", "def step(x, w):"]
    lines += [f"    {n} = torch.sigmoid(x * {i + 1})" for i, n in enumerate(names)]
    lines += ["    for outer in range(3):", "        for inner in range(2):"]
    for i, n in enumerate(names):
        a, b = names[(i + 1) % k], names[(i + 2) % k]
        lines.append(f"            {n} = {n} * {a} + {b}")  # every tensor rebound from two others
        lines.append(f"            {n} += {a} * w")
        lines.append(f"            {a}.mul_({b})")
        lines.append(f"            {n}[{n} < 0] = 0")
    lines.append(f"    return {' + '.join(names)}")
    return "\n".join(lines) + "\n"


def measure(k: int, runs: int = 3) -> float:
    from outplace.engine import check_source
    from outplace.settings import Settings

    src = program(k)
    settings = Settings(hazards=("breaks", "inplace"))
    times = []
    for _ in range(runs):
        t = time.process_time()
        check_source(src, settings)
        times.append(time.process_time() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="*", default=[2, 4, 8, 16, 32, 64])
    args = parser.parse_args(argv)
    print(f"{'k':>4} {'seconds':>9} {'ms per tensor':>14}")
    for k in args.k:
        s = measure(k)
        print(f"{k:>4} {s:>9.3f} {1000 * s / k:>14.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
