"""The verdict on one in-place write: how dangerous it is, and whether an out-of-place rewrite is
provably unobservable.

Hazard (what the write does to autograd):
  breaks   the written storage was saved for backward before the write (by an op that saves it,
           or by a call that may), or it is a leaf that requires grad, a view of one, or one of
           several views a `chunk`/`split`/`unbind` returned: backward fails or the write raises
  inplace  it is part of the graph (may require grad) but nothing saved it yet: harmless today
  None     it cannot require grad (a fresh buffer, a detached value, under no_grad): no finding

Safety (deny by default): rebinding the written name instead of writing is unobservable only if
the name is a local bound to a tensor this scope made, nothing else may refer to that tensor's
memory afterwards (another live name, a view, a container, an attribute, the caller, a closure),
and nothing in the same statement reads it again. Every fact against it is a reason the user
reads. Some rewrites are *certainly* wrong (the write's effect on another reference is its whole
point: a loop over a model's parameters, a view of a tensor used later, a caller's tensor nothing
here reads again): those are not offered at all.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from outplace.analysis.flow import ScopeFlow, WriteRecord
from outplace.analysis.effects import SELF
from outplace.analysis.filecontext import parameter_default
from outplace.analysis.imports import dotted
from outplace.analysis.liveness import Liveness
from outplace.analysis.model import INTEGRAL_DTYPES, LOCAL_ORIGINS, MAYBE, NO, UNKNOWN, YES, Key, Obj, tri_or
from outplace.analysis.scopes import walk

BREAKS, INPLACE, NOGRAD = "breaks", "inplace", "nograd"
HAZARD_RANK = {BREAKS: 3, INPLACE: 2, NOGRAD: 1, None: 0}
# Objects that belong to some longer-lived object's state: a write through a local name for one is
# a write into that state.
SHARED_STATE_ORIGINS = frozenset({"element", "attribute", "buffer", "nn_parameter", "global", "data"})


@dataclass(frozen=True)
class Info:
    """What an expression is, for rules: a tensor (yes / maybe / no), its origin and dtype class."""

    tensor: bool  # may be a tensor
    origin: str = "unknown"
    dtype: str = "unknown"
    root: str | None = None  # for views: the name of the base
    sure: bool = False  # certainly a tensor

    @property
    def is_scalar(self) -> bool:
        """A Python number, on every path (`s = 2.0` or `s = t` joined is not: eval26 D2)."""
        return self.origin == "scalar" and not self.tensor


UNKNOWN_INFO = Info(False)


def info_of(o: Obj | None) -> Info:
    if o is None:
        return UNKNOWN_INFO
    return Info(o.tensor != NO, o.origin, o.dtype, o.view_of, o.tensor == YES)


@dataclass(frozen=True)
class Judgement:
    info: Info
    spelling: str | None  # `x`, `self.h`; None for other expressions
    hazard: str | None  # BREAKS, INPLACE, NOGRAD, or None (deliberate: `.data`, `.grad`; not reported)
    why: str  # the hazard, in words
    reasons: tuple[str, ...]  # why rewriting it could be observed; empty: safe as far as the target goes
    certain: str | None  # why every rewrite would change behaviour (then no fix is offered)
    rebindable: bool = True  # False for nn.Parameter attributes (assigning a plain tensor raises)
    saved_lines: frozenset = frozenset()  # the lines of the ops that saved (or may have saved) the target itself
    # Some path certainly writes a tensor: one of the objects the target may hold is certainly one,
    # made here (`Zi = q.new_zeros(...)` on one branch, `Si, Zi = state` on the other), even where
    # the joined `info` is not sure. (A parameter taken to be a tensor is a guess, not this.)
    some_tensor: bool = False
    # Autograd certainly saved what the target holds on some path (`saved by`, not `may be saved by`):
    # what it saved is a tensor, so on that path the target is one.
    saved_tensor: bool = False
    # Judged with the callers' facts: what the function alone shows of the target (other callers may
    # pass something else; a fix that calls a tensor method needs it to be a tensor whoever calls).
    fix_info: Info | None = None

    @property
    def safety_info(self) -> Info:
        """What a fix may rely on: the function's own facts where callers' facts made `info`."""
        return self.fix_info or self.info


def judge(flow: ScopeFlow, live: Liveness, record: WriteRecord, step: tuple[int, int] | None,
          stmt: ast.AST | None) -> Judgement:
    st = record.state
    keys = record.keys
    target = record.target
    spelling = dotted(target) if target is not None else None
    shown = spelling or (ast.unparse(target) if target is not None else "the input")
    objs = sorted((o for k in keys if (o := st.objs.get(k)) is not None), key=_obj_order)
    facts = st.facts(keys) or Obj()
    info = info_of(facts)
    roots = st.storages(keys)  # what the write certainly reaches
    shared = st.may_storages(keys)  # and what it may: a fix must be safe for all of it
    live_after = live.live_after(*step) if step is not None else frozenset()

    hazard, why = _hazard(flow, record, objs, roots, shared, shown)
    reasons: list[str] = []
    certain: str | None = None
    name = target.id if isinstance(target, ast.Name) else None

    # ---- who else may see the tensor -----------------------------------------------------------------
    for o in objs:
        if o.leaf:
            reasons.append(f"{_q(shown)} is a leaf that requires grad (or a view of one): in place this raises; "
                           "out of place it silently replaces the leaf")
            break
    for o in objs:
        if o.origin not in LOCAL_ORIGINS:
            reasons.append(_nonlocal_reason(o, shown))
            break
    else:
        # A local that may share memory with what outlives the scope (`row = h[i]`, an integer index
        # of no dimension: a view of the parameter `h`).
        other = next((o for k, o in st.objs.items() if o.origin not in LOCAL_ORIGINS and o.tensor != NO
                      and k in shared - roots and o.storage & (shared - roots)), None)
        if other is not None:
            reasons.append(f"{_q(shown)} may share memory with {other.label or 'a tensor from outside'}, which "
                           "outlives this scope: out of place that one would keep the old values")
    if target is not None and not isinstance(target, ast.Name):
        if isinstance(target, ast.Attribute) and spelling is not None:
            if not any(o.origin not in LOCAL_ORIGINS for o in objs):
                reasons.append(f"{_q(shown)} is an attribute: other code holding the object sees the change")
        elif not (isinstance(target, ast.Call) and objs and all(o.origin in LOCAL_ORIGINS for o in objs)):
            # (A call's own new tensor, `torch.sigmoid(x).mul_(2)`: only the names checked below could
            # share it.)
            reasons.append("the written expression may share memory with another tensor")
    off = flow.ctx.intent.grad_maybe_off(record.node)
    if off is not None and any(st.grad.get(s, UNKNOWN) != NO for s in roots):
        reasons.append(f"{off}: out of place, {_q(shown)} would stop requiring grad there")
    if flow.approximate:
        reasons.append("outplace stopped following this function's loops before its facts settled: it cannot "
                       "prove a rewrite unobservable here")
    if flow.ctx.opaque is not None:
        reasons.append(flow.ctx.opaque)
    replaced = flow.ctx.replacing_decorator(flow.cls) if flow.cls is not None else None
    if replaced is not None:
        reasons.append(f"`{flow.cls.name}` (or a base) {replaced}, which may put another class in its place: "
                       "`self` may have other attributes than these")
    if flow.dynamic:
        reasons.append("the scope reads its variables by name (`locals()`, `vars()`, `eval`, `exec`): any of "
                       "them may refer to the tensor")
    if name is not None and name in flow.info.declared_global:
        reasons.append(f"`{name}` is declared global: other code sees the change")
    escaped = sorted({e for r in shared for e in st.escaped.get(r, ())}, key=lambda e: (e.line, e.what))
    for e in escaped[:2]:
        reasons.append(f"{_q(shown)} was {e.what}" + (f" (line {e.line})" if "line" not in e.what else "")
                       + ": that reference would keep the old value")
    aliases = _aliases(flow, st, shared, name)
    for other in sorted(aliases):
        if other.startswith("<iter:"):
            reasons.append(f"a loop is iterating over {_q(shown)}: it would keep the old tensor")
        elif other in live_after:
            reasons.append(f"`{other}` refers to the same tensor (or shares its memory) and is used afterwards: "
                           "it would keep the old value")
    if not flow.overlapping.isdisjoint(keys):
        reasons.append(f"{_q(shown)} may be a view whose elements share memory (`expand`, `broadcast_to`): in place "
                       "the write raises, out of place it computes")
    observed = _identity_read(flow, record.node, {name, *aliases} - {None} if name else set(),
                              any(k not in o.storage for k in keys if (o := st.objs.get(k)) is not None))
    if observed is not None:
        reasons.append(f"{observed} observes which tensor {_q(shown)} is (or its memory layout): out of place it "
                       "would see another tensor")
    captured = ({name} if name else set()) | set(aliases)
    for n in sorted(captured & flow.captured):
        reasons.append(f"`{n}` is used by a nested function, lambda or comprehension, which may keep or read "
                       "the old tensor")
        break
    operand = st.reach(record.operand) & shared
    if operand and not _operand_is_target(record):
        reasons.append(f"an operand shares memory with {_q(shown)}: in place the op reads what it writes, which "
                       "out of place it does not")
    reread = None
    if stmt is not None and name is not None:
        again = _read_again(flow, record, stmt, shared)
        if again:
            reasons.append(f"`{again}` is read again in the same statement: out of place it would see the "
                           "old value")
            if again == name and isinstance(record.node, ast.Call) and \
                    not any(isinstance(n, _BRANCHING_EXPRS) for n in walk(stmt)):
                # `z = h.mul_(2) + h`: that read runs whenever the write does (eval26 U5). (The right
                # side of `b[i] = b[j] * 2` is computed before the store: there it reads the old values.)
                reread = (f"`{name}` is read again in the same statement, after the write or as the very tensor "
                          "it changes: out of place it would see the old value")

    # ---- rewrites that certainly change behaviour ---------------------------------------------------
    shared_state = [o for o in objs if o.origin in SHARED_STATE_ORIGINS]
    if name is not None and shared_state and len(shared_state) == len(objs):
        # A local name for a tensor that lives in an object's state (an attribute, a container's
        # element, a global): the write is meant for that state, which rebinding the name loses.
        what = shared_state[0].label or f"the tensor `{name}` refers to"
        certain = (f"`{name}` is another name for {what}: the write is meant to change it there, and rebinding "
                   f"`{name}` would leave it unchanged")
        if any(o.origin == "nn_parameter" for o in objs):
            certain += "; update parameters in place under `with torch.no_grad():` (or let an optimizer do it)"
    elif name is not None and name not in live_after and _write_statement(record, stmt):
        views = _views(st, keys)
        nonlocal_objs = [o for o in objs if o.origin not in LOCAL_ORIGINS and o.origin not in ("unknown",)]
        if any(o.origin == "nn_parameter" for o in objs):
            certain = (f"`{name}` is only another name for a parameter of the model: rebinding it would leave "
                       "the parameter unchanged; update it in place under `with torch.no_grad():` (or let an "
                       "optimizer do it)")
        elif views and _base_observable(flow, st, keys, objs, live_after, name):
            certain = _through_view(name, views, read_after=False)
        elif nonlocal_objs and all(o.origin not in LOCAL_ORIGINS for o in objs):
            what = nonlocal_objs[0].label or f"`{name}`"
            certain = (f"the write changes {what}, which outlives this scope, and nothing here reads `{name}` "
                       "afterwards: rebinding it would drop the write")
        else:
            kept = _kept_reference(flow, st, roots, record.node) if objs and all(
                o.origin in LOCAL_ORIGINS for o in objs) else None
            if kept is not None:
                # `self.k = h`, then `h.mul_(2)` and `h` never read again (eval45): the write is for what
                # that reference sees, and rebinding `h` would be a dead store that drops it
                certain = (f"`{name}` was {kept}, and nothing here reads `{name}` afterwards: the write is for what "
                           f"that reference sees, and rebinding `{name}` would drop it")
    if certain is None and name is not None and name in live_after and _write_statement(record, stmt):
        # `row = y[0]; row.mul_(2)`, then `y` and `row` both read (adversarial review U1): the write
        # is meant for `y` too, whatever `row` is used for afterwards
        # (only a view taken here of a named base, and a write that does not raise at once: one of
        # several views, or a view of a leaf, never changed the base in the first place)
        views = [o for o in _views(st, keys) if o.view_of and not o.multi_view and not o.leaf
                 and o.origin in LOCAL_ORIGINS]
        if views and len(views) == len(objs) and _base_observable(flow, st, keys, objs, live_after, name):
            certain = _through_view(name, views, read_after=True)
    if certain is None and name is not None and name in live_after and _write_statement(record, stmt) and \
            objs and all(o.origin == "parameter" for o in objs) and _only_mutates(flow, stmt, name):
        # `def norm_ip(img, lo, hi): img.clamp_(lo, hi); img.add_(-lo).div_(hi - lo)` (torchvision's
        # make_grid): the function returns nothing and only writes `img` again: changing the caller's
        # tensor is all it does, and rebinding `img` here would make it do nothing.
        certain = (f"`{getattr(flow.scope, 'name', 'this function')}` returns nothing and after this only writes "
                   f"`{name}` again in place: changing the caller's tensor is what it does, and rebinding `{name}` "
                   "would make it do nothing")
    if certain is None and name is not None and _write_statement(record, stmt) and objs and \
            all(o.origin == "parameter" for o in objs) and _only_mutates(flow, stmt, name, returns_it=True):
        dropped = _result_dropped(flow, name)
        if dropped is not None:
            # `def scale(t): t.mul_(2); return t` called as the statement `scale(h)` (eval30 U11): that
            # caller sees only what the write does to its tensor
            certain = (f"`{getattr(flow.scope, 'name', 'this function')}` writes `{name}` in place and returns it, and "
                       f"a call of it drops the result (line {dropped}): that caller sees only the change to its own "
                       f"tensor, which rebinding `{name}` would lose")
    if certain is None and name is not None and _write_statement(record, stmt):
        returned = _returned_before_finally(flow, record.node, name)
        if returned is not None:
            # `try: return h` / `finally: h.mul_(2)` (eval49 U3): the caller already holds the tensor
            certain = (f"`{name}` was returned (line {returned}) before this `finally` runs: the caller holds that very "
                       f"tensor, and rebinding `{name}` here would drop the write")
    if certain is None and target is not None and not isinstance(target, (ast.Name, ast.Attribute)):
        # `u = y.view(-1).mul_(2)`, then `y` is read: the write is meant for `y` through the view.
        views = _views(st, keys)
        bases = sorted(a for a in aliases if a in live_after and not a.startswith("<"))
        if views and len(views) == len(objs) and bases:
            certain = (f"the write goes through a view into `{bases[0]}`, which is read afterwards: out of place, "
                       f"`{bases[0]}` would keep its old values; write into `{bases[0]}` itself instead")
    members = frozenset().union(*(o.one_of for o in objs)) if objs else frozenset()
    if certain is None and name is not None and members and _write_statement(record, stmt) and \
            all(o.one_of or o.storage <= members for o in objs):
        # (each object the loop variable may be is a member, or the loop's element standing for them)
        if keys & flow.repeated_members:
            certain = (f"`{name}` is, in turn, each tensor the loop goes over, and two of them share memory (the "
                       "same tensor twice, or a view of another): a later iteration reads what this write "
                       f"changed, which rebinding `{name}` would lose")
        else:
            certain = _through_loop_element(st, name, members, aliases, live_after)
    if certain is None and reread is not None:
        certain = reread
    if hazard in (BREAKS, INPLACE) and keys & flow.version_shared and objs and all(o.origin == "data" for o in objs):
        certain = ("the write through `.detach()` is meant for the tensor it detaches from, which autograd saved: "
                   "write a copy (`.clone()`) or, to change the saved values on purpose, use `.data`")
    if certain is None and name is not None and keys:
        found = _certain_holder(st, keys, sorted(aliases & live_after - {name}) + _kept_attributes(flow, st, record.node),
                                views=isinstance(target, ast.Name) and _write_statement(record, stmt))
        if found is not None:
            holder, view = found
            certain = (f"`{holder}` holds {'a view of ' if view else ''}this very tensor and is used afterwards: out of "
                       f"place it would keep the old value{'s' if view else ''}")
    rebindable = not (isinstance(target, ast.Attribute) and any(o.origin == "nn_parameter" for o in objs))
    # (what certainly is the written memory, not what it may share through a guess: `h = act(h)` with
    # an unknown `act` that may return its input; the arm split asks this of each arm)
    saved_lines = frozenset(e.line for r in roots for e in st.saved.get(r, ()))
    return Judgement(info, spelling, hazard, why, tuple(dict.fromkeys(reasons)), certain, rebindable, saved_lines,
                     any(o.tensor == YES and o.origin in LOCAL_ORIGINS for o in objs),
                     hazard == BREAKS and any(e.what.startswith("saved by") and e.grad in (MAYBE, YES)
                                              for r in roots for e in st.saved.get(r, ())))


def _views(st, keys: frozenset) -> list[Obj]:
    """The objects of `keys` that are views (they share memory they do not own), in a fixed order."""
    return [o for k in sorted(keys, key=lambda k: _obj_order(st.objs[k]) if k in st.objs else ())
            if (o := st.objs.get(k)) is not None and o.tensor != NO and k not in o.storage]


def _through_view(name: str, views: list[Obj], read_after: bool) -> str:
    """Why rebinding a view's name certainly changes behaviour: the write is meant for its base."""
    base = next((o.view_of for o in views if o.view_of), None)
    return (f"`{name}` is a view{f' of `{base}`' if base else ''}{', which is read afterwards' if read_after else ''}: "
            f"the write is meant to change {f'`{base}`' if base else 'the tensor it views'}{' too' if read_after else ''}, "
            f"and rebinding `{name}` would lose that; write through the base instead (`base[...] = ...`)")


