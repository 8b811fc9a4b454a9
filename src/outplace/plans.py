"""Rewrite plans: what a rule decided to do to one place in the source, as plain (picklable) data,
and how each plan turns libcst nodes into their out-of-place form.

A plan is matched to libcst nodes by source position (libcst's PositionProvider and the stdlib AST
agree on ranges, parentheses excluded). Statement-level steps address a small statement by its start;
call-level steps address a call by its full range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import libcst as cst

Span = tuple[int, int, int, int]  # start line, start col, end line, end col (1-based lines, char cols)

AUG_TO_BIN = {
    "+=": cst.Add, "-=": cst.Subtract, "*=": cst.Multiply, "/=": cst.Divide, "//=": cst.FloorDivide,
    "%=": cst.Modulo, "**=": cst.Power, "@=": cst.MatrixMultiply, "&=": cst.BitAnd, "|=": cst.BitOr,
    "^=": cst.BitXor, "<<=": cst.LeftShift, ">>=": cst.RightShift,
}

# Binding strength of an expression as the right operand (higher binds tighter).
_BIN_PREC = {
    cst.BitOr: 4, cst.BitXor: 5, cst.BitAnd: 6, cst.LeftShift: 7, cst.RightShift: 7, cst.Add: 8,
    cst.Subtract: 8, cst.Multiply: 9, cst.MatrixMultiply: 9, cst.Divide: 9, cst.FloorDivide: 9,
    cst.Modulo: 9, cst.Power: 11,
}
_UNARY_PREC = 10


def _prec(node: cst.BaseExpression) -> int:
    if node.lpar:  # already an atom
        return 100
    if isinstance(node, cst.BinaryOperation):
        return _BIN_PREC[type(node.operator)]
    if isinstance(node, cst.UnaryOperation):
        return 3 if isinstance(node.operator, cst.Not) else _UNARY_PREC
    if isinstance(node, cst.Comparison):
        return 3
    if isinstance(node, cst.BooleanOperation):
        return 2
    if isinstance(node, (cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Tuple, cst.Yield, cst.StarredElement)):
        return 0
    if isinstance(node, cst.Await):
        return 12
    return 100  # names, calls, attributes, subscripts, literals, brackets


def right_operand(op: type[cst.BaseBinaryOp], value: cst.BaseExpression) -> cst.BaseExpression:
    """`value` as the right operand of `op`, parenthesised only where precedence requires it."""
    mine = _BIN_PREC[op]
    theirs = _prec(value)
    # `**` is right-associative and its right operand may be a bare unary (`x ** -a`).
    needs = theirs < _UNARY_PREC if op is cst.Power else theirs <= mine
    if isinstance(value, cst.Tuple) and not value.lpar:
        needs = True
    return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if needs else value


def name_expr(spelling: str) -> cst.BaseExpression:
    return cst.parse_expression(spelling)


# ---- plans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AugAssignPlan:
    """`x op= v` -> `x = x op v`."""

    stmt: tuple[int, int]

    def statement(self, node: cst.BaseSmallStatement) -> Sequence[cst.BaseSmallStatement] | None:
        if not isinstance(node, cst.AugAssign):
            return None
        op_text = node.operator._get_token()  # e.g. "+="
        bin_op = AUG_TO_BIN[op_text]
        target = node.target
        value = cst.BinaryOperation(
            left=target.deep_clone(), operator=bin_op(), right=right_operand(bin_op, node.value))
        return [cst.Assign(
            targets=[cst.AssignTarget(
                target=target,
                whitespace_before_equal=node.operator.whitespace_before,
                whitespace_after_equal=node.operator.whitespace_after)],
            value=value, semicolon=node.semicolon)]


@dataclass(frozen=True)
class CallEdit:
    """How to turn one in-place call into its out-of-place form.

    kind: "rename"   `x.add_(y)` -> `x.add(y)`; `torch.relu_(x)` -> `torch.relu(x)` (`new` = name)
          "cast"     rename, then keep the dtype: `x.eq_(y)` -> `x.eq(y).to(x.dtype)`
          "dtype_kw" rename, then pass `dtype=<recv>.dtype`: `x.cumsum_(0)` -> `x.cumsum(0, dtype=x.dtype)`
          "drop_arg" remove an argument (`inplace=True`, `out=c`): `arg` is a keyword name or an index
          "template" replace the call with `new`, a template over `{self}` and `{args}`
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

    def call(self, span: Span, node: cst.Call) -> cst.BaseExpression | None:
        for s, edit in self.edits:
            if s == span:
                return apply_call_edit(edit, node)
        return None

    def statement(self, node: cst.BaseSmallStatement) -> Sequence[cst.BaseSmallStatement] | None:
        if self.rebind is None:
            return [node]
        target = cst.AssignTarget(name_expr(self.rebind))
        if isinstance(node, cst.Expr):
            return [cst.Assign(targets=[target], value=node.value, semicolon=node.semicolon)]
        if isinstance(node, cst.Assign):
            return [node.with_changes(targets=[*node.targets, target])]
        return None


