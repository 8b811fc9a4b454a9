"""``outplace diagnose``: the CLI front end. Must not import torch (torch lives in the child process).

`diagnose(...)` is the plain function (returns the exit code); `diagnose_cli` is the same with typer
annotations, ready for ``app.command("diagnose")(diagnose_cli)``.

Exit codes: 0 no problem found; 1 culprit found (after ``--fix``: the re-run still finds one); 2 the
program failed for another reason (its own traceback is shown), bad usage, torch missing, or
``--timeout`` ran out; 128+N stopped by signal N (SIGINT, SIGTERM, SIGHUP: the program and everything
it started are killed first).

``--format json`` prints one document on stdout (`report.to_json`; the program's stdout goes to
stderr); with ``--fix`` it adds ``fixed_files``, ``after_fix`` (the last re-run's document) and
``fix_rounds`` (each round's files and re-run), and its ``exit_code`` is the process's.

``--fix`` applies the culprits' fixes and runs the program again; when the re-run finds culprits the
first run could not reach (torch refuses a write to a leaf or a view at the op, so the program stopped
at the first), it fixes those too, up to `MAX_FIX_ROUNDS` rounds, never touching a line twice.
"""

from __future__ import annotations

import enum
import importlib.util
import json
import os
import sys
from typing import IO, Annotated, Optional

import typer

from outplace.harness.proctree import stops_on_signals


# `--fix` re-runs the program after each fix; a write torch refuses at the op stops the program, so the
# next culprit only shows once the first is fixed: up to this many rounds of fix-and-run.
MAX_FIX_ROUNDS = 5


# `--timeout` of the commands that run a program (diagnose, trace).
TimeoutOption = Annotated[
    Optional[float], typer.Option("--timeout", min=0.001, help="Kill the program after this many seconds.")
]


class Format(str, enum.Enum):
    text = "text"
    json = "json"


def torch_available() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


