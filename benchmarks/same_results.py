"""Record what outplace reports on some trees, and compare two records: a speed change must not
change a single finding.

    python benchmarks/same_results.py record OUT DIR...   # check (all hazards, JSON) and fix diffs per DIR
    python benchmarks/same_results.py compare A B         # every recorded output of A against B's

`record` runs the `outplace` of this interpreter (`python -m outplace`), with one job and no cache, in
each DIR: `check --hazard all --format json`, and `fix --diff` with `--unsafe-fixes`, without it, and
with `--unsafe-fixes --hazard all`, under `PYTHONHASHSEED=0` (a few results depend on the order of a
set of names; see benchmarks/README.md). Nothing is written to the trees. `compare` exits 1 when any
output differs, and prints the first differing findings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

COMMANDS = {
    "check.json": ["check", "--hazard", "all", "--format", "json", "--exit-zero"],
    "fix-unsafe.diff": ["fix", "--diff", "--unsafe-fixes"],
    "fix-safe.diff": ["fix", "--diff"],
    "fix-all.diff": ["fix", "--diff", "--unsafe-fixes", "--hazard", "all"],
}


def record(out: Path, dirs: list[Path]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for d in dirs:
        for name, args in COMMANDS.items():
            cmd = [sys.executable, "-m", "outplace", *args, "-j", "1", "--no-cache", "-q", "."]
            r = subprocess.run(cmd, cwd=d, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
            (out / f"{d.name}.{name}").write_text(r.stdout)
            (out / f"{d.name}.{name}.err").write_text(f"exit {r.returncode}\n{r.stderr}")
            print(f"{d.name} {name}: exit {r.returncode}, {len(r.stdout)} bytes", file=sys.stderr)


def compare(a: Path, b: Path) -> int:
    differ = 0
    for left in sorted(a.iterdir()):
        right = b / left.name
        if not right.exists():
            print(f"{left.name}: only in {a}")
            differ += 1
            continue
        x, y = left.read_text(), right.read_text()
        if x == y:
            print(f"{left.name}: same")
            continue
        differ += 1
        if left.name.endswith(".json"):
            fx, fy = (sorted(json.dumps(f, sort_keys=True) for f in json.loads(t)) for t in (x, y))
            gone, new = sorted(set(fx) - set(fy)), sorted(set(fy) - set(fx))
            print(f"{left.name}: DIFFERENT ({len(fx)} vs {len(fy)} findings)")
            for line in gone[:5]:
                print(f"  - {line[:400]}")
            for line in new[:5]:
                print(f"  + {line[:400]}")
        else:
            print(f"{left.name}: DIFFERENT")
    return 1 if differ else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("dirs", type=Path, nargs="+")
    cmp = sub.add_parser("compare")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.command == "record":
        record(args.out, [d.resolve() for d in args.dirs])
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
