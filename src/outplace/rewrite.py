"""Apply rewrite plans to source text with libcst, touching only the regions that change.

A region is the run of whole lines holding one or more statements that carry plans. Each region is
parsed by libcst on its own (inside a synthetic `if True:` when indented), transformed, printed and
spliced back; every other byte of the file is left exactly as it was. A region whose statements sit
in a one-line body (`if c: y *= 2`, `else: ...`) or after a form feed is cut out from its first
statement's column instead, and parsed as a module of its own. When a region cannot stand on its own,
the whole file is transformed. libcst does not print back some texts exactly (a form feed in a
module-level indentation, a lone "\r" at the end): such a region is not rewritten at all.

Work is linear in the size of the file: statements, plans and regions are each visited a bounded
number of times (sorted sweeps, no region-by-plan or statement-by-plan products).
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass
from typing import Iterable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from outplace.plans import (AugAssignPlan, CallEdit, CallPlan, ClonePlan, MaskedFillPlan, NoGradPlan, Plan,
                            ReplaceExprPlan, Span)
from outplace.source import char_col, split_lines


@dataclass(frozen=True)
class Region:
    first: int  # 1-based first line
    last: int  # 1-based last line (inclusive)
    col: int = 0  # > 0: the region starts at this character column of `first` (a one-line body, a form feed)


class _Transformer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, plans: Sequence[tuple[int, Plan]], line_shift: int, cut: tuple[int, int] = (0, 0),
                 inline: bool = False) -> None:
        super().__init__()
        self.shift = line_shift  # region line + shift = file line
        self.cut = cut  # (line, columns): that line of the parsed text was cut from mid-line; add them back
        self.inline = inline  # the region continues a line: statements that become several stay on it
        self.by_stmt: dict[tuple[int, int], list[tuple[int, Plan]]] = {}
        self.call_spans: dict[Span, list[tuple[int, Plan]]] = {}
        self.expr_spans: dict[Span, tuple[int, ReplaceExprPlan]] = {}
        self.no_grad: dict[tuple[int, int], tuple[int, NoGradPlan]] = {}
        for pid, plan in plans:
            if isinstance(plan, ReplaceExprPlan):
                self.expr_spans.setdefault(plan.span, (pid, plan))
                continue
            if isinstance(plan, NoGradPlan):
                self.no_grad.setdefault(plan.stmt, (pid, plan))
                continue
            self.by_stmt.setdefault(plan.stmt, []).append((pid, plan))
            for span, _ in getattr(plan, "edits", ()):
                self.call_spans.setdefault(span, []).append((pid, plan))
        self.applied_calls: dict[int, int] = {}
        self.applied: set[int] = set()

    def _span(self, node: cst.CSTNode) -> Span:
        r = self.get_metadata(PositionProvider, node)
        line, cols = self.cut
        start_col = r.start.column + (cols if r.start.line == line else 0)
        end_col = r.end.column + (cols if r.end.line == line else 0)
        return (r.start.line + self.shift, start_col, r.end.line + self.shift, end_col)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        hits = self.call_spans.get(self._span(original))
        if not hits:
            return updated
        pid, plan = hits[0]
        span = self._span(original)
        edit = next(e for s, e in plan.edits if s == span)  # type: ignore[union-attr]
        try:
            new = rewrite_call(edit, updated)
        except (ValueError, cst.ParserSyntaxError):
            return updated  # the plan does not fit this node: it is reported as not applied
        self.applied_calls[pid] = self.applied_calls.get(pid, 0) + 1
        return new

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode):
        updated = super().on_leave(original, updated)
        if self.expr_spans and isinstance(original, cst.BaseExpression) and isinstance(updated, cst.BaseExpression):
            hit = self.expr_spans.get(self._span(original))
            if hit is not None:
                pid, plan = hit
                try:
                    new = cst.parse_expression(plan.text)
                except cst.ParserSyntaxError:
                    return updated
                self.applied.add(pid)
                return new.with_changes(lpar=updated.lpar, rpar=updated.rpar) if updated.lpar else new
        if self.no_grad and isinstance(original, cst.BaseCompoundStatement) and isinstance(updated, cst.BaseStatement):
            return self._under_no_grad(original, updated)
        return updated

    def _under_no_grad(self, original: cst.BaseStatement, updated: cst.BaseStatement):
        """`updated` inside `with torch.no_grad():` when a NoGradPlan names it."""
        span = self._span(original)
        if isinstance(original, cst.SimpleStatementLine):
            if len(original.body) != 1 or self.inline:
                return updated
            span = self._span(original.body[0])
        hit = self.no_grad.get((span[0], span[1]))
        if hit is None:
            return updated
        pid, plan = hit
        leading = updated.leading_lines
        inner = updated.with_changes(leading_lines=[])
        self.applied.add(pid)
        return cst.With(items=[cst.WithItem(cst.parse_expression(f"{plan.torch}.no_grad()"))],
                        body=cst.IndentedBlock(body=[inner], indent=plan.indent), leading_lines=leading)

    def _rewrite_body(self, original: Sequence[cst.BaseSmallStatement],
                      updated: Sequence[cst.BaseSmallStatement]) -> list[cst.BaseSmallStatement]:
        new_body: list[cst.BaseSmallStatement] = []
        for orig_small, small in zip(original, updated):
            span = self._span(orig_small)
            plans = self.by_stmt.get((span[0], span[1]), [])
            for pid, plan in plans:
                if self.applied_calls.get(pid, 0) != len(getattr(plan, "edits", ())):
                    continue  # its call edits did not all land: leave the statement alone
                out = rewrite_statement(plan, small)
                if out is None:
                    continue
                self.applied.add(pid)
                small = out[-1]
                new_body.extend(out[:-1])
            new_body.append(small)
        return new_body

    @staticmethod
    def _semicolons(body: list[cst.BaseSmallStatement]) -> list[cst.BaseSmallStatement]:
        """Small statements joined on one line: `a; b` (the last keeps its own semicolon, if any)."""
        return [s.with_changes(semicolon=cst.Semicolon(whitespace_after=cst.SimpleWhitespace(" ")))
                for s in body[:-1]] + body[-1:]

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        new_body = self._rewrite_body(original.body, updated.body)
        if len(new_body) == len(updated.body):
            updated = updated.with_changes(body=new_body)
            return self._under_no_grad(original, updated) if self.no_grad else updated
        if len(updated.body) == 1 and not self.inline:
            # One statement became several: put each on its own line, comments on the right ones.
            lines = [cst.SimpleStatementLine(body=[s.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])
                     for s in new_body]
            lines[0] = lines[0].with_changes(leading_lines=updated.leading_lines)
            lines[-1] = lines[-1].with_changes(trailing_whitespace=updated.trailing_whitespace)
            return cst.FlattenSentinel(lines)
        return updated.with_changes(body=self._semicolons(new_body))

    def leave_SimpleStatementSuite(
        self, original: cst.SimpleStatementSuite, updated: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        """A one-line body (`if c: y *= 2`): statements that become several stay on the line."""
        new_body = self._rewrite_body(original.body, updated.body)
        if len(new_body) == len(updated.body):
            return updated.with_changes(body=new_body)
        return updated.with_changes(body=self._semicolons(new_body))


class NotExact(Exception):
    """libcst would not print this text back byte for byte: it is not rewritten."""


_SENTINEL = "pass"


def _transform(code: str, plans: Sequence[tuple[int, Plan]], line_shift: int, cut: tuple[int, int] = (0, 0),
               inline: bool = False) -> tuple[str, set[int]]:
    """Parse `code` with libcst, apply `plans`, print it back. Raises ParserSyntaxError when `code`
    does not parse on its own, NotExact when libcst would not reproduce its untouched bytes."""
    # libcst drops a lone "\r" that ends a module: give it a statement to end instead, cut off after.
    sentinel = code.endswith("\r") and not code.endswith("\r\n")
    text = code + _SENTINEL if sentinel else code
    module = cst.parse_module(text)
    if "\x0c" in text and module.code != text:
        raise NotExact("a form feed libcst does not keep")
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    transformer = _Transformer(plans, line_shift, cut, inline)
    new = wrapper.visit(transformer).code
    if sentinel:
        if not new.endswith("\r" + _SENTINEL):
            raise NotExact("the end of the text changed")
        new = new[: -len(_SENTINEL)]
    return new, transformer.applied


_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.FunctionDef,
             ast.AsyncFunctionDef, ast.ClassDef) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ()) \
    + ((ast.Match,) if hasattr(ast, "Match") else ())


_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def iter_statements(tree: ast.Module):
    """Every statement with its enclosing statement (None at module level), without visiting
    expressions: much cheaper than ast.walk when only statements matter."""
    stack: list[tuple[ast.AST, ast.stmt | None]] = [(s, None) for s in reversed(tree.body)]
    while stack:
        node, parent = stack.pop()
        if isinstance(node, ast.stmt):
            yield node, parent
            owner: ast.stmt | None = node
        else:  # except handlers and match cases hold statements too
            owner = parent
        for field in _BLOCKS:
            block = getattr(node, field, None)
            if block:
                stack.extend((child, owner) for child in reversed(block))


def statement_lines(stmt: ast.stmt) -> Region:
    first = stmt.lineno
    for deco in getattr(stmt, "decorator_list", []):
        first = min(first, deco.lineno)
    return Region(first, stmt.end_lineno or stmt.lineno)


def plan_regions(lines: Sequence[str], stmts: Iterable[ast.stmt], index: "StatementIndex") -> list[Region]:
    """Merged regions covering `stmts`, each parseable on its own, in file order."""
    regions = sorted((index.standalone(statement_lines(s), s, lines) for s in stmts),
                     key=lambda r: (r.first, r.col))
    merged: list[Region] = []
    for r in regions:
        if merged and r.first <= merged[-1].last:
            m = merged[-1]
            # The same one-line body keeps its cut; anything else is parsed as whole lines.
            col = m.col if (m.first, m.col) == (r.first, r.col) else 0
            merged[-1] = Region(m.first, max(m.last, r.last), col)
        else:
            merged.append(r)
    return merged


def _overlapping(tops: list[ast.stmt], near: list[tuple[int, int]]) -> list[int]:
    """Indices of the statements in `tops` (in file order) whose lines overlap a span in `near`:
    one sorted sweep, not every statement against every span."""
    spans = sorted(near)
    firsts = [f for f, _ in spans]
    reach = []  # reach[k]: the last line any of the first k+1 spans reaches
    for _, last in spans:
        reach.append(max(last, reach[-1]) if reach else last)
    out = []
    for i, top in enumerate(tops):
        r = statement_lines(top)
        k = bisect.bisect_right(firsts, r.last)  # spans that start no later than the statement ends
        if k and reach[k - 1] >= r.first:
            out.append(i)
    return out


class StatementIndex:
    """Statements by line, to grow a region until it holds whole statements and starts a line."""

    def __init__(self, tree: ast.Module, near: list[tuple[int, int]] | None = None) -> None:
        """`near`: line spans of the statements to cut out; only the top-level statements that
        overlap one, and their neighbours (which may share a line with them), are indexed."""
        self.by_line: dict[int, list[ast.stmt]] = {}
        self.parent: dict[ast.stmt, ast.stmt] = {}
        body = tree.body
        if near is not None:
            keep = set()
            for i in _overlapping(body, near):
                keep.update((i - 1, i, i + 1))
            body = [body[i] for i in sorted(keep) if 0 <= i < len(body)]
        for node, parent in iter_statements(ast.Module(body=body, type_ignores=[])):
            if parent is not None:
                self.parent[node] = parent
            r = statement_lines(node)
            for line in {r.first, r.last}:
                self.by_line.setdefault(line, []).append(node)

    def standalone(self, region: Region, stmt: ast.stmt, lines: Sequence[str]) -> Region:
        """`region` grown until it holds whole statements and can be parsed on its own."""
        compound = False  # whole compound statements joined the region: it is whole lines
        while True:
            grown = region
            for line in (region.first, region.last):
                for other in self.by_line.get(line, ()):
                    o = statement_lines(other)
                    if o.first >= grown.first and o.last <= grown.last:
                        continue
                    if self._encloses(other, stmt):
                        continue  # an enclosing block: its header is above, or before us on the line
                    compound = compound or isinstance(other, _COMPOUND)
                    grown = Region(min(grown.first, o.first), max(grown.last, o.last))
            # Where the region's first statement starts: a line start, after a form feed, or after
            # a compound header on the same line (`else: x += 1`, `if c: y *= 2`).
            first_stmt = min((s for s in self.by_line.get(grown.first, ()) if statement_lines(s).first == grown.first),
                             key=lambda s: s.col_offset, default=None)
            if first_stmt is None or grown != region:
                region = grown
                continue
            text = lines[grown.first - 1]
            before = text.encode()[: first_stmt.col_offset]
            if compound or first_stmt.lineno != grown.first:  # whole lines (a decorator starts the region)
                if before.strip():
                    up = self.parent.get(first_stmt)
                    while up is not None and statement_lines(up).first >= grown.first:
                        up = self.parent.get(up)
                    if up is None:
                        return Region(1, len(lines))
                    r = statement_lines(up)
                    region = Region(min(grown.first, r.first), max(grown.last, r.last))
                    compound = True
                    continue
                return region
            if before.strip() or b"\x0c" in before:  # a one-line body, or a form feed: cut from the column
                return Region(grown.first, grown.last, char_col(text, first_stmt.col_offset))
            return region

    def _encloses(self, outer: ast.stmt, inner: ast.stmt) -> bool:
        node = self.parent.get(inner)
        while node is not None:
            if node is outer:
                return True
            node = self.parent.get(node)
        return False


def _indent_len(line: str) -> int:
    return len(line) - len(line.lstrip(" \t\x0c"))


def _transform_lines(text: str, plans: Sequence[tuple[int, Plan]], first: int, newline: str,
                     cut: int = 0) -> tuple[str, set[int]]:
    """Transform whole lines starting at line `first`: inside a synthetic `if True:` when indented."""
    if _indent_len(text):
        header = "if True:" + newline
        new, got = _transform(header + text, plans, first - 2, (2, cut))
        return new[len(header):], got
    return _transform(text, plans, first - 1, (1, cut))


def _plans_by_region(regions: list[Region], plans: Sequence[tuple[int, Plan, ast.stmt]]
                     ) -> list[list[tuple[int, Plan]]]:
    """Each region's plans, by one sweep over both in line order."""
    out: list[list[tuple[int, Plan]]] = [[] for _ in regions]
    firsts = [r.first for r in regions]
    for pid, plan, stmt in plans:
        k = bisect.bisect_right(firsts, stmt.lineno) - 1
        if k >= 0 and stmt.lineno <= regions[k].last:
            out[k].append((pid, plan))
    return out


