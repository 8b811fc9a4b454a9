"""Overhead of `outplace diagnose` and `outplace trace`: training steps of a small MLP and a small CNN,
plain vs recorded (diagnose) vs traced (trace).

    python benchmarks/diagnose_overhead.py                 # both models, a table and the ratios
    python benchmarks/diagnose_overhead.py --json out.json
    python benchmarks/diagnose_overhead.py --write-readme  # also put the table into benchmarks/README.md
    python benchmarks/diagnose_overhead.py --device cuda   # the same on a GPU

Step time: one process per model builds it once, then alternates blocks of `--steps` training steps
(forward, loss, backward, optimizer step) plain, with the recorder installed as `outplace diagnose`
installs it (dispatch mode while a saved tensor is alive, saved-tensor hooks, patches), and with it
installed as `outplace trace` does (the dispatch mode on all the time, every in-place write on a tensor
that requires grad recorded), `--repeat` triples, so that all three see the same machine load; each
ratio is the median of the per-triple ratios. The issue's bar: recorded and traced ≤ 2× plain.
Whole-process wall time is reported too: ``python THIS --workload mlp`` against the same script run by
`outplace.diagnose.runner.run_program` (exactly what ``outplace diagnose`` and, with ``trace=True``,
``outplace trace`` do: python + torch start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

LIMIT = 2.0


# ---- the workload (runs in the measured process) ----------------------------------------------------

def workload(name: str, steps: int, warmup: int, repeat: int, device: str, interleave: bool = False,
             threads: int | None = None) -> dict:
    import torch
    from torch import nn

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    if name == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        x = torch.randn(64, 1, 28, 28)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    elif name == "cnn":
        model = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 8 * 8, 10),
        )
        x = torch.randn(32, 3, 32, 32)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    else:
        raise SystemExit(f"unknown workload {name!r}")
    model.to(device)
    x = x.to(device)
    y = torch.randint(0, 10, (x.shape[0],), device=device)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def block() -> float:
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        sync()
        cpu.append((time.process_time() - c0) / steps)
        return (time.perf_counter() - t0) / steps

    cpu: list[float] = []

    for _ in range(warmup):
        step()
    sync()
    result = {"workload": name, "device": device, "steps": steps, "repeat": repeat,
              "threads": torch.get_num_threads()}
    if not interleave:
        per_step = [block() for _ in range(repeat)]
        result.update(step_ms=statistics.median(per_step) * 1e3, all_ms=[t * 1e3 for t in per_step])
        return result
    # Plain, recorded and traced blocks alternate in this one process, so all see the same machine load.
    from outplace.diagnose.recorder import RECORDER, install

    install(None, trace=True)
    for _ in range(warmup):
        step()
    RECORDER.uninstall()
    plain, recorded, traced = [], [], []
    cpu.clear()
    for _ in range(repeat):
        plain.append(block())
        install(None)
        recorded.append(block())
        RECORDER.uninstall()
        install(None, trace=True)
        traced.append(block())
        RECORDER.uninstall()
    cpu_plain, cpu_recorded, cpu_traced = cpu[0::3], cpu[1::3], cpu[2::3]

    def ratio(xs, ys):
        return statistics.median(y / x for x, y in zip(xs, ys))

    result.update(plain_ms=statistics.median(plain) * 1e3, recorded_ms=statistics.median(recorded) * 1e3,
                  traced_ms=statistics.median(traced) * 1e3, ratio=ratio(plain, recorded),
                  ratios=[r / p for p, r in zip(plain, recorded)], trace_ratio=ratio(plain, traced),
                  cpu_plain_ms=statistics.median(cpu_plain) * 1e3, cpu_recorded_ms=statistics.median(cpu_recorded) * 1e3,
                  cpu_ratio=ratio(cpu_plain, cpu_recorded), cpu_trace_ratio=ratio(cpu_plain, cpu_traced))
    return result


# ---- the driver -------------------------------------------------------------------------------------

def _parse(stdout: str) -> dict:
    for line in reversed(stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"no RESULT line in:\n{stdout}")


def measure(name: str, args: argparse.Namespace) -> dict:
    from outplace.diagnose.runner import run_program

    steps = args.steps or (40 if name == "mlp" else 10)
    wl = ["--workload", name, "--steps", str(steps), "--warmup", str(args.warmup),
          "--repeat", str(args.repeat), "--device", args.device]
    if args.threads:
        wl += ["--threads", str(args.threads)]
    # 1. Step time, plain and recorded blocks interleaved in one process (the number that matters).
    proc = subprocess.run([sys.executable, __file__, *wl, "--interleave"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    inter = _parse(proc.stdout)
    # 2. Whole process, start-up included: `python prog.py` vs the diagnose child running it.
    plain_wall = float("inf")
    for _ in range(2):  # the first run also warms the file cache (torch's import) for the others
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, *wl], capture_output=True, text=True)
        plain_wall = min(plain_wall, time.perf_counter() - t0)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr)
    t0 = time.perf_counter()
    run = run_program(__file__, wl, capture=True)
    recorded_wall = time.perf_counter() - t0
    if run.returncode != 0:
        raise RuntimeError(f"recorded run failed ({run.returncode}):\n{run.stderr}")
    t0 = time.perf_counter()
    traced_run = run_program(__file__, wl, capture=True, trace=True)
    traced_wall = time.perf_counter() - t0
    if traced_run.returncode != 0:
        raise RuntimeError(f"traced run failed ({traced_run.returncode}):\n{traced_run.stderr}")
    return {
        "workload": name,
        "device": args.device,
        "plain_step_ms": inter["plain_ms"],
        "recorded_step_ms": inter["recorded_ms"],
        "traced_step_ms": inter["traced_ms"],
        "step_ratio": inter["ratio"],
        "step_ratios": inter["ratios"],
        "trace_step_ratio": inter["trace_ratio"],
        "cpu_plain_step_ms": inter["cpu_plain_ms"],
        "cpu_recorded_step_ms": inter["cpu_recorded_ms"],
        "cpu_step_ratio": inter["cpu_ratio"],
        "cpu_trace_step_ratio": inter["cpu_trace_ratio"],
        "plain_wall_s": plain_wall,
        "recorded_wall_s": recorded_wall,
        "traced_wall_s": traced_wall,
        "wall_ratio": recorded_wall / plain_wall,
        "trace_wall_ratio": traced_wall / plain_wall,
        "incidents": len(run.incidents),
        "traced_sites": len((traced_run.report or {}).get("trace") or []),
        "threads": inter["threads"],
    }


README = os.path.join(HERE, "README.md")
MARK_BEGIN, MARK_END = "<!-- diagnose-overhead:begin -->", "<!-- diagnose-overhead:end -->"


def table(rows: list[dict]) -> str:
    """The markdown table benchmarks/README.md shows (between its diagnose-overhead markers)."""
    lines = ["| model | device | threads | plain ms/step | diagnose ms/step | ratio | trace ms/step | ratio | "
             "whole run: diagnose | trace |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['workload'].upper()} | {r['device']} | {r['threads']} | {r['plain_step_ms']:.2f} | "
                     f"{r['recorded_step_ms']:.2f} | {r['step_ratio']:.2f}× | {r['traced_step_ms']:.2f} | "
                     f"{r['trace_step_ratio']:.2f}× | {r['wall_ratio']:.2f}× | {r['trace_wall_ratio']:.2f}× |")
    return "\n".join(lines)


def write_readme(rows: list[dict], note: str) -> None:
    with open(README, encoding="utf-8") as f:
        text = f.read()
    if MARK_BEGIN not in text or MARK_END not in text:
        raise SystemExit(f"{README}: no {MARK_BEGIN} ... {MARK_END} section to write the table into")
    head, rest = text.split(MARK_BEGIN, 1)
    _, tail = rest.split(MARK_END, 1)
    with open(README, "w", encoding="utf-8") as f:
        f.write(f"{head}{MARK_BEGIN}\n{table(rows)}\n\n{note}\n{MARK_END}{tail}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workload", choices=["mlp", "cnn"], help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--interleave", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--models", default="mlp,cnn")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    p.add_argument("--json", dest="json_path")
    p.add_argument("--write-readme", action="store_true", help="write the table into benchmarks/README.md")
    args = p.parse_args(argv)
    if args.workload:
        steps = args.steps or (40 if args.workload == "mlp" else 10)
        print("RESULT " + json.dumps(workload(args.workload, steps, args.warmup, args.repeat, args.device,
                                              args.interleave, args.threads)))
        return 0
    rows = []
    for name in args.models.split(","):
        rows.append(measure(name, args))
    print(f"{'model':<6} {'device':<6} {'threads':>7} {'plain ms/step':>14} {'recorded ms/step':>17} {'ratio':>6} "
          f"{'traced ms/step':>15} {'ratio':>6} {'cpu ratios':>11} {'wall ratios':>12}")
    for r in rows:
        print(f"{r['workload']:<6} {r['device']:<6} {r['threads']:>7} {r['plain_step_ms']:>14.2f} "
              f"{r['recorded_step_ms']:>17.2f} {r['step_ratio']:>6.2f} {r['traced_step_ms']:>15.2f} "
              f"{r['trace_step_ratio']:>6.2f} {r['cpu_step_ratio']:>5.2f}/{r['cpu_trace_step_ratio']:<5.2f} "
              f"{r['wall_ratio']:>6.2f}/{r['trace_wall_ratio']:<5.2f}")
    worst = max(max(r["step_ratio"], r["trace_step_ratio"]) for r in rows)
    verdict = "ok" if worst <= LIMIT else "TOO SLOW"
    print(f"worst step-time ratio {worst:.2f} (limit {LIMIT:.1f}): {verdict}"
          " (median over interleaved plain/recorded/traced blocks in one process)")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump({"limit": LIMIT, "rows": rows}, f, indent=2)
    if args.write_readme:
        import platform

        import torch

        note = (f"Measured by `python benchmarks/diagnose_overhead.py{' --threads ' + str(args.threads) if args.threads else ''}"
                f" --write-readme` (torch {torch.__version__}, Python {platform.python_version()}, "
                f"{os.cpu_count()} CPUs, {args.repeat} interleaved triples of {args.steps or '40 (MLP) / 10 (CNN)'} steps): "
                f"worst step-time ratio {worst:.2f}, limit {LIMIT:.1f}: {verdict}. \"whole run\": the process's wall "
                "time, python and torch start-up included, against `python train.py`.")
        write_readme(rows, note)
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
