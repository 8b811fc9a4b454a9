"""Benchmark outplace on a pinned corpus of real PyTorch code (see corpus.py and README.md).

    python benchmarks/bench.py [--corpus core|full | --corpus-dir DIR] [--runs N] [--quick]
                               [-j N] [--json out.json] [--torchfix]

Measures, each as a subprocess (median of --runs; wall clock, CPU = user+sys of the process and every
child it waited for, peak RSS = the largest single process's maximum resident set, all from wait4):

    floor        stdlib ast.parse of every corpus file in one process: what any AST tool pays
    check cold   `outplace check` after clearing outplace's cache (if one exists)
    check warm   the same command again, right after
    fix diff     `outplace fix --diff --unsafe-fixes` on a fresh copy of the corpus
    torchfix     (--torchfix) torchfix 0.7.0 over the corpus, for scale

outplace's own modules are byte-compiled first, as pip does when it installs a wheel. And, in this
process, the editor's path: `engine.fix_source(text, Settings(unsafe_fixes=True))` per
file (p50/p99/max, the slowest files). Findings, fixes and files with errors are reported too, so that
a change in what outplace finds is visible next to a change in how fast it finds it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus as corpus_mod  # noqa: E402

OUTPLACE = [sys.executable, "-m", "outplace"]
QUICK_LATENCY_FILES = 40

_FLOOR_SCRIPT = r"""
import ast, sys, warnings
from pathlib import Path
warnings.simplefilter("ignore")
n = bad = 0
for p in sorted(Path(sys.argv[1]).rglob("*.py")):
    n += 1
    try:
        ast.parse(p.read_bytes(), str(p))
    except (SyntaxError, ValueError, RecursionError):
        bad += 1
print(n, bad)
"""

_FINDING = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<code>OP\d+)(?P<fix> \[\*\])? "
                      r"(?P<msg>.*?)(?P<unsafe> \(unsafe fix\))?$")


# ---- measuring one subprocess ------------------------------------------------------------------------

@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    rc: int
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")


def measure(cmd: list[str], cwd: Path | None = None, env: dict | None = None, timeout: float | None = None) -> Run:
    """Run `cmd`, reaping it with wait4 for its rusage (which covers its reaped children too).

    Past `timeout` seconds its whole process group is killed and rc is -9.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                             start_new_session=timeout is not None)
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG if timeout is not None else 0)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                os.killpg(p.pid, 9)
                _, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, p.returncode,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def median_of(runs: list[Run]) -> dict:
    return {
        "wall_s": statistics.median(r.wall for r in runs),
        "cpu_s": statistics.median(r.cpu for r in runs),
        "peak_rss_mb": max(r.rss_mb for r in runs),
        "runs_wall_s": [round(r.wall, 3) for r in runs],
        "runs_cpu_s": [round(r.cpu, 3) for r in runs],
        "rc": sorted({r.rc for r in runs}),
    }


# ---- outplace's output ---------------------------------------------------------------------------------

def parse_outplace(stdout: str, stderr: str) -> dict:
    """Counts from `check` finding lines (stdout) and the one-line summary (stderr)."""
    by_rule: Counter = Counter()
    fixable: Counter = Counter()
    for line in stdout.splitlines():
        m = _FINDING.match(line)
        if m:
            by_rule[m["code"]] += 1
            fixable["unsafe" if m["unsafe"] else "safe" if m["fix"] else "none"] += 1
    summary = next((ln for ln in reversed(stderr.splitlines()) if "scanned" in ln), "")
    num = lambda pat: int(m.group(1)) if (m := re.search(pat, summary)) else 0  # noqa: E731
    fixes_by_rule = {c: int(n) for c, n in re.findall(r"(OP\d+) (\d+)", summary)}
    return {
        "summary": summary,
        "files_scanned": num(r"(\d+) files? scanned"),
        "findings": num(r"(\d+) findings?(?: left)?[;.]") or sum(by_rule.values()),
        "findings_by_rule": dict(sorted(by_rule.items())),
        "fixability": dict(sorted(fixable.items())),
        "files_changed": num(r"(\d+) (?:would change|changed)"),
        "fixes": num(r"(\d+) fix(?:es)? (?:to apply|applied)"),
        "fixes_by_rule": fixes_by_rule,
        "held_back": num(r"(\d+) unsafe fix(?:es)? held back"),
        "files_with_errors": num(r"(\d+) files? could not be processed"),
        "internal_errors": [ln for ln in stderr.splitlines() if "internal error:" in ln],
        "error_lines": [ln for ln in stderr.splitlines() if ln and "scanned" not in ln][:50],
        "diff_hunks": sum(1 for ln in stdout.splitlines() if ln.startswith("@@")),
    }


