"""The run's other files, for what one file imports from them.

A file's analysis asks `resolve("timm.layers.Mlp")` (or a relative `.blocks.Block` from its own
package) when it builds a module or calls a function it imported. The index knows every file of
the run by module name (`pkg/sub/mod.py` -> `pkg.sub.mod`, packages found by their `__init__.py`),
parses a file the first time another one needs it, and keeps its `FileContext` for the rest of the
process: its classes, their module attributes, and the summaries of their methods and functions.
Re-exports (`from .mlp import Mlp` in a package's `__init__.py`) are followed.

Modules are found by name under the run's import roots (the project root, its `src/`, and the
directory above each top-level package a file of the run lives in), the way Python would find them
on `sys.path`, but only by reading files. `dependencies()` names the files one file's analysis read,
with the digest of the bytes it read, so a cache can tell when a result is stale. With `watch`
(the editor), a dependency that changed on disk is read again.
Nothing here runs project code: files are read and parsed, never imported.
"""

from __future__ import annotations

import ast
import os
import re
import stat
from pathlib import Path
from typing import Iterable, Mapping

from outplace.optable import OpTable

MAX_REEXPORT_DEPTH = 6
MAX_CONTEXTS = 64  # dependency files kept parsed per process
MAX_SIBLINGS = 200  # files of one directory read for the callers of a helper
_CALLED = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")
_IMPORT_LINE = re.compile(rb"^[ \t]*(?:from|import)[ \t][^\n]*", re.M)
_WORD = re.compile(rb"[A-Za-z_]\w*")


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
    def __init__(self, roots: Iterable[str | Path] = (), modules: Mapping[str, str] | None = None,
                 ops: OpTable | None = None) -> None:
        """`roots`: directories whose packages and modules may be imported by name (the project's
        root and its `src/`); `modules`: module names known up front (tests)."""
        self.roots = [os.path.abspath(r) for r in roots]
        self.modules = dict(modules or {})  # dotted module name -> file path (found so far)
        self.paths = {os.path.abspath(p): m for m, p in self.modules.items()}
        self.ops = ops
        self._contexts: dict[str, object | None] = {}  # path -> FileContext (None: unreadable)
        self._owner: dict[ast.AST, object] = {}  # class or function node (and a class's methods) -> its FileContext
        self._missing: set[str] = set()
        self._digests: dict[str, str] = {}  # path -> sha256 of the bytes its context was built from
        self._stats: dict[str, tuple[int, int]] = {}  # path -> (mtime_ns, size) when read (watch mode)
        self.watch = False
        self._call_words: dict[str, tuple] = {}  # directory -> (name -> files calling it, file -> import words)
        self.used: set[str] = set()

    @classmethod
    def for_project(cls, root: Path, ops: OpTable | None = None) -> ProjectIndex:
        """The project at `root`: modules under it, and under its `src/` when it has one."""
        roots = [root]
        if (root / "src").is_dir():
            roots.append(root / "src")
        return cls(roots, ops=ops)

    @classmethod
    def for_run(cls, root: Path, files: Iterable[Path], ops: OpTable | None = None) -> ProjectIndex:
        """The project at `root` as seen from the files of a run: its roots, and the directory above
        each top-level package those files are in (a library checked from outside its own tree)."""
        index = cls.for_project(root, ops)
        seen: set[str] = set()
        for path in files:
            directory = os.path.dirname(os.path.abspath(path))
            if directory in seen:
                continue
            seen.add(directory)
            top = directory
            while os.path.isfile(os.path.join(top, "__init__.py")) and os.path.dirname(top) != top:
                top = os.path.dirname(top)
            if top not in index.roots:
                index.roots.append(top)
        return index

    @classmethod
    def from_files(cls, paths: Iterable[Path], ops: OpTable | None = None) -> ProjectIndex:
        modules: dict[str, str] = {}
        for p in paths:
            if p.suffix == ".py":
                name = module_name(p)
                if name:
                    modules.setdefault(name, str(p))
        return cls(modules=modules, ops=ops)

    def find_module(self, name: str) -> str | None:
        """The file of module `name` under the roots (`a/b.py` or `a/b/__init__.py`), or None."""
        if name in self.modules:
            return self.modules[name]
        if name in self._missing or not name or not all(part.isidentifier() for part in name.split(".")):
            return None
        rel = name.replace(".", os.sep)
        for root in self.roots:
            for candidate in (os.path.join(root, rel + ".py"), os.path.join(root, rel, "__init__.py")):
                if os.path.isfile(candidate):
                    self.modules[name] = candidate
                    self.paths[os.path.abspath(candidate)] = name
                    return candidate
        self._missing.add(name)
        return None

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
            path = self.find_module(module)
            if path is not None:
                ctx = self.context(path)
                if ctx is None:
                    return None
                return self._in_module(ctx, attr, depth)
            module, _, head = module.rpartition(".")
            attr = f"{head}.{attr}"
        return None

    def _in_module(self, ctx, attr: str, depth: int) -> tuple[object, ast.AST] | None:
        if "." in attr:
            return None  # a submodule's attribute or a nested class: not followed
        binds = ctx.index.scopes[ctx.tree].bindings.get(attr, [])
        if len(binds) > 1 or ctx.rebinding.global_name(attr):
            # Bound more than once in its module (redefined under an `if`, wrapped, rebound by
            # `global`, imported as alternatives): which one a caller gets depends on the run.
            return None
        for node in ctx.tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == attr:
                self._own(node, ctx)
                return ctx, node
        target = ctx.imports.names.get(attr)
        if target is not None:
            return self.resolve(target, ctx.path, depth + 1)
        return None

    def sibling_calls(self, path: str, name: str) -> list[tuple[object, ast.Call]]:
        """Calls of the module-level function `name` of the file at `path` made by the other files
        of its directory (a helper module's callers are most often its siblings: `models/utils.py`
        called from `models/*.py`): (their FileContext, the call), for calls that resolve to it by
        their imports. Files are read and parsed only where the name is followed by `(`. A caller
        in another directory, or added after this result was cached, is not seen."""
        directory = os.path.dirname(os.path.abspath(path))
        stem = os.path.splitext(os.path.basename(path))[0]
        calls, imports = self._callers_by_name(directory)
        out: list[tuple[object, ast.Call]] = []
        for other in calls.get(name, ()):
            # (only a file that imports the helper's module by name, `from .utils import f`, `import
            # pkg.utils as U`, is parsed: reading every caller of a common name costs more than the rest)
            if other == os.path.abspath(path) or stem not in imports.get(other, ()):
                continue
            ctx = self.context(other)
            if ctx is None:
                continue
            for call in ctx.calls_resolving_to(path, name):
                out.append((ctx, call))
        return out

    def _callers_by_name(self, directory: str) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
        """For the `.py` files of `directory` (regular files only: a FIFO named `*.py` would block the
        read): which of them follow each name with `(`, and the words of each one's import lines. Read
        once per directory per process (in an editor, again each time: files change under it)."""
        cached = self._call_words.get(directory)
        if cached is not None and not self.watch:
            return cached
        got: dict[str, list[str]] = {}
        imports: dict[str, set[str]] = {}
        self._call_words[directory] = (got, imports)
        try:
            names = sorted(f for f in os.listdir(directory) if f.endswith(".py"))
        except OSError:
            return got, imports
        for f in names[:MAX_SIBLINGS]:
            other = os.path.join(directory, f)
            try:
                if not stat.S_ISREG(os.stat(other).st_mode):
                    continue
                with open(other, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            for word in set(_CALLED.findall(data)):
                got.setdefault(word.decode("ascii", "replace"), []).append(other)
            imports[other] = {w.decode("ascii", "replace") for line in _IMPORT_LINE.findall(data)
                              for w in _WORD.findall(line)}
        return got, imports

    def context(self, path: str):
        """The FileContext of a file of the run (parsed once per process)."""
        key = os.path.abspath(path)
        if key in self._contexts and self.watch and self._changed(key):
            del self._contexts[key]
        if key not in self._contexts:
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
            src = read_source(path)
            tree = ast.parse(src.text)
        except (SourceError, SyntaxError, ValueError, RecursionError, MemoryError):
            self._digests.pop(path, None)
            return None
        self._digests[path] = src.digest
        if self.watch:
            self._stats[path] = _stat(path)
        index = ScopeIndex(tree, set())  # module level now; functions when asked
        ctx = FileContext(tree, index, self.ops or load_optable(), project=self, path=path, text=src.text)
        for node in tree.body:  # whatever of it another file reaches, through any route, is its own
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                self._own(node, ctx)
        return ctx

    def _changed(self, path: str) -> bool:
        return self._stats.get(path) != _stat(path)

    def begin_file(self) -> None:
        """A new file's analysis starts: what it reads is counted afresh. Past MAX_CONTEXTS parsed
        dependencies, all are forgotten at once (bounded memory): the contexts refer to each
        other's nodes, so forgetting only some would leave nodes whose file is unknown."""
        self.used = set()
        if len(self._contexts) > MAX_CONTEXTS:
            for ctx in self._contexts.values():
                if ctx is not None:
                    ctx.close()  # breaks each one's cycles: reference counting frees them
            self._contexts.clear()
            self._owner.clear()

    def dependencies(self) -> dict[str, str]:
        """The files the current file's analysis read (absolute path -> digest of the bytes read)."""
        return {p: self._digests[p] for p in sorted(self.used) if p in self._digests}

    def _own(self, node: ast.AST, ctx) -> None:
        """`node` and, for a class, the methods and classes defined in its body belong to `ctx`
        (keyed by the node itself, not its id: an id can be reused once a context is forgotten)."""
        stack = [node]
        while stack:
            n = stack.pop()
            self._owner[n] = ctx
            if isinstance(n, ast.ClassDef):
                stack += [b for b in n.body if isinstance(b, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))]

    def context_of(self, node: ast.AST):
        return self._owner.get(node)

    def register(self, ctx) -> None:
        """The file being analysed: nothing to keep (its own definitions resolve to it directly),
        but a context of the same file loaded earlier as a dependency may be older than its text."""
        if ctx.path is not None:
            self._contexts.pop(os.path.abspath(ctx.path), None)


def _stat(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_mtime_ns, st.st_size)
