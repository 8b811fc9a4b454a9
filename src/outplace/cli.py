"""The `outplace` command line: check, fix, rule(s), and the front ends of the other parts.

Exit codes (like ruff): 0 nothing found / nothing to change; 1 findings remain (check, fix) or
something would change (--diff, --check); 2 usage error, bad configuration, or a file, directory or
path that could not be processed (its one-line error is on stderr; the run still covers everything
else). Standard input is judged like the same file given by path. A run ended by a signal (SIGTERM,
SIGHUP, SIGINT) stops its workers, removes its temporary files and exits 128 + the signal number.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Iterable, Optional

import typer

from outplace import __version__, cli_coercion
from outplace.settings import Settings

cli_coercion.install()  # plain option values without pydantic: a quarter of a warm `check`

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Rewrite in-place PyTorch tensor operations that break autograd into out-of-place code.",
)

PROGRESS_MIN_FILES = 50


class Format(str, Enum):
    text = "text"
    concise = "concise"
    full = "full"
    grouped = "grouped"
    json = "json"
    json_lines = "json-lines"
    github = "github"
    gitlab = "gitlab"
    sarif = "sarif"
    junit = "junit"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"outplace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")) -> None:
    pass


# ---- shared plumbing ------------------------------------------------------------------------------

def _codes(values: Optional[list[str]]) -> Optional[tuple[str, ...]]:
    if not values:
        return None
    return tuple(_code_or_hazard(c.strip()) for v in values for c in v.split(",") if c.strip())


def _code_or_hazard(word: str) -> str:
    from outplace.findings import HAZARDS

    return word.lower() if word.lower() in HAZARDS else word.upper()


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty() and os.environ.get("NO_COLOR") is None


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _fail(message: str) -> typer.Exit:
    _err(f"outplace: error: {message}")
    return typer.Exit(2)


def _path_error(e: OSError, named: bool) -> str:
    """One line for a path named on the command line that cannot be reached, or a directory that
    cannot be listed."""
    import errno

    if named and e.errno == errno.ENOENT:
        return f"{e.filename}: no such file or directory"
    if named and e.errno == errno.ELOOP:
        return f"{e.filename}: a symbolic link loop (too many levels of symbolic links)"
    what = "cannot access" if named else "cannot list directory"
    return f"{e.filename}: {what}: [Errno {e.errno}] {e.strerror}" if e.errno else f"{e.filename}: {what}: {e}"


def _files(paths: list[str], settings: Settings, root: Path, summary) -> list[Path]:
    """The files to process; every path or directory that cannot be read is one error line (and
    counts in `summary`), and the run goes on with the rest."""
    from outplace.discovery import iter_python_files

    named = set(paths)

    def error(e: OSError) -> None:
        summary.unreadable += 1
        # A directory that is there but cannot be listed is not a path that cannot be reached.
        _err(_path_error(e, e.filename in named and not os.path.isdir(e.filename)))

    return list(iter_python_files(paths, settings, root=root, on_error=error))


def _results(files: list[Path], projects, *, fix: bool, jobs: Optional[int], use_cache: bool,
             cache_dir: Optional[str] = None) -> list:
    """Every file's result, in order; files run in groups that share a configuration (and a cache)."""
    from outplace.cache import Cache
    from outplace.runner import run

    use_cache = use_cache and os.environ.get("OUTPLACE_NO_CACHE") != "1"
    groups = projects.groups(files)
    results: list = [None] * len(files)
    progress = _progress(len(files))
    with progress as advance:
        for settings, root, indices in groups:
            cache = Cache(root, settings, cache_dir) if use_cache else None
            chosen = [files[i] for i in indices]
            for i, r in zip(indices, run(chosen, settings, fix=fix, jobs=jobs, cache=cache, root=root,
                                         on_done=advance)):
                results[i] = r
    return results


@contextlib.contextmanager
def _progress(total: int):
    """A progress bar on a terminal for long runs; yields the callback that advances it."""
    if not (_stderr_is_tty() and total >= PROGRESS_MIN_FILES):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("outplace", total=total)
        yield lambda _: progress.advance(task)


def _style(text: str, **kw) -> str:
    return typer.style(text, **kw) if sys.stdout.isatty() and os.environ.get("NO_COLOR") is None else text


