"""Which files to verify, how each runs (script or entry mode), and what it is compared with.

- ``outplace verify PATH...``: every file named, plus every ``*.py`` and ``*.ipynb`` (a notebook's code
  cells run in order, as one script) under each directory named
  (excluded folders as for ``outplace check``; hidden folders; and files ``NAME.TAG.py`` such as
  ``bug.fixed.py``, which hold hand-made rewrites). Each is rewritten in memory by the engine.
- ``outplace verify bug.py --against bug_fixed.py``: one file, compared with a rewrite made by hand.

A file is in *entry mode* when it defines ``outplace_case`` at top level, else in *script mode*.
An optional header line ``# expect: <verdict>`` records the verdict a fixture should get; the report
carries it as ``expected``.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

from outplace.harness.results import VERDICTS
from outplace.settings import DEFAULT_EXCLUDES

ENTRY_POINT = "outplace_case"
_EXPECT = re.compile(r"^#\s*expect:\s*([a-z]+)\s*$", re.MULTILINE)


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


@dataclass
class CaseSpec:
    path: str  # as displayed (the path given, or found under a directory given)
    abspath: str
    source: str
    mode: str  # "script" | "entry"
    expected: str | None = None
    against: str | None = None  # display path of a hand-made rewrite
    rewritten: str | None = None  # rewritten source; None when the engine failed (engine_error)
    rewritten_filename: str | None = None  # file name the rewritten source runs under
    engine_error: str | None = None


def detect_mode(source: str) -> str:
    """"entry" when the source defines a top-level ``outplace_case`` function, else "script"."""
    if ENTRY_POINT not in source:
        return "script"
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return "script"
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == ENTRY_POINT:
            return "entry"
    return "script"


def read_expectation(source: str, key: str = "expect") -> str | None:
    """The verdict of a ``# expect: <verdict>`` line among the first 20 lines, if any.

    ``key`` names other expectation lines: ``# expect-unsafe: changed`` is what outplace's own
    rewrite with --unsafe-fixes must give (an unsafe fix is allowed to be observable).
    """
    head = "\n".join(source.splitlines()[:20])
    match = re.search(rf"^#\s*{re.escape(key)}:\s*(\w+)", head, re.MULTILINE)
    if match and match.group(1) in VERDICTS:
        return match.group(1)
    return None


def _read(path: Path) -> str:
    if path.suffix == ".ipynb":  # a notebook: its code cells in order, IPython-only lines as `pass`
        from outplace.notebook import script_of
        from outplace.source import SourceError

        try:
            return script_of(path)[0]
        except SourceError as exc:
            raise UsageError(str(exc)) from exc
    try:
        with open(path, encoding="utf-8") as fh:  # universal newlines, like the interpreter
            return fh.read()
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text ({exc})") from exc
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from exc


def is_rewrite_file(path: Path) -> bool:
    """``NAME.TAG.py`` (``bug.fixed.py``): a hand-made rewrite, skipped when walking directories."""
    return "." in path.stem


def find_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    seen: set[str] = set()
    excluded = set(DEFAULT_EXCLUDES)
    for root in paths:
        if not root.exists():
            raise UsageError(f"{root}: no such file or directory")
        if root.is_file():
            candidates = [root]
        else:
            candidates = []
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if d not in excluded and not d.startswith("."))
                for name in sorted(filenames):
                    p = Path(dirpath) / name
                    if name.endswith((".py", ".ipynb")) and not is_rewrite_file(p):
                        candidates.append(p)
        for p in candidates:
            key = os.path.abspath(p)
            if key not in seen:
                seen.add(key)
                found.append(p)
    return found


def collect_cases(paths: list[Path], against: Path | None = None) -> list[CaseSpec]:
    """The cases to verify; with `against`, the single file given is paired with it (no engine)."""
    if not paths:
        raise UsageError("no paths given")
    if against is not None:
        if len(paths) != 1 or not paths[0].is_file():
            raise UsageError("--against needs exactly one file to compare with (not a directory)")
        if not against.is_file():
            raise UsageError(f"--against {against}: no such file")
    files = find_files(paths)
    cases = []
    for path in files:
        source = _read(path)
        case = CaseSpec(
            path=str(path),
            abspath=os.path.abspath(path),
            source=source,
            mode=detect_mode(source),
            expected=read_expectation(source),
        )
        if against is not None:
            case.against = str(against)
            case.rewritten = _read(against)
            case.rewritten_filename = os.path.abspath(against)
            case.expected = read_expectation(case.rewritten) or case.expected
        cases.append(case)
    return cases


def _project_of(cases: list[CaseSpec]):
    """The project index `outplace fix` would use for these files (the other files of their project
    are read, never run), so that the rewrite verified is the one `fix` writes; None without one."""
    paths = [c.abspath for c in cases if c.abspath and c.abspath.endswith(".py") and os.path.isfile(c.abspath)]
    if not paths:
        return None
    try:
        from pathlib import Path

        from outplace.analysis.project import ProjectIndex

        root = Path(os.path.commonpath([os.path.dirname(p) for p in paths]))
        return ProjectIndex.for_run(root, [Path(p) for p in paths])
    except Exception:  # noqa: BLE001 - without the index, each file is rewritten on its own
        return None


def rewrite_with_engine(cases: list[CaseSpec], settings=None) -> None:
    """Fill in each case's rewritten source with the engine's fix, under `settings` (the same fix
    policy as `outplace fix`: safe fixes only unless settings.unsafe_fixes)."""
    try:  # imported here: the harness works without the engine too (--against)
        from outplace.engine import fix_source
        from outplace.settings import Settings
    except Exception as exc:  # noqa: BLE001
        for case in cases:
            if case.rewritten is None:
                case.engine_error = f"could not import the rewrite engine: {type(exc).__name__}: {exc}"
        return

    settings = settings if settings is not None else Settings()
    project = _project_of(cases)
    for case in cases:
        if case.rewritten is not None:
            continue
        try:
            case.rewritten = fix_source(case.source, settings, path=case.path, project=project).output
            # Same file name: __file__ and relative paths behave as for the original.
            case.rewritten_filename = case.abspath
        except NotImplementedError:
            case.engine_error = (
                "the rewrite engine is not implemented yet (fix_source raised NotImplementedError); use --against"
            )
        except Exception as exc:  # noqa: BLE001 - an engine bug is reported per case
            case.engine_error = f"the rewrite engine raised {type(exc).__name__}: {exc}"
