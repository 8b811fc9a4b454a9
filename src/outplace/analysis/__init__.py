"""The per-file analysis every rule shares: scopes, inference, intent and safety.

Built once per file from the stdlib AST (cheap); rules ask it questions about write sites.
"""

from __future__ import annotations

import ast
import bisect
import re
from dataclasses import dataclass
from typing import Callable

from outplace.analysis.context import IntentContext
from outplace.analysis.imports import ImportMap, dotted
from outplace.analysis.infer import ALIASING_MODULES, Inference, Info, inplace_arg
from outplace.analysis.scopes import Scope, ScopeIndex, pos, walk
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


# Calls that read a tensor without keeping a reference to it.
NON_STORING_BUILTINS = {"print", "len", "isinstance", "float", "int", "bool", "str", "repr", "id", "type",
                        "hasattr", "getattr", "min", "max", "abs", "round", "sum", "any", "all", "format"}


@dataclass(frozen=True)
class Target:
    """What an in-place write writes to, and how observable a rewrite of it would be."""

    info: Info
    spelling: str | None  # `x`, `self.h` (pure dotted) or None for other expressions
    reasons: tuple[str, ...]  # why rewriting it could be observed; empty = safe as far as the target goes
    rebindable: bool = True  # False for nn.Parameter attributes: assigning a plain tensor raises TypeError