def _print_diff(diff: bytes) -> None:
    """A patch is bytes in its file's encoding: written as they are, coloured only on a terminal."""
    out = sys.stdout.buffer
    if not (sys.stdout.isatty() and os.environ.get("NO_COLOR") is None):
        out.write(diff)
        out.flush()
        return
    for line in diff.splitlines(keepends=True):
        body, end = (line[:-1], line[-1:]) if line.endswith(b"\n") else (line, b"")
        code = (b"1" if line.startswith((b"+++", b"---")) else b"32" if line.startswith(b"+")
                else b"31" if line.startswith(b"-") else b"36" if line.startswith(b"@@") else None)
        out.write(b"\x1b[" + code + b"m" + body + b"\x1b[0m" + end if code else line)
    out.flush()


# Options shared by check and fix.
SelectOpt = typer.Option(None, "--select", help="Rule codes or prefixes to enable (comma-separated); a hazard "
                                                 "level (`inplace`) adds that level.")
HazardOpt = typer.Option(None, "--hazard", "--hazards",
                         help="Hazard levels to report (comma-separated): `breaks` (default: the write makes "
                              "backward fail), `inplace` (a graph tensor nothing saved), `nograd` (a tensor "
                              "outside autograd); `all` for every level.")
IgnoreOpt = typer.Option(None, "--ignore", help="Rule codes or prefixes to disable (comma-separated).")
ExcludeOpt = typer.Option(None, "--exclude", help="Glob patterns to exclude (replaces the defaults).")
ExtendExcludeOpt = typer.Option(None, "--extend-exclude", help="Glob patterns to exclude, on top of the defaults.")
JobsOpt = typer.Option(None, "-j", "--jobs", min=1, help="Worker processes (default: one per core).")
StdinNameOpt = typer.Option(None, "--stdin-filename", help="The name of the file read from `-` (for config and messages).")
UnsafeOpt = typer.Option(None, "--unsafe-fixes/--no-unsafe-fixes", help="Also apply fixes that may change behaviour.")
CloneOpt = typer.Option(None, "--clone/--no-clone", help="Allow `x = x.clone()` before writes that have no exact out-of-place form.")
PathsArg = typer.Argument(None, help="Files or directories (default: .); `-` reads standard input.")
NoCacheOpt = typer.Option(False, "--no-cache", help="Neither read nor write the results cache.")
FactsOpt = typer.Option(None, "--facts", help="Runtime facts from `outplace trace` (JSON): what a run saw at each "
                                              "in-place write. Implies --no-cache.")


def _facts(path: Optional[str]) -> Optional[str]:
    """`--facts FILE`, checked: its absolute path (usage error when it cannot be used); one line on
    stderr per file whose facts no longer apply."""
    if not path:
        return None
    from outplace.runtime_facts import FactsError, load

    try:
        facts = load(path)
    except FactsError as e:
        raise _fail(str(e)) from None
    for line in facts.stale():
        _err(line)
    return os.path.abspath(path)
CacheDirOpt = typer.Option(None, "--cache-dir", help="Keep the results cache here (default: the user cache "
                                                     "directory, ~/.cache/outplace).")


