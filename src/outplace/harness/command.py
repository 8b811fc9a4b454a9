"""``outplace verify``: the differential harness as a CLI command.

`verify(...)` is the plain function (returns the exit code); `verify_cli` is the same with typer
annotations, ready for ``app.command("verify")(verify_cli)``.

Exit codes: 0 every case fixed or preserved (or skipped); 1 some case changed, broken, unfixed or
inconclusive; 2 usage error, torch not installed, or the harness/engine failed on some case; 128+N
stopped by signal N (SIGINT, SIGTERM, SIGHUP: every run's process tree is killed first).

This module must not import torch (nor anything that does): torch lives in the worker processes only.
"""

from __future__ import annotations

import enum
import importlib.util
import os
import sys
from pathlib import Path
from typing import IO, Annotated, Optional

import typer

from outplace.harness import report
from outplace.harness.proctree import stops_on_signals
from outplace.settings import Settings
from outplace.harness.cases import UsageError, collect_cases, rewrite_with_engine
from outplace.harness.pipeline import Options, cuda_note, run_cases
from outplace.harness.results import ERROR_ENTRY, SKIPPED
from outplace.harness.runner import HarnessError, WorkerPool

DEVICES = {"cpu": ("cpu",), "cuda": ("cuda",), "all": ("cpu", "cuda")}
DEFAULT_TIMEOUT = 60.0


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def torch_available() -> bool:
    """Whether torch can be found, without importing it."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


@stops_on_signals("outplace verify", "every run and everything it started were killed")
def verify(
    paths: list[Path],
    against: Path | None = None,
    device: str = "cpu",
    json_path: Path | None = None,
    rtol: float = 0.0,
    atol: float = 0.0,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = 1,
    *,
    memory_mb: int | None = None,
    settings: Settings | None = None,
    pool: WorkerPool | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Verify rewrites by running original and rewritten side by side; returns the exit code.

    `pool` lets a caller (the test suite) share a warm pool across calls; otherwise one is started
    for this call and closed at the end.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr

    def fail(message: str) -> int:
        err.write(f"outplace verify: error: {message}\n")
        return 2

    device = str(getattr(device, "value", device)).lower()
    if device not in DEVICES:
        return fail(f"--device must be cpu, cuda or all (got {device!r})")
    if rtol < 0 or atol < 0:
        return fail("--rtol and --atol must not be negative")
    if timeout is not None and timeout <= 0:
        return fail("--timeout must be positive")
    if jobs < 1:
        return fail("--jobs must be at least 1")
    if memory_mb is not None and memory_mb < 0:
        return fail("--memory-mb must not be negative (0: no cap)")
    if pool is None and not torch_available():
        return fail("torch is not installed; verify runs your scripts and needs it (pip install 'outplace[verify]')")

    try:
        cases = collect_cases([Path(p) for p in paths], Path(against) if against is not None else None)
    except UsageError as exc:
        return fail(str(exc))
    if not cases:
        return fail("no Python files found")
    if against is None:
        if settings is None:
            from outplace.config import ConfigError, find_project_root, load_settings

            try:
                settings = load_settings(find_project_root([str(p) for p in paths]))
            except ConfigError as exc:
                return fail(str(exc))
        rewrite_with_engine(cases, settings)

    options = Options(devices=DEVICES[device], rtol=rtol, atol=atol, timeout=timeout)
    runs = sum(1 for c in cases if c.rewritten is not None) * 2 * len(options.devices)
    own_pool = pool is None
    try:
        if own_pool:
            pool = WorkerPool(jobs=max(1, min(jobs, runs)) if runs else 1, memory_mb=memory_mb)
        try:
            if not pool.info:
                pool.start()
            results = run_cases(pool, cases, options)
        finally:
            if own_pool and pool is not None:
                pool.close()  # kills every worker's tree and removes the temporary folder
    except HarnessError as exc:
        return fail(str(exc))

    if json_path is not None:
        text = report.dumps(results)
        if str(json_path) == "-":
            out.write(text)
        else:
            try:
                Path(json_path).write_text(text, encoding="utf-8")
            except OSError as exc:
                return fail(f"--json {json_path}: {exc.strerror or exc}")
    if json_path is None or str(json_path) != "-":
        report.render(results, out)
    if any(r.verdict == SKIPPED for r in results):
        err.write(f"note: {cuda_note(pool.info)}\n")
    err.write(report.summary(results, rtol, atol) + "\n")

    if any(r.verdict == ERROR_ENTRY for r in results):
        return 2
    return 1 if any(r.failing for r in results) else 0


class Device(str, enum.Enum):
    cpu = "cpu"
    cuda = "cuda"
    all = "all"


def verify_cli(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Scripts, or directories of scripts, to verify.", show_default=False),
    ],
    against: Annotated[
        Optional[Path],
        typer.Option("--against", help="Compare the one file given with this hand-made rewrite instead of outplace's."),
    ] = None,
    device: Annotated[
        Device,
        typer.Option(
            "--device",
            case_sensitive=False,
            help="Where to run: cpu, cuda, or all (cuda is skipped with a note when unavailable).",
        ),
    ] = Device.cpu,
    json_path: Annotated[
        Optional[Path],
        typer.Option("--json", help="Write the JSON report to this file ('-': stdout, instead of the table)."),
    ] = None,
    rtol: Annotated[
        float, typer.Option("--rtol", min=0.0, help="Relative tolerance (default 0: bit-identical).")
    ] = 0.0,
    atol: Annotated[
        float, typer.Option("--atol", min=0.0, help="Absolute tolerance (default 0: bit-identical).")
    ] = 0.0,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.001, help="Seconds each run may take before it is killed.")
    ] = DEFAULT_TIMEOUT,
    jobs: Annotated[
        int, typer.Option("-j", "--jobs", min=1, help="Worker processes (each imports torch once).")
    ] = default_jobs(),
    memory_mb: Annotated[
        Optional[int],
        typer.Option("--memory-mb", min=0, show_default=False,
                     help="Memory each run (and each comparison) may add on CPU, in MB; 0: no cap. "
                          "Default: half the RAM shared by the workers, at most 8192 each."),
    ] = None,
    unsafe_fixes: Annotated[
        Optional[bool], typer.Option("--unsafe-fixes/--no-unsafe-fixes",
                                     help="Rewrite with unsafe fixes too (as `outplace fix --unsafe-fixes`).")
    ] = None,
    clone: Annotated[
        Optional[bool], typer.Option("--clone/--no-clone", help="Allow clone-before-write fixes (as `fix --clone`).")
    ] = None,
) -> None:
    """Run each script and its rewrite in isolated worker processes and report a verdict per case:
    fixed, preserved, changed, broken, unfixed or inconclusive. The rewrite uses the same policy as
    `outplace fix`."""
    settings = None
    if against is None:
        from outplace.config import ConfigError, find_project_root, load_settings

        try:
            settings = load_settings(find_project_root([str(p) for p in paths]),
                                     unsafe_fixes=unsafe_fixes, clone=clone)
        except ConfigError as exc:
            typer.echo(f"outplace verify: error: {exc}", err=True)
            raise typer.Exit(2) from None
    raise typer.Exit(verify(paths, against, device.value, json_path, rtol, atol, timeout, jobs, memory_mb=memory_mb,
                            settings=settings))
