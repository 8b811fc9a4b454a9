"""One call under autograd, and everything it shows: which tensors autograd saved (introspected and
confirmed by writing), what the call returned (an input, a view of one, something fresh), and
whether its result requires grad.  Every fact family built from the call sweep reads `RECORDS`.

Saved tensors.  An in-place write into a tensor breaks a later backward only if an autograd node
saved that tensor: the saved variable's version check fails ("... modified by an inplace
operation").  So the call runs on inputs that require grad and the autograd nodes it created are
inspected (from each output's grad_fn through next_functions, views included, stopping at the
inputs' own nodes): a saved tensor (`_saved_*`, or `saved_tensors` for a Python
autograd.Function) that shares storage with a returned tensor means the op saves its output
(`_saved_result`, `_saved_indices` of sort/max, or a saved input the output is a view of); one
that shares storage with an input means the op saves that input (one version counter per
storage, so a write into any tensor on that storage is what breaks backward).  Inputs are clones
of leaves, so the output of an aliasing op (x.float() is x) is never a leaf and CloneBackward saves
nothing.  The direct check then confirms each: write into the outputs (or into one input) and run
backward, which must fail with INPLACE_ERROR exactly when that tensor was saved.  Measured on
CPU: other devices can pick other kernels (cuDNN, flash attention...).
"""

from __future__ import annotations

import collections
import contextlib
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .calls import Case, MakeCall
from .common import attempt, storage_ptr, tensors_in
from .patterns import classify

INPLACE_ERROR = "modified by an inplace operation"
STATE_KEYS = ("params", "buffers")  # a module's own tensors: inputs of a kind, never "the input"


@dataclass
class Observation:
    """What one case showed."""

    case: Case
    differentiable: bool  # some input required grad before the call
    scalar_operands: bool  # the primary input is the only tensor argument (besides module state)
    returns_input: bool  # a returned tensor is an input tensor object (module state excluded)
    shares_input: bool  # a returned tensor shares storage with an input (module state excluded)
    shares_state: bool  # a returned tensor shares storage with a module's parameter or buffer
    requires_grad: bool  # some returned tensor requires grad
    input_shape: tuple[int, ...] | None  # the primary input's shape, when it is the one floating tensor argument
    keeps_shape: bool | None  # then: the result is one tensor of that shape and dtype
    output_evidence: frozenset[str] = frozenset()  # Node._saved_attr names that held a returned tensor
    output_positions: frozenset[int] = frozenset()  # which returned tensors were saved (0: the first)
    output_direct: bool | None = None  # the write-then-backward check on the outputs (None: inconclusive)
    input_evidence: dict[str, frozenset[str]] = field(default_factory=dict)  # key -> Node._saved_attr
    input_direct: dict[str, bool | None] = field(default_factory=dict)  # key -> the check on that input
    broken_backward: bool = False  # backward raises INPLACE_ERROR even without a write
    pattern: str = "scalar"  # the call's argument pattern (patterns.classify)
    returned: int | None = None  # the length of the tuple (or list) the call returned; None: not a sequence
    saved_top: frozenset[int] = frozenset()  # positions of that tuple (0 for a single tensor) autograd saved
    overlaps: bool = False  # a returned tensor has internal overlap (`expand`: several elements, one memory location)
    other_evidence: frozenset[str] = frozenset()  # Node._saved_attr names holding tensors on no input's or
    # output's storage (copies such as the original `self` an in-place op saves, internal buffers)
    grad_positions: frozenset[int] = frozenset()  # positions of a returned tuple with a tensor requiring grad

    @property
    def measured_saving(self) -> bool:
        """Evidence about saving either way: the call built a graph, or could not (integer inputs)."""
        return self.differentiable or self.case.int_only

    @property
    def output_saved(self) -> bool:
        return bool(self.output_evidence) or bool(self.output_direct)

    @property
    def saved_inputs(self) -> frozenset[str]:
        return frozenset(k for k in self.input_direct if self.input_evidence.get(k) or self.input_direct[k])


RECORDS: dict[tuple[str, str], list[Observation]] = collections.defaultdict(list)
BACKWARD_BROKEN: set[Any] = set()  # makers whose backward raises INPLACE_ERROR with no write at all


def reset() -> None:
    RECORDS.clear()
    BACKWARD_BROKEN.clear()


def outputs(res: Any) -> list[torch.Tensor]:
    return [t for t in tensors_in(res) if t.numel() and storage_ptr(t)]


