"""How `outplace fix` scales with the size of one file: time and memory should grow linearly.

    python benchmarks/scale.py                  # 1, 2.5 and 10 MB
    python benchmarks/scale.py --sizes 1 2 4    # other sizes (MB)
    python benchmarks/scale.py --json out.json

Each file is one module of generated `nn.Module` classes, every `forward` with writes into tensors
autograd saved (so that the default `breaks` level reports them): two safe fixes (`y *= 2`,
`z.add_(1)`), one compound one-liner (`if c: z += 1`) and a form feed before a statement, so
that every kind of region the rewriter cuts out is exercised. `outplace fix --no-cache` runs
on a fresh copy in a subprocess, reaped with wait4 (wall time, CPU, peak RSS); the fixed file is
checked to have every fix applied. Printed: per size the times, MB/s, peak RSS, and the time
per MB relative to the smallest size (linear scaling keeps it near 1.0x).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import measure  # noqa: E402

FUNCTION = '''

class Block{i}(torch.nn.Module):
    def forward(self, x: torch.Tensor, c: bool) -> torch.Tensor:
        """Block {i}."""
        y = torch.sigmoid(x)
        y *= 2
        z = y.exp()
        z.add_(1)
        if c: z += 1
\x0c        w = torch.tanh(z)
        return w * {i}
'''
FIXES_PER_FUNCTION = 3


def generate(size_bytes: int) -> tuple[str, int]:
    """A module of at least `size_bytes` bytes; returns (text, number of functions)."""
    parts = ["import torch\n"]
    total, i = len(parts[0]), 0
    while total < size_bytes:
        block = FUNCTION.format(i=i)
        parts.append(block)
        total += len(block)
        i += 1
    return "".join(parts), i


def run_size(mb: float, workdir: Path) -> dict:
    text, functions = generate(int(mb * 1_000_000))
    path = workdir / f"gen_{mb:g}mb.py"
    path.write_text(text)
    env = dict(os.environ, NO_COLOR="1")
    r = measure([sys.executable, "-m", "outplace", "fix", "--no-cache", "-q", str(path)], cwd=workdir, env=env)
    fixed = path.read_text()
    left = fixed.count("y *= 2") + fixed.count(".add_(1)") + fixed.count("z += 1")
    path.unlink()
    return {"mb": mb, "bytes": len(text.encode()), "functions": functions, "fixes": functions * FIXES_PER_FUNCTION,
            "wall_s": round(r.wall, 3), "cpu_s": round(r.cpu, 3), "peak_rss_mb": round(r.rss_mb, 1), "rc": r.rc,
            "unfixed": left, "stderr": r.stderr[-500:] if r.rc else ""}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 2.5, 10], help="file sizes in MB")
    ap.add_argument("--json", type=Path, help="write the numbers here")
    args = ap.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="outplace-scale-") as tmp:
        for mb in args.sizes:
            row = run_size(mb, Path(tmp))
            rows.append(row)
            print(f"{mb:g} MB: {row['wall_s']:.2f} s wall, {row['cpu_s']:.2f} s CPU, {row['peak_rss_mb']:.0f} MB peak RSS"
                  f", {row['fixes']} fixes, {row['unfixed']} left unfixed, exit {row['rc']}", file=sys.stderr, flush=True)
    base = rows[0]["cpu_s"] / rows[0]["mb"] if rows and rows[0]["cpu_s"] else None
    print(f"{'size MB':>8}  {'wall s':>7}  {'CPU s':>7}  {'MB/s':>6}  {'peak RSS MB':>11}  {'CPU/MB vs first':>15}  unfixed")
    for row in rows:
        per_mb = row["cpu_s"] / row["mb"]
        rel = f"{per_mb / base:.2f}x" if base else "-"
        print(f"{row['mb']:>8g}  {row['wall_s']:>7.2f}  {row['cpu_s']:>7.2f}  {row['mb'] / row['wall_s']:>6.2f}  "
              f"{row['peak_rss_mb']:>11.0f}  {rel:>15}  {row['unfixed']}")
        if row["rc"] not in (0, 1):
            print(f"  exit {row['rc']}: {row['stderr']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["rc"] in (0, 1) and r["unfixed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
