"""Resolve dotted names through a file's imports, cheaply (no libcst QualifiedNameProvider).

`import torch.nn.functional as F` makes `F.relu` resolve to `torch.nn.functional.relu`;
`from torch import nn` makes `nn.ReLU` resolve to `torch.nn.ReLU`.
"""

from __future__ import annotations

import ast
from typing import Iterable


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
        self._memo[key] = out
        return out


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
