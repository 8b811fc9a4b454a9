"""Which settings each file of a run gets: hierarchical configuration, like ruff's.

    Projects(paths, overrides, config=None)   raises ConfigError
      .settings, .root                        those of the paths' common directory (discovery, the summary)
      .groups(files)   -> [(settings, root, [index, ...])]   files sharing one configuration, in order
      .settings_for(path) -> Settings          the file's configuration (the command line's overrides on top)
      .file_settings(path) -> Settings         ... with its `per-file-ignores` applied: what its analysis uses
      .index_for(path, files) -> ProjectIndex  the project index of the file's root (one per root and run)

Each file gets the settings of the closest configuration file above it (`config.find_config`), with
the command line's overrides on top; `--config PATH` gives every file the same one. A file with no
configuration above it gets the defaults and the project root of the common directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from outplace.config import config_file, find_config, find_project_root, load_settings
from outplace.settings import Settings


class Projects:
    def __init__(self, paths: Iterable[str], overrides: dict[str, Any], config: str | None = None) -> None:
        paths = list(paths)
        self.overrides = {k: v for k, v in overrides.items() if v is not None}
        self.explicit = Path(config) if config else None
        if self.explicit is not None:
            self.root = Path(os.path.abspath(self.explicit.parent))
            self.config: Path | None = self.explicit
        else:
            self.root = find_project_root(paths)
            self.config = find_config(paths)
        self.settings = load_settings(self.root, config=self.config, **self.overrides)
        self._by_config: dict[Path | None, Settings] = {self.config: self.settings}
        self._config_of_dir: dict[str, Path | None] = {}
        self._indexes: dict[Path, Any] = {}

    def _config_for(self, path: str | os.PathLike[str]) -> Path | None:
        if self.explicit is not None:
            return self.explicit
        directory = os.path.dirname(os.path.abspath(path))
        walked = []
        found: Path | None = None
        while True:
            if directory in self._config_of_dir:
                found = self._config_of_dir[directory]
                break
            walked.append(directory)
            found = config_file(directory)
            if found is not None:
                break
            parent = os.path.dirname(directory)
            if parent == directory:
                break
            directory = parent
        for d in walked:
            self._config_of_dir[d] = found
        return found

    def _settings_of(self, config: Path | None) -> Settings:
        if config not in self._by_config:
            root = config.parent if config is not None else self.root
            self._by_config[config] = load_settings(root, config=config, **self.overrides)
        return self._by_config[config]

    def settings_for(self, path: str | os.PathLike[str]) -> Settings:
        return self._settings_of(self._config_for(path))

    def file_settings(self, path: str | os.PathLike[str]) -> Settings:
        return self.settings_for(path).for_file(path)

    def index_for(self, path: str | os.PathLike[str], files: Iterable[Path]) -> Any:
        """The project index of `path`'s root, as the run's `files` see it (what one file imports from
        the others): a second analysis of a file outside the runner sees what the runner saw."""
        from outplace.analysis.project import ProjectIndex

        root = self.root_for(path)
        if root not in self._indexes:
            self._indexes[root] = ProjectIndex.for_run(root, files)
        return self._indexes[root]

    def root_for(self, path: str | os.PathLike[str]) -> Path:
        config = self._config_for(path)
        return Path(os.path.abspath(config.parent)) if config is not None and config != self.config else self.root

    def groups(self, files: list[Path]) -> list[tuple[Settings, Path, list[int]]]:
        """The files' indices grouped by configuration (first seen first), each with its settings and root."""
        out: dict[Path | None, tuple[Settings, Path, list[int]]] = {}
        for i, path in enumerate(files):
            config = self._config_for(path)
            if config not in out:
                out[config] = (self._settings_of(config), self.root_for(path), [])
            out[config][2].append(i)
        return list(out.values())