def _help_lists(flag: str) -> bool:
    r = subprocess.run([*OUTPLACE, "check", "--help"], capture_output=True, text=True)
    return flag in r.stdout


def byte_compile_outplace() -> list[str]:
    """Byte-compile outplace's own modules, as pip does when it installs a wheel: in an editable
    install run with PYTHONDONTWRITEBYTECODE set, every process (and each worker) would otherwise
    compile them from source, ~0.1 s each, and the figures would measure that. Returns the folders."""
    import compileall
    import importlib.util

    folders = []
    for name in ("outplace", "outplace.codemods"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin is not None:
            folders.append(str(Path(spec.origin).parent))
            compileall.compile_dir(folders[-1], quiet=1)
    return folders


def cache_dirs(corpus: Path, cwd: Path, env: dict) -> list[Path]:
    dirs = [corpus / ".outplace_cache", cwd / ".outplace_cache", Path.cwd() / ".outplace_cache"]
    if env.get("OUTPLACE_CACHE_DIR"):
        dirs.append(Path(env["OUTPLACE_CACHE_DIR"]))
    return dirs


def clear_caches(dirs: list[Path]) -> None:
    for d in dirs:
        if d.is_dir():
            shutil.rmtree(d)
        elif d.exists():
            d.unlink()


def fresh_copy(src: Path, dst: Path) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".outplace_cache", ".outplace-corpus.json"))
    return dst


# ---- single-file latency -------------------------------------------------------------------------------

def latency(files: list[Path], root: Path) -> dict:
    from outplace.engine import fix_source
    from outplace.settings import Settings

    settings = Settings(unsafe_fixes=True)
    texts = []
    for p in files:
        try:
            texts.append((p, p.read_bytes().decode("utf-8")))
        except (OSError, UnicodeDecodeError):
            continue
    # Warm up: import every rule, the op table and libcst on a file that exercises a fix.
    warm = "import torch\ndef f(x):\n    x.add_(1)\n    x += 1\n    return x\n"
    for _ in range(3):
        fix_source(warm, settings)
    timings, errors = [], []
    for p, text in texts:
        c0, t0 = time.process_time(), time.perf_counter()
        try:
            fix_source(text, settings, path=str(p))
        except Exception as e:  # a parse error is the file's problem; anything else an engine bug
            errors.append(f"{p.relative_to(root)}: {type(e).__name__}: {e}")
        timings.append((time.perf_counter() - t0, time.process_time() - c0, p))
    if not timings:
        return {"files": 0}
    walls = sorted(t[0] for t in timings)
    q = lambda f: walls[min(len(walls) - 1, int(round(f * (len(walls) - 1))))] * 1e3  # noqa: E731
    slowest = sorted(timings, key=lambda t: t[0], reverse=True)[:5]
    return {
        "files": len(timings),
        "p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99), "max_ms": walls[-1] * 1e3,
        "total_s": sum(walls), "total_cpu_s": sum(t[1] for t in timings),
        "slowest": [{"file": str(p.relative_to(root)), "ms": w * 1e3, "cpu_ms": c * 1e3,
                     "kb": p.stat().st_size / 1024} for w, c, p in slowest],
        "errors": errors,
    }


# ---- torchfix ------------------------------------------------------------------------------------------

def torchfix_bin(cache: Path) -> Path | None:
    venv = cache / "torchfix-venv"
    exe = venv / "bin" / "torchfix"
    if exe.exists():
        return exe
    print("installing torchfix==0.7.0 into", venv, file=sys.stderr)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "torchfix==0.7.0",
                        "libcst<1.6"], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        print(f"torchfix: install failed, skipping: {(e.stderr or '').strip()[-500:]}", file=sys.stderr)
        return None
    return exe if exe.exists() else None


# ---- the table -----------------------------------------------------------------------------------------

