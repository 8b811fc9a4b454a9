"""Resolve dotted names through a file's imports, cheaply (no libcst QualifiedNameProvider).

`import torch.nn.functional as F` makes `F.relu` resolve to `torch.nn.functional.relu`;
`from torch import nn` makes `nn.ReLU` resolve to `torch.nn.ReLU`.
"""

from __future__ import annotations

import ast
import re
from typing import Iterable

_STORE_OPERATOR = r"[ \t]*(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=(?!=)"
_SETATTR = re.compile(r"setattr\(\s*([A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)*)\s*,\s*['\"]([A-Za-z_]\w*)['\"]")


class ImportMap:
    def __init__(self, nodes: Iterable[ast.AST]) -> None:
        """From the Import/ImportFrom nodes of the scopes analysed: module-level imports and those of
        any function analysed count (function-local `import torch` is common in scripts)."""
        self.names: dict[str, str] = {}
        self._memo: dict[int, str | None] = {}
        # A name imported from two places (`try: from fast import pick` / `except ImportError: from
        # slow import pick`, or under `if`/`else`) is whichever ran: it resolves to neither.
        ambiguous: set[str] = set()

        def bind(name: str, target: str) -> None:
            if self.names.get(name, target) != target:
                ambiguous.add(name)
            self.names[name] = target

        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bind(alias.asname, alias.name)
                    else:
                        top = alias.name.split(".")[0]
                        bind(top, top)
            elif isinstance(node, ast.ImportFrom) and (node.module or node.level):
                # Relative imports keep their dots (`.blocks.Block`): the project index resolves them.
                base = "." * node.level + (node.module or "")
                for alias in node.names:
                    if alias.name != "*":
                        bind(alias.asname or alias.name, f"{base}.{alias.name}" if node.module or not
                             node.level else f"{base}{alias.name}")
        for name in ambiguous:
            del self.names[name]
        self.patched: frozenset[str] = frozenset()

    def note_patches(self, text: str) -> None:
        """Names of imported modules the file stores into (`typing.final = final`, `setattr(functools,
        "wraps", f)`): what they hold when the code runs is the file's, not the library's, so they
        (and every name under them) resolve to nothing: no fact about the library's name applies.
        (torch's own names stay: a file that patches torch has no safe fix at all, see opaque.py.)"""
        # (`typing.final = final`, `F.gelu += ...`: a store into an attribute of an imported name that is
        # not torch's; a text scan for those names only, comments and strings included: a false hit only
        # makes a name unknown)
        names = [re.escape(n) for n, q in self.names.items() if not _is_torch(q)]
        if not names:
            return
        store = re.compile(rf"(?<![\w.])((?:{'|'.join(names)})(?:[ \t]*\.[ \t]*[A-Za-z_]\w*)+){_STORE_OPERATOR}")
        stored = [m.group(1) for m in store.finditer(text)]
        if "setattr" in text:
            stored += [f"{m.group(1)}.{m.group(2)}" for m in _SETATTR.finditer(text)]
        patched = set()
        for spelling in stored:
            chain = [part.strip() for part in spelling.split(".")]
            if chain[0] in self.names and not _is_torch(self.names[chain[0]]):
                patched.add(".".join([self.names[chain[0]], *chain[1:]]))
        self.patched = frozenset(patched)
        self._memo.clear()

    def qualname(self, node: ast.AST) -> str | None:
        """`F.relu` -> 'torch.nn.functional.relu'; None unless the chain starts at an imported name."""
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        chain = _chain(node)
        if chain is None or chain[0] not in self.names:
            out = None
        else:
            out = ".".join([self.names[chain[0]], *chain[1:]])
            if self.patched and any(out == p or out.startswith(p + ".") for p in self.patched):
                out = None  # (the file stores into it, or into a module above it)
        self._memo[key] = out
        return out


def _is_torch(qualname: str) -> bool:
    return qualname == "torch" or qualname.startswith("torch.")


def dotted(node: ast.AST) -> str | None:
    """The source spelling of a Name/Attribute chain (`self.bn.weight`), else None."""
    chain = _chain(node)
    return ".".join(chain) if chain is not None else None


def _chain(node: ast.AST) -> list[str] | None:
    """`self.bn.weight` -> ["self", "bn", "weight"]; None for anything but a Name/Attribute chain."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return [node.id, *reversed(parts)]
