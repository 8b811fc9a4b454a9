"""The per-file analysis every rule shares.

    read -> index (scopes.py: parents, scopes, nodes by type) -> one dataflow pass per scope that
    holds a candidate write (cfg.py, flow.py, over facts from effects.py and filecontext.py) ->
    the verdict on each write (judge.py: hazard, safety reasons, certainly-wrong rewrites).

Rules are thin queries: they find the syntactic sites of their kind of write and ask
`Analysis.write(site)` what it is; they never walk the tree for facts themselves.
"""

from __future__ import annotations

import ast
import bisect
import re
from dataclasses import dataclass
from typing import Callable

from outplace.analysis.filecontext import FileContext
from outplace.analysis.flow import ScopeFlow
from outplace.analysis.imports import ImportMap, dotted
from outplace.analysis.judge import (BREAKS, HAZARD_RANK, INPLACE, NOGRAD, UNKNOWN_INFO, Info, Judgement,
                                    callers_may_raise, info_of, judge)
from outplace.analysis.liveness import Liveness
from outplace.analysis.model import NO, UNKNOWN
from outplace.analysis.scopes import ScopeIndex, pos, walk
from outplace.optable import OpTable, load_optable
from outplace.settings import Settings
from outplace.source import char_col

# Lines that may hold an in-place write. Simple patterns, each one regex pass over the whole text
# (an alternation of them is several times slower in `re`, and so is one without a literal to scan for).
_CANDIDATES = [re.compile(p) for p in (
    r"_\((?<=[A-Za-z0-9]_\()",      # x.add_(  torch.relu_(   (literal first: `re` scans for it fast)
    r"=(?<=[-+*/%@&|^]=)",          # augmented assignment, also `x[i] += v`
    r"=(?<=<<=|>>=)",               # shifts (`<=`/`>=` comparisons are not candidates)
    r"inplace",                     # inplace=True
    r"out=[^=]",                    # out=c (a keyword argument; `out = ...` assignments are not)
)]
_INDEX_STORE = re.compile(r"\]\s*=[^=]")  # x[m] = v, unless `_not_a_tensor_index` says otherwise
_TRUE = re.compile(r"True")  # positional inplace: nn.ReLU(True), F.dropout(x, 0.5, True, True)
_POSITIONAL: dict[int, re.Pattern[str]] = {}
# `name: Optional[Tensor] = None`: an annotated parameter or variable, not an index store. Names a
# tensor would never have; `if ok: x[m] = 0` (a colon before a real store) keeps its line.
_ANNOTATION = re.compile(r":\s*(?:typing\.|t\.)?(?:Optional|Union|List|Tuple|Dict|Set|FrozenSet|Type|Callable|"
                         r"Literal|Sequence|Mapping|MutableMapping|Iterable|Iterator|Annotated|ClassVar|Final|"
                         r"list|tuple|dict|set|frozenset|type)\s*$")


def _positional_inplace_names(ops: OpTable) -> re.Pattern[str]:
    """Calls that can take `inplace` by position."""
    if id(ops) not in _POSITIONAL:
        names = sorted({*ops.modules_inplace, *ops.functional["inplace_param"]})
        _POSITIONAL[id(ops)] = re.compile(r"\b(?:" + "|".join(map(re.escape, names)) + r")\s*\(")
    return _POSITIONAL[id(ops)]


def _mentions(node: ast.AST, name: str) -> bool:
    return any(type(n) is ast.Name and n.id == name for n in walk(node))


def _header_mentions(stmt: ast.AST, name: str) -> bool:
    if isinstance(stmt, ast.If):
        return _mentions(stmt.test, name)
    if isinstance(stmt, ast.With):
        return any(_mentions(item, name) for item in stmt.items)
    return False


def _adds_into(stmt: ast.AST, name: str) -> bool:
    """`name += v` / `name -= v`, `v` not reading `name`: add_ and sub_ save nothing for backward,
    so a tensor no autograd node had saved is still one afterwards (ResNet's `out += identity`
    before `self.relu(out)` with `ReLU(inplace=True)`)."""
    return isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name \
        and isinstance(stmt.op, (ast.Add, ast.Sub)) and not _mentions(stmt.value, name)


def _inplace_requested(call: ast.Call) -> bool:
    return any(k.arg == "inplace" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
               for k in call.keywords)


