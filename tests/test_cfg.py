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


def test_break_in_a_loop_inside_try_finally_goes_to_the_loop_exit() -> None:
    cfg, at = _graph("""
        def f(b):
            c = None
            try:
                while True:
                    break
                c = b
            finally:
                pass
            return c
        """)
    loop_test, after_loop, fin = at[5], at[7], at[9]  # (line 1 is the blank one dedent leaves)
    assert after_loop in cfg.blocks[loop_test].succ  # the `break` goes on to `c = b`
    assert _paths_reach(cfg, after_loop, fin)


def test_a_with_that_may_swallow_goes_on_after_it_from_inside_its_body() -> None:
    cfg, at = _graph("""
        def f(b, suppress):
            c = b
            with suppress(ZeroDivisionError):
                x = 1 / 0
                c = None
            return c
        """)
    rebind, after = at[6], at[7]
    # from the division (line 5), control may skip `c = None` and go on to the return
    assert any(after == s or _paths_reach(cfg, s, after) for s in cfg.blocks[at[5]].succ if s != rebind)


def test_a_with_of_a_grad_mode_manager_lets_exceptions_through() -> None:
    cfg, at = _graph("""
        def f(b):
            c = b
            with torch.no_grad():
                x = 1 / 0
                c = None
            return c
        """)
    assert at[5] == at[6] == at[7]  # one straight block: no way around `c = None`


def test_match_cases_are_tried_in_order_with_what_earlier_cases_bound() -> None:
    cfg, at = _graph("""
        def f(b, x):
            match x:
                case int() as c if c > 3:
                    return b
                case _:
                    return x
        """)
    subject, first_body, second = at[3], at[5], at[7]
    # the second case is tried after the first one's pattern and guard (its capture stays bound):
    # the first case's step runs in the subject's block, and the second is reached from there,
    # not through the first case's body
    assert second in cfg.blocks[subject].succ and first_body in cfg.blocks[subject].succ
    assert [k for k, _ in cfg.blocks[second].steps][0] == "case"


def _skips_body(code: str, nonempty) -> bool:
    """Is there a path from the function's entry to the statement after the loop (line 6) that
    never runs the loop's body (line 5)?"""
    fn = ast.parse(textwrap.dedent(code)).body[0]
    cfg = CFG(fn, nonempty=nonempty)
    block_of = {getattr(node, "lineno", 0): b for b, block in enumerate(cfg.blocks) for _, node in block.steps}
    body, after = block_of[5], block_of[6]
    todo, seen = [cfg.entry], set()
    while todo:
        b = todo.pop()
        if b == after:
            return True
        if b in seen or b == body:
            continue
        seen.add(b)
        todo.extend(cfg.blocks[b].succ)
    return False


def test_a_loop_over_an_iterable_known_not_empty_has_no_path_around_its_body() -> None:
    code = """
        def f(x):
            y = x
            for i in range(3):
                y = y * 2
            return y
        """
    assert _skips_body(code, nonempty=None)
    assert _skips_body(code, nonempty=lambda it: False)
    assert not _skips_body(code, nonempty=lambda it: True)
    # `while` loops are never taken to run: their test is asked each time round.
    assert _skips_body(code.replace("for i in range(3):", "while y.sum() > 0:"), nonempty=lambda it: True)


def test_the_liveness_of_a_flow_is_that_flow_s_even_after_others_were_freed() -> None:
    """Flows made and dropped while judging (the arm split's) must not leave a liveness another
    flow, given the same id later, would be answered with (it crashed on a fixture, once in a while)."""
    import textwrap

    from outplace.analysis import Analysis
    from outplace.analysis.flow import ScopeFlow
    from outplace.optable import load_optable
    from outplace.settings import Settings

    source = textwrap.dedent("""
        import torch

        def short(x):
            return x

        def long(x):
            y = x * 2
            if x.sum() > 0:
                y = y + 1
            for i in range(3):
                y = y * i
            return y
        """)
    tree = ast.parse(source)
    an = Analysis(tree, lambda: source.splitlines(), Settings(), load_optable(), None, text=source)
    short, long = tree.body[1], tree.body[2]
    for _ in range(50):
        an.liveness(ScopeFlow(an.ctx, short))  # made, judged, dropped
        flow = ScopeFlow(an.ctx, long)
        assert an.liveness(flow).cfg is flow.cfg