def _through_loop_element(st, name: str, members: frozenset, aliases: set, live_after: frozenset) -> str | None:
    """Why rebinding a loop variable over a container of known tensors (`for v in (a, b): v += 1`;
    `members`: their storages) certainly changes behaviour: the write is meant for those tensors,
    and one of them (or the container) is read afterwards, outlives the scope or was handed on."""
    seen = sorted(a for a in aliases if a in live_after and not a.startswith("<"))
    if seen:
        return (f"`{name}` is, in turn, each tensor the loop goes over, and `{seen[0]}` (one of them, or what "
                f"holds them) is read afterwards: the write is meant to change them, and rebinding `{name}` would "
                "leave them unchanged")
    for r in sorted(members, key=repr):
        o = st.objs.get(r)
        if o is not None and o.tensor != NO and o.origin not in LOCAL_ORIGINS:
            return (f"`{name}` is, in turn, each tensor the loop goes over, one of them {o.label or 'from outside'}, "
                    f"which outlives this scope: the write is meant to change it, and rebinding `{name}` would "
                    "drop the write")
        if st.escaped.get(r):
            e = min(st.escaped[r], key=lambda e: (e.line, e.what))
            return (f"`{name}` is, in turn, each tensor the loop goes over, one of them {e.what}: the write is "
                    f"meant to change it there, and rebinding `{name}` would drop the write")
    return None


