"""Rewrite plans: what a rule decided to do to one place in the source, as plain picklable data.

Rules produce plans from the stdlib AST; `outplace.rewrite` turns them into libcst edits. Plans
address the code by position (libcst's PositionProvider and the stdlib AST agree on ranges,
parentheses excluded): statement-level steps by the small statement's start, call-level steps
by the call's full span.
"""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int, int, int]  # start line, start col, end line, end col (1-based lines, char cols)


@dataclass(frozen=True)
class AugAssignPlan:
    """`x op= v` -> `x = x op v` (parenthesising `v` only where precedence needs it)."""

    stmt: tuple[int, int]


@dataclass(frozen=True)
class CallEdit:
    """How to turn one in-place call into its out-of-place form.

    kind: "rename"   `x.add_(y)` -> `x.add(y)`; `torch.relu_(x)` -> `torch.relu(x)` (`new` = name)
          "cast"     rename, then keep the dtype: `x.eq_(y)` -> `x.eq(y).to(x.dtype)`
          "dtype_kw" rename, then pass `dtype=<recv>.dtype`: `x.cumsum_(0)` -> `x.cumsum(0, dtype=x.dtype)`
          "drop_arg" remove an argument (`inplace=True`, `out=c`): `arg` is a keyword name or an index
          "template" replace the call with `new`, a template over `{self}`, `{args}` and `{arg0}`
    """

    kind: str
    new: str | None = None
    arg: str | int | None = None
    recv: str | None = None  # spelling of the receiver, for "cast"/"dtype_kw"/"template"


@dataclass(frozen=True)
class CallPlan:
    """Rewrite the call(s) in `edits` (keyed by span); optionally rebind `rebind` to the statement's value.

    `stmt` is the small statement that holds the outermost call; with `rebind` set the call must be
    that statement's whole value (expression statement `x.add_(1)` -> `x = x.add(1)`; assignment
    `u = x.add_(1)` -> `u = x = x.add(1)`).
    """

    stmt: tuple[int, int]
    edits: tuple[tuple[Span, CallEdit], ...]
    rebind: str | None = None


@dataclass(frozen=True)
class MaskedFillPlan:
    """`x[mask] = v` -> `x = x.masked_fill(mask, v)` (mask elementwise over x, scalar v); with
    `where` (the local name of torch), `x = torch.where(mask, v, x)`, which keeps x's layout where
    the mask has it (masked_fill's result is contiguous)."""

    stmt: tuple[int, int]
    where: str | None = None


@dataclass(frozen=True)
class ClonePlan:
    """Insert `x = x.clone()` before the statement that writes into `x` in place. `hoist`: a new
    name to compute the value written into first (`v = f(x[:, 0])`, then the clone, then
    `x[:, 1] = v`), where that value saves the old `x` (a clone before the whole statement would be
    what its op saves, and the write would change it)."""

    stmt: tuple[int, int]
    target: str
    hoist: str | None = None


@dataclass(frozen=True)
class NoGradPlan:
    """Run the statement at `stmt` (a simple statement alone on its line, or a compound statement)
    under `with <torch>.no_grad():`: the faithful form of an update of a parameter or leaf (an
    initialisation, a manual optimizer step, an edit of weights), which autograd refuses in place."""

    stmt: tuple[int, int]
    torch: str = "torch"  # the local name of the torch module
    indent: str = "    "  # one level of the file's indentation


# `m.inplace = True` -> `False` (OP104's attribute form; diagnose's repair of it): why it is unsafe.
SWITCH_OFF_REASON = ("every module `{assign}` reaches runs out of place instead: the same values and gradients, and "
                     "more memory; code that calls one of them without using its result (relying on the write into "
                     "its input) would change")


@dataclass(frozen=True)
class ReplaceExprPlan:
    """Replace the expression at `span` (inside the statement at `stmt`) with `text`, an expression."""

    stmt: tuple[int, int]
    span: Span
    text: str


Plan = AugAssignPlan | CallPlan | MaskedFillPlan | ClonePlan | NoGradPlan | ReplaceExprPlan