def rewrite_source(
    source: str, tree: ast.Module, plans: Sequence[tuple[int, Plan, ast.stmt]], newline: str = "\n"
) -> tuple[str, set[int]]:
    """Apply `(plan id, plan, statement)` triples; returns the new source and the ids that landed.

    A region libcst cannot print back exactly is left as it is (its plans do not land)."""
    if not plans:
        return source, set()
    lines = split_lines(source)
    plan_lines = [(s.lineno, s.end_lineno or s.lineno) for _, _, s in plans]
    regions = plan_regions(lines, [s for _, _, s in plans], StatementIndex(tree, plan_lines))
    applied: set[int] = set()
    out: list[str] = []
    cursor = 0  # 0-based index of the next line to copy
    for region, inside in zip(regions, _plans_by_region(regions, plans)):
        first_line = lines[region.first - 1]
        text = "".join(lines[region.first - 1: region.last])
        try:
            head = first_line[: region.col]
            if head.strip():  # a one-line body: cut after its header, and it stays one line
                new, got = _transform(text[region.col:], inside, region.first - 1, (1, region.col), inline=True)
                new = head + new
            elif region.col:
                # After a form feed: the indentation is what follows it. Parse the region with that
                # indentation alone, and put the original text before the statement back.
                indent = head.rpartition("\x0c")[2]
                new, got = _transform_lines(indent + text[region.col:], inside, region.first, newline,
                                            region.col - len(indent))
                new = head + new[len(indent):]
            else:
                new, got = _transform_lines(text, inside, region.first, newline)
        except cst.ParserSyntaxError:  # the region does not stand alone after all: do the whole file
            try:
                return _transform(source, [(pid, p) for pid, p, _ in plans], 0)
            except NotExact:
                return source, set()
        except NotExact:
            continue  # left as it is: the lines are copied below
        out.extend(lines[cursor: region.first - 1])
        out.append(new)
        cursor = region.last
        applied |= got
    out.extend(lines[cursor:])
    return "".join(out), applied


