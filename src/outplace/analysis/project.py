"""The run's other files, for what one file imports from them.

A file's analysis asks `resolve("timm.layers.Mlp")` (or a relative `.blocks.Block` from its own
package) when it builds a module or calls a function it imported. The index knows every file of
the run by module name (`pkg/sub/mod.py` -> `pkg.sub.mod`, packages found by their `__init__.py`),
parses a file the first time another one needs it, and keeps its `FileContext` for the rest of the
process: its classes, their module attributes, and the summaries of their methods and functions.
Re-exports (`from .mlp import Mlp` in a package's `__init__.py`) are followed.

`used` lists the files a file's analysis read, so a cache can tell what a result depends on.
Nothing here runs project code: files are read and parsed, never imported.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Iterable, Mapping

from outplace.optable import OpTable

MAX_REEXPORT_DEPTH = 6
MAX_CONTEXTS = 64  # dependency files kept parsed per process


def module_name(path: Path) -> str:
    """`src/pkg/sub/mod.py` -> `pkg.sub.mod` (packages are directories with an `__init__.py`)."""
    path = Path(os.path.abspath(path))
    parts = [path.stem] if path.stem != "__init__" else []
    d = path.parent
    while (d / "__init__.py").exists() and d.parent != d:
        parts.insert(0, d.name)
        d = d.parent
    return ".".join(parts)


class ProjectIndex:
    def __init__(self, modules: Mapping[str, str], ops: OpTable | None = None) -> None:
        self.modules = dict(modules)  # dotted module name -> file path
        self.paths = {os.path.abspath(p): m for m, p in self.modules.items()}
        self.ops = ops
        self._contexts: dict[str, object | None] = {}  # path -> FileContext (None: unreadable)
        self._owner: dict[int, object] = {}  # id(class or function node) -> its FileContext
        self.used: set[str] = set()

    @classmethod
    def from_files(cls, paths: Iterable[Path], ops: OpTable | None = None) -> ProjectIndex:
        modules: dict[str, str] = {}
        for p in paths:
            if p.suffix == ".py":
                name = module_name(p)
                if name:
                    modules.setdefault(name, str(p))
        return cls(modules, ops)

    def package_of(self, path: str | None) -> str:
        """The package a file's relative imports start from."""
        if path is None:
            return ""
        name = self.paths.get(os.path.abspath(path))
        if name is None:
            name = module_name(Path(path))
        return name if Path(path).name == "__init__.py" else name.rpartition(".")[0]

    def absolute(self, qualname: str, from_path: str | None) -> str:
        """`..blocks.Block` imported in `pkg/models/net.py` -> `pkg.blocks.Block`."""
        if not qualname.startswith("."):
            return qualname
        level = len(qualname) - len(qualname.lstrip("."))
        base = self.package_of(from_path).split(".") if from_path else []
        if level > 1:
            base = base[: len(base) - (level - 1)]
        rest = qualname[level:]
        return ".".join([*[b for b in base if b], rest]) if rest else ".".join(base)

    def resolve(self, qualname: str, from_path: str | None, depth: int = 0) -> tuple[object, ast.AST] | None:
        """The (FileContext, ClassDef or FunctionDef) a dotted name refers to, if a file of the run
        defines it (following re-exports); None otherwise."""
        if depth > MAX_REEXPORT_DEPTH:
            return None
        name = self.absolute(qualname, from_path)
        module, _, attr = name.rpartition(".")
        while module:
            if module in self.modules:
                ctx = self.context(self.modules[module])
                if ctx is None:
                    return None
                return self._in_module(ctx, attr, depth)
            module, _, head = module.rpartition(".")
            attr = f"{head}.{attr}"
        return None

    def _in_module(self, ctx, attr: str, depth: int) -> tuple[object, ast.AST] | None:
        if "." in attr:
            return None  # a submodule's attribute or a nested class: not followed
        for node in ctx.tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == attr:
                self._owner[id(node)] = ctx
                return ctx, node
        target = ctx.imports.names.get(attr)
        if target is not None:
            return self.resolve(target, ctx.path, depth + 1)
        return None

    def context(self, path: str):
        """The FileContext of a file of the run (parsed once per process)."""
        key = os.path.abspath(path)
        if key not in self._contexts:
            if len(self._contexts) >= MAX_CONTEXTS:  # bounded memory: forget the oldest
                old = next(iter(self._contexts))
                dropped = self._contexts.pop(old)
                if dropped is not None:
                    self._owner = {k: v for k, v in self._owner.items() if v is not dropped}
            self._contexts[key] = self._load(key)
        if self._contexts[key] is not None:
            self.used.add(key)
        return self._contexts[key]

    def _load(self, path: str):
        from outplace.analysis.filecontext import FileContext
        from outplace.analysis.scopes import ScopeIndex
        from outplace.optable import load_optable
        from outplace.source import SourceError, read_source

        try:
            text = read_source(path, digest=False).text
            tree = ast.parse(text)
        except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        index = ScopeIndex(tree, set())  # module level now; functions when asked
        return FileContext(tree, index, self.ops or load_optable(), project=self, path=path)

    def context_of(self, node: ast.AST):
        return self._owner.get(id(node))

    def register(self, ctx) -> None:
        """The file being analysed: nothing to keep (its own definitions resolve to it directly),
        but a context of the same file loaded earlier as a dependency may be older than its text."""
        if ctx.path is not None:
            self._contexts.pop(os.path.abspath(ctx.path), None)
