"""Overhead of `outplace diagnose`: training steps of a small MLP and a small CNN, plain vs recorded.

    python benchmarks/diagnose_overhead.py                 # both models, a table and the ratios
    python benchmarks/diagnose_overhead.py --json out.json
    python benchmarks/diagnose_overhead.py --device cuda   # the same on a GPU

Step time: one process per model builds it once, then alternates blocks of `--steps` training steps
(forward, loss, backward, optimizer step) without and with the recorder installed (the same
dispatch mode, saved-tensor hooks and patches `outplace diagnose` installs), `--repeat` pairs, so that
both see the same machine load; the ratio is the median of the per-pair ratios. The issue's bar:
recorded ≤ 2× plain. Whole-process wall time is reported too: ``python THIS --workload mlp`` against
the same script run by `outplace.diagnose.runner.run_program` (exactly what ``outplace diagnose``
does: python + torch start-up included).
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
    # Plain and recorded blocks alternate in this one process, so both see the same machine load.
    from outplace.diagnose.recorder import RECORDER, install

    install(None)
    for _ in range(warmup):
        step()
    RECORDER.uninstall()
    plain, recorded = [], []
    cpu.clear()
    for _ in range(repeat):
        plain.append(block())
        install(None)
        recorded.append(block())
        RECORDER.uninstall()
    ratios = [r / p for p, r in zip(plain, recorded)]
    cpu_plain, cpu_recorded = cpu[0::2], cpu[1::2]
    cpu_ratios = [r / p for p, r in zip(cpu_plain, cpu_recorded)]
    result.update(plain_ms=statistics.median(plain) * 1e3, recorded_ms=statistics.median(recorded) * 1e3,
                  ratio=statistics.median(ratios), ratios=ratios,
                  cpu_plain_ms=statistics.median(cpu_plain) * 1e3, cpu_recorded_ms=statistics.median(cpu_recorded) * 1e3,
                  cpu_ratio=statistics.median(cpu_ratios))
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
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, *wl], capture_output=True, text=True)
    plain_wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    t0 = time.perf_counter()
    run = run_program(__file__, wl, capture=True)
    recorded_wall = time.perf_counter() - t0
    if run.returncode != 0:
        raise RuntimeError(f"recorded run failed ({run.returncode}):\n{run.stderr}")
    return {
        "workload": name,
        "device": args.device,
        "plain_step_ms": inter["plain_ms"],
        "recorded_step_ms": inter["recorded_ms"],
        "step_ratio": inter["ratio"],
        "step_ratios": inter["ratios"],
        "cpu_plain_step_ms": inter["cpu_plain_ms"],
        "cpu_recorded_step_ms": inter["cpu_recorded_ms"],
        "cpu_step_ratio": inter["cpu_ratio"],
        "plain_wall_s": plain_wall,
        "recorded_wall_s": recorded_wall,
        "wall_ratio": recorded_wall / plain_wall,
        "incidents": len(run.incidents),
        "threads": inter["threads"],
    }


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
          f"{'cpu ratio':>9} {'plain wall s':>13} {'recorded wall s':>16} {'ratio':>6}")
    for r in rows:
        print(f"{r['workload']:<6} {r['device']:<6} {r['threads']:>7} {r['plain_step_ms']:>14.2f} "
              f"{r['recorded_step_ms']:>17.2f} {r['step_ratio']:>6.2f} {r['cpu_step_ratio']:>9.2f} "
              f"{r['plain_wall_s']:>13.2f} {r['recorded_wall_s']:>16.2f} {r['wall_ratio']:>6.2f}")
    worst = max(r["step_ratio"] for r in rows)
    print(f"worst step-time ratio {worst:.2f} (limit {LIMIT:.1f}): {'ok' if worst <= LIMIT else 'TOO SLOW'}"
          " (median over interleaved plain/recorded blocks in one process)")
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as f:
            json.dump({"limit": LIMIT, "rows": rows}, f, indent=2)
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
