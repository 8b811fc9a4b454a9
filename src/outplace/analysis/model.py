"""The abstract values of the dataflow pass: objects, and the state at a program point.

An *object* stands for the runtime objects one allocation site (or one outside source: a
parameter, an attribute, a global) may produce. Its `Obj` record holds what is known of it
whatever path reached it: is it a tensor (yes / maybe / no), where it came from, its dtype class,
whether it is a leaf that requires grad, and which *storages* it may share (a view shares its
base's; `b = a` shares the object itself).

A *state* maps each local name to the set of objects it may hold, and each storage to what has
happened to it on the way here: which operations saved it for backward, where it escaped to
somewhere we cannot follow (a container, an attribute, an unknown call, the caller), and whether
it may require grad (in-place writes of a graph tensor into a buffer make it require grad).

Allocation sites use the *recency* abstraction: a site's most recent object (`new`) is kept apart
from all earlier ones (`old`), so a loop that makes a new tensor every iteration does not inherit
the previous iteration's history. Every lattice here has finite height: sets only grow, flags only
rise, so the fixed point of a loop is reached in a few passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# Tensor-ness is three-valued. May-require-grad has a fourth value below MAYBE: UNKNOWN, "no evidence
# either way" (a helper's parameter nothing calls in the file, a global); MAYBE is evidence of a graph
# (a forward() argument, a module's output, an op on a MAYBE): only that makes a saved write `breaks`.
YES, MAYBE, NO = "yes", "maybe", "no"
UNKNOWN = "unknown"
_TRI_RANK = {NO: 0, UNKNOWN: 1, MAYBE: 2, YES: 3}


def tri_join(a: str, b: str) -> str:
    """Tensor-ness on two paths."""
    return a if a == b else MAYBE


def tri_or(a: str, b: str) -> str:
    """The may-require-grad of a result computed from both: the higher of the two."""
    return a if _TRI_RANK[a] >= _TRI_RANK[b] else b


# Object keys. Sites are the id() of the AST node that allocates; recency is "new" or "old".
Key = tuple


def site(node_id: int, recency: str = "new") -> Key:
    return ("site", node_id, recency)


def old_site(key: Key) -> Key:
    """The key the previous object made at a site moves to when the site makes a new one."""
    return key[:2] + ("old",) + key[3:] if key[0] == "site" and key[2] == "new" else key


def outside(kind: str, name: str) -> Key:
    """An object that existed before the scope ran: ("param", "x"), ("global", "w"), ("attr", "self.h")."""
    return (kind, name)


# Only floating point and complex tensors can require grad: an integer or bool one never does.
INTEGRAL_DTYPES = frozenset({"int", "bool"})

# Origins of objects, from local-and-fresh (a fix can be proven safe) to shared (it cannot).
LOCAL_ORIGINS = frozenset({"fresh", "factory", "leaf"})


class Obj(NamedTuple):
    """A tuple, not a dataclass: made and compared on the hot path of every flow."""

    tensor: str = MAYBE
    origin: str = "unknown"  # fresh factory leaf parameter attribute global element nn_parameter buffer data
    #                          unknown module function import scalar none other container self
    dtype: str = "unknown"  # float int bool complex unknown
    leaf: bool = False  # a leaf that requires grad (or a view of one)
    storage: frozenset = frozenset()  # storage keys this object may share (its own key for a fresh tensor)
    label: str = ""  # how messages name where it came from: "`sigmoid` output", "parameter `x`"
    view_of: str | None = None  # the name of the base a view was taken of, for messages
    module: object | None = None  # for modules: a ModuleInfo (see filecontext.py)
    elems: tuple | None = None  # for tuples of known length: per element, a frozenset of keys
    nonlocal_reason: str | None = None  # why a write to it is observable outside the scope
    multi_view: bool = False  # one of several views returned by chunk/split/unbind
    contents: frozenset = frozenset()  # for containers: keys of the objects they may hold
    # Storages it may share on no better evidence than "an unknown call may return its argument":
    # counted against a fix's safety, not as proof that the write reaches what they hold.
    may_share: frozenset = frozenset()
    # Storages it certainly is one of (a subset of may_share): the element a loop over a container of
    # known tensors is bound to (`for v in (a, b)`) is `a` on one iteration and `b` on the next. What
    # autograd saved of them counts for a write to it; what was saved of it on an earlier iteration
    # (another member) does not.
    one_of: frozenset = frozenset()

    @property
    def is_tensor(self) -> bool:
        return self.tensor != NO

    @property
    def is_scalar(self) -> bool:
        """A Python number, on every path (`s = 2.0` or `s = t` joined is not: eval26 D2)."""
        return self.origin == "scalar" and self.tensor == NO


# The fields in their order: obj_join and with_storage build objects by position (a hot path; by
# keyword it costs twice as much). A field added to Obj must be added there too.
assert Obj._fields == ("tensor", "origin", "dtype", "leaf", "storage", "label", "view_of", "module", "elems",
                       "nonlocal_reason", "multi_view", "contents", "may_share", "one_of")


_REAL_KINDS = frozenset({"bool", "int", "float", "real"})


def _dtype_join(a: Obj, b: Obj) -> str:
    """Two Python numbers of different real kinds (`max(1, 2.5)`, `2 if c else 0.5`) are "real": never
    complex, maybe floating. Anything else joined is unknown."""
    if a.origin == b.origin == "scalar" and a.dtype in _REAL_KINDS and b.dtype in _REAL_KINDS:
        return "real"
    return "unknown"


def obj_join(a: Obj, b: Obj) -> Obj:
    if a is b or a == b:
        return a
    return Obj(
        tri_join(a.tensor, b.tensor),
        a.origin if a.origin == b.origin else _worse_origin(a.origin, b.origin),
        a.dtype if a.dtype == b.dtype else _dtype_join(a, b),
        a.leaf or b.leaf,
        a.storage | b.storage,
        # Text is chosen by content, never by which side came first: messages must not depend
        # on the order sets happen to iterate in.
        a.label if a.label == b.label else _first_text(a.label, b.label),
        a.view_of if a.view_of == b.view_of else None,
        a.module if a.module == b.module else None,
        a.elems if a.elems == b.elems else _elems_join(a.elems, b.elems),
        a.nonlocal_reason if a.nonlocal_reason == b.nonlocal_reason else
        _first_text(a.nonlocal_reason, b.nonlocal_reason),
        a.multi_view or b.multi_view,
        a.contents | b.contents,
        a.may_share | b.may_share,
        a.one_of | b.one_of,
    )


def with_storage(o: Obj, storage: frozenset) -> Obj:
    """`o` with its storages replaced."""
    return Obj(o.tensor, o.origin, o.dtype, o.leaf, storage, *o[5:])


def _first_text(a: str | None, b: str | None) -> str | None:
    if not a or not b:
        return a or b
    return min(a, b)


def _elems_join(a: tuple | None, b: tuple | None) -> tuple | None:
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(x | y for x, y in zip(a, b))


_ORIGIN_RANK = {o: i for i, o in enumerate(
    ["data", "buffer", "nn_parameter", "parameter", "attribute", "global", "element", "unknown", "leaf", "fresh",
     "factory", "plain"])}  # "plain" last: joined with anything else, the other side's origin wins


def _worse_origin(a: str, b: str) -> str:
    # Origins the ranking does not list tie with "data"; the name breaks the tie, so that the
    # join does not depend on which side came first (set iteration order varies between runs).
    return min(a, b, key=lambda o: (_ORIGIN_RANK.get(o, 0), o))


# The storage key under which a scope records that an element it read out of a container (`args[0]`,
# `batch["x"]`) escaped: summaries.py makes the parameters that may hold such elements escape.
ELEMENTS = ("elements",)


def element_read(key: Key, o: Obj | None) -> bool:
    """An object a scope read out of a container it was given (`args[0]`, `batch["x"]`)."""
    return o is not None and key[0] == "site" and o.origin in ("element", "parameter")


# The sources of a save a caller made of what it passes, whose op's inputs were all of it: the
# callee's parameter (ScopeFlow._entry_state puts the parameter's storage in its place).
ARGUMENT_SOURCE = frozenset({("argument",)})


class Event(NamedTuple):
    """Something that happened to a storage: `what` ("saved by `sigmoid`"), at `line`. For a save,
    `grad` is how sure it is that the op built a graph (the may-require-grad of its inputs then):
    a save by an op none of whose inputs is known to be in a graph is only a possibility."""

    what: str
    line: int
    grad: str = "maybe"
    # For a save: the storages whose requiring grad made the op build a graph (its tensor inputs);
    # empty when something else may have (a module's own parameters). Where every one of them is
    # known not to require grad (`else:` of `if x.requires_grad:`), the save never happened.
    sources: frozenset = frozenset()
    # For an escape: what certainly keeps a reference to it from then on, spelled as the scope reads it
    # (`self.k` for `self.k = h`, `G` for a global or `G.append(h)` into what is certainly no tensor,
    # "<yield>"); None where the escape only may keep it (an unknown call, a store into what may be a tensor).
    holder: str | None = None

    def __str__(self) -> str:
        return f"{self.what} (line {self.line})"


def parameter_marker(name: str) -> Event:
    """Stands, in a summary's flow, for the graph of whatever the caller passes as `name`: found
    upstream of the returned tensor, the caller's argument's graph is upstream of the call's result."""
    return Event(f"the graph of parameter `{name}`", 0, "marker")