def table(results: dict, floor_key: str = "floor") -> str:
    floor = results.get(floor_key)
    rows = [("", "wall s", "CPU s", "peak RSS MB", "wall/floor", "CPU/floor")]
    for name, r in results.items():
        wf = f"{r['wall_s'] / floor['wall_s']:.2f}x" if floor and floor["wall_s"] else "-"
        cf = f"{r['cpu_s'] / floor['cpu_s']:.2f}x" if floor and floor["cpu_s"] else "-"
        rows.append((name, f"{r['wall_s']:.2f}", f"{r['cpu_s']:.2f}", f"{r['peak_rss_mb']:.0f}", wf, cf))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def targets(corpus: str, results: dict, lat: dict) -> list[dict]:
    """Issue 5's targets that this run measured, and the cold target issues 13-15 tightened: what,
    the measured value, the limit, met or not. Core's are ratios to the floor (noise cancels); the
    full corpus's are absolute."""
    out = []

    def add(what: str, value: float | None, limit: float, unit: str) -> None:
        if value is not None:
            out.append({"what": what, "value": value, "limit": limit, "unit": unit, "met": value < limit
                        if unit in ("s", "MB", "ms") else value <= limit})

    floor, cold, warm = (results.get(k) for k in ("floor", "check cold", "check warm"))
    if corpus == "core":
        if floor and cold:
            add("check cold / floor (wall)", cold["wall_s"] / floor["wall_s"], 2.0, "x")
            add("check cold / floor (wall), issues 13-15", cold["wall_s"] / floor["wall_s"], 1.0, "x")
        if floor and warm:
            add("check warm / floor (wall)", warm["wall_s"] / floor["wall_s"], 0.2, "x")
        if lat.get("files"):
            add("single-file fix p99", lat["p99_ms"], 150, "ms")
            add("single-file fix max", lat["max_ms"], 400, "ms")
    elif corpus == "full" and cold:
        add("check cold (wall)", cold["wall_s"], 20, "s")
        add("check cold peak RSS", cold["peak_rss_mb"], 400, "MB")
    return out