def _certain_holder(st, keys: frozenset, names: list[str], views: bool = False) -> tuple[str, bool] | None:
    """A name of `names` that holds the written object itself on every path, for each object the target
    may be: bound to it alone, or to one tuple or list with it alone at a position (`out = (h, h.sum())`;
    `t = next(iter(ts))` or `first, *rest = ts` with `ts = [a, b]`: whichever `t` is, `ts` holds it).
    Only an object that is one tensor at run time counts: a parameter, or the latest tensor made at a
    site with memory of its own (not a view, whose site may stand for several: `a, b = h.chunk(2)`).
    `views`: a name holding a view of it counts too (the write covers the whole tensor, so the view
    sees it). The first such name, and whether it holds a view; None unless every object has one."""
    first = None
    for key in sorted(keys, key=repr):
        found = _holder_of(st, key, names, views)
        if found is None:
            return None
        first = first or found
    return first


def _returned_before_finally(flow: ScopeFlow, write: ast.AST, name: str) -> int | None:
    """The line of a `return` in the `try` (or a handler) whose `finally:` holds the write, where the
    returned value reads `name` and the `finally` does not rebind it before the write: that value is
    already the caller's."""
    node = write
    for anc in flow.index.ancestors(write):
        if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return None
        if isinstance(anc, ast.Try) and any(flow.ctx.contains(f, node) for f in anc.finalbody):
            if any(isinstance(m, ast.Name) and m.id == name and not isinstance(m.ctx, ast.Load)
                   and m.lineno <= write.lineno for f in anc.finalbody for m in walk(f)):
                return None  # (bound again in the `finally`: the write may be into another tensor)
            for part in [*anc.body, *anc.handlers, *anc.orelse]:
                for n in walk(part):
                    if isinstance(n, ast.Return) and n.value is not None and any(
                            isinstance(m, ast.Name) and m.id == name for m in walk(n.value)):
                        return n.lineno
        node = anc
    return None


