"""The control-flow graph (analysis/cfg.py): what runs after what. A statement must never share a
block with a branch test it follows only on one side of (the flow would run it before the branch)."""

from __future__ import annotations

import ast
import textwrap

from outplace.analysis.cfg import CFG


def _graph(code: str) -> tuple[CFG, dict[int, int]]:
    fn = ast.parse(textwrap.dedent(code)).body[0]
    cfg = CFG(fn)
    block_of = {getattr(node, "lineno", 0): b for b, block in enumerate(cfg.blocks) for _, node in block.steps}
    return cfg, block_of


def _paths_reach(cfg: CFG, src: int, dst: int) -> bool:
    todo, seen = [src], set()
    while todo:
        b = todo.pop()
        if b == dst:
            return True
        if b not in seen:
            seen.add(b)
            todo.extend(cfg.blocks[b].succ)
    return False


def test_after_an_if_whose_body_returns_comes_a_block_of_its_own_on_the_false_edge() -> None:
    cfg, at = _graph("""
        def pick(x, skip):
            if skip:
                return x
            x = x * 2
            return x
        """)
    test, early, after = at[3], at[4], at[5]
    assert len({test, early, after}) == 3
    assert cfg.conditions[(test, after)][1] is False
    assert cfg.conditions[(test, early)][1] is True
    assert not _paths_reach(cfg, after, early) and not _paths_reach(cfg, early, after)


def test_after_an_if_that_falls_through_both_ways_meet() -> None:
    cfg, at = _graph("""
        def f(x, c):
            if c:
                x = x + 1
            return x
        """)
    test, body, after = at[3], at[4], at[5]
    assert after not in (test, body)
    assert _paths_reach(cfg, body, after) and test in cfg.blocks[after].pred
    assert cfg.conditions[(test, after)][1] is False


def test_after_a_match_whose_cases_all_return_comes_the_no_match_block() -> None:
    cfg, at = _graph("""
        def f(x, mode):
            match mode:
                case "a":
                    return x
            x = x * 2
            return x
        """)
    subject, case, after = at[3], at[5], at[6]
    assert after != subject
    assert not _paths_reach(cfg, case, after)
    assert _paths_reach(cfg, subject, after)
