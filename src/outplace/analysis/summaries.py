"""What the file's own functions and methods do to the tensors they are given, as seen by callers.

A *summary* is computed from the function's dataflow (with its parameters as symbolic objects,
whatever the callers pass): what it returns (one of its parameters or a view of one, a new tensor
it made and whether autograd saved it, a tuple of those, or something unknown), which parameters it
writes in place, which it lets autograd save, and which escape (stored, returned in a container).
A call of a project function applies the summary to the caller's arguments, instead of the
"may do anything" of an unknown call.

The other direction, *call-site facts*: a helper's parameter is what its callers pass. When every
call of a function in the file is known (a module-level function, a method called through `self`),
its parameters start with the join of the arguments at those calls: tensor-ness, may-require-grad,
and which of them autograd had saved before the call.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from outplace.analysis.model import (ELEMENTS, MAYBE, element_read, NO, UNKNOWN, YES, Event, Obj, obj_join, outside,
                                     parameter_marker, tri_or)

from outplace.analysis.scopes import walk

if TYPE_CHECKING:
    from outplace.analysis.flow import ScopeFlow


@dataclass(frozen=True)
class ResultPart:
    """One returned value (or one element of a returned tuple)."""

    params: frozenset = frozenset()  # names of the parameters it may be, or share memory with
    views: bool = False  # of those, it may be a view rather than the object itself
    multi_view: bool = False  # one of several views (`chunk`, `split`, `unbind`)
    fresh: Obj | None = None  # facts of a new tensor it may be (made in the function)
    saved: str | None = None  # that new tensor was saved for backward by ... (e.g. "`sigmoid`")
    unknown: bool = False  # may be anything else
    tensor: str = NO
    contents: "ResultPart | None" = None  # for a returned container (`x.chunk(2)`): what it holds
    fresh_grad: str = NO  # may the new tensor require grad whatever the arguments (module parameters)
    saved_maybe: bool = False  # only some of the new tensors it may be were saved
    kept: bool = False  # the new tensor is also kept by the function (`self.last = y; return y`)
    detached: bool = False  # every view of a parameter it may be is `.detach()`ed (`t.detach().numpy()`)
    # The parameters the new tensor's may-require-grad comes from (`t.new_tensor(...)`: none;
    # `x * 2`: `x`); None: from any argument, or from something else too.
    grad_params: frozenset | None = None


@dataclass(frozen=True)
class Summary:
    name: str
    result: tuple  # ResultPart per returned element when every return is a tuple of one length, else (part,)
    is_tuple: bool
    writes: frozenset  # parameters written in place
    # (parameter name, what saved it, needs, apart) entries. `needs`: the parameters of which one
    # must require grad for the save to happen (`x * (t / k)` saves `x` only when `k` does), or
    # None when it may also happen through something else (a module's parameters, a tensor made
    # inside). `apart`: on no way out that returns the parameter (or a view of it) was it saved
    # (`if self.use_bn: x = self.bn(x)` then `return x`).
    saves: tuple
    escapes: frozenset  # parameters stored where the caller cannot see
    graph: str = NO  # the function itself builds a graph (it uses module parameters): MAYBE
    parts_share: bool = False  # two positions of the returned tuple may be (views of) one tensor
    # Graph lifetime (State.upstream), for a function that returns one tensor on every way out: the
    # (parameter, what saved it) of `saves` certainly upstream of it, and the parameters it is
    # certainly computed from (through differentiable ops): a backward from the caller's result
    # frees what those saved.
    graph_saves: frozenset = frozenset()
    graph_params: frozenset = frozenset()


def summarize(flow: ScopeFlow) -> Summary:
    fn = flow.scope
    name = getattr(fn, "name", "<lambda>")
    if flow.cls is not None:
        name = f"{flow.cls.name}.{name}"
    params = [a.arg for a in _params(fn)]
    param_storage = {outside("parameter", p): p for p in params}
    returns = list(flow.returns.values())
    parts: list[list[ResultPart]] = []
    lengths = set()
    for keys, st in returns:
        elems = _tuple_elems(keys, st)
        lengths.add(len(elems) if elems is not None else -1)
    is_tuple = len(lengths) == 1 and -1 not in lengths and bool(returns)
    parts_share = False
    for keys, st in returns:
        elems = _tuple_elems(keys, st) if is_tuple else None
        if elems is None:
            parts.append([_part(keys, st, param_storage, flow)])
        else:
            parts.append([_part(e, st, param_storage, flow) for e in elems])
            reached = [st.reach(e) for e in elems]  # `return y, y`, `return y, y.t()`
            parts_share = parts_share or any(not a.isdisjoint(b) for i, a in enumerate(reached)
                                             for b in reached[i + 1:])
    if not returns:
        joined: tuple = (ResultPart(),)  # returns None
    else:
        joined = tuple(_join_parts(col) for col in zip(*parts))
    exit_state = flow.exit_state
    writes = frozenset(p for w in _all_writes(flow) for k in w.state.storages(w.keys) if (p := param_storage.get(k)))
    paths = flow.return_paths()
    saves = tuple(sorted({(p, e.what, _needs(flow, e, param_storage), _apart(paths, k, e.what))
                          for k, p in param_storage.items()
                          for e in exit_state.saved.get(k, frozenset()) | flow.saved_elsewhere.get(k, frozenset())},
                         key=lambda t: (t[0], t[1], sorted(t[2] or ()), t[3])))
    escapes = frozenset(p for k, p in param_storage.items()
                        if any(not e.what.startswith("returned") for e in exit_state.escaped.get(k, ())))
    # An element read out of a parameter (`args[0]` of `def print(*args)`, `batch["x"]`) is an object
    # of its own here, whose parameter is not tracked: if one was kept (flow.ELEMENTS) or written, so
    # may any parameter that can hold others' tensors be (`*args`, `**kwargs`, one not known to be a tensor).
    if any(not e.what.startswith("returned") for e in exit_state.escaped.get(ELEMENTS, ())):
        escapes |= _holder_params(fn, flow)
    # `*args`/`**kwargs` reach what is kept through copies the flow does not follow element by element
    # (`list(args)`, `sorted(args)[0]`, `kw.values()`, a generator, a closure): if anything was kept,
    # so may they be.
    varargs = frozenset(a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None) \
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) else frozenset()
    if varargs and any(not e.what.startswith("returned") for events in exit_state.escaped.values() for e in events):
        escapes |= varargs
    if any(element_read(k, w.state.objs.get(k)) for w in _all_writes(flow) for k in w.keys):
        writes |= _holder_params(fn, flow)
    # A parameter a lambda or nested function reads may be kept by it (`(lambda b: b.append(t))(box)`,
    # a closure returned or stored): the flow does not follow what those do (adversarial review K2, C1).
    escapes |= frozenset(params) & _closure_reads(flow)
    graph = NO
    for part in joined:
        graph = tri_or(graph, part.fresh_grad)
    graph_saves, graph_params = _graph_of_result(returns, param_storage) if not is_tuple \
        else (frozenset(), frozenset())
    return Summary(name, joined, is_tuple, writes, saves, escapes, graph, parts_share, graph_saves, graph_params)


def _graph_of_result(returns: list, param_storage: dict) -> tuple[frozenset, frozenset]:
    """(parameter, what saved it) pairs, and parameters, certainly upstream of what every
    `return` returns, whichever object it is there (Summary.graph_saves, graph_params). A save is
    named as the caller sees it, by what saved it, not where: `loss = sum(c * f)` on one branch and
    `loss = sum(c * f) + l1` on the other both have `c` saved by `*` upstream."""
    common: set | None = None
    for keys, st in returns:
        for k in keys:
            up = st.upstream.get(k)
            if not up:
                return frozenset(), frozenset()
            here = {p for p in param_storage.values() if parameter_marker(p) in up}
            here |= {(p, e.what) for s, p in param_storage.items() for e in st.saved.get(s, ()) if e in up}
            common = here if common is None else common & here
            if not common:
                return frozenset(), frozenset()
    if not common:
        return frozenset(), frozenset()
    return (frozenset(x for x in common if isinstance(x, tuple)), frozenset(x for x in common if isinstance(x, str)))


def _closure_reads(flow: ScopeFlow) -> frozenset:
    """The names read inside the lambdas and functions defined in the flow's function."""
    out: set = set()
    for node in flow.info.nested:  # (a lambda inside a comprehension too)
        for inner in walk(node):
            if isinstance(inner, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
                out.update(n.id for n in walk(inner) if type(n) is ast.Name and type(n.ctx) is ast.Load)
    return frozenset(out)


def _needs(flow: ScopeFlow, event: Event, param_storage: dict) -> frozenset | None:
    """The parameters whose requiring grad made autograd save (the event's sources, each traced
    to the parameters its grad comes from); None when something else may have built the graph."""
    if not event.sources or flow.grad_from is None:
        return None
    out: set = set()
    for s in event.sources:
        src = flow.grad_source_of(s)
        if src is None or not src <= param_storage.keys():
            return None
        out |= {param_storage[k] for k in src}
    return frozenset(out)


def _apart(returns: list, storage, what: str) -> bool:
    """Was the parameter's save by `what` made only on ways out that return something else?"""
    for keys, st in returns:
        if storage in st.reach(keys) and any(e.what == what for e in st.saved.get(storage, ())):
            return False
    return True


def _left_to_the_result(flow: ScopeFlow, call: ast.Call, keys: frozenset) -> bool:
    """Once the call's result is bound (`y = f(a)`) or used (`g(f(a))`, `return f(a)`), can the
    caller reach the argument `keys` only through that result? True when they are tensors made
    in the caller that nothing else holds: no name reaches them but the one the result rebinds
    (`x = f(x)`), or none (`f(g(x))` passes a temporary), and they never escaped."""
    parent = flow.index.parent.get(call)
    target = None
    if isinstance(parent, ast.Assign) and parent.value is call and len(parent.targets) == 1 and \
            isinstance(parent.targets[0], ast.Name):
        target = parent.targets[0].id
    st = flow.st
    storages = st.storages(keys)
    if not storages or any(s[0] != "site" or st.escaped.get(s) for s in storages):
        return False
    return all(name == target or storages.isdisjoint(st.reach(ks)) for name, ks in st.env.items())


def _params(fn: ast.AST) -> list[ast.arg]:
    args = fn.args  # type: ignore[attr-defined]
    return [a for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a is not None]


def _all_writes(flow: ScopeFlow):
    for records in flow.writes.values():
        yield from records


def _tuple_elems(keys: frozenset, st) -> tuple | None:
    if len(keys) != 1:
        return None
    o = st.objs.get(next(iter(keys)))
    if o is not None and o.origin == "container" and o.elems is not None and o.label == "a tuple":
        return o.elems
    return None


def _captured(o: Obj, st, flow: ScopeFlow) -> bool:
    """Is `o` held by a name a nested function or lambda of the callee captures (`self.peek = lambda: c`,
    a hook registered on it): that function may keep or read it after the call (eval26 K3)."""
    for name in getattr(flow, "captured", ()):
        held = st.env.get(name)
        if held and st.reach(held) & o.storage:
            return True
    return False


def _part(keys: frozenset, st, param_storage: dict, flow: ScopeFlow, depth: int = 0) -> ResultPart:
    params: set = set()
    grad_params: set | None = set()
    contents: ResultPart | None = None
    fresh_grad = NO
    unsaved_fresh = False
    views = multi = unknown = False
    fresh: Obj | None = None
    saved = None
    tensor = NO
    kept = False
    detached = None  # (None: no view of a parameter seen yet)
    from outplace.analysis.flow import CONSTS

    for k in keys:
        o = st.objs.get(k) or CONSTS.get(k)
        if o is None:
            unknown = True
            continue
        tensor = o.tensor if tensor == NO else (tensor if tensor == o.tensor else MAYBE)
        hit = {param_storage[s] for s in o.storage if s in param_storage}
        if not hit and any(s in param_storage for s in o.may_share):
            unknown = True  # (it may share a parameter's memory: one of several callees' view of it, eval29)
        if hit:
            params |= hit
            views = views or k not in param_storage
            multi = multi or o.multi_view
            detached = (detached is not False) and o.origin == "data" and k not in param_storage
            if o.storage - set(param_storage):
                unknown = True  # also shares something else
            continue
        if o.tensor != NO and o.origin in ("fresh", "factory", "leaf"):
            fresh = o if fresh is None else obj_join(fresh, o)
            kept = kept or any(not e.what.startswith("returned") for s in o.storage for e in st.escaped.get(s, ())) \
                or _captured(o, st, flow)
            for s in o.storage:
                g = st.grad.get(s, NO)
                fresh_grad = tri_or(fresh_grad, MAYBE if g in (MAYBE, YES) else NO)
                src = flow.grad_source_of(s) if grad_params is not None and flow.grad_from is not None else None
                if src is None or not src <= param_storage.keys():
                    grad_params = None
                elif grad_params is not None:
                    grad_params |= {param_storage[q] for q in src}
            events = sorted((e for s in o.storage for e in st.saved.get(s, ()) if e.what.startswith("saved by")),
                            key=lambda e: (e.line, e.what))
            # (an op that saves its output on some calls only: `nn.LSTM`, the CPU float32 kernel)
            maybe = sorted((e for s in o.storage for e in st.saved.get(s, ()) if e.what.startswith("may be saved by")),
                           key=lambda e: (e.line, e.what))
            if events:
                saved = events[0].what[len("saved by "):]
            elif maybe:
                saved = saved or maybe[0].what[len("may be saved by "):]
                unsaved_fresh = True  # (so: saved_maybe)
            else:
                unsaved_fresh = True
            continue
        if o.tensor == NO and o.origin in ("scalar", "none", "other", "plain"):
            continue
        if o.origin == "container" and o.contents and depth < 3:
            inner = _part(o.contents, st, param_storage, flow, depth + 1)
            contents = inner if contents is None else _join_parts([contents, inner])
            continue
        unknown = True
    return ResultPart(frozenset(params), views, multi, fresh, saved, unknown, tensor, contents, fresh_grad,
                      saved is not None and unsaved_fresh, kept, bool(detached),
                      frozenset(grad_params) if grad_params is not None and fresh is not None else None)


def _join_parts(parts) -> ResultPart:
    out = parts[0]
    for p in parts[1:]:
        contents = out.contents if p.contents is None else (
            p.contents if out.contents is None else _join_parts([out.contents, p.contents]))
        out = ResultPart(out.params | p.params, out.views or p.views, out.multi_view or p.multi_view,
                         p.fresh if out.fresh is None else (out.fresh if p.fresh is None else obj_join(out.fresh, p.fresh)),
                         out.saved or p.saved, out.unknown or p.unknown,
                         out.tensor if out.tensor == p.tensor else MAYBE, contents,
                         tri_or(out.fresh_grad, p.fresh_grad),
                         out.saved_maybe or p.saved_maybe or (bool(out.saved) != bool(p.saved)
                                                              and (out.fresh is not None and p.fresh is not None)),
                         out.kept or p.kept,
                         (out.detached or not out.params) and (p.detached or not p.params) and bool(out.params | p.params),
                         None if out.grad_params is None or p.grad_params is None else out.grad_params | p.grad_params)
    return out


def apply_summary(flow: ScopeFlow, node: ast.Call, summary: Summary, fn: ast.AST, inputs: dict,
                  bound_self: bool) -> frozenset:
    """The caller's side of a call to a summarized function: the result, and what happened to the
    arguments (written, saved, escaped)."""
    args = _bind_arguments(fn, inputs, bound_self)
    label = f"`{summary.name}`"
    line = getattr(node, "lineno", 0)
    for p in summary.escapes:
        if p in args:
            flow._escape(args[p], f"kept by {label} on line {line}")
    grad = NO
    for v in args.values():
        t = flow.tensor_keys(v)
        if t:
            grad = tri_or(grad, flow.grad_of(t))
    upstream: set = set()  # (graph lifetime: what is certainly upstream of the result)
    for p in summary.graph_params:
        if p in args:
            upstream |= flow.st.upstream_of(flow.tensor_keys(args[p]))
    # Parameters the function saved only on ways out that return something else, where the caller
    # still holds the argument otherwise: the result is the argument only where the call saved nothing
    # of it (what was saved of it before the call holds either way: `prior`).
    saved_apart = {p for p, _, _, apart in summary.saves if apart and p in args} - \
        {p for p, _, _, apart in summary.saves if not apart} - summary.escapes
    prior = {p: frozenset(e for s in flow.st.storages(flow.tensor_keys(args[p])) for e in flow.st.saved.get(s, ()))
             for p in saved_apart}
    for p, what, needs, apart in summary.saves:
        if p in args and flow.tensor_keys(args[p]) and not flow.grad_off():
            if apart and p not in summary.escapes and _left_to_the_result(flow, node, flow.tensor_keys(args[p])):
                # Saved only where something else is returned, and the caller keeps the argument
                # only through the result: where the result is the argument, nothing saved it.
                saved_apart.discard(p)
                continue
            level, sources = tri_or(grad, summary.graph), frozenset()
            if needs is not None:  # only where one of those arguments may require grad
                level, sources = NO, frozenset()
                for q in needs:
                    # An argument left to its default (absent here) is the function's own value:
                    # nothing known of it, as inside.
                    t = flow.tensor_keys(args[q]) if q in args else frozenset()
                    level = tri_or(level, flow.grad_of(t) if q in args else UNKNOWN)
                    sources |= flow.st.storages(t)
                if level == NO:
                    continue
            e = Event(f"{what} inside {label}", line, level, sources)
            flow.st.add_event("saved", flow.st.storages(flow.tensor_keys(args[p])), e)
            if (p, what) in summary.graph_saves:
                upstream.add(e)
    for p in summary.writes:
        if p in args and flow.tensor_keys(args[p]):
            flow.st.raise_grad(flow.st.storages(flow.tensor_keys(args[p])), grad)
    # A container the function stores into (`d["a"] = v`), or any container argument when it keeps
    # an argument where the caller cannot see (`xs.extend([v])`): it may now hold those arguments.
    if summary.writes or summary.escapes:
        # (What a write into `d` stores may be any argument; what escaped are those that did.)
        kept = frozenset().union(*(args[p] for p in (frozenset(args) if summary.writes else summary.escapes)
                                   if p in args))
        targets = summary.writes if not summary.escapes else frozenset(args)
        for p in targets:
            for k in args.get(p, frozenset()):
                o = flow.st.objs.get(k)
                if o is not None and o.origin == "container":
                    flow.st.objs[k] = o._replace(contents=o.contents | kept, elems=None)
    closure = _closure_values(flow, fn)
    apart = {p: prior[p] for p in saved_apart}
    results = [_result(flow, node, part, args, label, grad, i, closure, apart) for i, part in enumerate(summary.result)]
    if summary.is_tuple:
        contents: frozenset = frozenset().union(*results) if results else frozenset()
        if summary.parts_share:  # `return y, y`: each position may be any of them
            results = [contents for _ in results]
        return flow._container(node, contents, "tuple", tuple(results))
    result = results[0] if results else frozenset()
    if upstream and len(result) == 1 and next(iter(result))[0] == "site":
        flow._link_graph(result, frozenset(upstream), ())
    return result


def _closure_values(flow: ScopeFlow, fn: ast.AST) -> frozenset:
    """A function defined in the caller's own scope reads the caller's variables as they are at
    the call (`def get(): return h`): what they hold, for what its result may be."""
    parent = flow.index.parent.get(fn)
    while parent is not None and not isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                                         ast.Module, ast.ClassDef)):
        parent = flow.index.parent.get(parent)
    if parent is not flow.scope:
        return frozenset()
    out: frozenset = frozenset()
    for name in flow.captured:
        out |= flow.st.env.get(name, frozenset())
    return out