def _line_start(source: str, offset: int) -> int:
    return max(source.rfind("\n", 0, offset), source.rfind("\r", 0, offset)) + 1


def _not_a_tensor_index(source: str, bracket: int) -> bool:
    """`]` at `bracket`, followed by `=`: True when what it closes cannot be a tensor's index: a
    string key (`kwargs["eta"] = eta`) or a subscripted annotation (`mask: Optional[Tensor] = None`,
    the bulk of such lines in typed code). Looks at the one line only; anything unclear is kept."""
    if source[bracket - 1] in "\"'":
        return True
    depth, i, start = 0, bracket, _line_start(source, bracket)
    while i >= start:
        c = source[i]
        if c == "]":
            depth += 1
        elif c == "[":
            depth -= 1
            if depth == 0:
                return _ANNOTATION.search(source, start, i) is not None
        i -= 1
    return False


def candidate_lines(source: str, ops: OpTable) -> set[int]:
    """1-based numbers of the lines that may hold an in-place write (a superset: the analysis of
    the scopes containing them decides; every in-place node has at least one such line)."""
    offsets = [m.start() for p in _CANDIDATES for m in p.finditer(source)]
    offsets += [m.start() for m in _INDEX_STORE.finditer(source) if not _not_a_tensor_index(source, m.start())]
    positional = _positional_inplace_names(ops)
    for m in _TRUE.finditer(source):
        start = _line_start(source, m.start())
        if source.find("(", start, m.start()) != -1 and positional.search(source, start, m.start()):
            offsets.append(m.start())
    return set(_line_numbers(source, sorted(offsets)))


def _line_numbers(source: str, offsets: list[int]) -> list[int]:
    """1-based line numbers of sorted offsets (\\n, \\r\\n and lone \\r end lines, as in Python)."""
    if "\r" in source:  # rare: count lone carriage returns too
        starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", source)]
        return [bisect.bisect_right(starts, o) for o in offsets]
    out, line, last = [], 1, 0
    for o in offsets:
        line += source.count("\n", last, o)
        last = o
        out.append(line)
    return out



