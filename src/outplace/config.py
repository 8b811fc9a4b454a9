"""Configuration: `[tool.outplace]` in pyproject.toml, overridden by the command line.

    find_project_root(paths)          -> Path       (nearest directory with a pyproject.toml, else cwd)
    load_settings(root, **overrides)  -> Settings   (raises ConfigError, one line, naming file and key)

Keys (kebab-case; snake_case accepted too): select, ignore, unsafe-fixes, clone, exclude,
extend-exclude, respect-gitignore, force-exclude, cache-dir. `exclude` replaces the default excludes;
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

from outplace.settings import Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    try:
        import tomli as tomllib
    except ImportError:
        tomllib = None

__all__ = ["CONFIG_FILE", "ConfigError", "find_project_root", "load_settings", "validate_rule_code"]

CONFIG_FILE = "pyproject.toml"
_RULE_CODE_RE = re.compile(r"OP[0-9]{0,3}")

_LIST_KEYS = ("select", "ignore", "exclude", "extend_exclude")
_BOOL_KEYS = ("unsafe_fixes", "clone", "respect_gitignore", "force_exclude")
_PATH_KEYS = ("cache_dir",)
_KNOWN = _LIST_KEYS + _BOOL_KEYS + _PATH_KEYS


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


def find_project_root(paths: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """The nearest directory at or above the paths' common parent that holds a pyproject.toml, else cwd.

    A directory in `paths` counts as its own parent; a file, by the directory it is in. No paths: cwd.
    Any pyproject.toml counts, with or without a [tool.outplace] table. The result is absolute.
    """
    cwd = Path(os.getcwd())
    parents = []
    for p in paths:
        absolute = os.path.abspath(p)
        parents.append(absolute if os.path.isdir(absolute) else os.path.dirname(absolute))
    if not parents:
        start = cwd
    else:
        try:
            start = Path(os.path.commonpath(parents))
        except ValueError:  # pragma: no cover - different drives on Windows
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
    """The [tool.outplace] table of `config` ({} when the file or the table is absent)."""
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
    return table


def _check_value(source: str, where: str, key: str, value: Any) -> Any:
    """Validate one setting (snake_case `key`); returns it in Settings' form (lists become tuples)."""
    shown_key = key.replace("_", "-") if where else key
    prefix = f"{where} " if where else ""
    if key in _BOOL_KEYS:
        if not isinstance(value, bool):
            raise ConfigError(source, f"{prefix}{shown_key!r} must be true or false, not {value!r}", shown_key)
        return value
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
            if not validate_rule_code(code):
                raise ConfigError(
                    source,
                    f"{prefix}{shown_key!r}: {code!r} is not a rule code (OP followed by up to 3 digits)",
                    shown_key,
                )
    return tuple(value)


def _from_table(table: Mapping[str, Any], shown: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in _KNOWN:
            raise ConfigError(shown, f"[tool.outplace] unknown key {raw_key!r}", raw_key)
        if key in spelled:
            raise ConfigError(
                shown, f"[tool.outplace] {spelled[key]!r} and {raw_key!r} are the same key; give it once", raw_key
            )
        spelled[key] = raw_key
        values[key] = _check_value(shown, "[tool.outplace]", key, value)
    return values


def load_settings(root: str | os.PathLike[str], **overrides: Any) -> Settings:
    """Settings from `root`/pyproject.toml's [tool.outplace], then `overrides` (Settings field names;
    None means "not given" and is skipped). Raises ConfigError for a bad file, key, type or rule code;
    a bad override is reported as coming from the "command line". An unknown override name is a
    programming error (TypeError).
    """
    config = Path(root) / CONFIG_FILE
    shown = _display(config)
    values = _from_table(_read_table(config), shown)
    fields = {f.name for f in dataclasses.fields(Settings)}
    for key, value in overrides.items():
        if key not in fields:
            raise TypeError(f"load_settings() got an unexpected override {key!r}")
        if value is None:
            continue
        values[key] = _check_value("command line", "", key, value) if key in _KNOWN else value
    return Settings(**values)