# The objects with a graph-lifetime fact a state keeps (State.upstream) past which it gives them up.
UPSTREAM_LIMIT = 256

# Objects in a state past which its object table keeps an index of references (IndexedObjs).
# Measured: on the core corpus an index from 96 objects costs 4% more CPU than the looks it saves;
# from 200 it costs nothing, and a loop of 128 tensors updating each other takes 30% less.
INDEX_FROM = 200
_NO_REFS: frozenset = frozenset()


def _refs(key: Key, o: Obj) -> frozenset:
    """The other objects `o` (the object at `key`) refers to: storages it shares or may share,
    what it holds (most objects refer to none but themselves: a fresh tensor, a module)."""
    storage = o.storage
    if not (o.contents or o.may_share or o.elems):
        if not storage or (len(storage) == 1 and key in storage):
            return _NO_REFS
        return storage - {key}
    out = storage | o.contents | o.may_share
    for e in o.elems or ():
        out |= e
    return out - {key}


class IndexedObjs(dict):
    """An object table (key -> Obj) that also knows, for each key, which objects refer to it:
    what retiring a key (`retire_all`) must rename, found without a look at every object. That
    look, for every new tensor, made the analysis of a loop where many tensors update each other
    quadratic in their number. Keeping the index costs every write, so only a large table that a
    loop goes round in is one (`State.working_copy`); others are plain dicts.

    The index's sets are shared with the tables copied from it and copied before the first
    change (`_owned`): a key many objects refer to (an argument every call result may share)
    would otherwise make each change as dear as the set is large."""

    __slots__ = ("refs", "_owned")

    def __init__(self, objs: dict, refs: dict[Key, set] | None = None) -> None:
        super().__init__(objs)
        self._owned: set = set()  # keys whose referrer sets this table alone holds
        if refs is not None:
            self.refs = dict(refs)
        else:
            built: dict[Key, set] = {}
            for k, o in objs.items():
                for r in _refs(k, o):
                    held = built.get(r)
                    if held is None:
                        built[r] = {k}
                    else:
                        held.add(k)
            self.refs = built
            self._owned = set(built)

    def copy(self) -> IndexedObjs:  # type: ignore[override]
        self._owned = set()  # the sets are now the copy's as well
        return IndexedObjs(self, self.refs)

    def __setitem__(self, key: Key, obj: Obj) -> None:
        old = self.get(key)
        if old is not obj:
            before = _refs(key, old) if old is not None else _NO_REFS
            after = _refs(key, obj)
            if before is not after and before != after:
                self._index(key, before, after)
            dict.__setitem__(self, key, obj)

    def setdefault(self, key: Key, obj: Obj) -> Obj:  # type: ignore[override]
        if key not in self:
            self[key] = obj
        return self[key]

    def pop(self, key: Key) -> Obj:  # type: ignore[override]
        obj = dict.pop(self, key)
        self._index(key, _refs(key, obj), _NO_REFS)
        return obj

    def _unsupported(self, *args: object, **kwargs: object) -> None:
        raise TypeError("IndexedObjs keeps an index: change it with [k] = v, setdefault or pop")

    __delitem__ = update = popitem = clear = _unsupported  # type: ignore[assignment]

    def referrers(self, keys: frozenset) -> set:
        out: set = set()
        for k in keys:
            out.update(self.refs.get(k, ()))
        return out

    def _index(self, key: Key, before: frozenset, after: frozenset) -> None:
        refs = self.refs
        for r in before - after:
            if len(refs[r]) == 1:  # only `key` referred to it
                del refs[r]
                self._owned.discard(r)
            else:
                self._mine(r).discard(key)
        for r in after - before:
            if r in refs:
                self._mine(r).add(key)
            else:
                refs[r] = {key}
                self._owned.add(r)

    def _mine(self, r: Key) -> set:
        """The referrers of `r`, a set this table alone holds (copied first if shared)."""
        if r not in self._owned:
            self.refs[r] = set(self.refs[r])
            self._owned.add(r)
        return self.refs[r]


