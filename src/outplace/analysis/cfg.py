"""The control-flow graph of one scope (a function body, a lambda or a module's top level).

A graph is a list of blocks; a block is a run of *steps* executed in order, with edges to the
blocks that may run next. A step is one thing the dataflow passes interpret:

    ("stmt", s)        a simple statement (assignment, expression, return, import, def, ...)
    ("test", expr)     the test of an `if`/`while`/`assert`-like branch, or a match subject
    ("iter", for)      a `for` loop's iterable, evaluated once before the loop
    ("target", for)    binding a `for` loop's target to the next element (at the loop head)
    ("chain", for)     a whole `for` loop that runs a known list of modules in order (`x = m(x)`)
    ("with", item)     entering a `with` item: its context expression and `as` target
    ("handler", h)     entering an `except` handler: binding its name
    ("case", c)        a `match` case: its pattern's bindings and its guard

Edges over-approximate what Python can do: every statement of a `try` body may jump to each of
its handlers, `finally` blocks are entered from every way out of their `try`, a `while True:` loop
is left only by `break`, `return` or `raise`. Expressions with internal control flow (`a if c
else b`, `a or b`, comprehensions) stay inside one step: the passes treat them as "any of".
Nested functions, lambdas and classes are steps of the scope that defines them; their bodies
are scopes of their own.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Iterator

Step = tuple[str, ast.AST]

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_TRY = (ast.Try,) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


@dataclass
class Block:
    id: int
    steps: list[Step] = field(default_factory=list)
    succ: list[int] = field(default_factory=list)
    pred: list[int] = field(default_factory=list)


@dataclass
class _Context:
    """Where `break`, `continue`, `return` and exceptions go from the statements being built."""

    exit: int
    break_to: int | None = None
    continue_to: int | None = None
    handlers: tuple[int, ...] = ()  # entry blocks of the enclosing `try`'s handlers (or finally)
    finally_entry: int | None = None  # the enclosing `finally` block, which every way out passes
    # The innermost `finally` between here and the enclosing loop, which `break`/`continue` pass
    # (None: they jump straight to the loop's exit or head, even inside a `try` around the loop).
    loop_finally: int | None = None
    loop: ast.AST | None = None  # the innermost loop around (its head is `continue_to`)


class CFG:
    """`blocks[entry]` starts the scope; `blocks[exit]` is the single way out (return, raise, end)."""

    def __init__(self, scope: ast.AST, nonempty: Callable[[ast.expr], bool] | None = None,
                 chain: Callable[[ast.For], bool] | None = None) -> None:
        """`nonempty`: tells a `for` loop's iterable that certainly has an element (iterables.py):
        that loop has no path around its body on the way in. `chain`: tells a loop that runs a
        known list of modules in order, one after the other (`for m in self.layers: x = m(x)`):
        it is one step, ("chain", loop), as calling an `nn.Sequential` of them would be."""
        self.scope = scope
        self._nonempty = nonempty
        self._chain = chain
        self.blocks: list[Block] = []
        # (from block, to block) -> (test, truth): the edge is taken when `test` is `truth`
        self.conditions: dict[tuple[int, int], tuple[ast.expr, bool]] = {}
        # (from block, to block) -> loop: the edges that enter a loop from outside it (not its back
        # edges): on them, what the loop's body made is from an earlier run of the whole loop.
        self.loop_entries: dict[tuple[int, int], ast.AST] = {}
        # (from block, to block) -> loop: its back edges (the end of its body, a `continue`): on them,
        # what the loop's body made is what the next iteration remakes (a `finally` on the way: not listed)
        self.back_edges: dict[tuple[int, int], ast.AST] = {}
        # (from block, to block) -> `for` loop: the edges into its body (from the head, or from before
        # a loop that certainly goes round): a flow forced to skip the loop drops them
        self.body_edges: dict[tuple[int, int], ast.AST] = {}
        # blocks whose step may raise into a handler (a `try`, a `with` that may swallow): a step
        # there that certainly raises does not end the path
        self.guarded: set[int] = set()
        # (guarded block, handler): the edges an exception takes (a step that certainly raises sends
        # its path along these only)
        self.raise_edges: set[tuple[int, int]] = set()
        self.entry = self._new().id
        self.exit = self._new().id
        if isinstance(scope, ast.Lambda):
            body: list[ast.stmt] = [ast.Return(value=scope.body, lineno=scope.body.lineno,  # type: ignore[attr-defined]
                                               col_offset=scope.body.col_offset)]
        else:
            body = list(scope.body)  # type: ignore[attr-defined]
        end = self._build(body, self.entry, _Context(self.exit))
        if end is not None:
            self._edge(end, self.exit)
        self._compact()

    # ---- queries ------------------------------------------------------------------------------
    def steps(self) -> Iterator[tuple[int, int, Step]]:
        """(block id, index in block, step) for every step."""
        for b in self.blocks:
            for i, step in enumerate(b.steps):
                yield b.id, i, step

    def reverse_postorder(self) -> list[int]:
        seen: set[int] = set()
        order: list[int] = []
        stack: list[tuple[int, int]] = [(self.entry, 0)]
        seen.add(self.entry)
        while stack:
            node, i = stack[-1]
            succ = self.blocks[node].succ
            if i < len(succ):
                stack[-1] = (node, i + 1)
                nxt = succ[i]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, 0))
            else:
                stack.pop()
                order.append(node)
        order.reverse()
        return order

    # ---- construction ---------------------------------------------------------------------------
    def _compact(self) -> None:
        """Merge each block into its only predecessor when that predecessor has no other successor:
        fewer, longer blocks, the same paths (the passes copy and join states per block)."""
        blocks = self.blocks
        for b in blocks:
            while len(b.succ) == 1:
                nxt = blocks[b.succ[0]]
                if nxt.id in (self.exit, self.entry, b.id) or len(nxt.pred) != 1:
                    break
                b.steps.extend(nxt.steps)
                b.succ = nxt.succ
                if nxt.id in self.guarded:
                    self.guarded.add(b.id)
                for s in nxt.succ:
                    blocks[s].pred = [b.id if p == nxt.id else p for p in blocks[s].pred]
                    if (nxt.id, s) in self.conditions:
                        self.conditions[(b.id, s)] = self.conditions.pop((nxt.id, s))
                    for table in (self.loop_entries, self.back_edges, self.body_edges):
                        if (nxt.id, s) in table:
                            table[(b.id, s)] = table.pop((nxt.id, s))
                    if (nxt.id, s) in self.raise_edges:
                        self.raise_edges.discard((nxt.id, s))
                        self.raise_edges.add((b.id, s))
                nxt.steps, nxt.succ, nxt.pred = [], [], []
        # Unreachable leftovers keep their ids (ids index `blocks`) but no edges: never run.

    def _new(self) -> Block:
        b = Block(len(self.blocks))
        self.blocks.append(b)
        return b

    def _edge(self, a: int, b: int) -> None:
        if b not in self.blocks[a].succ:
            self.blocks[a].succ.append(b)
            self.blocks[b].pred.append(a)

    def _step(self, block: int, kind: str, node: ast.AST, ctx: _Context) -> int:
        """Append a step; inside a `try`, each step gets a block of its own with edges to the handlers."""
        if ctx.handlers:
            if self.blocks[block].steps:
                nxt = self._new().id
                self._edge(block, nxt)
                block = nxt
            self.guarded.add(block)
            for h in ctx.handlers:
                self._edge(block, h)  # raised before the step completed
                self.raise_edges.add((block, h))
            self.blocks[block].steps.append((kind, node))
            for h in ctx.handlers:
                self._edge(block, h)  # or after it, by a later statement
            return block
        self.blocks[block].steps.append((kind, node))
        return block

    def _build(self, stmts: list[ast.stmt], cur: int, ctx: _Context) -> int | None:
        """Build `stmts` starting in block `cur`; returns the block where control continues, or
        None when every path has left (return, raise, break, continue)."""
        for stmt in stmts:
            if cur is None:
                return None  # unreachable code after return/raise/break/continue
            cur = self._statement(stmt, cur, ctx)
        return cur

    def _statement(self, s: ast.stmt, cur: int, ctx: _Context) -> int | None:
        if isinstance(s, ast.If):
            cur = self._step(cur, "test", s.test, ctx)
            then = self._new().id
            self._edge(cur, then)
            self.conditions[(cur, then)] = (s.test, True)
            end_then = self._build(s.body, then, ctx)
            if s.orelse:
                other = self._new().id
                self._edge(cur, other)
                self.conditions[(cur, other)] = (s.test, False)
                end_else = self._build(s.orelse, other, ctx)
                return self._join(end_then, end_else)
            if end_then is None:
                # The body always leaves (`if not ok: return x`): what follows runs only when the
                # test is false, in a block of its own after the test (never in the test's block,
                # where the flow would run it before the body).
                other = self._new().id
                self._edge(cur, other)
                self.conditions[(cur, other)] = (s.test, False)
                return other
            after = self._join(end_then, cur)
            self.conditions[(cur, after)] = (s.test, False)
            return after
        if isinstance(s, ast.For) and self._chain is not None and self._chain(s):
            return self._step(cur, "chain", s, ctx)
        if isinstance(s, _LOOPS):
            return self._loop(s, cur, ctx)
        if isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                cur = self._step(cur, "with", item, ctx)
            if all(_propagates(item.context_expr) for item in s.items):
                return self._build(s.body, cur, ctx)
            # A context manager's `__exit__` may swallow what the body raises (`contextlib.suppress`):
            # from any step of the body, control may go on after the `with`.
            swallow = self._new().id
            body_ctx = _Context(ctx.exit, ctx.break_to, ctx.continue_to, ctx.handlers + (swallow,),
                                ctx.finally_entry, ctx.loop_finally, ctx.loop)
            body = self._new().id
            self._edge(cur, body)
            self._edge(cur, swallow)  # (the body's first step raised: what held before it goes on)
            end = self._build(s.body, body, body_ctx)
            return self._join(end, swallow)
        if isinstance(s, _TRY):
            return self._try(s, cur, ctx)
        if hasattr(ast, "Match") and isinstance(s, ast.Match):
            cur = self._step(cur, "test", s.subject, ctx)
            ends: list[int | None] = []
            tried: int | None = cur  # where the next case is tried from
            for case in s.cases:
                entry = self._new().id
                self._edge(tried, entry)
                entry = self._step(entry, "case", case, ctx)  # its captures, then its guard
                body = self._new().id
                self._edge(entry, body)
                ends.append(self._build(case.body, body, ctx))
                # The pattern or the guard failed: the next case is tried with what this one bound
                # (captures made before a failure, a guard's walrus stay bound).
                tried = entry
                if isinstance(case.pattern, ast.MatchAs) and case.pattern.pattern is None and case.guard is None:
                    tried = None  # `case _:` / `case x:` always matches
                    break
            if tried is not None:  # no case matched: on after the match, in a block of its own
                fall = self._new().id
                self._edge(tried, fall)
                ends.append(fall)
            return self._join(*ends)
        if isinstance(s, (ast.Return, ast.Raise)):
            cur = self._step(cur, "stmt", s, ctx)
            self._leave(cur, ctx, ctx.exit)
            return None
        if isinstance(s, ast.Break):
            if ctx.break_to is not None:
                self._edge(cur, ctx.loop_finally if ctx.loop_finally is not None else ctx.break_to)
            return None
        if isinstance(s, ast.Continue):
            if ctx.continue_to is not None:
                self._edge(cur, ctx.loop_finally if ctx.loop_finally is not None else ctx.continue_to)
                if ctx.loop_finally is None and ctx.loop is not None:
                    self.back_edges[(cur, ctx.continue_to)] = ctx.loop
            return None
        return self._step(cur, "stmt", s, ctx)

    def _leave(self, cur: int, ctx: _Context, target: int) -> None:
        """Return or raise out; a `finally` around it runs first (and may continue anywhere it leads)."""
        self._edge(cur, ctx.finally_entry if ctx.finally_entry is not None else target)

    def _join(self, *ends: int | None) -> int | None:
        live = [e for e in ends if e is not None]
        if not live:
            return None
        if len(live) == 1:
            return live[0]
        after = self._new().id
        for e in live:
            self._edge(e, after)
        return after

    def _loop(self, s: ast.For | ast.AsyncFor | ast.While, cur: int, ctx: _Context) -> int | None:
        after = self._new().id
        if isinstance(s, ast.While):
            head = self._new().id
            self._edge(cur, head)
            self.loop_entries[(cur, head)] = s
            head_end = self._step(head, "test", s.test, ctx)
            forever = isinstance(s.test, ast.Constant) and bool(s.test.value)
        else:
            cur = self._step(cur, "iter", s, ctx)
            head = self._new().id
            # A loop that certainly goes round once enters its body straight away: its exit (and
            # `else:`) is reached only from the head, after an iteration.
            once = isinstance(s, ast.For) and self._nonempty is not None and self._nonempty(s.iter)
            if not once:
                self._edge(cur, head)
                self.loop_entries[(cur, head)] = s
            head_end = head  # the target is bound in the body's first block, after the exit test
            forever = False
        body = self._new().id
        if not isinstance(s, ast.While) and once:
            self._edge(cur, body)
            self.loop_entries[(cur, body)] = s
            # (the head is reached only by going round: its way into the body is a back edge too, the
            # one left where the head is merged into the body's end)
            self.back_edges[(head_end, body)] = s
            self.body_edges[(cur, body)] = s
        self._edge(head_end, body)
        if not isinstance(s, ast.While):
            self.body_edges[(head_end, body)] = s
            body = self._step(body, "target", s, ctx)
        inner = _Context(ctx.exit, after, head, ctx.handlers, ctx.finally_entry, loop_finally=None, loop=s)
        end = self._build(s.body, body, inner)
        if end is not None:
            self._edge(end, head)
            self.back_edges[(end, head)] = s
        if not forever:
            if s.orelse:
                other = self._new().id
                self._edge(head_end, other)
                end_else = self._build(s.orelse, other, ctx)
                if end_else is not None:
                    self._edge(end_else, after)
            else:
                self._edge(head_end, after)
        return after if self.blocks[after].pred else None

    def _try(self, s: ast.Try, cur: int, ctx: _Context) -> int | None:
        after = self._new().id
        fin_entry = self._new().id if s.finalbody else None
        outer_handlers = ctx.handlers
        handler_entries = [self._new().id for _ in s.handlers]
        # An exception no handler catches leaves through `finally` (or to the enclosing handlers).
        escape = (fin_entry,) if fin_entry is not None else outer_handlers
        loop_finally = fin_entry if fin_entry is not None else ctx.loop_finally
        body_ctx = _Context(ctx.exit, ctx.break_to, ctx.continue_to,
                            tuple(handler_entries) + escape, fin_entry if fin_entry is not None else ctx.finally_entry,
                            loop_finally, ctx.loop)
        start = self._new().id
        self._edge(cur, start)
        for h in body_ctx.handlers:
            self._edge(cur, h)
        end_body = self._build(s.body, start, body_ctx)
        if end_body is not None and s.orelse:
            else_ctx = _Context(ctx.exit, ctx.break_to, ctx.continue_to, escape,
                                fin_entry if fin_entry is not None else ctx.finally_entry, loop_finally, ctx.loop)
            end_body = self._build(s.orelse, end_body, else_ctx)
        handler_ctx = _Context(ctx.exit, ctx.break_to, ctx.continue_to, escape,
                               fin_entry if fin_entry is not None else ctx.finally_entry, loop_finally, ctx.loop)
        ends = [end_body]
        for entry, handler in zip(handler_entries, s.handlers):
            entry = self._step(entry, "handler", handler, handler_ctx)
            ends.append(self._build(handler.body, entry, handler_ctx))
        if fin_entry is None:
            for e in ends:
                if e is not None:
                    self._edge(e, after)
            return after if self.blocks[after].pred else None
        for e in ends:
            if e is not None:
                self._edge(e, fin_entry)
        fin_end = self._build(s.finalbody, fin_entry, ctx)
        if fin_end is None:
            return None
        # After `finally`, control goes wherever the way into it was heading: on, out of the
        # function, to an enclosing handler, or to the loop targets of a break/continue.
        self._edge(fin_end, after)
        self._edge(fin_end, ctx.exit if ctx.finally_entry is None else ctx.finally_entry)
        for h in outer_handlers:
            self._edge(fin_end, h)
        for t in (ctx.break_to, ctx.continue_to):
            if t is not None:
                self._edge(fin_end, t)
        return after


# Context managers known to let every exception through (their `__exit__` returns a false value):
# the grad-mode and autocast managers, `open`. Spelled as written (the graph is built without imports).
_PROPAGATING = frozenset({
    "torch.no_grad", "torch.enable_grad", "torch.inference_mode", "torch.set_grad_enabled", "torch.autocast",
    "torch.amp.autocast", "torch.cuda.amp.autocast", "torch.cpu.amp.autocast", "torch.autograd.no_grad",
    "torch.autograd.enable_grad", "torch.autograd.set_grad_enabled", "torch.autograd.profiler.record_function",
    "torch.profiler.record_function", "torch.random.fork_rng", "open",
})


def _propagates(expr: ast.expr) -> bool:
    func = expr.func if isinstance(expr, ast.Call) else expr
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return False
    parts.append(func.id)
    return ".".join(reversed(parts)) in _PROPAGATING


def build_cfg(scope: ast.AST) -> CFG:
    return CFG(scope)
