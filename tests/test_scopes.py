"""The scope index's fast child getters against the stdlib's own traversal."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import outplace
from outplace.analysis.scopes import _children, walk

_SKIPPED = (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)
# Every construct the grammar of this Python has, in one module (match, async, walrus, f-strings,
# starred, dict unpacking, keyword-only defaults, lambdas, decorators, try/except(*)...).
EVERYTHING = '''
import a.b as c
from . import d
@dec(1)
async def f(x, /, y=1, *args, z, w=2, **kw) -> int:
    global g
    async with m() as (p, q):
        async for i in r:
            await s
    return {**d, 1: 2}, [*l], {x for x in y if x}, (lambda v=3: v), f"{x!r:>{w}}"
class K(B, metaclass=M):
    t: int = 1
    def m(self):
        nonlocal_ = 1
        while (n := 1) > 0 and not n or -n:
            del a[1:2, ...]
        match self:
            case [1, *rest] | {"k": v, **others} if v:
                pass
            case K(a=1) as k:
                pass
        try:
            raise E from None
        except ValueError as e:
            x @= y
        finally:
            assert x, "m"
        yield from z
'''
if sys.version_info >= (3, 11):
    EVERYTHING += "try:\n    pass\nexcept* ValueError:\n    pass\n"


def _sources() -> list[str]:
    src = Path(outplace.__file__).parent
    return [EVERYTHING] + [p.read_text(encoding="utf-8") for p in sorted(src.rglob("*.py"))]


def test_children_match_iter_child_nodes_without_contexts_and_operators() -> None:
    seen: set[type] = set()
    for source in _sources():
        for node in ast.walk(ast.parse(source)):
            expected = [c for c in ast.iter_child_nodes(node) if not isinstance(c, _SKIPPED)]
            assert _children(node) == expected, type(node).__name__
            seen.add(type(node))
    assert {ast.Match, ast.JoinedStr, ast.Dict, ast.arguments, ast.MatchMapping, ast.ExceptHandler} <= seen
    assert sys.version_info < (3, 11) or ast.TryStar in seen


def test_walk_visits_what_ast_walk_visits() -> None:
    tree = ast.parse(EVERYTHING)
    expected = [n for n in ast.walk(tree) if not isinstance(n, _SKIPPED)]
    got = list(walk(tree))
    assert sorted(map(id, got)) == sorted(map(id, expected)) and len(got) == len(expected)