class _Stopped(BaseException):
    """A signal asked the run to end: raised in the main thread, so that every `finally` runs
    (worker processes stopped, temporary files removed) before outplace exits."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_end_the_run():
    """SIGTERM, SIGHUP and SIGINT end `check`/`fix` cleanly, with exit code 128 + the signal."""
    from outplace.source import interrupt

    def stop(signum, frame) -> None:
        for sig in caught:  # a second signal must not interrupt the cleanup
            signal.signal(sig, signal.SIG_IGN)
        interrupt(_Stopped(signum))  # now, or once a file operation that must not be cut in half ends

    caught = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None), signal.SIGINT) if s is not None]
    try:
        previous = {s: signal.signal(s, stop) for s in caught}
    except ValueError:  # not the main thread (an embedding): leave signals alone
        yield
        return
    try:
        yield
    except _Stopped as e:
        _err(f"outplace: stopped by {signal.Signals(e.signum).name}; files not yet written are unchanged")
        raise typer.Exit(128 + e.signum) from None
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _overrides(select, ignore, exclude, extend_exclude, unsafe_fixes=None, clone=None, hazards=None) -> dict:
    return {
        "select": _codes(select), "ignore": _codes(ignore),
        "hazards": tuple(h.strip().lower() for v in hazards for h in v.split(",") if h.strip()) if hazards else None,
        "exclude": tuple(exclude) if exclude else None,
        "extend_exclude": tuple(extend_exclude) if extend_exclude else None,
        "unsafe_fixes": unsafe_fixes, "clone": clone,
    }


def _read_stdin(stdin_filename: Optional[str]):
    from outplace.source import SourceError, SourceFile, decode_bytes

    data = sys.stdin.buffer.read()
    name = stdin_filename or "-"
    try:
        text, encoding, bom = decode_bytes(data, name)
    except SourceError as e:
        raise _fail(str(e)) from None
    return SourceFile(Path(name), text, encoding, bom, "\n", 0, len(data), ""), data


def _stdin_excluded(stdin_filename: Optional[str], settings: Settings, root: Path) -> bool:
    if not stdin_filename:
        return False
    from outplace.discovery import is_excluded

    return is_excluded(Path(stdin_filename), settings, root=root)


# ---- check ------------------------------------------------------------------------------------------

OutputFormatOpt = typer.Option(
    Format.text, "--output-format", "--format",
    help="text (default), concise, full (with the source line), grouped, json, json-lines, github "
         "(Actions annotations), gitlab (Code Quality), sarif (2.1.0), junit.")
ConfigOpt = typer.Option(None, "--config", help="Use this configuration file (pyproject.toml, outplace.toml) "
                                                "for every file, instead of finding the closest one.")
StatisticsOpt = typer.Option(False, "--statistics", help="Counts per rule (and how many are fixable) instead "
                                                         "of the findings.")
ShowFixesOpt = typer.Option(False, "--show-fixes", help="List the fixes made, and those the other modes "
                                                        "(--clone, --unsafe-fixes) would make.")


@app.command(help="Report in-place tensor operations that can break autograd.")
def check(
    paths: Optional[list[str]] = PathsArg,
    output_format: Format = OutputFormatOpt,
    select: Optional[list[str]] = SelectOpt,
    ignore: Optional[list[str]] = IgnoreOpt,
    exclude: Optional[list[str]] = ExcludeOpt,
    extend_exclude: Optional[list[str]] = ExtendExcludeOpt,
    unsafe_fixes: Optional[bool] = UnsafeOpt,
    clone: Optional[bool] = CloneOpt,
    jobs: Optional[int] = JobsOpt,
    stdin_filename: Optional[str] = StdinNameOpt,
    hazards: Optional[list[str]] = HazardOpt,
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    no_cache: bool = NoCacheOpt,
    cache_dir: Optional[str] = CacheDirOpt,
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No summary on stderr."),
    config: Optional[str] = ConfigOpt,
    statistics: bool = StatisticsOpt,
    show_fixes: bool = ShowFixesOpt,
    add_noqa: bool = typer.Option(False, "--add-noqa", help="Add `# noqa: CODE` to every line with a finding "
                                                            "(to adopt outplace on a large codebase), then exit 0."),
    facts: Optional[str] = FactsOpt,
) -> None:
    from outplace.formats import NEEDS_SOURCE
    from outplace.report import Summary

    paths = paths or ["."]
    projects = _projects(paths, stdin_filename, config, {**_overrides(select, ignore, exclude, extend_exclude,
                                                                      unsafe_fixes, clone, hazards),
                                                         "facts": _facts(facts)})
    fmt = output_format.value
    summary = Summary()
    with _signals_end_the_run():
        if paths == ["-"]:
            results = _check_stdin(stdin_filename, projects)
            files = [r.path for r in results]
        elif "-" in paths:
            raise _fail("`-` (standard input) cannot be combined with other paths")
        else:
            files = _files(paths, projects.settings, projects.root, summary)
            results = _results(files, projects, fix=False, jobs=jobs, use_cache=not no_cache and not facts,
                               cache_dir=cache_dir)
        if add_noqa:
            _add_noqa(results, projects, summary, quiet)
            raise typer.Exit(2 if summary.errors or summary.unreadable else 0)
        want_source = fmt in NEEDS_SOURCE or show_fixes or not quiet
        items: list = []
        others: list = []
        scanned = []
        for r in results:
            if r.error:
                summary.errors += 1
                _err(r.error)
                continue
            scanned.append(display_path(r.path))
            summary.add(r.findings, [], _held_back(r.findings, projects.file_settings(r.path)), False, r.hidden)
            _warn_unused_noqa(r, summary, quiet)
            if not r.findings:
                continue
            file_items, file_others = _present(r, fmt, projects, files, want_source, show_fixes or not quiet)
            items += file_items
            others += file_others
        _count_other_modes(summary, others)
    _output(fmt, items, scanned, statistics)
    if show_fixes:
        _show_fixes(fmt, [], others)
    if not quiet:
        _err(summary.text("check", write=False, hazards=projects.settings.hazards))
    if summary.errors or summary.unreadable:
        raise typer.Exit(2)
    raise typer.Exit(0 if exit_zero or not summary.findings else 1)


def _projects(paths: list[str], stdin_filename: Optional[str], config: Optional[str], overrides: dict):
    from outplace.config import ConfigError
    from outplace.projects import Projects

    anchor = [p for p in paths if p != "-"] or ([stdin_filename] if stdin_filename else [])
    try:
        return _CheckedProjects(Projects(anchor, overrides, config))
    except ConfigError as e:
        raise _fail(str(e)) from None


class _CheckedProjects:
    """`Projects` whose configuration errors (a sub-project's file) end the run with exit 2."""

    def __init__(self, projects) -> None:
        self.inner = projects
        self.settings, self.root = projects.settings, projects.root

    def __getattr__(self, name: str):
        method = getattr(self.inner, name)

        def checked(*args, **kwargs):
            from outplace.config import ConfigError

            try:
                return method(*args, **kwargs)
            except ConfigError as e:
                raise _fail(str(e)) from None

        return checked


def _check_stdin(stdin_filename: Optional[str], projects) -> list:
    from outplace.runner import FileResult, process_text

    src, _ = _read_stdin(stdin_filename)
    settings = projects.settings_for(src.path)
    if _stdin_excluded(stdin_filename, settings, projects.root):
        return []
    src, notebook = _stdin_code(src)
    if notebook is not None and not notebook.is_python:
        return [FileResult(src.path)]
    r = process_text(src.path, src, settings, fix=False, project=projects.index_for(src.path, [src.path]),
                     cells=notebook.cells_map if notebook else None)
    r.notebook = notebook
    return [r]


def _stdin_code(src):
    """Standard input named `*.ipynb` is a notebook: its script, and the notebook."""
    from outplace.notebook import is_notebook, parse_notebook
    from outplace.source import SourceError

    if not is_notebook(src.path):
        return src, None
    try:
        notebook = parse_notebook(src)
    except SourceError as e:
        raise _fail(str(e)) from None
    return notebook.script_source(), notebook


def _present(r, fmt: str, projects, files: list, want_source: bool, other_modes: bool) -> tuple[list, list]:
    """One file's findings as output items, and the fixes the other modes would make (when asked)."""
    from outplace.engine import check_source, fix_edit, parse
    from outplace.formats import Item, located, locate_replacement
    from outplace.other_modes import other_mode_fixes
    from outplace.report import replacement_json
    from outplace.runner import read_code
    from outplace.source import SourceError, split_lines

    shown = display_path(r.path)
    settings = projects.file_settings(r.path)
    text = r.source.text if r.source is not None else None
    needs_plans = fmt in ("json", "json-lines", "sarif") and any(f.fix is not None and f.plan is None
                                                                  for f in r.findings)
    if want_source and (text is None or needs_plans):
        # From a worker or the cache, which keep no text or rewrite plans: read and analyse it again.
        try:
            src, notebook = read_code(r.path)
            text = src.text
            if needs_plans:
                r.findings = check_source(text, settings, path=str(r.path), project=projects.index_for(r.path, files))
        except (SourceError, Exception):  # noqa: BLE001 - the file changed or vanished meanwhile
            text = None
    lines = split_lines(text) if text is not None else None
    tree = parse(text) if text is not None and fmt in ("json", "json-lines", "sarif") and any(
        f.plan is not None for f in r.findings) else None
    items = []
    for f in r.findings:
        replacement = None
        if tree is not None and f.plan is not None:
            replacement = locate_replacement(replacement_json(text, fix_edit(text, f, tree)), r.cells)
        line_text = lines[f.line - 1] if lines is not None and f.line <= len(lines) else None
        shown_f, cell = located(f, r.cells)
        items.append(Item(shown, shown_f, cell, line_text, replacement))
    others = []
    if other_modes and text is not None:
        try:
            found = other_mode_fixes(text, r.findings, settings, path=str(r.path),
                                     project=lambda: projects.index_for(r.path, files))
        except Exception:  # noqa: BLE001 - only a hint; the findings stand
            found = []
        for f, flags in found:
            shown_f, cell = located(f, r.cells)
            others.append((Item(shown, shown_f, cell), flags))
    return items, others


def _count_other_modes(summary, others: list) -> None:
    from outplace.other_modes import BOTH, CLONE

    summary.more_with_clone += sum(1 for _, flags in others if flags == CLONE)
    summary.more_with_clone_unsafe += sum(1 for _, flags in others if flags == BOTH)


def _output(fmt: str, items: list, scanned: list[str], statistics: bool) -> None:
    from outplace.formats import render
    from outplace.formats import statistics as stats

    if statistics:
        sys.stdout.write(stats(items, as_json=fmt in ("json", "json-lines")))
    else:
        sys.stdout.write(render(fmt, items, scanned, style=_style))
    sys.stdout.flush()


def _show_fixes(fmt: str, applied: list, others: list) -> None:
    """`--show-fixes`: the fixes applied (per file and rule), then what the other modes would fix. On
    stdout, or stderr with a format that programs read."""
    from collections import Counter

    from outplace.formats import MACHINE, finding_line

    lines = []
    if applied:
        lines.append("Fixed:")
        for path, codes in applied:
            lines.append(f"  {path}: " + ", ".join(f"{n} × {c}" for c, n in sorted(Counter(codes).items())))
    if others:
        lines.append("Fixes in other modes:")
        for it, flags in others:
            lines.append(f"  {finding_line(it.path, it.finding, it.cell)}  [with {flags}]")
    if not lines:
        lines.append("No fixes in other modes.")
    text = "".join(line + "\n" for line in lines)
    (sys.stderr if fmt in MACHINE else sys.stdout).write(text)


def _warn_unused_noqa(r, summary, quiet: bool) -> None:
    from outplace.formats import position

    summary.unused_noqa += len(r.unused_noqa)
    if quiet:
        return
    for u in r.unused_noqa:
        cell, line = (None, u.line) if r.cells is None else r.cells.locate(u.line)
        _err(f"{position(display_path(r.path), line, u.col, cell)}: warning: {u.message()}")


def _add_noqa(results, projects, summary, quiet: bool) -> None:
    """`check --add-noqa`: a `# noqa: CODE` on every line with a finding, written like a fix."""
    from outplace.engine import check_source
    from outplace.runner import read_code, write_code
    from outplace.source import SourceError
    from outplace.suppression import add_noqa

    changed = 0
    files = [r.path for r in results]
    for r in results:
        if r.error:
            summary.errors += 1
            _err(r.error)
            continue
        summary.files += 1
        if not r.findings:
            continue
        try:
            src, notebook = read_code(r.path)  # again, now: the file is written compare-and-swap
            findings = check_source(src.text, projects.file_settings(r.path), path=str(r.path),
                                    project=projects.index_for(r.path, files))
            new, skipped = add_noqa(src.text, findings)
            if new != src.text:
                write_code(src, notebook, new)
                changed += 1
                summary.noqa_added += sum(1 for f in findings if f.line not in skipped)
        except SourceError as e:
            summary.errors += 1
            _err(str(e))
            continue
        for line in skipped:
            _err(f"{display_path(r.path)}:{line}: no room for a noqa comment (the line ends inside a string or "
                 "continues with a backslash); left as it is")
    if not quiet:
        _err(f"outplace: added {summary.noqa_added} noqa code{'s' * (summary.noqa_added != 1)} to {changed} "
             f"file{'s' * (changed != 1)}.")


def display_path(path: Path) -> str:
    from outplace.report import display_path as shown

    return shown(path)


def _held_back(findings, settings: Settings) -> list:
    return [f for f in findings if f.fix is not None and not f.fix.is_safe and not settings.unsafe_fixes]


# ---- fix --------------------------------------------------------------------------------------------

@app.command(help="Rewrite in-place tensor operations out of place (safe fixes unless --unsafe-fixes).")
def fix(
    paths: Optional[list[str]] = PathsArg,
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff of the changes (per cell for a "
                                                     "notebook); write nothing."),
    check_only: bool = typer.Option(False, "--check", help="List files that would change; write nothing."),
    interactive: bool = typer.Option(False, "-i", "--interactive",
                                     help="Review each hunk (y/n/a/q, like `git add -p`); write the accepted ones."),
    unsafe_fixes: Optional[bool] = UnsafeOpt,
    clone: Optional[bool] = CloneOpt,
    select: Optional[list[str]] = SelectOpt,
    ignore: Optional[list[str]] = IgnoreOpt,
    hazards: Optional[list[str]] = HazardOpt,
    exclude: Optional[list[str]] = ExcludeOpt,
    extend_exclude: Optional[list[str]] = ExtendExcludeOpt,
    jobs: Optional[int] = JobsOpt,
    stdin_filename: Optional[str] = StdinNameOpt,
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No summary on stderr; no remaining findings."),
    no_cache: bool = NoCacheOpt,
    cache_dir: Optional[str] = CacheDirOpt,
    config: Optional[str] = ConfigOpt,
    output_format: Format = OutputFormatOpt,
    show_fixes: bool = ShowFixesOpt,
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when findings remain."),
    exit_non_zero_on_fix: bool = typer.Option(False, "--exit-non-zero-on-fix",
                                              help="Exit 1 when a fix was applied, even if no finding remains."),
    facts: Optional[str] = FactsOpt,
) -> None:
    from outplace.report import Summary

    paths = paths or ["."]
    projects = _projects(paths, stdin_filename, config, {**_overrides(select, ignore, exclude, extend_exclude,
                                                                      unsafe_fixes, clone, hazards),
                                                         "facts": _facts(facts)})
    write = not (diff or check_only)
    if interactive and (diff or check_only or paths == ["-"]):
        raise _fail("--interactive cannot be combined with --diff, --check or `-`")
    if "-" in paths and paths != ["-"]:
        raise _fail("`-` (standard input) cannot be combined with other paths")
    summary = Summary()
    fmt = output_format.value
    with _signals_end_the_run():
        if paths == ["-"]:
            _fix_stdin(stdin_filename, projects, summary, diff=diff, check_only=check_only)
        else:
            files = _files(paths, projects.settings, projects.root, summary)
            if write:
                _remove_stale_temp_files(files, quiet)
            results = _results(files, projects, fix=True, jobs=jobs, use_cache=not no_cache and not facts,
                               cache_dir=cache_dir)
            _fix_files(results, projects, summary, files, diff=diff, check_only=check_only, interactive=interactive,
                       quiet=quiet, fmt=fmt, show_fixes=show_fixes)
    if not quiet:
        _err(summary.text("fix", write=write, hazards=projects.settings.hazards))
    if summary.errors or summary.unreadable:
        raise typer.Exit(2)
    if not write:
        raise typer.Exit(1 if summary.changed else 0)
    if exit_non_zero_on_fix and sum(summary.fixed.values()):
        raise typer.Exit(1)
    raise typer.Exit(0 if exit_zero or not summary.findings else 1)


def _fix_stdin(stdin_filename: Optional[str], projects, summary, *, diff: bool, check_only: bool) -> None:
    """`fix -`: the fixed source on standard output (or the patch, or `would fix`); `summary` is what
    the same file given by path would have counted."""
    from outplace.report import unified_diff
    from outplace.runner import process_text
    from outplace.source import SourceError, encode_text

    raw_src, raw = _read_stdin(stdin_filename)
    settings = projects.settings_for(raw_src.path)
    if _stdin_excluded(stdin_filename, settings, projects.root):
        sys.stdout.buffer.write(raw)  # excluded: echoed back unchanged, nothing counted
        return
    src, notebook = _stdin_code(raw_src)
    if notebook is not None and not notebook.is_python:
        sys.stdout.buffer.write(raw)
        return
    r = process_text(src.path, src, settings, fix=True, project=projects.index_for(src.path, [src.path]),
                     cells=notebook.cells_map if notebook else None)
    shown = display_path(src.path)
    if r.error:
        _err(r.error)
        summary.errors += 1
    out = raw
    if r.fixed is not None:
        try:
            new_text = notebook.with_script(r.fixed) if notebook is not None else r.fixed
            out = encode_text(new_text, raw_src.encoding, raw_src.bom)
        except SourceError as e:
            _err(str(e))
            summary.errors += 1
            r.fixed = None
    if diff:
        if r.fixed is not None:
            if notebook is not None:
                _print_diff(_notebook_diff(notebook, r.fixed, shown))
            else:
                _print_diff(unified_diff(src.text, r.fixed, shown, src.encoding, src.bom))
    elif check_only:
        if r.fixed is not None:
            typer.echo(f"would fix {shown}")
    else:
        sys.stdout.buffer.write(out)
        sys.stdout.buffer.flush()
    if not r.error:
        summary.add(r.findings, r.applied, r.held_back, r.fixed is not None, r.hidden)


def _notebook_diff(notebook, new_script: str, shown: str) -> bytes:
    """One diff per changed cell, named `path:cell N`, lines counted in the cell (like ruff's)."""
    from outplace.report import unified_diff

    return b"".join(unified_diff(old, new, f"{shown}:cell {number}")
                    for number, (old, new) in sorted(notebook.cell_texts(new_script).items()))


def _fix_files(results, projects, summary, files, *, diff: bool, check_only: bool, interactive: bool,
               quiet: bool, fmt: str = "text", show_fixes: bool = False) -> None:
    from outplace.report import unified_diff
    from outplace.runner import write_code
    from outplace.source import SourceError

    write = not (diff or check_only)
    if interactive:
        from outplace.interactive import Quit, review_file
    quit_review = False
    items: list = []
    others: list = []
    applied: list = []
    scanned: list[str] = []
    for r in results:
        shown = display_path(r.path)
        if r.error:
            summary.errors += 1
            _err(r.error)
            continue
        scanned.append(shown)
        settings = projects.file_settings(r.path)
        project = projects.index_for(r.path, files)
        changed = r.fixed is not None
        if changed and interactive and r.notebook is not None:
            _err(f"{shown}: notebooks are not reviewed interactively (`outplace fix --diff` shows the changes); "
                 "left unchanged")
            _declined(r, r.source.text, [], settings, project, summary)
            changed = False
        elif changed and interactive:
            accepted: list = []
            if quit_review:
                reviewed = r.source.text  # the user quit: leave the remaining files alone
            else:
                try:
                    reviewed = review_file(shown, r.source.text, r.fixed, r.applied, input_stream=sys.stdin,
                                           output=sys.stdout, accepted=accepted)
                except Quit as stop:  # like `git add -p`: hunks accepted before `q` still apply
                    quit_review = True
                    reviewed = stop.text if stop.text is not None else r.source.text
            if reviewed != r.fixed:
                _declined(r, reviewed, accepted, settings, project, summary)
            changed = r.fixed is not None
        patch = None
        if changed:
            try:
                if diff:
                    patch = (_notebook_diff(r.notebook, r.fixed, shown) if r.notebook is not None
                             else unified_diff(r.source.text, r.fixed, shown, r.source.encoding, r.source.bom))
                elif write:
                    write_code(r.source, r.notebook, r.fixed)
                elif r.notebook is not None:
                    r.notebook.with_script(r.fixed)  # --check: would it map back onto the cells?
            except SourceError as e:
                summary.errors += 1
                _err(str(e))
                continue
        summary.add(r.findings, r.applied, r.held_back, changed, r.hidden)
        _warn_unused_noqa(r, summary, quiet or not write)
        if r.applied and changed:
            applied.append((shown, [f.code for f in r.applied]))
        if patch is not None:
            _print_diff(patch)
        elif changed and check_only:
            typer.echo(f"would fix {shown}")
        if r.findings and (show_fixes or not quiet):
            if r.fixed is not None:
                r.source = dataclasses.replace(r.source, text=r.fixed)  # positions are in the fixed text
            file_items, file_others = _present(r, fmt, projects, files, True, True)
            items += file_items if write and not quiet else []
            others += file_others
    _count_other_modes(summary, others)
    if items:
        _output(fmt, items, scanned, False)
    if show_fixes:
        _show_fixes(fmt, applied, others)


def _declined(r, reviewed: str, accepted: list, settings: Settings, project, summary) -> None:
    """Some hunks were answered "n" (or never asked): what is applied and what is left is what the
    reviewed text holds, not what the full fix would have done."""
    from outplace.engine import check_source

    summary.declined += len(r.applied) - len(accepted)
    r.applied = accepted
    r.fixed = reviewed if reviewed != r.source.text else None
    try:
        r.findings = check_source(reviewed, settings, path=str(r.path), project=project)
    except Exception:  # noqa: BLE001 - the reviewed text parses (every hunk is a whole statement's fix)
        r.findings = []
    r.held_back = _held_back(r.findings, settings)


def _remove_stale_temp_files(files: list[Path], quiet: bool) -> None:
    """Temporary files an interrupted `fix` of this user left beside the files it was writing."""
    from outplace.source import remove_stale_temp_files

    for directory in sorted({os.path.dirname(os.path.abspath(p)) for p in files}):
        for removed in remove_stale_temp_files(directory):
            if not quiet:
                _err(f"outplace: removed {removed}, left by an interrupted run")


# ---- rule docs ----------------------------------------------------------------------------------------

def rule_text(code: str) -> str:
    from outplace.rule_docs import rule_text as text

    return text(code)


@app.command(help="Show the documentation of one rule, e.g. `outplace rule OP101`.")
def rule(code: str = typer.Argument(..., help="A rule code such as OP101.")) -> None:
    from outplace.codemods import RULES_BY_CODE

    if code.upper() not in RULES_BY_CODE:
        raise _fail(f"unknown rule {code!r}; `outplace rules` lists them")
    typer.echo(rule_text(code.upper()))


@app.command(help="List every rule.")
def rules(output_format: Format = typer.Option(Format.text, "--format")) -> None:
    from outplace.codemods import RULES

    if output_format is Format.json:
        import json

        typer.echo(json.dumps([{"code": r.code, "name": r.name, "summary": r.summary} for r in RULES], indent=2))
        return
    for r in RULES:
        typer.echo(f"{r.code}  {r.name:<22} {r.summary}")


CORE_COMMANDS = {"check", "fix", "rule", "rules"}


def _register_optional(argv: list[str]) -> None:
    """Front ends of the other parts; each imports its heavy dependencies (torch, pygls) only when
    run. Not even registered when a core command runs: `check` starts faster without them."""
    command = next((a for a in argv[1:] if not a.startswith("-")), None)
    if command in CORE_COMMANDS:
        return
    program_args = {"allow_interspersed_args": False, "ignore_unknown_options": True}  # like `python`
    for module, attr, name, help_text, settings in (
        ("outplace.harness.command", "verify_cli", "verify",
         "Run original and rewritten code and compare forward values and gradients.", {}),
        ("outplace.diagnose.command", "diagnose_cli", "diagnose",
         "Run a program, find the in-place write that broke backward, and propose its fix.", program_args),
        ("outplace.diagnose.trace", "trace_cli", "trace",
         "Run a program and record every in-place write on a tensor that requires grad (facts for --facts).",
         program_args),
        ("outplace.lsp.command", "lsp_cli", "lsp", "Run the language server (stdio) for editors.", {}),
    ):
        try:
            command = getattr(__import__(module, fromlist=[attr]), attr)
        except (ImportError, AttributeError):
            continue
        app.command(name, help=help_text, context_settings=settings)(command)


def main(argv: Iterable[str] | None = None) -> None:
    args = list(argv) if argv is not None else sys.argv[1:]
    _register_optional(["outplace", *args])
    app(args=args, prog_name="outplace")
