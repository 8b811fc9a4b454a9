"""What a run is asked to do: rule selection and fix policy. Loaded by `config.py`, read by the engine."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, replace

from outplace.findings import HAZARDS

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".eggs", "__pypackages__",
    "build", "dist", "site-packages", "node_modules", ".mypy_cache", ".pytest_cache", ".outplace_cache",
)


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ("OP",)  # codes or prefixes
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool = False
    clone: bool = False  # allow clone-before-write fixes (OP106, OP107)
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False  # apply exclude/.gitignore to explicitly named files and directories too
    cache_dir: str | None = None  # a project-local check cache, relative to the project root (default: the user's)
    # Which hazard levels to report: "breaks" (backward fails, or the write raises) by default;
    # "inplace" (a graph tensor nothing saved yet) and "nograd" (a tensor outside autograd) on request.
    hazards: tuple[str, ...] = ("breaks",)
    # A runtime facts file (`outplace trace`, read by `outplace.runtime_facts`): absolute path, or None.
    facts: str | None = None
    # (directory, glob, codes): the codes (rule codes, or hazard levels) are ignored in files matching
    # the glob, taken relative to the directory of the configuration file that gave it (or matching
    # the file's name).
    per_file_ignores: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    def file_ignores(self, path: str | os.PathLike[str]) -> tuple[str, ...]:
        """The codes `per_file_ignores` ignores in `path`."""
        if not self.per_file_ignores:
            return ()
        absolute = os.path.abspath(path)
        name = os.path.basename(absolute)
        codes: list[str] = []
        for directory, glob, ignored in self.per_file_ignores:
            pattern = glob.replace(os.sep, "/").lstrip("./") if glob.startswith("./") else glob.replace(os.sep, "/")
            rel = os.path.relpath(absolute, directory).replace(os.sep, "/")
            if (not rel.startswith("../") and fnmatch.fnmatchcase(rel, pattern)) or fnmatch.fnmatchcase(name, pattern):
                codes += [c for c in ignored if c not in codes]
        return tuple(codes)

    def for_file(self, path: str | os.PathLike[str]) -> "Settings":
        """These settings with the file's `per_file_ignores` added to `ignore`; a hazard level among
        them is also taken out of `hazards` (and, named in `ignore`, is not counted as hidden: the
        configuration left it out on purpose, `--hazard` would not show it)."""
        ignored = tuple(c for c in self.file_ignores(path) if c not in self.ignore)
        if not ignored:
            return self
        hazards = tuple(h for h in self.hazards if h not in ignored)
        return replace(self, ignore=self.ignore + ignored, hazards=hazards)

    def enabled(self, code: str) -> bool:
        """True when `code` is selected and not ignored (the longest matching prefix wins, like ruff)."""
        sel = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        ign = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return sel >= 0 and sel > ign