def outplace_revision() -> str:
    """The commit of the outplace checkout being measured (with -dirty when it has local changes)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=corpus_mod.REPO, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src", "codemods"],
                               cwd=corpus_mod.REPO, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("-dirty" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", choices=sorted(corpus_mod.CORPORA), default="core")
    ap.add_argument("--corpus-dir", type=Path, help="benchmark this directory instead of a pinned corpus")
    ap.add_argument("--cache-dir", type=Path, default=corpus_mod.DEFAULT_CACHE)
    ap.add_argument("--runs", type=int, default=3, help="runs per measurement; the median is reported")
    ap.add_argument("--quick", action="store_true",
                    help=f"one run each, latency on {QUICK_LATENCY_FILES} files only")
    ap.add_argument("-j", "--jobs", type=int, help="passed to outplace (and torchfix)")
    ap.add_argument("--json", type=Path, help="write every number here")
    ap.add_argument("--torchfix", action="store_true", help="also time torchfix 0.7.0 (installed in a venv)")
    ap.add_argument("--torchfix-timeout", type=int, default=300, help="seconds before giving torchfix up")
    ap.add_argument("--no-latency", action="store_true", help="skip the in-process single-file latency")
    args = ap.parse_args(argv)
    runs = 1 if args.quick else max(1, args.runs)
    cache = args.cache_dir.resolve()

    if args.corpus_dir:
        root, label = args.corpus_dir.resolve(), str(args.corpus_dir)
    else:
        root, label = corpus_mod.build(args.corpus, cache), args.corpus
    files = sorted(root.rglob("*.py"))
    size = sum(p.stat().st_size for p in files)
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    env = dict(os.environ, NO_COLOR="1", OUTPLACE_CACHE_DIR=str(cache / "outplace-cache"))
    caches = cache_dirs(root, root, env)
    extra_check = ["--no-cache"] if _help_lists("--no-cache") else []
    scratch = cache / "scratch" / f"fix-{Path(label).name}"

    compiled = byte_compile_outplace()
    version = subprocess.run([*OUTPLACE, "--version"], capture_output=True, text=True).stdout.strip()
    version += f" ({outplace_revision()})"
    print(f"corpus {label}: {root} ({len(files)} files, {size / 1e6:.1f} MB); {version}; "
          f"{os.cpu_count()} cores; {runs} run(s) each; load average {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(f"byte-compiled first (as an installed wheel is): {', '.join(compiled)}", file=sys.stderr)

    measured: dict[str, list[Run]] = {k: [] for k in ("floor", "check cold", "check warm", "fix diff")}
    if extra_check:
        measured["check no-cache"] = []
    check_cmd = [*OUTPLACE, "check", *jobs, "--exit-zero", str(root)]
    for i in range(runs):
        print(f"run {i + 1}/{runs}", file=sys.stderr)
        measured["floor"].append(measure([sys.executable, "-c", _FLOOR_SCRIPT, str(root)]))
        clear_caches(caches)
        measured["check cold"].append(measure(check_cmd, cwd=root, env=env))
        measured["check warm"].append(measure(check_cmd, cwd=root, env=env))
        if extra_check:
            measured["check no-cache"].append(measure([*check_cmd[:-1], *extra_check, str(root)], cwd=root, env=env))
        copy = fresh_copy(root, scratch)
        measured["fix diff"].append(measure([*OUTPLACE, "fix", "--diff", "--unsafe-fixes", *jobs, str(copy)],
                                            cwd=copy, env=env))
    torchfix_note = None
    if args.torchfix:  # one run only: it is slow, and it is there for scale, not for tracking
        exe = torchfix_bin(cache)
        if exe is None:
            torchfix_note = "install failed"
        else:
            copy = fresh_copy(root, scratch)  # torchfix without --fix writes nothing, but be sure
            print(f"torchfix (one run, at most {args.torchfix_timeout} s)", file=sys.stderr)
            r = measure([str(exe), "-j", str(args.jobs or 2), str(copy)], cwd=copy, timeout=args.torchfix_timeout)
            if r.rc == -9:
                torchfix_note = f"did not finish in {args.torchfix_timeout} s (killed)"
            else:
                measured["torchfix"] = [r]
                torchfix_note = f"{sum(1 for ln in r.stdout.splitlines() if ': TOR' in ln)} findings"

    for name in ("check cold", "check warm", "fix diff"):
        bad = [r for r in measured[name] if r.rc not in (0, 1, 2)]
        if bad:
            print(f"{name}: exit {bad[0].rc}\n{bad[0].stderr[-2000:]}", file=sys.stderr)
            return 1
    results = {name: median_of(rs) for name, rs in measured.items() if rs}
    check_counts = parse_outplace(measured["check cold"][-1].stdout, measured["check cold"][-1].stderr)
    fix_counts = parse_outplace(measured["fix diff"][-1].stdout, measured["fix diff"][-1].stderr)
    warm_counts = parse_outplace(measured["check warm"][-1].stdout, measured["check warm"][-1].stderr)
    floor_out = measured["floor"][-1].stdout.split()
    lat = {} if args.no_latency else latency(files[:QUICK_LATENCY_FILES] if args.quick else files, root)

    report = {
        "corpus": label, "path": str(root), "files": len(files), "bytes": size,
        "floor_parse_failures": int(floor_out[1]) if len(floor_out) == 2 else None,
        "outplace": version, "python": platform.python_version(), "cpus": os.cpu_count(),
        "machine": platform.platform(), "load_average_end": os.getloadavg()[0], "runs": runs,
        "jobs": args.jobs, "results": results,
        "check": check_counts, "check_warm_matches_cold": warm_counts["findings_by_rule"] == check_counts["findings_by_rule"],
        "fix": fix_counts, "latency": lat, "torchfix": torchfix_note,
        "targets": targets(label, results, lat),
    }
    print()
    print(f"{label}: {len(files)} files, {size / 1e6:.1f} MB, {runs} run(s), median; "
          f"{os.cpu_count()} cores; {version}")
    print(table(results))
    for t in report["targets"]:
        limit = f"{'<=' if t['unit'] == 'x' else '<'} {t['limit']:g}{t['unit'] if t['unit'] == 'x' else ' ' + t['unit']}"
        print(f"target: {t['what']} {t['value']:.2f}{t['unit'] if t['unit'] == 'x' else ' ' + t['unit']} "
              f"({limit}): {'met' if t['met'] else 'NOT MET'}")
    print()
    c, f = check_counts, fix_counts
    print(f"check: {c['files_scanned']} files scanned, {c['findings']} findings "
          f"({', '.join(f'{k} {v}' for k, v in c['findings_by_rule'].items()) or 'none'}); "
          f"fixable: {', '.join(f'{k} {v}' for k, v in c['fixability'].items()) or '-'}; "
          f"{c['files_with_errors']} files with errors ({len(c['internal_errors'])} internal)")
    print(f"fix --unsafe-fixes: {f['files_changed']} files would change, {f['fixes']} fixes "
          f"({', '.join(f'{k} {v}' for k, v in f['fixes_by_rule'].items()) or 'none'}), {f['diff_hunks']} hunks; "
          f"{f['files_with_errors']} files with errors")
    if torchfix_note:
        print(f"torchfix 0.7.0 -j {args.jobs or 2}: {torchfix_note}")
    if not report["check_warm_matches_cold"]:
        print("WARNING: the warm check found something different from the cold one")
    for line in c["internal_errors"] + f["internal_errors"]:
        print("  " + line)
    if lat.get("files"):
        print(f"\nsingle-file fix_source latency ({lat['files']} files, in-process): p50 {lat['p50_ms']:.1f} ms, "
              f"p90 {lat['p90_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms, max {lat['max_ms']:.1f} ms; "
              f"total {lat['total_s']:.2f} s")
        for s in lat["slowest"]:
            print(f"  {s['ms']:8.1f} ms  {s['kb']:6.1f} KB  {s['file']}")
        for e in lat["errors"][:10]:
            print(f"  error: {e}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