# Offset of the site where a result part's new tensor is allocated when the same part may also be a
# view of an argument (parts use 0..99, their contents +100, containers +200).
FRESH_SITE = 5000
# ... and where it is an argument returned only where the call saved nothing of it (apply_summary).
APART_SITE = 6000


def _result(flow: ScopeFlow, node: ast.Call, part: ResultPart, args: dict, label: str, grad: str, i: int,
            closure: frozenset = frozenset(), apart: dict | None = None) -> frozenset:
    out: frozenset = frozenset()
    marker = flow.marker(node, i)
    defaulted = any(p not in args for p in part.params)  # `def pick(x, other=ONES)`: what the default holds
    if part.params:
        src: frozenset = frozenset()
        for p in part.params:
            src |= flow.tensor_keys(args.get(p, frozenset()))
        if src:
            if part.detached:  # `to_numpy(t)`: a detached view, outside any graph (writes through it are deliberate)
                # (no tensor at all where it returned a numpy array on that memory; else a `.detach()`,
                # which may share the version counter)
                made = flow._view(marker, src, f"returned by {label}", keep_grad=False, origin="data",
                                  tensor=NO if part.tensor == NO else None)
                if part.tensor != NO:
                    flow.version_shared |= made
                out |= made
            elif part.views or part.multi_view:
                out |= flow._view(marker, src, f"returned by {label}", keep_grad=True, multi=part.multi_view)
            elif apart and part.params <= apart.keys() and part.fresh is not None:
                # The argument, returned only on ways where the call saved nothing of it (nflows: `outputs
                # = inputs; for q in qs: t = outputs @ q; outputs = outputs - t`: the argument only where
                # the loop never went round), else a new tensor. An object of its own that may share the
                # argument's memory, with what was saved of the argument before the call: what the call
                # saved of it is the argument's (the caller's other names see it), not this result's.
                facts = flow.facts(src) or Obj()
                made = flow.new(flow.marker(node, i + APART_SITE), Obj(
                    facts.tensor, facts.origin, facts.dtype, leaf=facts.leaf, label=f"{label} result",
                    may_share=flow.reach(src), nonlocal_reason=facts.nonlocal_reason or
                    f"returned by {label}, which may return its argument"), grad=flow.grad_of(src))
                for e in sorted({e for p in part.params for e in apart[p]}, key=lambda e: (e.line, e.what)):
                    flow.st.add_event("saved", flow.st.storages(made), e)
                out |= made
            else:
                out |= src
    if part.fresh is not None:
        if part.grad_params is not None and part.grad_params <= args.keys():
            # (only the arguments its grad comes from count; one left to its default value, which
            # may be a tensor that requires grad, leaves every argument counting)
            grad = NO
            for q in part.grad_params:
                grad = tri_or(grad, flow.grad_of(flow.tensor_keys(args[q])) if q in args else UNKNOWN)
        # (one of several views of a tensor made inside, `return h.chunk(3, dim=-1)`: it stays one)
        fresh = Obj(part.fresh.tensor, "fresh", part.fresh.dtype, label=f"{label} result",
                    multi_view=part.fresh.multi_view)
        # (a site of its own: at `marker` it would take the place of the view made there just above, and
        # `return t.view(2, 4) if c else t * 2` would come back as a new tensor only: eval30 C1)
        made = flow.new(flow.marker(node, i + FRESH_SITE) if part.params else marker, fresh,
                        grad=tri_or(grad, part.fresh_grad))
        level = tri_or(grad, part.fresh_grad)
        if part.saved and not flow.grad_off() and level != NO:
            what = "saved" if not part.saved_maybe else "may be saved"
            flow.st.add_event("saved", flow.st.storages(made),
                              Event(f"{what} by {part.saved} inside {label}", getattr(node, "lineno", 0), level))
        if part.kept:  # the function also keeps it (`self.last = y`): that reference sees a write
            flow.st.add_event("escaped", flow.st.storages(made), Event(f"kept by {label}", getattr(node, "lineno", 0)))
        out |= made
    if part.contents is not None:
        inner = _result(flow, node, part.contents, args, label, grad, i + 100, closure)
        out |= flow._container(flow.marker(node, i + 200), inner, "tuple")
    if part.unknown or defaulted or (not out and part.tensor != NO):
        related: frozenset = closure
        for v in args.values():
            related |= v
        out |= flow.new(marker, Obj(MAYBE, "unknown", label=f"{label} result", may_share=flow.reach(related),
                                    nonlocal_reason=f"returned by {label}, which may return a reference to "
                                                    "something else"), grad=tri_or(grad, UNKNOWN))
    if not out:
        from outplace.analysis.flow import CONST_KEYS

        out = frozenset({CONST_KEYS["none"]})
    return out