def _kept_reference(flow: ScopeFlow, st, roots: frozenset, write: ast.AST) -> str | None:
    """How the written tensor was certainly kept where it outlives the write (Event.holder: an attribute
    of an object from outside, a global or a container of one, a `yield`), with that attribute or name
    not stored again after the write, outside loops; None otherwise."""
    if flow.index.loops_around(write):
        return None
    after = _after_write(flow, write)
    for e in sorted({e for r in roots for e in st.escaped.get(r, ())}, key=lambda e: (e.line, e.what)):
        if e.holder is None or e.line > after.line:
            continue
        if e.holder.endswith("[...]"):
            # (an item of a mapping or list from outside: the scope neither reads nor stores that
            # container again, so nothing here replaces or reads the item)
            base = e.holder[:-len("[...]")]
            if base not in after.stored and base not in after.read and after.outside(base):
                return e.what
        elif e.holder == "<yield>" or e.holder not in after.stored and after.outside(e.holder):
            return e.what
    return None


def _kept_attributes(flow: ScopeFlow, st, write: ast.AST) -> list[str]:
    """The attributes (`self.buf`) this scope stored a value in, of an object that outlives it (`self`,
    a parameter, a global), that are read after the write and neither stored nor deleted again (`self.buf
    = h; t = self.buf; t += 1; return self.buf`: the write is meant for `self.buf`). Only outside loops,
    where a later line is a later step."""
    dotted_names = [n for n in st.env if "." in n and not n.startswith("<")]
    if not dotted_names or flow.index.loops_around(write):
        return []
    after = _after_write(flow, write)
    return [n for n in sorted(dotted_names) if n in after.read and n not in after.stored and after.outside(n)]


@dataclass(frozen=True)
class _After:
    """What the scope spells after a write's last line: the names and attributes it stores (or
    deletes) and those it reads; and which roots are the scope's own locals (not its parameters)."""

    line: int
    stored: frozenset
    read: frozenset
    own: frozenset

    def outside(self, spelled: str) -> bool:
        """Is `spelled` (`self.k`, `G`) of an object from outside the scope: a parameter's, a global's?"""
        return spelled.split(".", 1)[0] not in self.own


def _after_write(flow: ScopeFlow, write: ast.AST) -> _After:
    """`_After` for a write, from one walk of the scope (kept for the file: every write asks)."""
    key = ("spelled uses", id(flow.scope))
    uses = flow.ctx.memo.get(key)
    if uses is None:
        uses = flow.ctx.memo[key] = [
            (n.lineno, spelled, isinstance(n.ctx, ast.Load)) for n in walk(flow.scope)
            if isinstance(n, (ast.Attribute, ast.Name)) and (spelled := dotted(n)) is not None]
    line = getattr(write, "end_lineno", None) or getattr(write, "lineno", 0)
    args = getattr(flow.scope, "args", None)
    params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)} if args is not None else set()
    return _After(line, frozenset(s for ln, s, load in uses if ln > line and not load),
                  frozenset(s for ln, s, load in uses if ln > line and load),
                  frozenset(flow.locals - params))


def _holder_of(st, key: Key, names: list[str], views: bool) -> tuple[str, bool] | None:
    o = st.objs.get(key)
    if o is None or o.storage != {key} or o.multi_view or o.may_share or \
            not (key[0] == "parameter" or (key[0] == "site" and key[-1] == "new")):
        return None
    alone = frozenset({key})
    for n in names:
        held = st.env.get(n)
        if held == alone:
            return n, False
        if held is not None and len(held) == 1:
            o = st.objs.get(next(iter(held)))
            if o is not None and o.origin == "container" and o.elems and any(e == alone for e in o.elems):
                return n, False
            if views and o is not None and o.tensor != NO and o.storage == alone and not o.multi_view:
                return n, True  # a view of it on every path (`v = h[0]`, `h.T`, `h.detach()`): it sees the whole write
    return None


# Reads that see which tensor a name holds (its identity, its autograd node, hooks registered on
# it) or, for a view, its memory layout: after an out-of-place rewrite they see another tensor.
IDENTITY_ATTRS = frozenset({"data_ptr", "_version", "grad_fn", "retain_grad", "register_hook", "register_post_accumulate_grad_hook",
                            "_cdata", "__dlpack__", "untyped_storage", "storage", "_typed_storage",
                            "_base", "is_leaf", "set_", "_is_view"})
# (`h.retain_grad()` before the write too: `h.grad` afterwards would be the new tensor's, None.)
ANYWHERE_ATTRS = frozenset({"retain_grad"})
LAYOUT_ATTRS = frozenset({"stride", "storage_offset", "is_contiguous", "view", "view_as", "is_set_to"})
IDENTITY_FUNCTIONS = frozenset({"id", "hash", "builtins.id", "builtins.hash", "weakref.ref", "weakref.finalize",
                                "weakref.proxy", "torch.utils.dlpack.to_dlpack"})


def layout_read(flow: ScopeFlow, write: ast.AST, names: set) -> str | None:
    """The first read after the write of the memory layout (or identity) of what `names` hold: what
    an out-of-place form that returns another layout than the tensor's (optable.layout_changing)
    would change, whether or not the tensor is a view."""
    return _identity_read(flow, write, names, True)


def _identity_read(flow: ScopeFlow, write: ast.AST, names: set, view: bool) -> str | None:
    """The first read of one of `names` that may run after the write (a later line, or the loop
    around the write) and observes the tensor's identity (`id(h)`, `h.data_ptr()`, `h is t`,
    `h.retain_grad()`) or, when it is a view, its layout (`h.stride()`, `h.view(-1)`), as
    written, here or in a function of the run it is handed to; None if there is none."""
    parent = flow.index.parent
    loops = flow.index.loops_around(write)
    line = getattr(write, "end_lineno", None) or getattr(write, "lineno", 0)

    def qualname(f: ast.AST) -> str | None:
        return flow.ctx.imports.qualname(f) or (f.id if isinstance(f, ast.Name) and f.id not in flow.locals else None)

    for n in sorted(names):
        for load in flow.info.loads.get(n, ()):
            p = parent.get(load)
            before = load.lineno <= line and not any(flow.ctx.contains(loop, load) for loop in loops)
            if before and not (isinstance(p, ast.Attribute) and p.attr in ANYWHERE_ATTRS):
                # (before the write only `retain_grad` counts, here or in a helper it is handed to)
                call, how = _argument_of(load, parent)
                inside = _callee_identity_read(flow, call, how, view, anywhere=True) if call is not None else None
                if inside is not None:
                    return inside
                continue
            found = _identity_use(load, parent, qualname, view)
            if found is not None:
                return f"`{found}`"
            call, how = _argument_of(load, parent)
            if call is not None:
                inside = _callee_identity_read(flow, call, how, view)
                if inside is not None:
                    return inside
    return None