@dataclass
class State:
    """The abstract state at one program point. Treated as immutable once shared: `copy()` first."""

    env: dict[str, frozenset] = field(default_factory=dict)  # local name -> object keys
    objs: dict[Key, Obj] = field(default_factory=dict)  # object key -> facts (an IndexedObjs once large)
    saved: dict[Key, frozenset] = field(default_factory=dict)  # storage key -> Events that saved it
    escaped: dict[Key, frozenset] = field(default_factory=dict)  # storage key -> Events where it escaped
    grad: dict[Key, str] = field(default_factory=dict)  # storage key -> may require grad (YES/MAYBE/UNKNOWN/NO)
    # Sites that made their current (`new`) object on this path since the loop around it last went
    # round: where two paths meet, the other path's object at such a site is an older one.
    fresh: frozenset = frozenset()
    # Graph lifetime: object key -> the saves certainly upstream of that tensor (made by the op whose
    # result it is, or by the ops it was computed from, through differentiable ops only). A
    # `backward()` through it frees what those saved (ScopeFlow._free_graph). A must-fact: at a join
    # only what both paths hold stays.
    upstream: dict[Key, frozenset] = field(default_factory=dict)

    def copy(self) -> State:
        return self._copy(self.objs.copy() if type(self.objs) is IndexedObjs else dict(self.objs))

    def working_copy(self, index: bool) -> State:
        """The copy a block of the flow runs on. With `index` (it remakes many tensors: ScopeFlow._block)
        a large object table becomes an IndexedObjs, and one that is stays one; otherwise, and in
        every snapshot (`copy`), it is a plain dict: keeping an index there costs more than it saves."""
        objs = self.objs
        if type(objs) is IndexedObjs:
            return self._copy(objs.copy())
        if index and len(objs) > INDEX_FROM:
            return self._copy(IndexedObjs(objs))
        return self._copy(dict(objs))

    def _copy(self, objs: dict) -> State:
        return State(dict(self.env), objs, dict(self.saved), dict(self.escaped), dict(self.grad), self.fresh,
                     dict(self.upstream) if self.upstream else {})

    def storages(self, keys: frozenset) -> frozenset:
        out: set = set()
        for k in keys:
            o = self.objs.get(k)
            if o is not None:
                out |= o.storage
        return frozenset(out)

    def _walk(self, keys: frozenset):
        """(key, object) for `keys` and what they hold (containers' contents, the iterables a zip
        or enumerate pairs up), transitively; object None for a key the table lacks."""
        todo, seen = list(keys), set()
        while todo:
            k = todo.pop()
            if k in seen:
                continue
            seen.add(k)
            o = self.objs.get(k)
            yield k, o
            if o is not None:
                todo.extend(o.contents)
                for e in o.elems or ():
                    todo.extend(e)

    def reachable(self, keys: frozenset):
        """The objects `keys` name, and what they hold, transitively."""
        return (o for _, o in self._walk(keys) if o is not None)

    def held(self, keys: frozenset) -> frozenset:
        """`keys`, and the keys of what they hold (containers' contents and elements), transitively."""
        return frozenset(k for k, _ in self._walk(keys))

    def reach(self, keys: frozenset) -> frozenset:
        """Every storage reachable from `keys`: what they and their contents own or may share."""
        out: set = set()
        objs = self.objs
        nested = False
        for k in keys:  # (most objects hold nothing: their own storages only, without `reachable`)
            o = objs.get(k)
            if o is not None:
                out |= o.storage
                if o.may_share:
                    out |= o.may_share
                if o.contents or o.elems:
                    nested = True
        if nested:
            for o in self.reachable(keys):
                out |= o.storage
                out |= o.may_share
        return frozenset(out)

    def may_storages(self, keys: frozenset) -> frozenset:
        """Every storage the objects may share, the speculative ones included."""
        out: set = set()
        for k in keys:
            o = self.objs.get(k)
            if o is not None:
                out |= o.storage
                out |= o.may_share
        return frozenset(out)

    def facts(self, keys: frozenset) -> Obj | None:
        """The join of what is known of the objects `keys` may be."""
        out: Obj | None = None
        for k in keys:
            o = self.objs.get(k)
            if o is not None:
                out = o if out is None else obj_join(out, o)
        return out

    def add_event(self, table: str, storages: frozenset, event: Event) -> None:
        WORK[0] += len(storages)
        t: dict = getattr(self, table)
        for s in storages:
            t[s] = t.get(s, frozenset()) | {event}
        if table == "saved" and self.upstream:
            self._renew(event)

    def _renew(self, event: Event) -> None:
        """The op that saves `event` ran again (a loop): what an earlier run made holds the earlier
        save, not this one, and a backward from it frees only that: no object keeps the event as
        certainly upstream (State.upstream is a must-fact; losing one is always sound)."""
        up = self.upstream
        if len(up) > UPSTREAM_LIMIT:
            up.clear()  # (a bound on the scan: graph lifetime is given up in such a scope)
            return
        stale = [k for k, events in up.items() if event in events]
        for k in stale:
            left = up[k] - {event}
            if left:
                up[k] = left
            else:
                del up[k]

    def upstream_of(self, keys: frozenset) -> frozenset:
        """The saves certainly upstream of whichever of the objects `keys` the value is: what every
        one of them has. (Kept per object, not per storage: `x.detach()` shares `x`'s memory, not
        its graph.)"""
        out: frozenset | None = None
        up = self.upstream
        for k in keys:
            have = up.get(k)
            if not have:
                return frozenset()
            out = have if out is None else out & have
            if not out:
                return frozenset()
        return out or frozenset()

    def free_saves(self, events: frozenset) -> None:
        """A backward ran through the graph that holds `events`: autograd freed what they saved, so
        no later write into those tensors can make that graph's backward fail (it cannot run again)."""
        for s, have in list(self.saved.items()):
            if not have.isdisjoint(events):
                left = have - events
                if left:
                    self.saved[s] = left
                else:
                    del self.saved[s]

    def raise_grad(self, storages: frozenset, level: str) -> None:
        for s in storages:
            self.grad[s] = tri_or(self.grad.get(s, NO), level)

    def never_built(self, event: Event) -> bool:
        """A save whose op's inputs are all known not to require grad here: the op built no graph."""
        return bool(event.sources) and all(self.grad.get(s) == NO for s in event.sources)

    def grad_of(self, keys: frozenset) -> str:
        out = NO
        for s in self.storages(keys):
            out = tri_or(out, self.grad.get(s, UNKNOWN))
        return out


