"""Configuration: `[tool.outplace]` in pyproject.toml, or `outplace.toml`/`.outplace.toml`, overridden by
the command line.

    find_config(paths)                -> Path | None (the closest outplace configuration file)
    find_project_root(paths)          -> Path       (its directory; else the nearest pyproject.toml's; else cwd)
    load_settings(root, config=None, **overrides) -> Settings  (raises ConfigError, one line, naming file and key)

Discovery is hierarchical, like ruff's: from the files' common directory upwards, the first directory
that holds `.outplace.toml`, `outplace.toml`, or a `pyproject.toml` *with* a `[tool.outplace]` table
(in that order of precedence) is the project's; a `pyproject.toml` without the table does not stop the
search (a sub-project keeps the settings of the repository it is in). `--config PATH` names the file.
`outplace.toml` holds the keys at its top level (a `[tool.outplace]` table there is read too).
`extend = "../pyproject.toml"` reads another configuration file first (its path relative to the file
that says it) and overrides its keys; extends chain, a cycle is an error. Configuration files are only
ever read as TOML data: nothing in a repository is executed.

Keys (kebab-case; snake_case accepted too): select, ignore, hazards, unsafe-fixes, clone, exclude,
extend-exclude, respect-gitignore, force-exclude, cache-dir, per-file-ignores, extend.
`hazards` lists the hazard levels reported (default `["breaks"]`; `["all"]` for every level: breaks,
inplace, nograd); a hazard word in `select` adds its level, in `ignore` removes it
(`select = ["OP", "inplace"]`). `per-file-ignores` maps globs (relative to the directory of the file
that gives them, or a file name) to rule codes or hazard levels ignored in the files they match
(`"tests/*" = ["OP101"]`, `"scripts/*" = ["inplace"]`). `exclude` replaces the default excludes;
`extend-exclude` adds to them. `cache-dir` asks for a project-local check cache: a relative path that
stays inside the project (a repository cannot point outplace's writes elsewhere).
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from outplace.findings import HAZARDS
from outplace.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

__all__ = ["CONFIG_FILE", "CONFIG_FILES", "ConfigError", "config_file", "find_config", "find_project_root",
           "load_settings", "validate_rule_code"]

CONFIG_FILE = "pyproject.toml"
# In order of precedence within one directory (ruff's order for its own files).
CONFIG_FILES = (".outplace.toml", "outplace.toml", CONFIG_FILE)
_TABLE_RE = re.compile(rb"^[ \t]*\[[ \t]*tool[ \t]*\.[ \t]*[\"']?outplace[\"']?[ \t]*[.\]]", re.MULTILINE)
_RULE_CODE_RE = re.compile(r"OP[0-9]{0,3}")

_LIST_KEYS = ("select", "ignore", "hazards", "exclude", "extend_exclude")
_BOOL_KEYS = ("unsafe_fixes", "clone", "respect_gitignore", "force_exclude")
_PATH_KEYS = ("cache_dir",)
_TABLE_KEYS = ("per_file_ignores",)
_KNOWN = _LIST_KEYS + _BOOL_KEYS + _PATH_KEYS + _TABLE_KEYS


class ConfigError(Exception):
    """Bad configuration. `str()` is one line naming the file (or "command line") and the key."""

    def __init__(self, source: str, message: str, key: str | None = None) -> None:
        self.source = source
        self.key = key
        self.message = " ".join(str(message).split())
        super().__init__(source, self.message)

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


def validate_rule_code(code: object) -> bool:
    """`OP` followed by 0-3 digits: a full code ("OP101") or a prefix ("OP", "OP1")."""
    return isinstance(code, str) and _RULE_CODE_RE.fullmatch(code) is not None


def config_file(directory: str | os.PathLike[str]) -> Path | None:
    """The outplace configuration file of `directory`, if it has one: `.outplace.toml`, `outplace.toml`,
    or a `pyproject.toml` that has a `[tool.outplace]` table."""
    for name in CONFIG_FILES:
        path = Path(directory) / name
        if not path.exists():
            continue
        if name != CONFIG_FILE or not path.is_file() or _has_outplace_table(path):
            return path
    return None


def _has_outplace_table(pyproject: Path) -> bool:
    try:
        data = pyproject.read_bytes()
    except OSError:
        return True  # unreadable: claim it, so that reading it says why
    if b"outplace" not in data:
        return False
    if _TABLE_RE.search(data):
        return True
    try:  # dotted keys (`tool.outplace.select = ...`) or an inline table: ask the TOML parser
        doc = tomllib.loads(data.decode("utf-8")) if tomllib is not None else {}
    except (UnicodeDecodeError, ValueError):
        return True  # broken: claim it, so that reading it says why
    tool = doc.get("tool")
    return isinstance(tool, dict) and "outplace" in tool


def _start(paths: Iterable[str | os.PathLike[str]]) -> Path | None:
    """The paths' common directory (a directory counts as its own, a file by the one it is in)."""
    parents = []
    for p in paths:
        absolute = os.path.abspath(p)
        parents.append(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))
    if not parents:
        return Path(os.getcwd())
    try:
        return Path(os.path.commonpath(parents))
    except ValueError:  # pragma: no cover - different drives on Windows
        return None


