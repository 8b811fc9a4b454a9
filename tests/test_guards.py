"""What a branch test proves about requires-grad (analysis/guards.py), as propositional logic:
each row is a test, the branch taken, and the names proven outside any graph on it."""

from __future__ import annotations

import ast

import pytest

from outplace.analysis.guards import GRAD_OFF, bind_names, not_requiring_grad, predicate_returns


def _qualname(node: ast.AST) -> str | None:
    return {"torch.is_grad_enabled": "torch.is_grad_enabled", "is_grad_enabled": None}.get(ast.unparse(node))


@pytest.mark.parametrize("test, truth, expect", [
    ("x.requires_grad", False, {"x"}),
    ("x.requires_grad", True, set()),
    ("not x.requires_grad", True, {"x"}),
    ("not x.requires_grad", False, set()),
    ("not x.requires_grad and not y.requires_grad", True, {"x", "y"}),
    ("not x.requires_grad and not y.requires_grad", False, set()),  # one of them may
    ("x.requires_grad or y.requires_grad", False, {"x", "y"}),
    ("x.requires_grad or y.requires_grad", True, set()),
    ("not x.requires_grad or not y.requires_grad", True, set()),
    ("not x.requires_grad or not x.requires_grad", True, {"x"}),
    ("self.w.requires_grad", False, {"self.w"}),
    ("not (torch.is_grad_enabled() and (x.requires_grad or y.requires_grad))", True, {"x", "y"}),
    ("torch.is_grad_enabled() and x.requires_grad", True, set()),
    ("not torch.is_grad_enabled() or not x.requires_grad", True, {"x"}),
    ("not torch.is_grad_enabled()", True, GRAD_OFF),
    ("torch.is_grad_enabled()", True, set()),
    ("is_grad_enabled() and x.requires_grad", False, set()),  # not torch's: proves nothing
    ("x.is_cuda and not x.requires_grad", True, {"x"}),
    ("x.is_cuda and not x.requires_grad", False, set()),
    ("f(x).requires_grad", False, set()),  # not a name
])
def test_what_a_test_proves(test: str, truth: bool, expect) -> None:
    got = not_requiring_grad(ast.parse(test, mode="eval").body, truth, _qualname)
    assert got == (expect if expect == GRAD_OFF else frozenset(expect))


def test_inside_a_predicate_only_its_parameters_speak_for_the_caller() -> None:
    test = ast.parse("not a.requires_grad and not g.requires_grad", mode="eval").body
    assert not_requiring_grad(test, True, _qualname, subst={"a": "img1"}) == {"img1"}


@pytest.mark.parametrize("code, returns", [
    ("def p(a):\n    return not a.requires_grad\n", 1),
    ("def p(a):\n    if a.is_cuda:\n        return False\n    return not a.requires_grad\n", 2),
    ("def p(a):\n    a = a.detach()\n    return not a.requires_grad\n", None),  # rebinds its parameter
    ("def p(a):\n    if a.is_cuda:\n        return True\n", None),  # may fall off the end
    ("def p(a):\n    yield a\n    return True\n", None),
    ("def p(a):\n    return\n", None),
    ("async def p(a):\n    return True\n", None),
])
def test_a_predicate_is_a_function_that_returns_on_every_way_out(code: str, returns) -> None:
    got = predicate_returns(ast.parse(code).body[0])
    assert (None if got is None else len(got)) == returns


def test_arguments_bind_by_position_and_keyword_skipping_self() -> None:
    fn = ast.parse("def p(self, a, b, c=None):\n    return True\n").body[0]
    call = ast.parse("self.p(x, self.y, c=z)", mode="eval").body
    assert bind_names(fn, call, bound_self=True) == {"a": "x", "b": "self.y", "c": "z"}
    call = ast.parse("p(q, f(x))", mode="eval").body
    assert bind_names(fn, call, bound_self=False) == {"self": "q"}