def state_join(a: State | None, b: State) -> State:
    """The join of two states. Returns `b` itself when `a` is None: states handed between blocks
    are never mutated (a block works on its own copy). For the same reason the join shares with
    `a` every table `b` adds nothing to, and is `a` itself when that is every table.

    Recency across paths: a site that made a new object on one path only (`if c: y = exp(x)`) holds,
    on the other path, the object an earlier iteration made there; that one is retired to the
    site's `old` object first, so that this iteration's new object does not inherit its history."""
    if a is None:
        return b
    if a.fresh != b.fresh:
        a, b = _retire_stale(a, b.fresh - a.fresh), _retire_stale(b, a.fresh - b.fresh)
    env, saved, escaped = _join_sets(a.env, b.env), _join_sets(a.saved, b.saved), _join_sets(a.escaped, b.escaped)
    objs = a.objs
    mine = objs.get  # (each key of `b` comes once: what `a` holds there is what the copy holds)
    copied = False
    for k, o in b.objs.items():
        old = mine(k)
        if old is not o and (joined := o if old is None else obj_join(old, o)) is not old:
            if not copied:  # (a copy of the same kind: an indexed table stays one)
                objs, copied = (objs.copy() if type(objs) is IndexedObjs else dict(objs)), True
            objs[k] = joined
    grad = a.grad
    torn: list = []  # storages whose grad the two paths tell apart
    for k, g in b.grad.items() if grad != b.grad else ():
        have = grad.get(k)
        if have != g and (raised := g if have is None else tri_or(have, g)) != have:
            if have is not None:
                torn.append((k, have, g))
                continue
            if grad is a.grad:
                grad = dict(grad)
            grad[k] = raised
    if torn:
        grad = _join_torn_grad(a, b, grad, torn)
    fresh = a.fresh | b.fresh if a.fresh != b.fresh else a.fresh
    upstream = a.upstream if a.upstream == b.upstream else _meet_upstream(a, b)
    if env is a.env and objs is a.objs and saved is a.saved and escaped is a.escaped and grad is a.grad \
            and fresh == a.fresh and upstream is a.upstream:
        return a
    return State(env, objs, saved, escaped, grad, fresh, upstream)