_PACKERS = frozenset({"dict", "list", "tuple", "set"})


def _argument_of(load: ast.AST, parent: dict) -> tuple[ast.Call | None, int | str | None]:
    """The call `load` is passed to, and how: its position, its keyword, or None where it goes in
    through `*`/`**` or a container unpacked there (`g(*[h])`, `g(**{"t": h})`, `g(**dict(t=h))`:
    any parameter)."""
    node, p = load, parent.get(load)
    packed = False
    while True:
        if isinstance(p, ast.Call) and not packed and node in p.args:
            return p, p.args.index(node)
        if isinstance(p, ast.keyword) and isinstance(parent.get(p), ast.Call) and not packed and p.arg is not None:
            call = parent.get(p)
            if not (isinstance(call.func, ast.Name) and call.func.id in _PACKERS):  # type: ignore[union-attr]
                return call, p.arg  # type: ignore[return-value]
        if isinstance(p, ast.Call) and packed and (isinstance(node, ast.Starred) and node in p.args or
                                                   isinstance(node, ast.keyword) and node in p.keywords):
            if not (isinstance(p.func, ast.Name) and p.func.id in _PACKERS):
                return p, None
        if isinstance(p, (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Starred)) or \
                isinstance(p, ast.keyword) or \
                isinstance(p, ast.Call) and isinstance(p.func, ast.Name) and p.func.id in _PACKERS:
            packed = True
            node, p = p, parent.get(p)
            continue
        return None, None


_SAME_MEMORY = frozenset({"detach", "numpy", "data", "cpu"})  # (on a CPU tensor: the same memory, the same layout)
_NUMPY_LAYOUT = frozenset({"strides", "ctypes", "__array_interface__"})


def _identity_use(load: ast.AST, parent: dict, qualname, view: bool) -> str | None:
    """What this use of a name holding the tensor reads of its identity (`h.data_ptr()`, `id(h)`,
    `getattr(h, "_version")`, `h is t`) or, where it is a view, of its layout (`h.stride()`, also through
    objects on its memory: `h.detach().numpy().strides`, eval30 L1): the expression, or None."""
    n, p = load, parent.get(load)
    while view and isinstance(p, ast.Attribute) and p.attr in _SAME_MEMORY:
        up = parent.get(p)
        n, p = (up, parent.get(up)) if isinstance(up, ast.Call) and up.func is p else (p, up)
    if isinstance(p, ast.Attribute) and p.value is n and (
            p.attr in IDENTITY_ATTRS or view and (p.attr in LAYOUT_ATTRS or n is not load and p.attr in _NUMPY_LAYOUT)):
        return ast.unparse(p)
    if isinstance(p, ast.Call) and n in p.args:
        q = qualname(p.func)
        if q in IDENTITY_FUNCTIONS:
            return f"{dotted(p.func)}({ast.unparse(n)})"
        if q == "getattr" and len(p.args) >= 2 and p.args[0] is n and isinstance(p.args[1], ast.Constant) \
                and (p.args[1].value in IDENTITY_ATTRS or view and p.args[1].value in LAYOUT_ATTRS):
            return ast.unparse(p)  # (`getattr(t, "_version")`, eval29 I2)
    if isinstance(p, ast.Compare) and any(isinstance(op, (ast.Is, ast.IsNot)) for op in p.ops) and not any(
            isinstance(e, ast.Constant) for e in (p.left, *p.comparators)):
        return ast.unparse(p)
    return None


def _callee_identity_read(flow: ScopeFlow, call: ast.Call, how: int | str | None, view: bool, depth: int = 0,
                          anywhere: bool = False) -> str | None:
    """A function of the run that `call` runs reads the argument passed at position or keyword `how`
    (None: through `*`/`**`, any parameter) as a tensor's identity or layout (`id(t)` in a memo,
    `t._version`, `t.view(-1)` of a view; eval26 I1, eval41: by keyword or star too): "`t.view` in `flat`"."""
    callees = [(fn, inputs) for fn, inputs, *_ in flow.calls.get(id(call), ())]
    if not callees and isinstance(call.func, ast.Name):
        # `ver = lambda t: t._version` then `ver(t=h)` (eval41): a local lambda bound once
        binds = flow.info.bindings.get(call.func.id, [])
        if len(binds) == 1 and isinstance(binds[0].value, ast.Lambda):
            flow.ctx.index.ensure_indexed(binds[0].value)
            callees = [(binds[0].value, {})]
    for fn, inputs in callees:
        args = getattr(fn, "args", None)
        if args is None:
            continue
        positional = [*args.posonlyargs, *args.args][1 if SELF in inputs else 0:]
        everything = [*positional, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a is not None)]
        if isinstance(how, int):
            names = {positional[how].arg} if how < len(positional) else \
                {args.vararg.arg} if args.vararg is not None else set()
        elif isinstance(how, str):
            names = {a.arg for a in everything if a.arg == how and a not in args.posonlyargs} or \
                ({args.kwarg.arg} if args.kwarg is not None else set())
        else:
            names = {a.arg for a in everything}
        owner = flow.ctx.owner_of(fn) if not isinstance(fn, ast.Lambda) else flow.ctx

        def qualname(f: ast.AST) -> str | None:
            return owner.imports.qualname(f) or (f.id if isinstance(f, ast.Name) else None)

        for n in ast.walk(fn):
            if anywhere and not (isinstance(p := owner.index.parent.get(n), ast.Attribute) and p.attr in ANYWHERE_ATTRS):
                continue
            if isinstance(n, ast.Name) and n.id in names and n in owner.index.parent:
                found = _identity_use(n, owner.index.parent, qualname, view)
                if found is None and n.id in (getattr(args.vararg, "arg", None), getattr(args.kwarg, "arg", None)):
                    p = owner.index.parent.get(n)
                    if isinstance(p, ast.Subscript) and p.value is n:  # (`args[0]`, `kwargs["t"]`)
                        found = _identity_use(p, owner.index.parent, qualname, view)
                if found is not None:
                    return f"`{found}` in `{getattr(fn, 'name', 'a lambda')}`"
    return None


def callers_may_raise(record: WriteRecord) -> bool:
    """Whether what the callers pass could make this write `breaks` where the function alone says
    less: it reaches a parameter (a caller may pass a leaf or a tensor it saved), something saved
    the written tensor under a grad nothing here shows (a caller may show it), or it is one of
    several views. Otherwise a caller can only tell that nothing requires grad (not reported)."""
    st = record.state
    if record.how == "out" and record.operand_grad == UNKNOWN:
        return True  # (`out=` raises where what is written requires grad: the callers may show it does)
    shared = st.may_storages(record.keys)
    if any(k[0] == "parameter" for k in shared if isinstance(k, tuple)):
        return True
    if any(st.saved.get(s) for s in shared):
        return True
    return any((o := st.objs.get(k)) is not None and (o.multi_view or o.leaf) for k in record.keys)


def _obj_order(o: Obj) -> tuple:
    """A deterministic order of objects for messages (keys hold ids and hashes that vary per run)."""
    return (o.origin, o.label, o.nonlocal_reason or "", o.view_of or "")


