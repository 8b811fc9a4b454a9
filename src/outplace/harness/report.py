"""Rendering verify results: JSON, a rich table on a terminal, plain lines otherwise.

The JSON report is a list with one object per (case, device): ``path``, ``device``, ``verdict``,
``reason``, ``against``, ``rewrite`` ("against" | "engine"), ``mode``, ``expected``, ``original`` /
``rewritten`` / ``oracle`` (each ``{status, error: {type, message, line, inplace, traceback},
exit_code, duration_s, recorded, output_tail, output_dropped, notes}`` or null; ``output_tail`` is
the run's first and last few kB of output, ``output_dropped`` the bytes left out between them),
``reference``, ``differences``
(``[{tensor, kind, max_abs_diff, detail, count, numel}]``), ``tolerance`` (``{rtol, atol,
exact}``) and ``notes``.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import IO

from outplace.harness.results import ERROR_ENTRY, SKIPPED, VERDICTS, CaseResult

_STYLE = {
    "fixed": "bold green",
    "preserved": "green",
    "changed": "bold red",
    "broken": "bold red",
    "unfixed": "bold yellow",
    "inconclusive": "yellow",
    SKIPPED: "dim",
    ERROR_ENTRY: "bold magenta",
}
MAX_LISTED = 10


def to_json(results: list[CaseResult]) -> list[dict]:
    return [r.to_json() for r in results]


def dumps(results: list[CaseResult]) -> str:
    from outplace.harness.protocol import _finite

    return json.dumps(_finite(to_json(results)), indent=2, ensure_ascii=False) + "\n"


def tolerance_text(rtol: float, atol: float) -> str:
    if rtol == 0 and atol == 0:
        return "identical = same dtype, shape and bits (NaN matches NaN; -0.0 differs from 0.0)"
    return f"values compared with rtol={rtol:g}, atol={atol:g} (loosened: not bit-identical)"


def summary(results: list[CaseResult], rtol: float, atol: float) -> str:
    counts = Counter(r.verdict for r in results)
    order = [*VERDICTS, SKIPPED, ERROR_ENTRY]
    parts = [f"{counts[v]} {v}" for v in order if counts[v]]
    cases = len({r.path for r in results})
    devices = ", ".join(sorted({r.device for r in results})) or "-"
    head = f"{cases} case{'s' if cases != 1 else ''} on {devices}: " + (", ".join(parts) or "nothing verified")
    return f"{head}; {tolerance_text(rtol, atol)}"


def details(result: CaseResult) -> list[str]:
    lines = []
    for d in result.differences[:MAX_LISTED]:
        lines.append(d.short())
    if len(result.differences) > MAX_LISTED:
        lines.append(f"... {len(result.differences) - MAX_LISTED} more differences")
    for note in result.notes:
        if note != result.reason:
            lines.append(f"note: {note}")
    return lines


def render_plain(results: list[CaseResult], out: IO[str]) -> None:
    for r in results:
        out.write(f"{r.path} [{r.device}] {r.verdict}: {r.reason}\n")
        for line in details(r):
            out.write(f"    {line}\n")


def render_table(results: list[CaseResult], out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False, header_style="bold")
    table.add_column("case", overflow="fold")
    table.add_column("device")
    table.add_column("verdict")
    table.add_column("why", overflow="fold")
    for r in results:
        why = Text(r.reason)
        for line in details(r):
            why.append("\n  " + line, style="dim")
        table.add_row(r.path, r.device, Text(r.verdict, style=_STYLE.get(r.verdict, "")), why)
    Console(file=out, soft_wrap=False).print(table)


def render(results: list[CaseResult], out: IO[str] | None = None) -> None:
    """A rich table when `out` is a terminal, plain lines otherwise."""
    out = out if out is not None else sys.stdout
    isatty = getattr(out, "isatty", None)
    if isatty is not None and isatty():
        render_table(results, out)
    else:
        render_plain(results, out)
