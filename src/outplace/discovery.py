"""Which files a run processes.

    iter_python_files(paths, settings, root=...) -> Iterator[Path]

Explicitly named files are always yielded (whatever their suffix) unless `settings.force_exclude` is set
and they are excluded. Explicitly named directories are walked even when their own name is excluded
(unless `force_exclude`); inside them, `*.py`, `*.pyi` and `*.ipynb` (Jupyter notebooks) files are yielded
in sorted order, and any
entry whose name (or path relative to `root`) matches a glob in `exclude + extend_exclude`, or that a
`.gitignore` ignores (with `respect_gitignore`), is pruned. Symlinked directories are not followed.
Each file is yielded once, even when reached twice (named twice, or through a symlink).
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from outplace.settings import Settings

__all__ = ["GitIgnore", "is_excluded", "iter_python_files"]

PYTHON_SUFFIXES = (".py", ".pyi", ".ipynb")


def iter_python_files(
    paths: Sequence[str | os.PathLike[str]],
    settings: Settings,
    *,
    root: Path | None = None,
    on_error: Callable[[OSError], None] | None = None,
) -> Iterator[Path]:
    """Yield the Python files to process under `paths`, deterministically.

    Every path is checked before anything is yielded. One that cannot be reached (missing, a symlink
    loop, a directory on the way that cannot be searched) is passed to `on_error` as the OSError that
    says why (its `filename` names it) and skipped; without `on_error` that error is raised at the call
    itself. `root` (default: the current directory) anchors exclude globs that contain a `/`. A
    directory that cannot be listed during the walk is passed to `on_error` too (default: skipped
    silently).
    """
    given = []
    for p in paths:
        try:
            os.stat(p)
        except OSError as exc:
            if exc.filename is None:  # pragma: no cover - os.stat always names it
                exc.filename = os.fspath(p)
            if on_error is None:
                raise
            on_error(exc)
            continue
        except ValueError as exc:  # an embedded NUL byte
            error = OSError(errno.EINVAL, str(exc), os.fspath(p))
            if on_error is None:
                raise error from None
            on_error(error)
            continue
        given.append(Path(p))
    return _walk_all(given, settings, _abs_root(root), on_error)


class _Filter:
    """Exclude globs plus (optionally) .gitignore rules, relative to one root."""

    def __init__(self, settings: Settings, root: Path) -> None:
        self.root = root
        self.globs = tuple(_clean_glob(g) for g in (*settings.exclude, *settings.extend_exclude))
        self.gitignore = GitIgnore(root) if settings.respect_gitignore else None

    def __call__(self, path: Path, is_dir: bool) -> bool:
        """`path` (absolute) is excluded on its own merits."""
        if _matches_excludes(path, self.globs, self.root):
            return True
        return self.gitignore is not None and self.gitignore.ignored(path, is_dir)

    def forced_out(self, path: Path, is_dir: bool) -> bool:
        """`path`, or a directory between it and the root, is excluded.

        The root and its ancestors are never tested: a project living under `~/build/` is not excluded.
        """
        absolute = Path(os.path.abspath(path))
        if absolute == self.root or absolute in self.root.parents:
            return False
        if self(absolute, is_dir):
            return True
        return any(self(parent, True) for parent in absolute.parents if self.root in parent.parents)


def _abs_root(root: str | os.PathLike[str] | None) -> Path:
    return Path(os.path.abspath(root if root is not None else os.getcwd()))


def _walk_all(
    given: list[Path], settings: Settings, root: Path, on_error: Callable[[OSError], None] | None
) -> Iterator[Path]:
    excluded = _Filter(settings, root)
    seen: set[str] = set()
    for top in given:
        is_dir = os.path.isdir(top)
        if settings.force_exclude and excluded.forced_out(top, is_dir):
            continue
        if is_dir:
            yield from _walk_dir(top, excluded, seen, on_error)
        else:
            key = os.path.realpath(top)
            if key not in seen:
                seen.add(key)
                yield top


def is_excluded(path: str | os.PathLike[str], settings: Settings, *, root: Path | None = None) -> bool:
    """Whether `path`, or a directory between it and `root`, is excluded by globs or .gitignore.

    This is the test `force_exclude` applies to explicitly named paths; the CLI can use it for
    `--stdin-filename`.
    """
    p = Path(path)
    return _Filter(settings, _abs_root(root)).forced_out(p, os.path.isdir(p))


def _walk_dir(
    top: Path,
    excluded: Callable[[Path, bool], bool],
    seen: set[str],
    on_error: Callable[[OSError], None] | None,
    real_top: str | None = None,
) -> Iterator[Path]:
    """Python files under `top`, sorted by name, depth first. `real_top` is `top` with symlinks
    resolved: symlinked directories are never followed, so below it only a symlinked file needs
    its own `realpath` (the key that keeps a file reached twice from being processed twice)."""
    real_top = real_top or os.path.realpath(top)
    abs_top = Path(os.path.abspath(top))
    try:
        with os.scandir(top) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if on_error is not None:
            on_error(exc)
        return
    for entry in entries:
        name = entry.name
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file()  # follows a symlink to a file
        except OSError:  # pragma: no cover - vanished mid-walk
            continue
        if is_link and not is_file:
            continue  # symlinked directories are not followed; dangling links skipped
        if is_dir:
            if not excluded(abs_top / name, True):
                yield from _walk_dir(top / name, excluded, seen, on_error, os.path.join(real_top, name))
        elif is_file and name.endswith(PYTHON_SUFFIXES):
            if excluded(abs_top / name, False):
                continue
            path = top / name
            key = os.path.realpath(path) if is_link else os.path.join(real_top, name)
            if key not in seen:
                seen.add(key)
                yield path


# --- exclude globs --------------------------------------------------------------------------------------


def _clean_glob(glob: str) -> str:
    glob = glob.replace(os.sep, "/").rstrip("/")
    while glob.startswith("./"):
        glob = glob[2:]
    return glob


def _matches_excludes(path: Path, globs: tuple[str, ...], root: Path) -> bool:
    """`path` is absolute. Globs match its basename, or its path relative to `root` (fnmatch, case-sensitive)."""
    if not globs:
        return False
    pattern = _globs_regex(globs)
    if pattern.match(path.name):
        return True
    text, base = path.as_posix(), root.as_posix().rstrip("/") + "/"
    return text.startswith(base) and bool(pattern.match(text[len(base):]))


@functools.lru_cache(maxsize=64)
def _globs_regex(globs: tuple[str, ...]) -> re.Pattern[str]:
    """All exclude globs as one compiled regex (fnmatch's translation; one match call per path)."""
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


# --- .gitignore -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    negated: bool
    dir_only: bool
    anchored: bool  # match the path relative to the .gitignore's directory, not just the basename


def _translate(pattern: str) -> str:
    """A gitignore glob (no leading/trailing slash) to a regex body matching a `/`-separated path."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                j = i + 2
                while j < n and pattern[j] == "*":
                    j += 1
                at_start = i == 0 or pattern[i - 1] == "/"
                if at_start and j == n:  # "**" or "x/**": everything (inside)
                    out.append(".*")
                    i = j
                    continue
                if at_start and pattern[j] == "/":  # "**/": zero or more directories
                    out.append("(?:.*/)?")
                    i = j + 1
                    continue
                out.append("[^/]*")  # any other "**" is an ordinary "*"
                i = j
                continue
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            cls, i = _translate_class(pattern, i)
            out.append(cls)
        elif c == "\\" and i + 1 < n:
            out.append(re.escape(pattern[i + 1]))
            i += 2
        else:
            out.append(re.escape(c))
            i += 1
    return "".join(out)


def _translate_class(pattern: str, i: int) -> tuple[str, int]:
    """`pattern[i]` is "["; returns (regex, index after the class). An unclosed "[" is literal."""
    j = i + 1
    negated = j < len(pattern) and pattern[j] in "!^"
    if negated:
        j += 1
    start = j
    if j < len(pattern) and pattern[j] == "]":  # a leading "]" is literal
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    if j >= len(pattern):
        return re.escape("["), i + 1
    body = pattern[start:j]
    parts: list[str] = []
    k = 0
    while k < len(body):
        ch = body[k]
        if ch == "\\" and k + 1 < len(body):
            parts.append(re.escape(body[k + 1]))
            k += 2
        elif ch == "-" and parts and k + 1 < len(body):
            parts.append("-")
            k += 1
        else:
            parts.append(re.escape(ch))
            k += 1
    inner = "".join(parts)
    return (f"[^/{inner}]" if negated else f"[{inner}]"), j + 1


def _parse_line(line: str) -> _Pattern | None:
    line = line.rstrip("\n").rstrip("\r")
    # Trailing spaces are ignored unless escaped with a backslash.
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "
    line = stripped
    if not line or line.startswith("#"):
        return None
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    elif line.startswith("\\!") or line.startswith("\\#"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/") if line.startswith("/") else line
    if not line:
        return None
    try:
        regex = re.compile(_translate(line), re.DOTALL)
    except re.error:  # pragma: no cover - a malformed pattern matches nothing, as in git
        return None
    return _Pattern(regex, negated, dir_only, anchored)


def _parse_file(path: Path) -> list[_Pattern]:
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return []
    patterns = []
    for line in text.splitlines():
        pat = _parse_line(line)
        if pat is not None:
            patterns.append(pat)
    return patterns


class GitIgnore:
    """The common subset of git's ignore rules: per-directory `.gitignore` files plus `.git/info/exclude`.

    `.gitignore` files are read from the enclosing git repository's top (nearest ancestor holding `.git`)
    down to the path's directory; outside any repository, from `root` down (or from the path's own
    directory when it is not under `root`). Deeper files win over shallower ones, later lines over
    earlier ones. Global excludes (core.excludesFile) are not read.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self._files: dict[Path, list[_Pattern]] = {}
        self._repo_of: dict[Path, Path | None] = {}
        self._chains: dict[Path, list[tuple[Path, int, list[_Pattern]]]] = {}

    def _patterns(self, directory: Path) -> list[_Pattern]:
        pats = self._files.get(directory)
        if pats is None:
            pats = self._files[directory] = _parse_file(directory / ".gitignore")
        return pats

    def _info_exclude(self, repo: Path) -> list[_Pattern]:
        key = repo / ".git" / "info"
        pats = self._files.get(key)
        if pats is None:
            pats = self._files[key] = _parse_file(key / "exclude") if (repo / ".git").is_dir() else []
        return pats

    def _repo(self, directory: Path) -> Path | None:
        if directory in self._repo_of:
            return self._repo_of[directory]
        found: Path | None
        if os.path.lexists(directory / ".git"):
            found = directory
        elif directory.parent == directory:
            found = None
        else:
            found = self._repo(directory.parent)
        self._repo_of[directory] = found
        return found

    def _base(self, directory: Path) -> tuple[Path, Path | None]:
        repo = self._repo(directory)
        if repo is not None:
            return repo, repo
        if directory == self.root or self.root in directory.parents:
            return self.root, None
        return directory, None

    def ignored(self, path: Path, is_dir: bool) -> bool:
        """Whether git would ignore `path` (absolute and normalised, as `os.path.abspath` makes it) on
        its own merits; directories above it are not checked."""
        text = path.as_posix()
        for d, prefix, patterns in self._chain(path.parent):  # deepest first: the first decisive match wins
            verdict = self._match(patterns, text[prefix:], path.name, is_dir)
            if verdict is not None:
                return verdict
        return False

    def _chain(self, directory: Path) -> list[tuple[Path, int, list[_Pattern]]]:
        """The directories whose rules apply to files in `directory`, deepest first, with patterns
        (those without any are skipped), and where a path relative to each starts in a posix string.
        Cached per directory: a tree walk asks about every file."""
        cached = self._chains.get(directory)
        if cached is not None:
            return cached
        base, repo = self._base(directory)
        dirs = [directory, *(p for p in directory.parents if p == base or base in p.parents)]
        chain = []
        for d in dirs:
            pats = self._patterns(d)
            if pats:
                chain.append((d, len(d.as_posix().rstrip("/")) + 1, pats))
            if d == base:
                break
        if repo is not None:
            pats = self._info_exclude(repo)
            if pats:
                chain.append((repo, len(repo.as_posix().rstrip("/")) + 1, pats))
        self._chains[directory] = chain
        return chain

    @staticmethod
    def _match(patterns: list[_Pattern], rel: str, name: str, is_dir: bool) -> bool | None:
        for pat in reversed(patterns):
            if pat.dir_only and not is_dir:
                continue
            if pat.regex.fullmatch(rel if pat.anchored else name):
                return not pat.negated
        return None