@stops_on_signals("outplace diagnose", "the program and everything it started were killed")
def diagnose(
    program: list[str],
    module: str | None = None,
    *,
    fix: bool = False,
    unsafe_fixes: bool = False,
    clone: bool = True,
    output_format: str = "text",
    timeout: float | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run ``python [-m module] program...`` under the recorder, report culprits, optionally fix them."""
    from outplace.diagnose import fixes, report
    from outplace.diagnose.runner import RunnerError, run_program

    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    output_format = str(getattr(output_format, "value", output_format))

    def fail(message: str) -> int:
        err.write(f"outplace diagnose: error: {message}\n")
        return 2

    program = list(program or [])
    if module:
        target, args = module, program
    elif program:
        target, args = program[0], program[1:]
        if not os.path.isfile(target):
            return fail(f"{target}: no such file (to run a module, use -m {target})")
    else:
        return fail("nothing to run: give a script (`outplace diagnose train.py -- ARGS`) or `-m MODULE`")
    # The separator before the program's own arguments, when the parser left it in (`train.py -- --epochs 1`).
    if args[:1] == ["--"]:
        args = args[1:]
    if unsafe_fixes and not fix:
        return fail("--unsafe-fixes needs --fix")
    if not torch_available():
        return fail("torch is not installed; diagnose runs your program and needs it (pip install 'outplace[verify]')")
    if not module and target.endswith(".ipynb"):  # a notebook: its code cells run in order
        from outplace.notebook import register_script
        from outplace.source import SourceError

        try:
            register_script(target)  # its lines, and their cells, for the report
        except SourceError as exc:
            return fail(str(exc))

    as_json = output_format == "json"

    def once() -> tuple[int, "report.Diagnosis | None", dict]:
        try:
            # With --format json our stdout is the report's alone: the program's output goes to stderr.
            run = run_program(target, args, module=bool(module), timeout=timeout, stdout=err if as_json else None)
        except RunnerError as exc:
            return fail(str(exc)), None, {}
        if run.report is None:
            return fail("the program's process ended before outplace's recorder started "
                        f"(exit status {run.returncode})"), None, {}
        d = report.build(run.report, run.returncode)
        return d.exit_code, d, fixes.propose(d, clone=clone)

    def text(d, hint: bool = True) -> None:
        if d.culprits or d.program_exit != 0:
            out.write("\n")
        out.write(report.render(d, fix_hint="outplace diagnose --fix" if hint else None))
        out.flush()

    code, d, plans = once()
    if d is None:
        return code
    if not fix:
        if as_json:
            out.write(json.dumps(report.to_json(d), indent=2, ensure_ascii=False) + "\n")
        else:
            text(d)
        return code

    first, result = d, {"fixed_files": [], "after_fix": None, "fix_rounds": []}
    fixed_at: set = set()
    for round_ in range(1, MAX_FIX_ROUNDS + 2):
        # The last round only reports: a culprit left after MAX_FIX_ROUNDS fixes is not fixed again.
        try:
            changed = fixes.apply(plans, unsafe_fixes=unsafe_fixes) if round_ <= MAX_FIX_ROUNDS else []
        except Exception as exc:  # outplace.source.SourceError: a file changed on disk, or cannot be written
            changed, write_error = [], str(exc)
        else:
            write_error = None
        if not as_json:
            if round_ > 1:
                out.write("\nafter the fix:\n")
            text(d, hint=False)
        if write_error is not None:
            if as_json:
                out.write(json.dumps({**report.to_json(first), **result}, indent=2, ensure_ascii=False) + "\n")
            return fail(write_error)
        if not changed:
            if round_ == 1 and any(c.fix is not None and not c.fix.safe for c in d.culprits) and not unsafe_fixes:
                err.write("outplace diagnose: nothing applied: the only fixes are unsafe (--unsafe-fixes applies them)\n")
            elif round_ == 1 and d.culprits:
                err.write("outplace diagnose: nothing applied: no culprit has an automatic fix\n")
            break
        applied = [c for c in d.culprits if c.fix is not None and c.fix.applied]
        fixed_at |= {(c.file, c.line) for c in applied}
        result["fixed_files"] += [p for p, _ in changed if p not in result["fixed_files"]]
        n = len(applied)
        err.write(f"outplace diagnose: fixed {n} culprit{'s' if n != 1 else ''} in "
                  f"{', '.join(report.display(p) for p, _ in changed)}; running the program again\n")
        err.flush()
        code, d2, plans = once()
        result["exit_code"] = code  # the process's: the last re-run's verdict
        if d2 is None:
            break
        result["after_fix"] = report.to_json(d2)
        result["fix_rounds"].append({"fixed_files": [p for p, _ in changed], "after_fix": result["after_fix"]})
        d = d2
        if any((c.file, c.line) in fixed_at for c in d.culprits):
            plans = {}  # a line already fixed is back: report it, fix nothing more
    if as_json:
        out.write(json.dumps({**report.to_json(first), **result}, indent=2, ensure_ascii=False) + "\n")
    return code


def diagnose_cli(
    program: Annotated[
        Optional[list[str]],
        typer.Argument(help="The script and its arguments; put -- before arguments that start with -.",
                       show_default=False),
    ] = None,
    module: Annotated[
        Optional[str],
        typer.Option("-m", "--module", help="Run a module as `python -m` does (then every argument goes to it)."),
    ] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply the culprits' fixes (those lines only), then run again.")] = False,
    unsafe_fixes: Annotated[
        bool, typer.Option("--unsafe-fixes", help="With --fix: also apply fixes that may change behaviour.")
    ] = False,
    clone: Annotated[
        bool, typer.Option("--clone/--no-clone", help="Allow `x = x.clone()` before writes with no out-of-place twin.")
    ] = True,
    output_format: Annotated[Format, typer.Option("--format", help="text, or json for scripts.")] = Format.text,
    timeout: TimeoutOption = None,
) -> None:
    """Run a program, find the in-place write that broke backward, and propose its fix.

    \b
      outplace diagnose train.py -- --epochs 1
      outplace diagnose -m pytest tests/test_model.py
      outplace diagnose --fix train.py
    """
    raise typer.Exit(diagnose(program or [], module, fix=fix, unsafe_fixes=unsafe_fixes, clone=clone,
                              output_format=output_format.value, timeout=timeout))