# ---- plans to libcst nodes ---------------------------------------------------------------------

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
    theirs = _prec(value)
    # `**` is right-associative and its right operand may be a bare unary (`x ** -a`).
    needs = theirs < _UNARY_PREC if op is cst.Power else theirs <= _BIN_PREC[op]
    return value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if needs else value


def _name(spelling: str) -> cst.BaseExpression:
    return cst.parse_expression(spelling)


def rewrite_statement(plan: Plan, node: cst.BaseSmallStatement) -> Sequence[cst.BaseSmallStatement] | None:
    """The small statements that replace `node` under `plan`; None when the plan does not fit it."""
    if isinstance(plan, AugAssignPlan):
        if not isinstance(node, cst.AugAssign):
            return None
        bin_op = AUG_TO_BIN[node.operator._get_token()]  # e.g. "+=" -> cst.Add
        value = cst.BinaryOperation(left=node.target.deep_clone(), operator=bin_op(),
                                    right=right_operand(bin_op, node.value))
        return [cst.Assign(
            targets=[cst.AssignTarget(target=node.target, whitespace_before_equal=node.operator.whitespace_before,
                                      whitespace_after_equal=node.operator.whitespace_after)],
            value=value, semicolon=node.semicolon)]
    if isinstance(plan, CallPlan):
        if plan.rebind is None:
            return [node]
        target = cst.AssignTarget(_name(plan.rebind))
        if isinstance(node, cst.Expr):
            return [cst.Assign(targets=[target], value=node.value, semicolon=node.semicolon)]
        if isinstance(node, cst.Assign):
            return [node.with_changes(targets=[*node.targets, target])]
        return None
    if isinstance(plan, MaskedFillPlan):
        if not isinstance(node, cst.Assign) or len(node.targets) != 1:
            return None
        sub = node.targets[0].target
        if not isinstance(sub, cst.Subscript) or len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
            return None
        mask = sub.slice[0].slice.value
        comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        if plan.where is not None:
            call = cst.Call(func=cst.Attribute(value=_name(plan.where), attr=cst.Name("where")),
                            args=[cst.Arg(mask, comma=comma), cst.Arg(node.value, comma=comma),
                                  cst.Arg(sub.value.deep_clone())])
        else:
            call = cst.Call(func=cst.Attribute(value=sub.value.deep_clone(), attr=cst.Name("masked_fill")),
                            args=[cst.Arg(mask, comma=comma), cst.Arg(node.value)])
        return [cst.Assign(targets=[node.targets[0].with_changes(target=sub.value)], value=call,
                           semicolon=node.semicolon)]
    if isinstance(plan, ClonePlan):
        clone = cst.Assign(targets=[cst.AssignTarget(_name(plan.target))],
                           value=cst.Call(func=cst.Attribute(value=_name(plan.target), attr=cst.Name("clone"))))
        if plan.hoist is None:
            return [clone, node]
        if not isinstance(node, (cst.Assign, cst.AugAssign)) or \
                isinstance(node, cst.Assign) and len(node.targets) != 1:
            return None
        value = cst.Assign(targets=[cst.AssignTarget(cst.Name(plan.hoist))], value=node.value)
        return [value, clone, node.with_changes(value=cst.Name(plan.hoist))]
    raise TypeError(f"unknown plan {plan!r}")