def _frozen_before(flow: ScopeFlow, record: WriteRecord) -> bool:
    """Was the parameter written (`proto.weight`, `self.emb.weight`) frozen earlier in the block that
    runs the write: `for p in proto.parameters(): p.requires_grad = False`, `proto.requires_grad_(False)`,
    `proto.weight.requires_grad = False` (solo-learn's prototypes, eval25)? Then the write into the
    leaf does not raise; what saved it still counts. Nothing between turns it back on."""
    spelled = dotted(record.target) if record.target is not None else None
    node = record.node
    if spelled is None or "." not in spelled:
        return False
    index = flow.ctx.index
    frozen = False
    cur = node
    while cur is not None and cur is not flow.scope:
        parent = index.parent.get(cur)
        for block in _blocks(parent):
            if not any(s is cur for s in block):
                continue
            for stmt in block[:next(i for i, s in enumerate(block) if s is cur)]:
                switched = _switches_requires_grad(stmt, spelled)
                if switched is not None:
                    frozen = not switched
        if frozen:
            return True
        cur = parent
    return False


def _blocks(node: ast.AST | None) -> list[list]:
    if node is None:
        return []
    return [b for b in (getattr(node, "body", None), getattr(node, "orelse", None), getattr(node, "finalbody", None))
            if isinstance(b, list)]


def _switches_requires_grad(stmt: ast.AST, spelled: str) -> bool | None:
    """What `stmt` last sets `requires_grad` to for the parameter `spelled` (`m.weight`), or None:
    `m.weight.requires_grad = False`, `m.requires_grad_(False)`, or a loop over `m.parameters()` /
    `m.named_parameters()` that sets it on each."""
    owners = {spelled, *(spelled.rsplit(".", i)[0] for i in range(1, spelled.count(".") + 1))}
    got = None
    if isinstance(stmt, (ast.For, ast.AsyncFor)) and isinstance(stmt.iter, ast.Call) and \
            isinstance(stmt.iter.func, ast.Attribute) and stmt.iter.func.attr in ("parameters", "named_parameters") and \
            dotted(stmt.iter.func.value) in owners:
        target = stmt.target.elts[-1] if isinstance(stmt.target, ast.Tuple) and stmt.target.elts else stmt.target
        name = target.id if isinstance(target, ast.Name) else None
        for inner in stmt.body:
            value = _sets_requires_grad(inner, {name} if name else set())
            got = value if value is not None else got
        return got
    return _sets_requires_grad(stmt, owners)


