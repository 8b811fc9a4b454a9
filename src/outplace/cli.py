"""The `outplace` command line: check, fix, rule(s), and the front ends of the other parts.

Exit codes (like ruff): 0 nothing found / nothing to change; 1 findings remain (check, fix) or
something would change (--diff, --check); 2 usage error, bad configuration, or a file, directory or
path that could not be processed (its one-line error is on stderr; the run still covers everything
else). Standard input is judged like the same file given by path. A run ended by a signal (SIGTERM,
SIGHUP, SIGINT) stops its workers, removes its temporary files and exits 128 + the signal number.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Iterable, Optional

import typer

from outplace import __version__
from outplace.settings import Settings

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
    json = "json"


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


def _load(paths: list[str], stdin_filename: Optional[str], **overrides) -> tuple[Settings, Path]:
    from outplace.config import ConfigError, find_project_root, load_settings

    anchor = [p for p in paths if p != "-"] or ([stdin_filename] if stdin_filename else [])
    root = find_project_root(anchor)
    try:
        return load_settings(root, **{k: v for k, v in overrides.items() if v is not None}), root
    except ConfigError as e:
        raise _fail(str(e)) from None


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


def _results(files: list[Path], settings: Settings, *, fix: bool, jobs: Optional[int], root: Path,
             use_cache: bool, cache_dir: Optional[str] = None):
    from outplace.cache import Cache
    from outplace.runner import run

    cache = Cache(root, settings, cache_dir) if use_cache and os.environ.get("OUTPLACE_NO_CACHE") != "1" else None
    if not (_stderr_is_tty() and len(files) >= PROGRESS_MIN_FILES):
        return list(run(files, settings, fix=fix, jobs=jobs, cache=cache, root=root))
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("outplace", total=len(files))
        return list(run(files, settings, fix=fix, jobs=jobs, cache=cache, root=root,
                        on_done=lambda _: progress.advance(task)))


def _style(text: str, **kw) -> str:
    return typer.style(text, **kw) if sys.stdout.isatty() and os.environ.get("NO_COLOR") is None else text


def _print_finding(path: str, f) -> None:
    """The finding's line (`path:line:col: CODE message`, what editors and CI annotations parse), then
    why it matters, indented (the hazard: what saved the tensor, or why nothing did)."""
    from outplace.report import finding_line

    line = finding_line(path, f)
    if sys.stdout.isatty():
        head, _, rest = line.partition(f" {f.code}")
        line = _style(head, bold=True) + " " + _style(f.code, fg="red", bold=True) + rest
    typer.echo(line)
    if f.why:
        typer.echo(_style(f"    {f.hazard}: {f.why}", dim=True))


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
CacheDirOpt = typer.Option(None, "--cache-dir", help="Keep the results cache here (default: the user cache "
                                                     "directory, ~/.cache/outplace).")
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

@app.command(help="Report in-place tensor operations that can break autograd.")
def check(
    paths: Optional[list[str]] = PathsArg,
    output_format: Format = typer.Option(Format.text, "--format", help="text, or json for scripts."),
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
    facts: Optional[str] = FactsOpt,
) -> None:
    from outplace.analysis.project import ProjectIndex
    from outplace.engine import check_source, fix_edit, parse
    from outplace.report import Summary, display_path, finding_json, json_dump, replacement_json
    from outplace.runner import process_text
    from outplace.source import SourceError, read_source

    paths = paths or ["."]
    settings, root = _load(paths, stdin_filename, **_overrides(select, ignore, exclude, extend_exclude,
                                                               unsafe_fixes, clone, hazards), facts=_facts(facts))
    summary, items = Summary(), []
    with _signals_end_the_run():
        if paths == ["-"]:
            src, _ = _read_stdin(stdin_filename)
            results = [] if _stdin_excluded(stdin_filename, settings, root) else \
                [process_text(src.path, src, settings, fix=False, project=ProjectIndex.for_run(root, [src.path]))]
            files = [src.path]
        elif "-" in paths:
            raise _fail("`-` (standard input) cannot be combined with other paths")
        else:
            files = _files(paths, settings, root, summary)
            results = _results(files, settings, fix=False, jobs=jobs, root=root,
                               use_cache=not no_cache and not facts, cache_dir=cache_dir)
        project = None

        for r in results:
            shown = display_path(r.path)
            if output_format is Format.json and any(f.fix is not None and f.plan is None for f in r.findings):
                # From the cache, which keeps no rewrite plans: analyse the text again for them.
                try:
                    r.source = read_source(r.path)
                    project = project or ProjectIndex.for_run(root, files)
                    r.findings = check_source(r.source.text, settings, path=str(r.path), project=project)
                except (SourceError, Exception) as e:  # noqa: BLE001 - the file changed meanwhile
                    r.error = str(e) if isinstance(e, SourceError) else f"{r.path}: {type(e).__name__}: {e}"
            if r.error:
                summary.errors += 1
                _err(r.error)
                continue
            summary.add(r.findings, [], _held_back(r.findings, settings), False, r.hidden)
            if output_format is Format.json and r.findings:
                text = r.source.text if r.source is not None else read_source(r.path).text  # cached result
                tree = parse(text) if any(f.plan is not None for f in r.findings) else None
                for f in r.findings:
                    edit = fix_edit(text, f, tree) if f.plan is not None else None
                    items.append(finding_json(shown, f, replacement_json(text, edit)))
            elif output_format is Format.text:
                for f in r.findings:
                    _print_finding(shown, f)
    if output_format is Format.json:
        sys.stdout.write(json_dump(items))
    if not quiet:
        _err(summary.text("check", write=False, hazards=settings.hazards))
    if summary.errors or summary.unreadable:
        raise typer.Exit(2)
    raise typer.Exit(0 if exit_zero or not summary.findings else 1)


def _held_back(findings, settings: Settings) -> list:
    return [f for f in findings if f.fix is not None and not f.fix.is_safe and not settings.unsafe_fixes]


# ---- fix --------------------------------------------------------------------------------------------

@app.command(help="Rewrite in-place tensor operations out of place (safe fixes unless --unsafe-fixes).")
def fix(
    paths: Optional[list[str]] = PathsArg,
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff of the changes; write nothing."),
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
    facts: Optional[str] = FactsOpt,
) -> None:
    from outplace.report import Summary

    paths = paths or ["."]
    settings, root = _load(paths, stdin_filename, **_overrides(select, ignore, exclude, extend_exclude,
                                                               unsafe_fixes, clone, hazards), facts=_facts(facts))
    write = not (diff or check_only)
    if interactive and (diff or check_only or paths == ["-"]):
        raise _fail("--interactive cannot be combined with --diff, --check or `-`")
    if "-" in paths and paths != ["-"]:
        raise _fail("`-` (standard input) cannot be combined with other paths")
    summary = Summary()
    with _signals_end_the_run():
        if paths == ["-"]:
            _fix_stdin(stdin_filename, settings, root, summary, diff=diff, check_only=check_only)
        else:
            files = _files(paths, settings, root, summary)
            if write:
                _remove_stale_temp_files(files, quiet)
            results = _results(files, settings, fix=True, jobs=jobs, root=root,
                               use_cache=not no_cache and not facts, cache_dir=cache_dir)
            _fix_files(results, settings, summary, diff=diff, check_only=check_only, interactive=interactive,
                       quiet=quiet)
    if not quiet:
        _err(summary.text("fix", write=write, hazards=settings.hazards))
    if summary.errors or summary.unreadable:
        raise typer.Exit(2)
    if not write:
        raise typer.Exit(1 if summary.changed else 0)
    raise typer.Exit(1 if summary.findings else 0)


def _fix_stdin(stdin_filename: Optional[str], settings: Settings, root: Path, summary, *, diff: bool,
               check_only: bool) -> None:
    """`fix -`: the fixed source on standard output (or the patch, or `would fix`); `summary` is what
    the same file given by path would have counted."""
    from outplace.report import display_path, unified_diff
    from outplace.runner import process_text
    from outplace.source import SourceError, encode_text

    src, raw = _read_stdin(stdin_filename)
    if _stdin_excluded(stdin_filename, settings, root):
        sys.stdout.buffer.write(raw)  # excluded: echoed back unchanged, nothing counted
        return
    from outplace.analysis.project import ProjectIndex

    r = process_text(src.path, src, settings, fix=True, project=ProjectIndex.for_run(root, [src.path]))
    shown = display_path(src.path)
    if r.error:
        _err(r.error)
        summary.errors += 1
    out = raw
    if r.fixed is not None:
        try:
            out = encode_text(r.fixed, src.encoding, src.bom)
        except SourceError as e:
            _err(str(e))
            summary.errors += 1
            r.fixed = None
    if diff:
        if r.fixed is not None:
            _print_diff(unified_diff(src.text, r.fixed, shown, src.encoding, src.bom))
    elif check_only:
        if r.fixed is not None:
            typer.echo(f"would fix {shown}")
    else:
        sys.stdout.buffer.write(out)
        sys.stdout.buffer.flush()
    if not r.error:
        summary.add(r.findings, r.applied, r.held_back, r.fixed is not None, r.hidden)


def _fix_files(results, settings: Settings, summary, *, diff: bool, check_only: bool, interactive: bool,
               quiet: bool) -> None:
    from outplace.report import display_path, unified_diff
    from outplace.source import SourceError, write_source

    write = not (diff or check_only)
    if interactive:
        from outplace.interactive import Quit, review_file
    quit_review = False
    for r in results:
        shown = display_path(r.path)
        if r.error:
            summary.errors += 1
            _err(r.error)
            continue
        changed = r.fixed is not None
        if changed and interactive:
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
                _declined(r, reviewed, accepted, settings, summary)
            changed = r.fixed is not None
        if changed and write:
            try:
                write_source(r.source, r.fixed)
            except SourceError as e:
                summary.errors += 1
                _err(str(e))
                continue
        summary.add(r.findings, r.applied, r.held_back, changed, r.hidden)
        if changed and diff:
            _print_diff(unified_diff(r.source.text, r.fixed, shown, r.source.encoding, r.source.bom))
        elif changed and check_only:
            typer.echo(f"would fix {shown}")
        if write and not quiet:
            for f in r.findings:
                _print_finding(shown, f)


def _declined(r, reviewed: str, accepted: list, settings: Settings, summary) -> None:
    """Some hunks were answered "n" (or never asked): what is applied and what is left is what the
    reviewed text holds, not what the full fix would have done."""
    from outplace.engine import check_source

    summary.declined += len(r.applied) - len(accepted)
    r.applied = accepted
    r.fixed = reviewed if reviewed != r.source.text else None
    try:
        r.findings = check_source(reviewed, settings, path=str(r.path))
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
    from outplace.codemods import RULES_BY_CODE

    rule = RULES_BY_CODE[code]
    d = rule.doc
    indent = lambda s: "\n".join("    " + ln for ln in s.splitlines())  # noqa: E731
    return (f"# {rule.code} {rule.name}\n\n{rule.summary}.\n\n## What it does\n{d.what}\n\n"
            f"## Why is this bad?\n{d.why}\n\n## Example\n{indent(d.example)}\n\n"
            f"## Use instead\n{indent(d.use_instead)}\n\n## Fix safety\n{d.fix_safety}\n")


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