def created_nodes(outs: list[torch.Tensor], stop: list[Any]) -> list[Any]:
    stop_ids = {id(n) for n in stop}  # `stop` keeps those nodes alive, so ids stay unique
    nodes, seen = [], set()
    stack = [t.grad_fn for t in outs if t.grad_fn is not None]
    while stack and len(nodes) < 10000:
        n = stack.pop()
        if n is None or id(n) in seen or id(n) in stop_ids:
            continue
        seen.add(id(n))
        nodes.append(n)
        stack.extend(f for f, _ in n.next_functions)
    return nodes


def saved_by(node: Any) -> list[tuple[str, torch.Tensor]]:
    found = []
    for attr in dir(node):
        if not (attr.startswith("_saved_") or attr == "saved_tensors"):
            continue
        try:
            value = getattr(node, attr)
        except Exception:  # noqa: BLE001 - e.g. a freed buffer
            continue
        found += [(attr, t) for t in tensors_in(value)]
    return found


def bump(t: torch.Tensor) -> None:
    """An in-place write that changes nothing but the version counter (under no_grad for a leaf
    that requires grad: autograd refuses it otherwise, and the counter moves all the same)."""
    with torch.no_grad() if t.is_leaf and t.requires_grad else contextlib.nullcontext():
        if t.dtype == torch.bool:
            t.bitwise_or_(False)
        else:
            t.add_(0)


Pick = Callable[[Any, dict[str, Any]], list[torch.Tensor]]  # (the call's result, its inputs) -> what to write


def direct_check(make: MakeCall, pick: Pick | None) -> bool | None:
    """Write into the tensors `pick` chooses (from the outputs and the inputs by key), then
    backward: True when that raised INPLACE_ERROR, False when backward ran, None when inconclusive
    (nothing differentiable, the write was refused, or backward raises INPLACE_ERROR even without
    a write: torch.vander in 2.13)."""
    try:
        call, inputs = make()
    except Exception:  # noqa: BLE001
        return None
    res, err = attempt(call)
    if err is not None:
        return None
    outs = outputs(res)
    diff = [t for t in outs if t.requires_grad]
    if not diff:
        return None
    try:
        for t in pick(res, inputs) if pick else ():
            bump(t)
    except Exception:  # noqa: BLE001 - views of multi-output ops, overlapping memory...
        return None
    try:
        torch.autograd.backward([(t.real if t.is_complex() else t).sum() for t in diff])
    except Exception as e:  # noqa: BLE001
        if INPLACE_ERROR not in str(e):
            return None
        if pick is not None and direct_check(make, None) is not False:
            BACKWARD_BROKEN.add(make)
            return None
        return True
    return False


def _pick_outputs(res: Any, inputs: dict[str, Any]) -> list[torch.Tensor]:
    return outputs(res)


def _pick_position(i: int) -> Pick:
    """The tensors at position i of a returned tuple."""
    return lambda res, inputs: outputs(res[i])


def _pick_input(key: str) -> Pick:
    return lambda res, inputs: [t for t in tensors_in(inputs[key]) if t.numel()]


def returned_length(res: Any) -> int | None:
    return len(res) if isinstance(res, (tuple, list)) else None


def _ptrs(value: Any) -> set[int]:
    return {storage_ptr(t) for t in tensors_in(value) if t.numel()} - {0}


def _overlaps(t: torch.Tensor) -> bool:
    """Do two elements of `t` share a memory location? torch answers "too hard" for some strided
    views (`unfold`'s windows, `diagonal`, `select`): then the elements' offsets are counted."""
    if t.layout != torch.strided:
        return False
    quick = torch._debug_has_internal_overlap(t)
    if quick != 2 or t.numel() <= 1:
        return quick == 1
    offsets = torch.zeros((), dtype=torch.long)
    for size, stride in zip(t.shape, t.stride()):
        offsets = offsets.unsqueeze(-1) + torch.arange(size) * stride
    return offsets.unique().numel() < t.numel()


def measure(case: Case) -> bool:
    """Run one case; record what it showed, saved tensors read from the autograd nodes it created
    and confirmed by the direct check.  False when the call raised or returned no tensor (nothing
    learned)."""
    return observe(case, by_hooks=False, sink=RECORDS) is not None


def measure_by_hooks(case: Case) -> bool:
    """The same, saved tensors seen instead by a `saved_tensors_hooks` pack hook while the call
    runs (another channel than the nodes' `_saved_*` attributes; no direct check): the
    verifier's way."""
    return observe(case, by_hooks=True, sink=RECORDS) is not None