def find_config(paths: Iterable[str | os.PathLike[str]] = ()) -> Path | None:
    """The closest outplace configuration file at or above the paths' common directory (no paths:
    cwd); None when there is none."""
    start = _start(paths)
    if start is None:
        return None
    for directory in (start, *start.parents):
        found = config_file(directory)
        if found is not None:
            return found
    return None


def find_project_root(paths: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """The directory of the closest outplace configuration (`find_config`); without one, the nearest
    directory at or above the paths' common parent that holds a pyproject.toml; else cwd. Absolute.
    """
    cwd = Path(os.getcwd())
    found = find_config(paths)
    if found is not None:
        return Path(os.path.abspath(found.parent))
    start = _start(paths)
    if start is None:
        return cwd
    for directory in (start, *start.parents):
        if (directory / CONFIG_FILE).is_file():
            return directory
    return cwd


def _display(path: Path) -> str:
    """`path` relative to cwd when it is below it (and cwd is not the filesystem root), for messages."""
    cwd = Path(os.getcwd())
    absolute = Path(os.path.abspath(path))
    if cwd.parent != cwd and cwd in absolute.parents:
        return os.fspath(absolute.relative_to(cwd))
    return os.fspath(absolute)


def _read_table(config: Path) -> dict[str, Any]:
    """The [tool.outplace] table of `config` ({} when the file or the table is absent); the whole
    document for an `outplace.toml` (its own `[tool.outplace]` table, if any, merged in)."""
    shown = _display(config)
    try:
        data = config.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        reason = f"[Errno {exc.errno}] {exc.strerror}" if exc.errno is not None else str(exc)
        raise ConfigError(shown, f"cannot read: {reason}") from None
    if tomllib is None:  # pragma: no cover - Python 3.10 without tomli
        raise ConfigError(shown, "reading it needs Python 3.11+ or the 'tomli' package")
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(shown, f"not valid utf-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(shown, f"invalid TOML: {exc}") from None
    tool = doc.get("tool", {})
    table = tool.get("outplace", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(shown, "[tool.outplace] must be a table", "tool.outplace")
    if config.name != CONFIG_FILE:
        return {**{k: v for k, v in doc.items() if k != "tool"}, **table}
    return table


def _check_value(source: str, where: str, key: str, value: Any) -> Any:
    """Validate one setting (snake_case `key`); returns it in Settings' form (lists become tuples)."""
    shown_key = key.replace("_", "-") if where else key
    prefix = f"{where} " if where else ""
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise ConfigError(source, f"{prefix}{shown_key!r} must be true or false, not {value!r}", shown_key)
        return value
    if key in _TABLE_KEYS:
        return _per_file_ignores(source, prefix, shown_key, value)
    if key in _PATH_KEYS:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(source, f"{prefix}{shown_key!r} must be a path, not {value!r}", shown_key)
        if where and (os.path.isabs(value) or value.startswith("~") or ".." in Path(value).parts):
            raise ConfigError(source, f"{prefix}{shown_key!r} must be a relative path inside the project, "
                                      f"not {value!r}", shown_key)
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not all(
        isinstance(v, str) for v in value
    ):
        raise ConfigError(source, f"{prefix}{shown_key!r} must be a list of strings, not {value!r}", shown_key)
    if key in ("select", "ignore"):
        for code in value:
            if not validate_rule_code(code) and code.lower() not in HAZARDS:
                raise ConfigError(
                    source,
                    f"{prefix}{shown_key!r}: {code!r} is not a rule code (OP followed by up to 3 digits) "
                    f"or a hazard level ({', '.join(HAZARDS)})",
                    shown_key,
                )
    if key == "hazards":
        if "all" in [v.lower() for v in value]:
            return HAZARDS  # (`all`, alone or with others: every level)
        for level in value:
            if level.lower() not in HAZARDS:
                raise ConfigError(source, f"{prefix}{shown_key!r}: {level!r} is not a hazard level "
                                          f"({', '.join(HAZARDS)})", shown_key)
        return tuple(dict.fromkeys(v.lower() for v in value))
    return tuple(value)


def _per_file_ignores(source: str, prefix: str, shown_key: str, value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise ConfigError(source, f"{prefix}{shown_key!r} must be a table of globs to lists of rule codes, "
                                  f"not {value!r}", shown_key)
    out = []
    for glob, codes in value.items():
        if isinstance(codes, str) or not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(source, f"{prefix}{shown_key!r}: {glob!r} must map to a list of rule codes, "
                                      f"not {codes!r}", shown_key)
        for code in codes:
            if not validate_rule_code(code) and code.lower() not in HAZARDS:
                raise ConfigError(source, f"{prefix}{shown_key!r}: {code!r} (for {glob!r}) is not a rule code "
                                          f"(OP followed by up to 3 digits) or a hazard level ({', '.join(HAZARDS)})",
                                  shown_key)
        out.append((glob, tuple(c.lower() if c.lower() in HAZARDS else c for c in codes)))
    return tuple(out)


def _split_hazard_words(values: dict[str, Any]) -> None:
    """Hazard words given in `select`/`ignore` move to `hazards` (added by select, removed by
    ignore); a `select` of hazard words alone keeps every rule."""
    hazards = list(values.get("hazards", Settings.hazards))
    for key, add in (("select", True), ("ignore", False)):
        if key not in values:
            continue
        words = [v.lower() for v in values[key] if v.lower() in HAZARDS]
        if not words:
            continue
        codes = tuple(v for v in values[key] if v.lower() not in HAZARDS)
        values[key] = codes if codes or key == "ignore" else Settings.select
        hazards = [h for h in hazards if h not in words] + words if add else [h for h in hazards if h not in words]
    values["hazards"] = tuple(h for h in HAZARDS if h in hazards)


def _from_table(table: Mapping[str, Any], shown: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key == "extend":
            continue  # read by `_read_config`
        if key not in _KNOWN:
            raise ConfigError(shown, f"[tool.outplace] unknown key {raw_key!r}", raw_key)
        if key in spelled:
            raise ConfigError(
                shown, f"[tool.outplace] {spelled[key]!r} and {raw_key!r} are the same key; give it once", raw_key
            )
        spelled[key] = raw_key
        values[key] = _check_value(shown, "[tool.outplace]", key, value)
    return values


def _read_config(config: Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The settings `config` gives, on top of those of the file it extends (recursively)."""
    shown = _display(config)
    real = os.path.realpath(config)
    if real in seen:
        raise ConfigError(shown, "`extend` makes a cycle: " + " -> ".join(_display(Path(p)) for p in (*seen, real)),
                          "extend")
    table = _read_table(config)
    values: dict[str, Any] = {}
    extend = table.get("extend")
    if extend is not None:
        if not isinstance(extend, str) or not extend.strip():
            raise ConfigError(shown, f"'extend' must be the path of another configuration file, not {extend!r}",
                              "extend")
        base = Path(os.path.expanduser(extend))
        base = base if base.is_absolute() else config.parent / base
        if not base.is_file():
            raise ConfigError(shown, f"'extend': {extend!r} is not a file ({_display(base)})", "extend")
        values = _read_config(base, (*seen, real))
    own = _from_table(table, shown)
    if "per_file_ignores" in own:
        directory = os.path.abspath(config.parent)
        own["per_file_ignores"] = tuple((directory, g, c) for g, c in own["per_file_ignores"])
        own["per_file_ignores"] = values.get("per_file_ignores", ()) + own["per_file_ignores"]
    values.update(own)
    return values


def load_settings(root: str | os.PathLike[str], config: str | os.PathLike[str] | None = None,
                  **overrides: Any) -> Settings:
    """Settings from `config` (default: the configuration file of the directory `root`, if any: see
    `config_file`), then `overrides` (Settings field names; None means "not given" and is skipped).
    Raises ConfigError for a bad file, key, type or rule code; a bad override is reported as coming
    from the "command line". An unknown override name is a programming error (TypeError).
    """
    path = Path(config) if config is not None else config_file(root)
    if config is not None and not path.exists():
        raise ConfigError("command line", f"--config {os.fspath(config)!r}: no such file")
    values = _read_config(path) if path is not None else {}
    fields = {f.name for f in dataclasses.fields(Settings)}
    for key, value in overrides.items():
        if key not in fields:
            raise TypeError(f"load_settings() got an unexpected override {key!r}")
        if value is None:
            continue
        values[key] = _check_value("command line", "", key, value) if key in _KNOWN else value
    _split_hazard_words(values)
    return Settings(**values)
