"""What a run is asked to do: rule selection and fix policy. Loaded by `config.py`, read by the engine."""

from __future__ import annotations

from dataclasses import dataclass

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
    # "inplace" (a graph tensor nothing saved yet) on request.
    hazards: tuple[str, ...] = ("breaks",)
    # A runtime facts file (`outplace trace`, read by `outplace.runtime_facts`): absolute path, or None.
    facts: str | None = None

    def enabled(self, code: str) -> bool:
        """True when `code` is selected and not ignored (the longest matching prefix wins, like ruff)."""
        sel = max((len(p) for p in self.select if code.startswith(p)), default=-1)
        ign = max((len(p) for p in self.ignore if code.startswith(p)), default=-1)
        return sel >= 0 and sel > ign