def observe(case: Case, by_hooks: bool, sink: dict[tuple[str, str], list[Observation]]) -> Observation | None:
    """Run one case (`measure`, `measure_by_hooks`) and append what it showed to `sink` under its
    op; None when the call raised or returned no tensor."""
    try:
        call, inputs = case.make()
    except Exception:  # noqa: BLE001 - a module that cannot be constructed with these arguments
        return None
    ins = tensors_in(inputs)
    differentiable = any(t.requires_grad for t in ins)  # before the call: detach_ changes it
    stop = [t.grad_fn for t in ins if t.grad_fn is not None]
    operands = {k: v for k, v in inputs.items() if k not in STATE_KEYS}
    operand_ids = {id(t) for t in tensors_in(operands)}
    primary = tensors_in(operands.get(case.primary))
    scalar_operands = bool(primary) and len(tensors_in(operands)) == len(primary)
    single = primary[0] if scalar_operands and len(primary) == 1 and primary[0].is_floating_point() else None
    before = (tuple(single.shape), single.dtype) if single is not None else None
    packed: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        packed.append(t)
        return t

    hooks = torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t) if by_hooks else contextlib.nullcontext()
    with hooks:
        res, err = attempt(call)
    if err is not None:
        return None
    outs = outputs(res)
    if not outs:
        return None
    returned = tensors_in(res)
    state = {k: v for k, v in inputs.items() if k in STATE_KEYS}
    obs = Observation(
        case, differentiable,
        scalar_operands=scalar_operands,
        returns_input=any(id(t) in operand_ids for t in returned),
        shares_input=bool({storage_ptr(t) for t in outs} & _ptrs(operands)),
        shares_state=bool({storage_ptr(t) for t in outs} & _ptrs(state)),
        requires_grad=any(t.requires_grad for t in returned),
        input_shape=before[0] if before else None,
        keeps_shape=(isinstance(res, torch.Tensor) and (tuple(res.shape), res.dtype) == before) if before else None,
        pattern=classify(*case.key, inputs, len(tensors_in(operands)) > len(primary), case.variant, case.ctor_flags),
        returned=returned_length(res),
        overlaps=any(_overlaps(t) for t in returned),
        grad_positions=frozenset(i for i, part in enumerate(res) if any(t.requires_grad for t in tensors_in(part)))
        if isinstance(res, (tuple, list)) else frozenset(),
    )
    sink[case.key].append(obs)
    if not obs.measured_saving:
        return obs  # ran, but nothing was differentiable: no evidence about saving either way
    if by_hooks:
        # A node no returned tensor leads to is garbage once the call returns (argsort's sort, the
        # abs inside isfinite): what it packed is no longer saved for anything.
        live = any(t.grad_fn is not None for t in outs)
        saved = [("saved_tensors_hooks", t) for t in packed] if live else []
    else:
        saved = [(f"{type(n).__name__}.{attr}", t) for n in created_nodes(outs, stop) for attr, t in saved_by(n)]
    out_ptrs = {storage_ptr(t) for t in outs}
    in_ptrs = {k: _ptrs(v) for k, v in inputs.items()}
    saved_out: set[int] = set()
    out_evidence: set[str] = set()
    in_evidence: dict[str, set[str]] = collections.defaultdict(set)
    other_evidence: set[str] = set()
    all_in_ptrs = set().union(*in_ptrs.values()) if in_ptrs else set()
    for where, t in saved:
        if not t.numel():
            continue
        ptr = storage_ptr(t)
        if ptr in out_ptrs:
            out_evidence.add(where)
            saved_out.add(ptr)
        for k, ptrs in in_ptrs.items():
            if ptr in ptrs:
                in_evidence[k].add(where)
        if ptr not in out_ptrs and ptr not in all_in_ptrs:
            other_evidence.add(where)
    positions = {i for i, t in enumerate(outs) if storage_ptr(t) in saved_out}
    parts = list(res) if obs.returned is not None else [res]
    top = {i for i, part in enumerate(parts) if any(storage_ptr(t) in saved_out for t in outputs(part))}
    del res, outs, returned, stop, saved, parts
    packed.clear()
    obs.output_evidence = frozenset(out_evidence)
    obs.other_evidence = frozenset(other_evidence)
    obs.output_direct = None if by_hooks else direct_check(case.make, _pick_outputs)
    obs.output_positions = frozenset(positions if out_evidence else {0} if obs.output_direct else ())
    if obs.returned is not None and not by_hooks:
        # Each position of a returned tuple on its own: which of them a write breaks backward through.
        top |= {i for i in range(obs.returned) if direct_check(case.make, _pick_position(i))}
    obs.saved_top = frozenset(top if obs.returned is not None else {0} if obs.output_saved else ())
    obs.broken_backward = case.make in BACKWARD_BROKEN
    for k, ptrs in in_ptrs.items():
        if ptrs:
            obs.input_evidence[k] = frozenset(in_evidence.get(k, ()))
            obs.input_direct[k] = None if by_hooks else direct_check(case.make, _pick_input(k))
    return obs
