"""OP107: in-place ops without a same-name twin (`zero_`, `fill_`, `copy_`, random fills)."""

from __future__ import annotations

import ast

from outplace.analysis import Analysis

from .base import RuleDoc
from .op102_inplace_method import InplaceMethod


class InplaceWithoutTwin(InplaceMethod):
    """Shares OP102's chain detector; reports the op-table rows without a same-name twin."""

    code = "OP107"
    name = "inplace-without-twin"
    summary = "In-place op without a same-name twin (`zero_`, `fill_`, `copy_`, random fills)"
    doc = RuleDoc(
        what="Finds in-place tensor methods that have no out-of-place method of the same name: `zero_`, "
             "`fill_`, `copy_`, `fill_diagonal_` and the random fills (`uniform_`, `normal_`, "
             "`bernoulli_`, `random_`, `exponential_`, ...).",
        why="Like every in-place write, it breaks backward when autograd saved the tensor.",
        example="y = torch.tanh(x)\ny.fill_(0.5)",
        use_instead="y = torch.tanh(x)\ny = torch.fill(y, 0.5)",
        fix_safety="`fill_(v)` -> `torch.fill(x, v)` and `zero_()` -> `torch.fill(x, 0)` keep values, dtype "
                   "and graph. `copy_(src)` -> `src.expand_as(x).to(x, copy=True)` and random fills -> "
                   "`torch.empty_like(x).uniform_(...)` (the same stream under the same seed) are unsafe: the "
                   "new tensor is not connected to what `x` was computed from, so gradients there become None "
                   "instead of zeros, and a backward through it alone raises. `fill_diagonal_` has no exact out-of-place form: "
                   "with `--clone` it becomes `x = x.clone()` before the write; otherwise it is reported "
                   "without a fix.",
    )

    kinds = ("equivalent", "random")

    def message(self, an: Analysis, shown: str, links: list[ast.Call], named: bool) -> str:
        chain = ".".join(f"{ln.func.attr}()" for ln in reversed(links))  # type: ignore[attr-defined]
        what = f"tensor `{shown}`" if named else "a tensor"
        return f"`{shown}.{chain}` modifies {what} in place; it has no same-name out-of-place twin"
