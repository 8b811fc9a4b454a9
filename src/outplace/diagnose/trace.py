"""``outplace trace``: run a program under the recorder and write what it saw as a facts file.

    outplace trace -- python train.py --epochs 1        # -o outplace-facts.json by default
    outplace trace -o facts.json -- pytest -x tests/
    outplace check --facts facts.json src/               # the static fixer, with what the run saw
    outplace fix --facts facts.json --unsafe-fixes src/

Every in-place write the program makes on a tensor that requires grad (under grad mode), and every
write into a storage autograd had saved, is recorded by site: the tensor's dtype and shape, whether it
is a leaf, a view or a parameter, its operands, whether a tensor saved for backward lived on its
storage at the write, and whether a later backward needed the overwritten values; a write torch
refused at the op (a leaf, one of several views) ends the program and is recorded too. The facts file
(`outplace.runtime_facts`) keeps them per source file, with the digest of the text they belong to.

The command after ``--`` is ``python SCRIPT ARGS``, ``python -m MODULE ARGS``, ``SCRIPT ARGS`` (a
notebook too: its code cells run in order), or a console script on PATH whose first line runs Python
(``pytest``): it runs in one child process like
`outplace diagnose` (the keeper owns its process tree); the recorder sees that process only.

Exit codes: 0 the program ran to its end; 1 it failed (the facts of what ran are written all the
same); 2 bad usage, torch missing, nothing recorded, or the timeout ran out; 128+N stopped by signal N.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from typing import IO, Annotated, Optional

import typer

from outplace.diagnose.command import TimeoutOption
from outplace.harness.proctree import stops_on_signals

DEFAULT_OUTPUT = "outplace-facts.json"
_PYTHON = re.compile(r"python(\d+(\.\d+)*)?(\.exe)?$")


def parse_command(cmd: list[str]) -> tuple[str, list[str], bool]:
    """(target, args, is_module) of a command line; ValueError (one line) when it runs no Python."""
    cmd = list(cmd)
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if not cmd:
        raise ValueError("nothing to run: give a command after --, e.g. `outplace trace -- python train.py`")
    head = cmd[0]
    if _PYTHON.match(os.path.basename(head)):
        rest = cmd[1:]
        while rest and rest[0] in ("-u", "-B", "-O", "-OO"):
            rest = rest[1:]
        if rest[:1] == ["-m"] and len(rest) > 1:
            return rest[1], rest[2:], True
        if rest and not rest[0].startswith("-"):
            return rest[0], rest[1:], False
        raise ValueError(f"{' '.join(cmd)}: trace runs `python SCRIPT ...` or `python -m MODULE ...`")
    if os.path.isfile(head) and (head.endswith((".py", ".ipynb")) or _runs_python(head)):
        return head, cmd[1:], False
    found = shutil.which(head) if os.sep not in head else None
    if found and _runs_python(found):
        return found, cmd[1:], False
    raise ValueError(f"{head}: not a Python script, nor a console script on PATH that runs Python")


def _runs_python(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            first = f.readline(512)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def facts_from_report(report: dict, cwd: str, base: str) -> tuple[dict, dict]:
    """The facts document of a recorder report (traced), and counts for the summary."""
    from outplace.diagnose.report import _normalise, python_form
    from outplace.runtime_facts import site_json, text_digest, to_json
    from outplace.runner import read_code
    from outplace.source import SourceError, char_col, split_lines

    report = _normalise(report, cwd)
    files: dict[str, dict] = {}
    texts: dict[str, list[str] | None] = {}
    counts = {"writes": 0, "sites": 0, "broke": 0, "refused": 0}

    def lines_of(path: str) -> list[str] | None:
        if path not in texts:
            try:
                text = read_code(path)[0].text  # a notebook: the script of its code cells, which ran
            except SourceError:
                texts[path] = None
            else:
                texts[path] = split_lines(text)
                files[path] = {"sha256": text_digest(text), "sites": []}
        return texts[path]

    def add(at: dict | None, site: dict) -> None:
        if not at or at.get("col") is None or at.get("end_line") is None or str(at.get("file", "<")).startswith("<"):
            return
        lines = lines_of(at["file"])
        if lines is None or not (0 < at["line"] <= len(lines) and 0 < at["end_line"] <= len(lines)):
            return
        span = (at["line"], char_col(lines[at["line"] - 1], at["col"]),
                at["end_line"], char_col(lines[at["end_line"] - 1], at["end_col"]))
        files[at["file"]]["sites"].append(site_json(span, **site))
        counts["sites"] += 1

    for entry in report.get("trace") or []:
        constructed = entry.get("constructed_at")
        at = constructed or entry.get("at")
        counts["writes"] += entry.get("count", 0)
        counts["broke"] += bool(entry.get("broke"))
        add(at, dict(targets=entry.get("targets") or [], op=entry.get("op"),
                     form=python_form(at, constructed is not None) if at else None,
                     saved=entry.get("saved") or [], broke=[bool(entry.get("broke"))],
                     saved_by=[{"op": s["op"], "line": s.get("line")} for s in entry.get("saved_by") or [] if s.get("op")],
                     operands=entry.get("operands") or [], count=entry.get("count")))
    for inc in report.get("incidents") or []:
        if inc.get("kind") not in ("leaf", "view"):
            continue
        w = (inc.get("writes") or [{}])[0]
        constructed = w.get("constructed_at")
        at = constructed or w.get("at")
        counts["refused"] += 1
        add(at, dict(targets=[w["target"]] if w.get("target") else [], op=w.get("op"),
                     form=python_form(at, constructed is not None) if at else None,
                     broke=[True], error=inc["kind"], count=1))
    for entry in files.values():
        entry["sites"].sort(key=lambda s: s["span"])
    files = {p: f for p, f in files.items() if f["sites"]}
    program = report.get("program") or {}
    command = [program.get("target") or "", *(program.get("args") or [])]
    if program.get("module"):
        command = ["-m", *command]
    return to_json(files, base=base, torch_version=report.get("torch"), command=command), counts


@stops_on_signals("outplace trace", "the program and everything it started were killed")
def trace(command: list[str], *, output: str = DEFAULT_OUTPUT, timeout: float | None = None,
          stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    from outplace.diagnose.command import torch_available
    from outplace.diagnose.report import display
    from outplace.diagnose.runner import RunnerError, run_program
    from outplace.runtime_facts import write

    err = stderr if stderr is not None else sys.stderr

    def fail(message: str) -> int:
        err.write(f"outplace trace: error: {message}\n")
        return 2

    try:
        target, args, module = parse_command(command)
    except ValueError as exc:
        return fail(str(exc))
    if not torch_available():
        return fail("torch is not installed; trace runs your program and needs it (pip install 'outplace[verify]')")
    try:
        run = run_program(target, args, module=module, timeout=timeout, trace=True)
    except RunnerError as exc:
        return fail(str(exc))
    if run.report is None or "trace" not in run.report:
        return fail(f"the program's process ended before outplace's recorder started (exit status {run.returncode})")
    out_path = os.path.abspath(output)
    doc, counts = facts_from_report(run.report, os.getcwd(), os.path.dirname(out_path))
    try:
        write(out_path, doc)
    except OSError as exc:
        return fail(f"{output}: cannot write the facts file: {exc.strerror or exc}")
    status = run.returncode
    ran = "the program ran to its end" if status == 0 else f"the program failed (exit status {status})"
    err.write(f"outplace trace: {ran}; {counts['writes']} in-place write{'s' if counts['writes'] != 1 else ''} "
              f"on tensors that require grad at {counts['sites']} site{'s' if counts['sites'] != 1 else ''} in "
              f"{len(doc['files'])} file{'s' if len(doc['files']) != 1 else ''} ({counts['broke']} broke backward, "
              f"{counts['refused']} refused by torch); facts written to {display(out_path)}\n")
    if doc["files"]:
        err.write(f"outplace trace: use them with `outplace check --facts {display(out_path)}` or "
                  f"`outplace fix --facts {display(out_path)} --unsafe-fixes`\n")
    return 0 if status == 0 else 1


def trace_cli(
    command: Annotated[
        Optional[list[str]],
        typer.Argument(help="The command to run, after --: `python train.py ARGS`, `python -m pkg ARGS`, `pytest -x`.",
                       show_default=False),
    ] = None,
    output: Annotated[str, typer.Option("-o", "--output", help="Where to write the facts file.")] = DEFAULT_OUTPUT,
    timeout: TimeoutOption = None,
) -> None:
    """Run a program and record every in-place write on a tensor that requires grad, as facts for
    `outplace check/fix --facts`.

    \b
      outplace trace -- python train.py --epochs 1
      outplace trace -o facts.json -- pytest -x tests/
      outplace fix --facts outplace-facts.json --unsafe-fixes src/
    """
    raise typer.Exit(trace(command or [], output=output, timeout=timeout))