def _join_torn_grad(a: State, b: State, grad: dict, torn: list) -> dict:
    """Grad where two paths disagree on a storage: what the path that can still reach it says, when
    the other path holds it under no name (nor anything a name holds) and never let it escape. The
    clone-when-grad guard (demucs' `wiener.py`: `if y.requires_grad: y = y.clone()`, then writes into
    `y`): after it, `y` is the clone on the path where the argument requires grad, and the argument
    only on the path where it does not; the argument's storage, reachable only on the second path,
    does not require grad there, and a later write can reach it on no other path. Joined storage by
    storage, "maybe" would pair the first path's grad with the second path's reference. (Writes,
    the only use of grad here, reach a storage through names; one that escaped (an attribute, a
    container, a closure) may be reached otherwise, and is joined as before.)"""
    live_a = a.reach(frozenset().union(*a.env.values())) if a.env else frozenset()
    live_b = b.reach(frozenset().union(*b.env.values())) if b.env else frozenset()
    out = dict(grad)
    for k, have, g in torn:
        if k in a.escaped or k in b.escaped or (k in live_a) == (k in live_b):
            out[k] = tri_or(have, g)
        else:
            out[k] = have if k in live_a else g
    return out


def _meet_upstream(a: State, b: State) -> dict:
    """The saves certainly upstream of each object on both paths: what both say, or what one path
    says of an object the other never made (an object made on one path only is that path's)."""
    out = {}
    for s in a.upstream.keys() | b.upstream.keys():
        x, y = a.upstream.get(s), b.upstream.get(s)
        if x is not None and y is not None:
            both = x & y
        elif x is not None:
            both = x if s not in b.objs else None
        else:
            both = y if s not in a.objs else None
        if both:
            out[s] = both
    return out if out != a.upstream else a.upstream