_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.SimpleString, cst.List, cst.Dict, cst.Set)


def _atom(module: cst.Module, expr: cst.BaseExpression) -> str:
    """Source of `expr`, parenthesised unless it is an atom: safe to put before `.method()` or
    anywhere in a template (`a / b` -> `(a / b)`, `2` -> `(2)`: `2.expand_as` would not parse)."""
    code = module.code_for_node(expr)
    return code if isinstance(expr, _ATOMS) or expr.lpar else f"({code})"


def rewrite_call(edit: CallEdit, node: cst.Call) -> cst.BaseExpression:
    kind = edit.kind
    if kind in ("rename", "cast", "dtype_kw"):
        if not isinstance(node.func, cst.Attribute):
            raise ValueError("rename needs an attribute call")
        node = node.with_changes(func=node.func.with_changes(attr=cst.Name(edit.new)))
        if kind == "cast":
            return cst.Call(func=cst.Attribute(value=node, attr=cst.Name("to")),
                            args=[cst.Arg(_name(f"{edit.recv}.dtype"))])
        if kind == "dtype_kw":
            args = list(node.args)
            if any(a.keyword is not None and a.keyword.value == "dtype" for a in args):
                return node  # `cumsum_(0, dtype=d)` only runs in place when d is x's dtype already
            if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            no_space = cst.SimpleWhitespace("")
            return node.with_changes(args=[*args, cst.Arg(
                _name(f"{edit.recv}.dtype"), keyword=cst.Name("dtype"),
                equal=cst.AssignEqual(whitespace_before=no_space, whitespace_after=no_space))])
        return node
    if kind == "drop_arg":
        args = list(node.args)
        if isinstance(edit.arg, str):
            keep = [a for a in args if not (a.keyword is not None and a.keyword.value == edit.arg)]
        else:
            keep = [a for i, a in enumerate(args) if i != edit.arg]
        if keep and len(keep) < len(args) and args[-1] is not keep[-1]:
            # The new last argument inherits the old last one's comma (none, or a trailing comma).
            keep[-1] = keep[-1].with_changes(comma=args[-1].comma)
        return node.with_changes(args=keep)
    if kind == "template":
        module = cst.Module([])
        args_code = ", ".join(module.code_for_node(a.with_changes(comma=cst.MaybeSentinel.DEFAULT))
                              for a in node.args)
        recv = _atom(module, node.func.value) if isinstance(node.func, cst.Attribute) else edit.recv
        arg0 = _atom(module, node.args[0].value) if node.args else ""
        return cst.parse_expression(edit.new.format(self=recv, args=args_code, arg0=arg0))
    raise ValueError(f"unknown call edit {kind}")