class Analysis:
    def __init__(self, tree: ast.Module, lines: list[str] | Callable[[], list[str]],
                 settings: Settings | None = None,
                 ops: OpTable | None = None, interest: set[int] | None = None,
                 project=None, path: str | None = None, facts=None, text: str | None = None) -> None:
        """`interest`: the lines that may hold an in-place write (see `candidate_lines`); only the
        scopes that contain one are indexed and analysed. None analyses everything. `facts`: what a
        run saw at this file's writes (`outplace.runtime_facts.FileFacts`), or None. `text`: the
        source itself, when the caller has it (else it is joined from `lines` when needed)."""
        self.tree = tree
        self.settings = settings or Settings()
        self._lines = lines  # the source split as Python numbers lines, or how to get it (lazily)
        self.ops = ops or load_optable()
        self.index = ScopeIndex(tree, interest)
        # (The text from `lines`, not from `self`: a closure over the analysis would keep it alive.)
        self.ctx = FileContext(tree, self.index, self.ops, project, path,
                               text=text if text is not None else lambda: "".join(lines() if callable(lines) else lines))
        self._live: dict[ScopeFlow, Liveness] = {}
        self._judged: dict[tuple[int, int], Judgement | None] = {}
        self._sorted: dict[type, list] = {}  # kind -> its nodes in source order (`nodes`)
        self.facts = facts

    def close(self) -> None:
        """Frees what the analysis built (see FileContext.close); the findings stay valid."""
        self.ctx.close()
        self._live.clear()
        self._judged.clear()
        self._sorted.clear()

    @property
    def imports(self) -> ImportMap:
        return self.ctx.imports

    @property
    def intent(self):
        return self.ctx.intent

    def nodes(self, kind: type) -> list:
        """The nodes of one type in the analysed scopes, in source order."""
        found = self.index.by_type[kind]  # KeyError: add `kind` to scopes.INDEXED_TYPES
        done = self._sorted.get(kind)
        if done is None or len(done) != len(found):  # (the index only grows: new scopes indexed since)
            done = self._sorted[kind] = sorted(found, key=pos)
        return list(done)

    @property
    def lines(self) -> list[str]:
        """The source's lines (outplace.source.split_lines); split only when a finding needs them."""
        if callable(self._lines):
            self._lines = self._lines()
        return self._lines

    # ---- positions ----------------------------------------------------------------------------
    def char_col(self, line: int, byte_col: int) -> int:
        return char_col(self.lines[line - 1] if 0 < line <= len(self.lines) else "", byte_col)

    def span(self, node: ast.AST) -> tuple[int, int, int, int]:
        """(line, col, end line, end col): 1-based lines, 0-based character columns."""
        n = node  # type: ignore[assignment]
        return (n.lineno, self.char_col(n.lineno, n.col_offset),
                n.end_lineno, self.char_col(n.end_lineno, n.end_col_offset))

    def start(self, node: ast.AST) -> tuple[int, int]:
        line, col, _, _ = self.span(node)
        return (line, col)

    def qualname(self, node: ast.AST) -> str | None:
        """The dotted name `node` stands for: through the imports, or a module-level alias of a torch
        name (`BatchNorm2d = nn.BatchNorm2d`)."""
        return self.imports.qualname(node) or self.ctx.module_alias(node)

    def intent_reason(self, node: ast.AST) -> str | None:
        return self.ctx.intent.reason(node)

    # ---- the dataflow facts ----------------------------------------------------------------------
    def flow_of(self, node: ast.AST) -> ScopeFlow:
        return self.ctx.flow(self.ctx.scope_node(node))

    def info(self, node: ast.AST) -> Info:
        """What an expression evaluated to where it ran: tensor or not, origin, dtype class."""
        got = self.flow_of(node).value_of(node)
        if got is None:
            return UNKNOWN_INFO
        return info_of(got[1])

    def layout_read(self, site: ast.AST, name: str | None) -> str | None:
        """A read of `name`'s memory layout after the write at `site` (`h.view(-1)`, `h.stride()`)."""
        if name is None:
            return None
        from outplace.analysis.judge import layout_read

        return layout_read(self.flow_of(site), site, {name})

    def write(self, site: ast.AST, target: ast.AST | None = None, exact: bool = False) -> Judgement | None:
        """The verdict on the in-place write at `site` (an AugAssign, an index-store Assign, or a
        call) into `target`; None when the written object is no tensor or the code never runs.
        `exact`: only a write into `target` itself counts (not another write of the same site)."""
        key = (id(site), id(target), exact)
        if key in self._judged:
            return self._judged[key]
        flow = self.flow_of(site)
        records = flow.writes_at(site)
        if target is not None:
            matching = [r for r in records if r.target is target]
            records = matching if exact else (matching or records)
        result = None
        judged_by = flow
        if records:
            result = self._judge_all(flow, records, site)
        alone = result  # (the function alone: what any caller, seen or not, may pass)
        if records:
            # (an `out=` of a value whose grad only the callers tell may raise though the buffer needs no grad)
            unknown_out = any(r.how == "out" and r.operand_grad == UNKNOWN for r in records)
            if (result.hazard == INPLACE or result.hazard == NOGRAD and unknown_out) and \
                    isinstance(flow.scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    (self.settings.hazards != (BREAKS,) or any(callers_may_raise(r) for r in records)):
                # What the callers pass may show that the write breaks backward: look, once it matters.
                # (When only `breaks` is reported and no caller could make it one, the write stays hidden.)
                precise = self.ctx.flow_with_callers(flow.scope)
                if precise is not flow:
                    again = precise.writes_at(site)
                    if target is not None:
                        matching = [r for r in again if r.target is target]
                        again = matching if exact else (matching or again)
                    if again:
                        result = self._judge_all(precise, again, site)
                        judged_by = precise
        if result is not None and result.hazard == BREAKS and judged_by is flow and self._guessed_tensor(flow, records):
            # The write is into a `forward` argument taken to be a tensor only by assumption, and
            # every call the run makes of it passes no tensor there (a list): the callers decide.
            precise = self.ctx.flow_with_callers(flow.scope)
            if precise is not flow:
                again = precise.writes_at(site)
                if target is not None:
                    matching = [r for r in again if r.target is target]
                    again = matching if exact else (matching or again)
                result = self._judge_all(precise, again, site) if again else None
                judged_by = precise
        if result is not None and judged_by is not flow:
            result = _what_any_caller_allows(alone, result)
        if result is not None and result.hazard == BREAKS:
            result = self._split(judged_by, site, target, exact, result)
        if result is not None and self.facts is not None:
            result = self._observed(site, result)
        self._judged[key] = result
        return result

    def _split(self, flow: ScopeFlow, site: ast.AST, target: ast.AST | None, exact: bool,
               judged: Judgement, ctor: ast.AST | None = None) -> Judgement:
        """`breaks` where two paths joined may be no path's truth: `q = query; if project: q = lin(q)`
        then `q *= s` meets "`q` may be `query`" (one arm) and "`query` was saved by `lin`" (the
        other). For each of the nearest `if`s before the write that no loop of the scope runs
        again, the flow is run twice, on the paths of each arm (every path takes one arm, or
        never reaches the test); where the write `breaks` on neither, it breaks on no path: it is
        judged by the worse of the two. The fix's safety stays the joined flow's. `ctor`: the
        writes of the in-place module it builds only (a call of a chain may run several)."""
        scope = flow.scope
        line = getattr(site, "lineno", 0)
        loops = (ast.For, ast.AsyncFor, ast.While)
        tests = []
        around = set(map(id, self._ancestors(site, scope)))  # (an `if` the write is in: one arm has no write)
        for node in walk(scope):
            # (an `if`; or a `for` loop ended before the write, which either goes round or does not)
            if (isinstance(node, ast.If) or (isinstance(node, ast.For) and getattr(node, "end_lineno", line) < line
                                             and not node.orelse)) and \
                    node.lineno < line and id(node) not in around and self.ctx.scope_node(node) is scope and \
                    not any(isinstance(a, loops) for a in self._ancestors(node, scope)):
                tests.append(node)
        # (first the ones that rebind the written name: `if mask is not None: alphas = alphas * mask`)
        written = {n.id for r in flow.writes_at(site) if r.target is not None
                   for n in walk(r.target) if isinstance(n, ast.Name)}

        def rebinds(node: ast.AST) -> bool:
            return any(isinstance(n, ast.Name) and n.id in written and isinstance(n.ctx, ast.Store) for n in walk(node))
        order = sorted(tests, key=lambda n: (not rebinds(n), -n.lineno))[:MAX_SPLITS]
        # (with what the callers pass, where it is known: alone, an arm's saves may look like
        # "if that op's inputs required grad" where the callers show they do)
        callers = flow.use_call_sites or (isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and
                                          bool(self.ctx.call_site_facts(scope)))

        def judged_on(forced: tuple) -> Judgement | None:
            split = ScopeFlow(self.ctx, scope, call_sites=callers, forced=forced)
            records = split.writes_at(site)
            if ctor is not None:
                records = [r for r in records if r.ctor is ctor]
            if target is not None:
                matching = [r for r in records if r.target is target]
                records = matching if exact else (matching or records)
            return self._judge_all(split, records, site) if records else None

        arms = self._settled(order, judged_on, (), 0)
        if arms is not None:
            worst = max((a for a in arms if a is not None), key=lambda a: HAZARD_RANK[a.hazard], default=None)
            if worst is None:
                return judged
            from dataclasses import replace

            return replace(judged, hazard=worst.hazard, why=worst.why)
        return judged

    def _settled(self, order: list, judged_on: Callable, forced: tuple, depth: int) -> list | None:
        """The judgements of every path under `forced`, split on one more of the tests `order` after
        another (`if up: ... elif down: ...` joins three ways) until each arm is clean: no `breaks`,
        and no save of the tensor left standing (one that might count; each arm is then clean, not
        merely unproven). None where some arm stays unclean on every choice of tests. (A method,
        not a closure calling itself: that would be a reference cycle.)"""
        for node in order:
            test = node.test if isinstance(node, ast.If) else node
            if any(t is test for t, _ in forced):
                continue
            out: list = []
            for truth in (True, False):
                arm = (*forced, (test, truth))
                got = judged_on(arm)
                if got is None or (got.hazard != BREAKS and not got.saved_lines):
                    out.append(got)
                    continue
                sub = self._settled(order, judged_on, arm, depth + 1) if depth + 1 < MAX_SPLIT_DEPTH else None
                if sub is None:
                    break
                out += sub
            else:
                return out
        return None

    def _guessed_tensor(self, flow: ScopeFlow, records: list) -> bool:
        """Is what the writes go into a `forward` argument that only the "arguments of forward are
        tensors" assumption makes a tensor (no annotation), where every call of it in the run
        passes something that is no tensor (or may be a list: one of them passes one)?"""
        scope = flow.scope
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) or scope.name != "forward":
            return False
        params = {s[1] for r in records for k in r.keys if (o := r.state.objs.get(k)) is not None
                  for s in o.storage if s[0] == "parameter"}
        if not params:
            return False
        unannotated = {a.arg for a in [*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs]
                       if a.annotation is None}
        sites = self.ctx.call_site_facts(scope)
        return params <= unannotated and all(p in sites and (sites[p][0].tensor == NO or sites[p][0].origin == "container")
                                             for p in params)

    def _ancestors(self, node: ast.AST, scope: ast.AST):
        cur = self.index.parent.get(node)
        while cur is not None and cur is not scope:
            yield cur
            cur = self.index.parent.get(cur)

    def _observed(self, site: ast.AST, judged: Judgement) -> Judgement:
        """`judged` with what a run saw at `site`, when the facts have it (runtime_facts.refine)."""
        fact = self.facts.at(self.span(site))
        if fact is None:
            return judged
        from outplace.runtime_facts import refine

        return refine(judged, fact)

    def _judge_all(self, flow: ScopeFlow, records: list, site: ast.AST) -> Judgement:
        return _combine([self._judge(flow, r, site) for r in records])

    def _judge(self, flow: ScopeFlow, record, site: ast.AST) -> Judgement:
        step_node = self._step_node(flow, site)
        step = flow.step_of.get(id(step_node)) if step_node is not None else None
        return judge(flow, self.liveness(flow), record, step, self.index.statement_of(site))

    def liveness(self, flow: ScopeFlow) -> Liveness:
        # (keyed by the flow itself, which it keeps: an id of a flow already freed, such as one of
        # `_split`'s, may be given to another)
        live = self._live.get(flow)
        if live is None:
            at_exit = frozenset(flow.captured) if isinstance(flow.scope, ast.Module) else frozenset()
            live = self._live[flow] = Liveness(flow.cfg, at_exit)
        return live

    def live_after(self, name: str, node: ast.AST) -> bool:
        """May `name` be read after the step holding `node` (later, or in a later loop iteration)?"""
        flow = self.flow_of(node)
        step_node = self._step_node(flow, node)
        step = flow.step_of.get(id(step_node)) if step_node is not None else None
        if step is None:
            return True
        return name in self.liveness(flow).live_after(*step) or name in flow.captured

    # backwards-compatible name used by the rules' plan builders
    used_after = live_after

    def obviously_not_tensor(self, expr: ast.AST, at: ast.AST) -> bool:
        """A cheap, certain answer before any dataflow runs: `expr` (a local name, or `self.<attr>`)
        is only ever bound to values that are never tensors: number, string and container
        literals, comprehensions, `len()`/`range()`/`int()`-style builtins, `range` loop variables,
        imports, functions, classes (`n += 1` counters, `stats["loss"] = v` dicts)."""
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            scope = self.ctx.scope_node(at)
            cls = self.ctx.enclosing_class(scope)
            return cls is not None and self.ctx.class_attribute(cls, expr.attr).tensor == "no" and \
                self.ctx.class_attribute(cls, expr.attr).origin != "module"
        if not isinstance(expr, ast.Name):
            return False
        scope = self.index.scope_for(at)
        if expr.id in scope.params or expr.id in scope.declared_global:
            return False
        binds = scope.bindings.get(expr.id)
        if not binds:
            return False
        builtins_shadowed = self.index.scopes[self.tree].bindings
        return all(_never_tensor_binding(b, builtins_shadowed) for b in binds)

    def module_level_name(self, ctor: ast.Call) -> str | None:
        """`NAME` where the statement building the module is `NAME = ctor` at module level."""
        stmt = self.index.statement_of(ctor)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.value is ctor and \
                isinstance(stmt.targets[0], ast.Name) and self.index.parent.get(stmt) is self.tree:
            return stmt.targets[0].id
        return None

    def module_writes(self, ctor: ast.Call) -> list[Judgement]:
        """The verdicts on every write the module built by `ctor` (with `inplace=True`) makes where
        this file calls it: in the scope that builds it, and, for `self.<attr> = ...`, in every
        method of the class."""
        scope = self.ctx.scope_node(ctor)
        scopes = [scope]
        global_name = self.module_level_name(ctor)
        if global_name is not None:
            # `relu = nn.ReLU(inplace=True)` at module level: every function of the file that reads the
            # name may call it (each judged where it does).
            for n in walk(self.tree):
                if type(n) is ast.Name and n.id == global_name and isinstance(n.ctx, ast.Load):
                    self.index.ensure_scope_of(n)
                    reader = self.ctx.scope_node(n)
                    if isinstance(reader, (ast.FunctionDef, ast.AsyncFunctionDef)) and reader not in scopes:
                        scopes.append(reader)
        cls = self.ctx.enclosing_class(scope)
        if cls is not None:
            # The attributes holding it: assigned it, or a container or chain built around it.
            attrs = {attr for attr, info in self.ctx._module_attributes(cls) if _built_by(info, ctor)}
            # The methods that call the attribute holding it (`self.act(x)`, `self.body(x)`).
            calls = [c for attr in attrs for c in [*self.ctx._self_calls(cls, attr), *self.ctx.self_loops(cls, attr)]]
            scopes += [m for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                       and any(self.ctx.contains(m, c) for c in calls)]
        for sc in scopes:
            self.ctx.flow(sc)
        out = []
        seen: set[int] = set()
        written = list(self.ctx.module_writes.get(id(ctor), []))
        for flow, record in written:
            if id(record.node) in seen:
                continue
            # (every record of the call in that flow: a chain with optional members runs the module
            # once per path, on a different input each time)
            same = [r for f, r in written if f is flow and r.node is record.node]
            judged = self._judge_all(flow, same, record.node)
            if judged.hazard == INPLACE and isinstance(flow.scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                precise = self.ctx.flow_with_callers(flow.scope)
                again = [r for r in precise.writes_at(record.node) if r.ctor is ctor]
                if precise is not flow and again:
                    judged = _what_any_caller_allows(judged, self._judge_all(precise, again, record.node))
            if judged.hazard == BREAKS:
                judged = self._split(flow, record.node, None, False, judged, ctor=ctor)
            read = self._input_read_after(record)
            if read is not None:
                from dataclasses import replace

                judged = replace(judged, reasons=(*judged.reasons, read))
            seen.add(id(record.node))
            out.append(judged)
        return out

    def _input_read_after(self, record) -> str | None:
        """Dropping `inplace=True` from a module's constructor rebinds nothing where it is called: the
        input keeps its value from before the call. Where the call's input is a name read after it
        (`self.act(h)` then `h`; `y = act(h)` then `h`), that is a change (adversarial review eval26 S)."""
        target = record.target
        if not isinstance(target, ast.Name):
            return None  # (a temporary: `act(self.bn(x))`; an attribute or a view is judged as one already)
        stmt = self.index.statement_of(record.node)
        stored = {n.id for t in getattr(stmt, "targets", [getattr(stmt, "target", None)]) if t is not None
                  for n in walk(t) if isinstance(n, ast.Name)}
        if target.id in stored or not self.live_after(target.id, record.node):
            return None
        return (f"`{target.id}` is read after `{ast.unparse(record.node)}` writes into it (line {record.node.lineno}): "
                f"without `inplace=True` it would keep its value from before the call")

    def single_binding(self, name: str, at: ast.AST) -> ast.Assign | None:
        """The one `name = ...` assignment that reaches `at`, when there is exactly one."""
        scope = self.index.scope_for(at)
        binds, dom = self.index.reaching(scope, name, at)
        if len(binds) != 1 or dom is None or dom.kind != "assign" or dom.value is None:
            return None
        return dom  # type: ignore[return-value]

    def unchanged_between(self, name: str, binding, at: ast.AST) -> bool:
        """`name` is not rebound between `binding` (a Binding) and the statement `at`."""
        scope = self.index.scope_for(at)
        for b in scope.bindings.get(name, []):
            if b.kind != "param" and binding.node.lineno <= b.node.lineno <= at.lineno and b.stmt is not at:
                return False
        return True

    def _step_node(self, flow: ScopeFlow, node: ast.AST) -> ast.AST | None:
        cur: ast.AST | None = node
        while cur is not None:
            if id(cur) in flow.step_of:
                return cur
            cur = self.index.parent.get(cur)
        return None


def _what_any_caller_allows(alone: Judgement | None, precise: Judgement) -> Judgement:
    """The judgement with the callers' facts (`precise`) for what the report says (the hazard, why,
    what is written), and for the fix what holds whoever calls the function: the callers the run
    shows are not all there may be (another module imports a helper, a subclass calls a method), so a
    fact only they give (`x` is a tensor, a float one) never makes a fix safe (eval45 m01: a helper
    its own file calls with floats, a sibling with integers, where `h.mul_(2.5)` raises in place).
    The reasons of both count; what the function alone says is certainly wrong (for some caller) is a
    reason; `fix_info` keeps what the function alone shows (a fix calling a tensor method needs it
    to be a tensor)."""
    from dataclasses import replace

    shown = f"`{precise.spelling}`" if precise.spelling else "what is written"
    if alone is None:  # (alone, the function writes no tensor it knows of: only the callers show one)
        return replace(precise, fix_info=UNKNOWN_INFO, reasons=(
            *precise.reasons, f"{shown} is a tensor only in the calls the run shows: another caller may pass "
                              "something else"))
    # (the rules read the dtype and tensor-ness a fix depends on from `fix_info`: `Judgement.safety_info`)
    extra = [alone.certain] if alone.certain and not precise.certain else []
    if precise.info.sure and not alone.info.sure:
        extra.append(f"{shown} is a tensor only in the calls the run shows: another caller may pass an array, a "
                     "list or a number, which the rewrite would treat otherwise")
    return replace(precise, fix_info=alone.info,
                   reasons=tuple(dict.fromkeys((*alone.reasons, *extra, *precise.reasons))),
                   rebindable=precise.rebindable and alone.rebindable)


# The nearest `if`s before a `breaks` write whose arms are followed apart (Analysis._split).
MAX_SPLITS = 3
MAX_SPLIT_DEPTH = 2  # tests forced at once in a split (a three-way join: `if a: ... elif b: ...`)

# Builtins whose result is never a tensor (when the module does not rebind their names).
_NON_TENSOR_BUILTINS = frozenset({"len", "int", "float", "str", "bool", "list", "dict", "set", "tuple", "range",
                                  "sorted", "enumerate", "zip", "frozenset", "repr", "format", "isinstance", "id",
                                  "hash", "ord", "chr", "round_up", "defaultdict", "OrderedDict", "Counter", "deque"})
_NON_TENSOR_VALUES = (ast.List, ast.Dict, ast.Set, ast.Tuple, ast.ListComp, ast.DictComp, ast.SetComp,
                      ast.GeneratorExp, ast.JoinedStr, ast.Lambda)


def _never_tensor_value(value: ast.AST | None, shadowed) -> bool:
    if value is None:
        return False
    if isinstance(value, ast.Constant):
        return not isinstance(value.value, type(Ellipsis))
    if isinstance(value, _NON_TENSOR_VALUES):
        return True
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in _NON_TENSOR_BUILTINS and value.func.id not in shadowed
    if isinstance(value, ast.UnaryOp) and isinstance(value.operand, ast.Constant):
        return True
    return False


def _never_tensor_binding(b, shadowed) -> bool:
    stmt = b.stmt
    if isinstance(stmt, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if b.kind in ("assign", "aug"):
        return _never_tensor_value(b.value, shadowed)
    if isinstance(stmt, (ast.For, ast.AsyncFor)) and stmt.target is b.node:
        it = stmt.iter
        return isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" \
            and "range" not in shadowed
    return False


def _built_by(info, ctor: ast.AST) -> bool:
    todo = [info]
    while todo:
        m = todo.pop()
        if m.node is ctor:
            return True
        todo.extend(m.parts)
    return False


def _combine(judgements: list[Judgement]) -> Judgement:
    """One write seen several times (each alternative a call may run, a module in several chains):
    the worst hazard, every reason against the fix, no fix if any path certainly changes behaviour.
    (Their states are not joined: each is a snapshot of a different path.)"""
    from dataclasses import replace

    if len(judgements) == 1:
        return judgements[0]
    worst = max(judgements, key=lambda j: HAZARD_RANK[j.hazard])
    reasons = tuple(dict.fromkeys(r for j in judgements for r in j.reasons))
    certain = next((j.certain for j in judgements if j.certain), None)
    return replace(worst, reasons=reasons, certain=certain,
                   rebindable=all(j.rebindable for j in judgements),
                   some_tensor=any(j.some_tensor for j in judgements))


__all__ = ["Analysis", "BREAKS", "INPLACE", "NOGRAD", "Info", "Judgement", "candidate_lines", "dotted"]