def _holder_params(fn: ast.AST, flow: ScopeFlow) -> frozenset:
    """The parameters that may hold other objects' tensors: `*args`, `**kwargs`, and those whose
    entry object is not known to be a tensor."""
    args = fn.args  # type: ignore[attr-defined]
    out = {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for i, a in enumerate(_params(fn)):
        if i == 0 and flow.cls is not None and a.arg in ("self", "cls"):
            continue  # (the instance: its attributes are followed as such)
        o = flow.ctx.parameter_obj(fn, a)
        if o.tensor != YES:
            out.add(a.arg)
    return frozenset(out)


def _bind_arguments(fn: ast.AST, inputs: dict, bound_self: bool) -> dict:
    """Parameter name -> the objects the call may pass it (defaults left out). Positional arguments
    past the named ones go to `*args`, unknown keywords to `**kwargs`; a starred argument
    (`f(*xs)`, `f(**kw)`) may fill any parameter it can reach, and after one, where the plain
    positional arguments land is unknown too."""
    params = _params(fn)
    args = fn.args  # type: ignore[attr-defined]
    positional = [a.arg for a in [*args.posonlyargs, *args.args]]
    if bound_self and positional:
        positional = positional[1:]
    out: dict = {}
    from outplace.analysis.effects import SELF

    def add(name: str, v: frozenset) -> None:
        out[name] = out.get(name, frozenset()) | v

    if bound_self and SELF in inputs and params:
        out[params[0].arg] = inputs[SELF]
    vararg = args.vararg.arg if args.vararg is not None else None
    kwarg = args.kwarg.arg if args.kwarg is not None else None
    keyword_names = [a.arg for a in args.args[1 if bound_self else 0:]] + [a.arg for a in args.kwonlyargs]
    starred = inputs.get("*args")
    plain = sorted(k for k in inputs if isinstance(k, int))
    for i in plain:
        if starred is not None:  # after a `*xs`, any positional parameter from here on (or `*args`)
            for name in positional[i:] + ([vararg] if vararg else []):
                add(name, inputs[i])
        elif i < len(positional):
            add(positional[i], inputs[i])
        elif vararg is not None:
            add(vararg, inputs[i])
    if starred is not None:
        for name in positional + ([vararg] if vararg else []):
            add(name, starred)
    names = {a.arg for a in params}
    for k, v in inputs.items():
        if not isinstance(k, str) or k in ("*args", "**kwargs") or (k == SELF and bound_self):
            continue
        if k in names:
            add(k, v)
        elif kwarg is not None:
            add(kwarg, v)
    if "**kwargs" in inputs:
        for name in keyword_names + ([kwarg] if kwarg else []):
            add(name, inputs["**kwargs"])
    return out
