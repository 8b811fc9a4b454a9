"""Each rule as a libcst codemod command (README: "Every rule is a real `libcst.codemod` command"),
in process through libcst's own `transform_module`: the command fixes its rule only, honours
`--unsafe-fixes` and `--clone`, and skips a file with nothing to fix."""

from __future__ import annotations

import pytest
from libcst.codemod import CodemodContext, TransformSkip, TransformSuccess, transform_module

from outplace.codemods import RULES
from outplace.codemods import commands
from outplace.engine import fix_source
from outplace.findings import HAZARDS
from outplace.settings import Settings

SOURCE = ("import torch\nimport torch.nn.functional as F\n\n\ndef f(x: torch.Tensor):\n"
          "    y = torch.sigmoid(x)\n    y *= 2\n    h = torch.tanh(x)\n    h.mul_(2)\n    x += 1\n"
          "    g = torch.exp(x)\n    g[:, 0] = 0\n    return x, y, h, g\n")


def command_for(code: str):
    [cls] = [c for c in vars(commands).values()
             if isinstance(c, type) and issubclass(c, commands.RuleCommand) and getattr(c, "rule", None)
             and c.rule.code == code]
    return cls


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_a_command(rule) -> None:
    assert command_for(rule.code).rule is type(rule)


@pytest.mark.parametrize("unsafe,clone", [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("code", ["OP101", "OP102", "OP106"])
def test_a_command_applies_its_rule_under_the_policy_asked(code: str, unsafe: bool, clone: bool) -> None:
    expected = fix_source(SOURCE, Settings(hazards=HAZARDS, select=(code,), unsafe_fixes=unsafe, clone=clone)).output
    result = transform_module(command_for(code)(CodemodContext(), unsafe_fixes=unsafe, clone=clone, hazard="all"),
                              SOURCE)
    if expected == SOURCE:
        assert isinstance(result, TransformSkip)
    else:
        assert isinstance(result, TransformSuccess) and result.code == expected


def test_the_commands_differ_by_policy() -> None:
    """Not vacuous: OP101 has a safe and an unsafe fix here, OP106 a clone-only one."""
    safe = transform_module(command_for("OP101")(CodemodContext(), hazard="all"), SOURCE)
    unsafe = transform_module(command_for("OP101")(CodemodContext(), unsafe_fixes=True, hazard="all"), SOURCE)
    assert "y = y * 2" in safe.code and "x += 1" in safe.code and "x = x + 1" in unsafe.code
    assert isinstance(transform_module(command_for("OP106")(CodemodContext(), hazard="all"), SOURCE), TransformSkip)
    cloned = transform_module(command_for("OP106")(CodemodContext(), clone=True, hazard="all"), SOURCE)
    assert "g = g.clone()" in cloned.code
    assert isinstance(transform_module(command_for("OP101")(CodemodContext()), "import torch\nx = 1\n"), TransformSkip)


def test_the_hazard_levels_are_those_of_fix() -> None:
    """By default a command fixes what `outplace fix` does: writes that break backward. Here `f` has
    no caller, so nothing shows that `x` requires grad: the writes are `inplace`, left alone."""
    assert isinstance(transform_module(command_for("OP101")(CodemodContext()), SOURCE), TransformSkip)
    called = SOURCE + "\n\nf(torch.ones(2, 2, requires_grad=True))\n"
    assert "y = y * 2" in transform_module(command_for("OP101")(CodemodContext()), called).code