def _sets_requires_grad(stmt: ast.AST, owners: set) -> bool | None:
    """`x.requires_grad = <bool>` or `x.requires_grad_(<bool>)` on one of `owners` (spellings)."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute) and \
            stmt.targets[0].attr == "requires_grad" and dotted(stmt.targets[0].value) in owners and \
            isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, bool):
        return stmt.value.value
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) \
            and stmt.value.func.attr == "requires_grad_" and dotted(stmt.value.func.value) in owners:
        args = stmt.value.args
        if not args and not stmt.value.keywords:
            return True
        if len(args) == 1 and isinstance(args[0], ast.Constant) and isinstance(args[0].value, bool):
            return args[0].value
        return True  # (an unknown value: maybe on again)
    return None


def _hazard(flow: ScopeFlow, record: WriteRecord, objs: list[Obj], roots: frozenset, shared: frozenset,
            shown: str) -> tuple[str | None, str]:
    st = record.state
    if objs and all(o.origin == "data" for o in objs):
        detached = sorted((e for r in roots for e in st.saved.get(r, ()) if e.what.startswith("saved")),
                          key=lambda e: (e.grad not in (MAYBE, YES), e.line, e.what)) \
            if record.keys & flow.version_shared else []
        if detached:
            e = detached[0]
            sure = e.grad in (MAYBE, YES)
            unless = "" if sure else " if that op's inputs required grad"
            return (BREAKS if sure else INPLACE), (
                f"{_q(shown)} is a `.detach()` view of a tensor that was {e.what} (line {e.line}){unless}: "
                "it shares that tensor's version counter, so this write makes backward fail")
        return None, f"{_q(shown)} is reached through `.data` or `.grad`: writing it is deliberate"
    grad = NO
    if not objs or any(o.dtype not in INTEGRAL_DTYPES for o in objs):  # an integer tensor never requires grad
        for r in roots:
            grad = tri_or(grad, st.grad.get(r, UNKNOWN))
    if any(o.leaf for o in objs) and not _frozen_before(flow, record) and not flow.ctx.intent.grad_disabled(record.node):
        # (with autograd off, an `autograd.Function`'s `forward` for one, writing a leaf raises nothing)
        if grad == MAYBE and all(o.origin == "leaf" for o in objs):
            return BREAKS, (f"{_q(shown)} is a leaf made with a `requires_grad=` that is not a literal (or a view of "
                            "one): where it requires grad, the write raises at once")
        return BREAKS, f"{_q(shown)} is a leaf that requires grad (or a view of one): the write raises at once"
    if record.how == "out" and record.operand_grad in (MAYBE, YES):
        may = "" if record.operand_grad == YES else " (it may)"
        if _optional_unpassed(flow, record.target):
            # `def chol(a, out=None): return torch.linalg.cholesky(a, out=out)` that no call of the
            # run passes `out` to (asteroid): `out=None` writes nothing
            return INPLACE, (f"{_q(shown)} is a parameter that defaults to None and that no call in the run "
                             f"passes: where one passes a tensor, `out=` raises at once (an argument of "
                             f"{record.label} requires grad{may})")
        return BREAKS, (f"an argument of {record.label} requires grad{may}: "
                        "`out=` raises at once (\"functions with out=... arguments don't support automatic "
                        "differentiation\")")
    later = _first_iteration_only(flow, record)
    # (a save whose op's inputs all do not require grad where the write runs never happened on any
    # way to it: `if y.requires_grad: y = y.clone()` in a loop, where the joined saves of the ways
    # round still hold the argument's, model._join_torn_grad)
    saved = sorted({e for r in roots for e in st.saved.get(r, ())
                    if not (later and r in later[2] and later[0] < e.line <= later[1]) and not st.never_built(e)},
                   key=lambda e: (not e.what.startswith("saved"), e.line, e.what))
    members = frozenset().union(*(o.one_of for o in objs)) - roots
    if members and not saved:
        # `for v in (a, b): v += 1`: `v` is `a` on one iteration, and what was saved of `a` is saved of it
        saved = sorted({e for r in members for e in st.saved.get(r, ())},
                       key=lambda e: (not e.what.startswith("saved"), e.line, e.what))
        if saved:
            shown = f"the loop variable {_q(shown)} (in turn each tensor it goes over)"
    if not saved and grad in (MAYBE, YES) and any(o.multi_view for o in objs):
        return _multi_view(shown)
    if not saved:
        guessed = sorted({e for r in shared - roots for e in st.saved.get(r, ())}, key=lambda e: (e.line, e.what))
        # (a tensor outside the graph is written too where a saved one may share its memory: the save's
        # version counter is bumped, eval32 dplc)
        if guessed and (grad != NO or any(e.grad in (MAYBE, YES) for e in guessed)):
            e = guessed[0]
            return INPLACE, (f"{_q(shown)} may share memory with a tensor that {_was(e.what)} (line {e.line}), if an "
                             "unknown call returned its argument; nothing shows that it does")
    if saved and not any(e.grad in (MAYBE, YES) for e in saved):
        e = saved[0]
        return INPLACE, (f"{_q(shown)} {_was(e.what)} (line {e.line}) if that op's inputs required grad, which nothing "
                         "here shows (give the function a caller in the run, or run `outplace diagnose`)")
    saved = [e for e in saved if e.grad in (MAYBE, YES)] or saved
    if saved and any(e.what.startswith("passed to") for e in saved) and \
            not any(e.what.startswith(("saved by", "may be saved by")) for e in saved):
        e = saved[0]
        return INPLACE, (f"{_q(shown)} was {e.what.replace(', which may save it for backward', '')} (line {e.line}), "
                         "which outplace cannot see into: if it saved it, this write breaks backward")
    if saved:
        e = saved[0]
        if e.what.startswith("saved by"):
            return BREAKS, f"{_q(shown)} was {e.what} (line {e.line}); this write makes backward fail"
        if e.what.startswith("may be saved"):
            return BREAKS, f"{_q(shown)} {e.what} (line {e.line}); this write can make backward fail"
        return BREAKS, f"{_q(shown)} {_was(e.what)} (line {e.line}); this write can make backward fail"
    if grad in (MAYBE, YES) and any(o.multi_view for o in objs):
        return _multi_view(shown)
    if grad == NO:
        return NOGRAD, f"{_q(shown)} does not require grad here: the write cannot affect a gradient"
    return INPLACE, (f"{_q(shown)} may require grad, but nothing saved it for backward before this write: "
                     "harmless today, fragile tomorrow")


def _first_iteration_only(flow: ScopeFlow, record: WriteRecord) -> tuple[int, int, frozenset] | None:
    """(the write's line, the loop's last line, storages) where the tensors of those storages are
    ones the written name holds only on a loop's first iteration: made before the loop, and the
    name is bound afresh after the write on every way round (`hids.append(h); h += e; h =
    layer(h)`, transfo-xl, eval43). What was saved of them later in that loop body was saved
    after this write, on the first iteration, and later iterations write another tensor. None
    where that is not shown."""
    target, node = record.target, record.node
    if not isinstance(target, ast.Name):
        return None
    st = record.state
    # (the innermost loop only: in an outer one, an inner loop around the write may write the same
    # tensor again after what the inner body saves of it)
    for loop in flow.index.loops_around(node)[:1]:
        roots = st.storages(frozenset(k for k in record.keys if not flow._made_in_loop(k, loop)))
        if not roots:
            continue
        body = getattr(loop, "body", [])
        at = next((i for i, b in enumerate(body) if flow.ctx.contains(b, node)), None)
        if at is None:
            continue
        for j in range(at + 1, len(body)):
            stmt = body[j]
            if any(isinstance(n, ast.Continue) for b in body[at:j] for n in walk(b)):
                break
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                    and stmt.targets[0].id == target.id:
                got = flow.values.get(id(stmt.value))
                # (nor what may share memory with it: a module that may return its input, a forward
                # hook that may, gives it back on the next iteration)
                if got is not None and \
                        frozenset(s for k in got[0] if (o := got[1].get(k)) is not None
                                  for s in (*o.storage, *o.may_share)).isdisjoint(roots):
                    return getattr(node, "end_lineno", None) or node.lineno, loop.end_lineno, roots  # type: ignore[attr-defined]
                break
    return None


def _multi_view(shown: str) -> tuple[str, str]:
    return BREAKS, (f"{_q(shown)} is one of several views returned by one call (`chunk`, `split`, `unbind`): "
                    "writing into it in place raises when it requires grad")


def _q(shown: str) -> str:
    """Code in backticks; a phrase standing for a value ("the previous module's output") as it is."""
    return shown if shown.startswith("the ") and " " in shown else f"`{shown}`"


def _was(what: str) -> str:
    """"was saved by `exp`", "may be saved by `mul`", "was passed to `f`": the event as a predicate."""
    return what if what.startswith(("may ", "was ")) else f"was {what}"


def _nonlocal_reason(o: Obj, shown: str) -> str:
    if o.nonlocal_reason:
        text = o.nonlocal_reason
        return text if text.startswith("`") else f"{_q(shown)} is {text}"
    if o.origin == "unknown":
        return f"where {_q(shown)} comes from is unknown: it may be shared"
    return f"{_q(shown)} is {o.label or 'not a tensor this scope made'}: others may hold it"


def _aliases(flow: ScopeFlow, st, roots: frozenset, name: str | None) -> set[str]:
    """Other names whose objects may share memory with the written tensor."""
    out: set[str] = set()
    for other, keys in st.env.items():
        if other == name or "." in other:
            continue
        if st.reach(keys) & roots:
            out.add(other)
    return out


def _base_observable(flow: ScopeFlow, st, keys: frozenset, objs: list[Obj], live_after: frozenset,
                     name: str) -> bool:
    """Is the memory a view writes into visible after the write, through its base?"""
    roots = st.storages(keys)
    for other, ks in st.env.items():
        if other == name or other.startswith("<iter:"):
            continue
        if st.reach(ks) & roots and (other in live_after or "." in other):
            return True
    return any(o.origin not in LOCAL_ORIGINS for o in objs) or bool(
        {e for r in roots for e in st.escaped.get(r, ())})


def _optional_unpassed(flow: ScopeFlow, target: ast.AST | None) -> bool:
    """Is `target` a parameter defaulting to None that every call of the function the run shows
    leaves to its default, or passes only a caller's own such parameter (asteroid's
    `stable_cholesky(b)` -> `_stable_cholesky(..., out=out)`), and there are calls?"""
    fn = flow.scope
    if not isinstance(target, ast.Name) or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    return _unpassed(flow.ctx, fn, target.id, 0)


def _unpassed(ctx, fn: ast.AST, name: str, depth: int) -> bool:
    args = fn.args  # type: ignore[attr-defined]
    positional = args.posonlyargs + args.args
    arg = next((a for a in [*positional, *args.kwonlyargs] if a.arg == name), None)
    default = parameter_default(args, arg) if arg is not None else None
    if depth > 3 or not (isinstance(default, ast.Constant) and default.value is None):
        return False
    ctx.index.ensure_indexed(fn)
    info = ctx.index.scopes.get(fn)
    if info is None or len(info.bindings.get(name, ())) != 1 or not ctx.plain_decorators(fn):
        return False  # (bound again in the function, or a decorator may pass it)
    calls = ctx._candidate_calls(fn)
    if not calls or ctx._handed_on(getattr(fn, "name", "")):
        return False
    index = positional.index(arg) if arg in positional else None
    method = isinstance(ctx.index.parent.get(fn), ast.ClassDef) and not any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in getattr(fn, "decorator_list", []))
    for call in calls:
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return False
        passed = next((k.value for k in call.keywords if k.arg == name), None)
        if passed is None and index is not None:
            at = index - (1 if method and isinstance(call.func, ast.Attribute) else 0)
            passed = call.args[at] if 0 <= at < len(call.args) else None
        if passed is None or (isinstance(passed, ast.Constant) and passed.value is None):
            continue
        caller = ctx.scope_node(call)
        if not (isinstance(passed, ast.Name) and isinstance(caller, (ast.FunctionDef, ast.AsyncFunctionDef))
                and _unpassed(ctx, caller, passed.id, depth + 1)):
            return False
    return True


def _result_dropped(flow: ScopeFlow, param: str) -> int | None:
    """The line of a call of the flow's function (by its name, in this file) whose result is dropped (a
    statement of its own: `scale(h)`, `self.scale(h)`) and which passes, for `param`, a reference its
    caller holds (a name, an attribute, an item; not a temporary like `f(t.exp())`)."""
    fn = flow.scope
    name = getattr(fn, "name", None)
    args = getattr(fn, "args", None)
    if name is None or args is None:
        return None
    params = [a.arg for a in [*args.posonlyargs, *args.args]]
    if param not in params and param not in {a.arg for a in args.kwonlyargs}:
        return None
    by_name, by_attr = flow.ctx._calls_by_name()
    for call in [*by_name.get(name, ()), *by_attr.get(name, ())]:
        if not isinstance(flow.ctx.index.parent.get(call), ast.Expr):
            continue
        passed = next((k.value for k in call.keywords if k.arg == param), None)
        if passed is None and param in params:
            i = params.index(param) - (1 if isinstance(call.func, ast.Attribute) and flow.cls is not None else 0)
            if any(isinstance(a, ast.Starred) for a in call.args[:i + 1]):
                return call.lineno
            passed = call.args[i] if 0 <= i < len(call.args) else None
        if _held_by_caller(flow, passed):
            return call.lineno
    return None


def _held_by_caller(flow: ScopeFlow, expr: ast.AST | None) -> bool:
    """A name, attribute or item, or a view of one (`out[i].unsqueeze(0)`: the tensor methods the facts
    measured to return a view or the receiver): what the write changes, the caller can read again."""
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and \
            expr.func.attr in flow.ctx.ops.tensor_methods["alias"]:
        expr = expr.func.value
    return isinstance(expr, (ast.Name, ast.Attribute, ast.Subscript))


def _only_mutates(flow: ScopeFlow, stmt: ast.AST, name: str, returns_it: bool = False) -> bool:
    """In a function that returns no value and runs `stmt` once (no loop around it), is every later
    use of `name` another in-place write into it, a statement of its own (`name.add_(1).div_(2)`,
    `name += 1`, `name[i] = v`)? Then nothing but the caller sees what those writes do.
    `returns_it`: the function may also return `name` itself (and nothing else)."""
    fn = flow.scope
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or name in flow.captured:
        return False
    parent = flow.index.parent
    node: ast.AST | None = stmt
    while node is not None and node is not fn:
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            return False
        node = parent.get(node)
    end = getattr(stmt, "end_lineno", None) or 0
    returned = False
    for n in walk(fn):
        if isinstance(n, ast.Return) and n.value is not None and not (
                isinstance(n.value, ast.Constant) and n.value.value is None):
            if returns_it and isinstance(n.value, ast.Name) and n.value.id == name:
                returned = True
                continue
            return False
        if isinstance(n, (ast.Yield, ast.YieldFrom, ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)) and n is not fn:
            return False
        if isinstance(n, ast.Name) and n.id == name and getattr(n, "lineno", 0) > end and not _written_only(n, parent) \
                and not (returns_it and isinstance(parent.get(n), ast.Return)):
            return False
    return returned or not returns_it


def _written_only(use: ast.Name, parent: dict) -> bool:
    """Is this use of a name the receiver of a chain of in-place methods that is a statement of its
    own (`x.add_(a).div_(b)`), the target of `x += v`, or `x[i] = v` / `x[i] += v`?"""
    node: ast.AST = use
    up = parent.get(node)
    if isinstance(up, ast.AugAssign) and up.target is node:
        return True
    if isinstance(up, ast.Subscript) and up.value is node and isinstance(up.ctx, ast.Store):
        return True
    if isinstance(up, ast.Subscript) and up.value is node:
        outer = parent.get(up)
        return isinstance(outer, ast.AugAssign) and outer.target is up
    chained = False
    while isinstance(up, ast.Attribute) and up.value is node and up.attr.endswith("_") and \
            not up.attr.endswith("__") and isinstance(parent.get(up), ast.Call) and parent.get(up).func is up:
        node = parent.get(up)
        up = parent.get(node)
        chained = True
    return chained and isinstance(up, ast.Expr)


def _write_statement(record: WriteRecord, stmt: ast.AST | None) -> bool:
    """The statement does nothing but the write (its value, if any, is not kept)."""
    if stmt is None:
        return False
    if isinstance(stmt, ast.AugAssign):
        return True
    if isinstance(stmt, ast.Expr):
        return True
    if isinstance(stmt, ast.Assign):
        return all(isinstance(t, ast.Subscript) for t in stmt.targets)
    return False


_BRANCHING_EXPRS = (ast.IfExp, ast.BoolOp, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _read_again(flow: ScopeFlow, record: WriteRecord, stmt: ast.AST, roots: frozenset) -> str | None:
    """Another read, in the same statement, of a name sharing the written memory, other than the
    written occurrence itself and the write's own operands (consumed before the write)."""
    target = record.target
    own: set[int] = set()
    node = record.node
    if isinstance(node, ast.Call):
        for a in [*node.args, *(k.value for k in node.keywords)]:
            for n in ast.walk(a):
                own.add(id(n))
        if isinstance(node.func, ast.Attribute):
            for n in ast.walk(node.func.value):
                own.add(id(n))
    elif isinstance(node, ast.AugAssign):
        for n in ast.walk(node):
            own.add(id(n))
    elif isinstance(node, ast.Assign):
        # (`hs[:, t + 1] = cell(hs[:, t])`: Python computes the value before the store, in the
        # original and in any rewrite of the store alike)
        for n in ast.walk(node):
            own.add(id(n))
    if target is not None:
        for n in ast.walk(target):
            own.add(id(n))
    for n in ast.walk(stmt):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in own:
            keys = record.state.env.get(n.id)
            if keys and record.state.reach(keys) & roots:
                return n.id
    return None


def _operand_is_target(record: WriteRecord) -> bool:
    """`x += x`, `x.mul_(x)`: the operand is the target itself, read whole before the write."""
    node, target = record.node, record.target
    name = dotted(target) if target is not None else None
    if name is None:
        return False
    if isinstance(node, ast.AugAssign):
        operands = [node.value]
    elif isinstance(node, ast.Call):
        operands = [*node.args, *(k.value for k in node.keywords)]
        if operands and operands[0] is target:
            operands = operands[1:]
    else:
        return False
    return all(dotted(o) == name for o in operands if not isinstance(o, ast.Constant))