def _join_sets(mine: dict, theirs: dict) -> dict:
    """`mine` with `theirs` joined in (key -> frozenset, united): `mine` itself when nothing changes."""
    if mine == theirs:  # (often: a comparison in C, which stops at the first difference)
        return mine
    out = mine
    for k, v in theirs.items():
        have = out.get(k)
        if have is None:
            if out is mine:
                out = dict(mine)
            out[k] = v
        elif have is not v and not v <= have:
            if out is mine:
                out = dict(mine)
            out[k] = have | v
    return out


def forget_unreachable_saves(state: State, other: State, elsewhere: dict | None = None) -> State:
    """Before two paths of the control-flow graph join (ScopeFlow._run; not the joins inside one
    expression's evaluation, whose values in flight are held by the analysis, not by names): the
    saves recorded on this path for memory nothing on this path can reach
    any more (`buf` saved by a conv, then rebound to a new buffer) are dropped, for memory this
    scope allocated. Joined as they
    are, they would attach to whatever the other path still names by that storage (the old
    `buf`), which this path's save never touched. Only the storages whose saves differ between
    the paths are looked at."""
    # Memory this scope allocated; and, with `elsewhere`, a parameter's that never escaped here: the
    # caller holds it, so what was saved of it is the function's for its summary (kept in
    # `elsewhere`, ScopeFlow.saved_elsewhere), but this scope reaches it again only through a name
    # (eval51 granite: `v = torch.nan_to_num(past_values)` on one path, the argument itself on the
    # other, then a call given `v`). An attribute's storage outlives the scope either way.
    differ = [s for s, events in state.saved.items()
              if (s[0] == "site" or elsewhere is not None and s[0] == "parameter" and not state.escaped.get(s))
              and other.saved.get(s) != events]
    if not differ:
        return state
    dead = _unreachable(state, differ)
    if not dead:
        return state
    state = state.copy()
    for s in dead:
        if s[0] == "parameter" and elsewhere is not None:
            elsewhere[s] = elsewhere.get(s, frozenset()) | state.saved[s]
        del state.saved[s]
    return state