class Analysis:
    def __init__(self, tree: ast.Module, lines: list[str] | Callable[[], list[str]],
                 settings: Settings | None = None,
                 ops: OpTable | None = None, interest: set[int] | None = None) -> None:
        """`interest`: the lines that may hold an in-place write (see `candidate_lines`); only the
        scopes that contain one are analysed. None analyses everything."""
        self.tree = tree
        self.settings = settings or Settings()
        self._lines = lines  # the source split as Python numbers lines, or how to get it (lazily)
        self.ops = ops or load_optable()
        self.index = ScopeIndex(tree, interest)
        self.imports = ImportMap(self.index.imports)
        self.infer = Inference(tree, self.index, self.imports, self.ops)
        self.intent = IntentContext(self.index, self.imports)
        self._escapes: dict[tuple[int, str], list[ast.AST]] = {}

    def nodes(self, kind: type) -> list:
        """The nodes of one type in the analysed scopes, in source order."""
        return sorted(self.index.by_type[kind], key=pos)  # KeyError: add `kind` to scopes.INDEXED_TYPES

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

    def info(self, node: ast.AST) -> Info:
        return self.infer.info(node)

    def qualname(self, node: ast.AST) -> str | None:
        return self.imports.qualname(node)

    # ---- the target of a write ------------------------------------------------------------------
    def target(self, expr: ast.AST, at: ast.AST, *, assume_tensor: bool = False,
               include_factory: bool = False) -> Target | None:
        """Judge the tensor written by an in-place op at `at`; None when it is no tensor we report.

        `assume_tensor`: the operation itself proves a tensor (`x.add_()`, `F.relu(x, inplace=True)`),
        so an expression of unknown kind is a tensor of unknown origin.
        `include_factory`: report writes into fresh buffers too (`out=` raises under autograd at once).
        """
        if self.unsaved_layer_output(expr, at):
            return None
        if not include_factory and self._into_new_buffer(expr):
            return None
        info = self.infer.info(expr)
        if assume_tensor and not info.tensor and info.origin in ("unknown", "tensors"):
            # `out=outs` with `outs: list[Tensor]` writes into the caller's tensors.
            info = Info(True, "parameter" if info.origin == "tensors" else "unknown")
        if not info.tensor or info.origin in ("data", "buffer") or (info.origin == "factory" and not include_factory):
            return None
        spelling = dotted(expr)
        reasons: list[str] = []
        shown = spelling or "the target"
        origin = info.origin
        if origin == "nn_parameter":
            reasons.append(f"`{shown}` is an nn.Parameter: in-place on it raises (a leaf that requires grad), "
                           "and assigning a plain tensor to it raises TypeError")
        elif origin == "parameter":
            reasons.append(f"`{shown}` is a parameter: the caller sees the in-place change")
        elif origin == "attribute":
            reasons.append(f"`{shown}` is an attribute: other code holding the object sees the change")
        elif origin == "global":
            reasons.append(f"`{shown}` is a global: other code sees the change")
        elif origin == "view":
            root = f" with `{info.root}`" if info.root and info.root != spelling else ""
            reasons.append(f"`{shown}` may share storage{root}: the in-place write changes it too")
        elif origin == "leaf":
            reasons.append(f"`{shown}` is a leaf that requires grad: in place this raises; "
                           "out of place it silently replaces the leaf")
        elif origin == "unknown":
            reasons.append(f"where `{shown}` comes from is unknown: it may be shared")
        if isinstance(expr, ast.Name) and not reasons:
            for other in self.references_before(expr.id, at):
                reasons.append(f"`{expr.id}` is also referenced on line {other.lineno}: that reference "
                               "would keep the old value")
                break
        if spelling is None and not isinstance(expr, ast.Name):
            if origin not in ("fresh",):
                reasons.append("the written expression may share storage with another tensor")
        return Target(info, spelling, tuple(reasons), rebindable=origin != "nn_parameter")

    def unsaved_layer_output(self, expr: ast.AST, at: ast.AST) -> bool:
        """Is `expr` the untouched, fresh output of an op whose backward does not need it?

        Either the producing call itself (`F.relu6(x + 3).div_(6)`, `F.relu(self.bn(x), inplace=True)`)
        or a name bound to it by the statement right before the write, with no use in between
        (`y = x * 2` then `y *= 3`). No autograd node can have saved that tensor yet, so writing
        into it cannot break backward (torch computes the right gradient: 6 for the latter).
        """
        if isinstance(expr, (ast.Call, ast.BinOp, ast.UnaryOp)):
            return self.output_not_saved(expr)
        if not isinstance(expr, ast.Name):
            return False
        stmt = self.index.statement_of(at)
        # The write must be the first use of the new tensor in its own statement.
        if any(pos(n) < pos(expr) for n in walk(stmt)
               if isinstance(n, ast.Name) and n.id == expr.id and isinstance(n.ctx, ast.Load)):
            return False
        binding = self._binding_before(stmt, expr.id)
        return binding is not None and self.output_not_saved(binding.value)

    def _into_new_buffer(self, expr: ast.AST) -> bool:
        """`buf[..., :n].copy_(k)`, `buf[:, g].view(b, f, hw)[:, :, :m] = q` with `buf =
        x.new_zeros(...)`: filling a new buffer piece by piece through slices and views, as
        `buf[i] = v` does (a write into the buffer itself is not reported either)."""
        base, through = expr, False
        while True:
            if isinstance(base, ast.Subscript):
                base = base.value
            elif isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and \
                    base.func.attr in self.ops.tensor_methods["alias"]:
                base = base.func.value
            else:
                break
            through = True
        return through and self.infer.info(base).origin == "factory"

    def _binding_before(self, stmt: ast.AST, name: str) -> ast.Assign | None:
        """The `name = ...` statement reached walking back from `stmt` through statements that do
        not mention `name` at all (or only add into it: `out += identity`), and out of
        if/with/try blocks whose header does not mention it;
        None if anything mentions `name` first or a loop is crossed (a second iteration would
        write into a tensor the first may have had saved)."""
        node = stmt
        while True:
            parent = self.index.parent.get(node)
            block = next((b for f in ("body", "orelse", "finalbody")
                          if isinstance(b := getattr(parent, f, None), list) and node in b), None)
            if block is None:
                return None
            for prev in reversed(block[: block.index(node)]):
                if isinstance(prev, ast.Assign) and len(prev.targets) == 1 and \
                        isinstance(prev.targets[0], ast.Name) and prev.targets[0].id == name:
                    return prev  # its value may use the old `name`: that is another tensor
                if _adds_into(prev, name):
                    continue
                if _mentions(prev, name):
                    return None
            if not isinstance(parent, (ast.If, ast.With, ast.Try)) or _header_mentions(parent, name):
                return None
            node = parent

    def module_output_not_saved(self, cls: str, constructor: ast.Call) -> bool:
        """A torch.nn layer built by `constructor` returns a new tensor its backward does not keep.
        (Measured with default arguments: with `inplace=True` a layer passes its input through.)"""
        index = self.ops.modules_inplace.get(cls)
        return (cls in self.ops.output_not_saved["modules"] and cls not in ALIASING_MODULES
                and (index is None or inplace_arg(constructor, index) is None))

    def output_not_saved(self, value: ast.AST) -> bool:
        """Does `value` produce a new tensor (not a view of another) that its own backward does not
        keep? Measured per op from torch (`optable.output_not_saved`); anything unknown: no."""
        ons = self.ops.output_not_saved
        if isinstance(value, ast.BinOp):
            return isinstance(value.op, (ast.Add, ast.Sub, ast.Mult)) and self.infer.info(value).tensor
        if isinstance(value, ast.UnaryOp):
            return isinstance(value.op, ast.USub) and self.infer.info(value).tensor
        if not isinstance(value, ast.Call):
            return False
        cls = self.infer.module_class(value.func)
        if cls is not None:
            return self.infer.info(value.func).origin == "module" and cls in ons["modules"]
        q = self.qualname(value.func) or ""
        name = q.rsplit(".", 1)[-1]
        if q.startswith("torch.nn.functional."):
            return name in ons["functional"] and not _inplace_requested(value)
        if q.startswith("torch.") and q.count(".") == 1:
            return name in ons["torch"] and name in self.ops.torch_functions["fresh"]
        if isinstance(value.func, ast.Attribute) and not q:
            method = value.func.attr
            return (method in ons["methods"] and method in self.ops.tensor_methods["fresh"]
                    and self.infer.info(value.func.value).tensor)
        return False

    # ---- aliasing ------------------------------------------------------------------------------
    def references_before(self, name: str, at: ast.AST) -> list[ast.AST]:
        """Places that may hold another reference to `name`'s current tensor when `at` runs."""
        scope = self.index.scope_for(at)
        _, dom = self.index.reaching(scope, name, at)
        dom_pos = (0, 0) if dom is None or dom.kind == "param" else pos(dom.node)
        here = pos(at)
        out = []
        for ev in self.escapes(scope, name):
            p = pos(ev)
            if p <= dom_pos:
                continue
            if p < here or self.index.in_common_loop(ev, at, within=dom.stmt if dom and dom.kind != "param" else None):
                out.append(ev)
        return out

    def escapes(self, scope: Scope, name: str) -> list[ast.AST]:
        key = (id(scope.node), name)
        if key not in self._escapes:
            self._escapes[key] = [n for n in scope.loads.get(name, []) if self._escapes_here(n)]
        return self._escapes[key]

    def _escapes_here(self, node: ast.AST) -> bool:
        parent = self.index.parent
        ops = self.ops
        cur = node
        while True:
            up = parent.get(cur)
            if up is None:
                return False
            if isinstance(up, ast.Subscript) and up.value is cur:
                cur = up
                continue
            if isinstance(up, ast.Attribute) and up.value is cur:
                if up.attr in ("T", "mT", "H", "mH", "real", "imag", "data"):
                    cur = up
                    continue
                call = parent.get(up)
                if isinstance(call, ast.Call) and call.func is up and (
                        up.attr in ops.tensor_methods["alias"] or up.attr in ops.methods):
                    cur = call
                    continue
                return False  # `x.shape`, `x.sum()`: a read
            if isinstance(up, ast.IfExp) and cur is not up.test:
                cur = up
                continue
            if isinstance(up, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Starred)):
                return True  # into a container
            if isinstance(up, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
                return cur is up.value
            if isinstance(up, (ast.Return, ast.Yield, ast.YieldFrom)):
                return True
            if isinstance(up, (ast.For, ast.AsyncFor)):
                return cur is up.iter  # iterating yields views
            if isinstance(up, ast.keyword):
                up = parent.get(up)
            if isinstance(up, ast.Call) and cur is not up.func:
                return not self._non_storing_call(up, cur)
            return False

    def _non_storing_call(self, call: ast.Call, arg: ast.AST) -> bool:
        q = self.imports.qualname(call.func) or ""
        if q.startswith("torch."):
            name = q.rsplit(".", 1)[-1]
            if name in self.ops.torch_functions["alias"]:
                return not self._escapes_here(call)  # `torch.squeeze(x)` assigned somewhere is a view
            return True
        if isinstance(call.func, ast.Name) and call.func.id in NON_STORING_BUILTINS:
            return True
        if isinstance(call.func, ast.Attribute):
            recv = self.infer.info(call.func.value)
            if recv.tensor:
                return True  # tensor methods do not keep their arguments
        callee = self.infer.info(call.func)
        if callee.origin == "module":
            return True
        if callee.origin == "passthrough_module":  # returns its input: a new reference if kept
            return not self._escapes_here(call)
        return False

    def used_after(self, name: str, stmt: ast.AST) -> bool:
        """Is `name` read after `stmt` (later in the scope, or anywhere in a loop around it)?"""
        scope = self.index.scope_for(stmt)
        end = (stmt.end_lineno, stmt.end_col_offset)  # type: ignore[attr-defined]
        for load in scope.loads.get(name, []):
            if self.index.contains(stmt, load):
                continue
            if pos(load) > end or self.index.in_common_loop(load, stmt):
                return True
        return False

    def intent_reason(self, node: ast.AST) -> str | None:
        return self.intent.reason(node)