@dataclass(frozen=True)
class MaskedFillPlan:
    """`x[mask] = v` -> `x = x.masked_fill(mask, v)` (mask elementwise over x, scalar v)."""

    stmt: tuple[int, int]

    def statement(self, node: cst.BaseSmallStatement) -> Sequence[cst.BaseSmallStatement] | None:
        if not isinstance(node, cst.Assign) or len(node.targets) != 1:
            return None
        sub = node.targets[0].target
        if not isinstance(sub, cst.Subscript) or len(sub.slice) != 1:
            return None
        index = sub.slice[0].slice
        if not isinstance(index, cst.Index):
            return None
        call = cst.Call(
            func=cst.Attribute(value=sub.value.deep_clone(), attr=cst.Name("masked_fill")),
            args=[cst.Arg(index.value.with_changes(lpar=[], rpar=[]) if isinstance(index.value, cst.Tuple) is False
                          else index.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                  cst.Arg(node.value)])
        return [cst.Assign(targets=[node.targets[0].with_changes(target=sub.value)], value=call,
                           semicolon=node.semicolon)]


@dataclass(frozen=True)
class ClonePlan:
    """Insert `x = x.clone()` before the statement that writes into `x` in place."""

    stmt: tuple[int, int]
    target: str

    def statement(self, node: cst.BaseSmallStatement) -> Sequence[cst.BaseSmallStatement] | None:
        clone = cst.Assign(
            targets=[cst.AssignTarget(name_expr(self.target))],
            value=cst.Call(func=cst.Attribute(value=name_expr(self.target), attr=cst.Name("clone"))))
        return [clone, node]


Plan = AugAssignPlan | CallPlan | MaskedFillPlan | ClonePlan


# ---- call edits ---------------------------------------------------------------------------------


def apply_call_edit(edit: CallEdit, node: cst.Call) -> cst.BaseExpression:
    kind = edit.kind
    if kind in ("rename", "cast", "dtype_kw"):
        func = node.func
        if isinstance(func, cst.Attribute):
            node = node.with_changes(func=func.with_changes(attr=cst.Name(edit.new)))
        else:
            raise ValueError("rename needs an attribute call")
        if kind == "cast":
            return cst.Call(func=cst.Attribute(value=node, attr=cst.Name("to")),
                            args=[cst.Arg(name_expr(f"{edit.recv}.dtype"))])
        if kind == "dtype_kw":
            return node.with_changes(args=[*_with_trailing_comma(node.args), cst.Arg(
                name_expr(f"{edit.recv}.dtype"), keyword=cst.Name("dtype"),
                equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                      whitespace_after=cst.SimpleWhitespace("")))])
        return node
    if kind == "drop_arg":
        args = list(node.args)
        if isinstance(edit.arg, str):
            keep = [a for a in args if not (a.keyword is not None and a.keyword.value == edit.arg)]
        else:
            keep = [a for i, a in enumerate(args) if i != edit.arg]
        if keep and len(keep) < len(args):
            # The new last argument inherits the old last one's comma (none, or a trailing comma).
            keep[-1] = keep[-1].with_changes(comma=args[-1].comma if args[-1] is not keep[-1] else keep[-1].comma)
        return node.with_changes(args=keep)
    if kind == "template":
        module = cst.Module([])
        args_code = ", ".join(module.code_for_node(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
                              for a in node.args)
        recv = module.code_for_node(node.func.value) if isinstance(node.func, cst.Attribute) else edit.recv
        code = edit.new.format(self=recv, args=args_code,
                               arg0=module.code_for_node(node.args[0].value) if node.args else "")
        return cst.parse_expression(code)
    raise ValueError(f"unknown call edit {kind}")


def _with_trailing_comma(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    args = list(args)
    if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return args