def _unreachable(state: State, storages: list) -> list:
    """Those of `storages` that no name of `state` reaches (`State.reach` from every name), found
    by a walk that stops as soon as every one of them is reached: most are, by the first names."""
    left = set(storages)
    objs = state.objs
    seen: set = set()
    for keys in reversed(state.env.values()):  # (the names bound last first: they hold what was saved last)
        todo = list(keys)
        while todo:
            k = todo.pop()
            if k in seen:
                continue
            seen.add(k)
            o = objs.get(k)
            if o is None:
                continue
            left -= o.storage
            if o.may_share:
                left -= o.may_share
            if not left:
                return []
            todo.extend(o.contents)
            for e in o.elems or ():
                todo.extend(e)
    return [s for s in storages if s in left]


def _retire_stale(state: State, made_elsewhere: frozenset) -> State:
    stale = [k for k in made_elsewhere if k in state.objs]
    if not stale:
        return state
    state = state.copy()
    retire_all(state, {k: old_site(k) for k in stale})
    return state


def state_equal(a: State, b: State) -> bool:
    return a is b or a.env == b.env and a.objs == b.objs and a.saved == b.saved and a.escaped == b.escaped \
        and a.grad == b.grad and a.fresh == b.fresh and a.upstream == b.upstream


# Objects renamed by `retire_all` so far in this process: the flows bound their work by it
# (flow.WORK_LIMIT), as they bound their passes: a function whose paths multiply (a loop over a
# zip of module lists, each a module of several kinds) stops and is marked approximate.
WORK = [0]


def retire(state: State, new: Key, old: Key) -> None:
    """Recency: the site's previous object becomes one of its `old` objects before a new one is made."""
    if new in state.objs:  # (most sites have made none yet on this path)
        retire_all(state, {new: old})


def retire_all(state: State, renames: dict) -> None:
    """`retire` for several sites at once (new key -> its old key), in one pass over the state."""
    renames = {new: old for new, old in renames.items() if new in state.objs}
    if not renames:
        return
    stale = frozenset(renames)

    def ren(ks: frozenset) -> frozenset:
        hit = ks & stale
        return (ks - hit) | {renames[k] for k in hit} if hit else ks

    for name, keys in state.env.items():
        if not stale.isdisjoint(keys):
            state.env[name] = ren(keys)
    for new in sorted(renames, key=repr):
        old = renames[new]
        moved = _renamed(state.objs.pop(new), ren)
        state.objs[old] = moved if old not in state.objs else obj_join(state.objs[old], moved)
    objs = state.objs
    if type(objs) is IndexedObjs:
        hits = objs.referrers(stale)
    else:
        apart = stale.isdisjoint  # (the hot loop: most objects hold nothing but their own storage)
        hits = [k for k, o in objs.items() if not apart(o.storage) or ((o.contents or o.may_share or o.elems) and not (
            apart(o.contents) and apart(o.may_share) and (not o.elems or all(apart(e) for e in o.elems))))]
    WORK[0] += len(hits) + len(renames)
    for k in hits:  # (each renamed on its own: the order does not matter)
        objs[k] = _renamed(objs[k], ren)
    for table in ("saved", "escaped"):
        t: dict = getattr(state, table)
        for new in stale & t.keys():
            old = renames[new]
            t[old] = t.get(old, frozenset()) | t.pop(new)
    grad = state.grad
    for new in stale & grad.keys():
        old = renames[new]
        grad[old] = tri_or(grad.get(old, NO), grad.pop(new))
    if state.upstream:  # (the site's earlier objects, all in one: what was sure of the last one is not of all)
        for new in stale:
            state.upstream.pop(new, None)
            state.upstream.pop(renames[new], None)


def _renamed(o: Obj, ren) -> Obj:
    return Obj(o.tensor, o.origin, o.dtype, o.leaf, ren(o.storage), o.label, o.view_of, o.module,  # (by position)
               tuple(ren(e) for e in o.elems) if o.elems else o.elems, o.nonlocal_reason, o.multi_view,
               ren(o.contents) if o.contents else o.contents, ren(o.may_share) if o.may_share else o.may_share,
               ren(o.one_of) if o.one_of else o.one_of)
