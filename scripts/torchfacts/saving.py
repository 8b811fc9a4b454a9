"""Which ops save what for backward: `saves_output` / `output_not_saved` (a returned tensor),
`saves_inputs` (which inputs, per argument pattern), `saved_output_positions` (per pattern, which
positions of what the call returned) and `inplace_written_saved` (whether an in-place op saved the
tensor it wrote), from the call sweep's observations (`probe.RECORDS`).

An op is listed as saving its output when any measured call does (conservative, with a note where
calls disagree), as not saving when every measured call says so, and in neither list when nothing
ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .calls import CATEGORIES
from .common import examples, note
from .patterns import ALL_PATTERNS
from .probe import INPLACE_ERROR, RECORDS, Observation
from .schemas import positional_names


@dataclass
class SaveRecord:
    """What the calls of one name showed about saving its output."""

    saved: list[str] = field(default_factory=list)  # case labels where the output was saved
    unsaved: list[str] = field(default_factory=list)  # case labels where it was not
    saved_obs: list[Observation] = field(default_factory=list)
    unsaved_obs: list[Observation] = field(default_factory=list)
    evidence: set[str] = field(default_factory=set)  # Node._saved_attr names that held the output
    disagree: list[str] = field(default_factory=list)  # introspection and the direct check disagreed
    direct: int = 0  # calls where the direct check was conclusive
    int_only: bool = False  # an unsaved call ran on integer inputs only (not differentiable)
    positions: set[int] = field(default_factory=set)  # which returned tensors were saved (0: the first)
    broken_backward: list[str] = field(default_factory=list)  # backward fails even without a write


def save_record(observations: list[Observation]) -> SaveRecord:
    rec = SaveRecord()
    for obs in observations:
        if not obs.measured_saving:
            continue
        label = obs.case.label
        if obs.broken_backward:
            rec.broken_backward.append(label)
        if obs.output_direct is not None:
            rec.direct += 1
            if obs.output_direct != bool(obs.output_evidence):
                rec.disagree.append(f"{label}: {'only the direct check' if obs.output_direct else 'only introspection'}"
                                    " says saved")
        if obs.output_saved:
            rec.saved.append(label)
            rec.saved_obs.append(obs)
            rec.evidence |= obs.output_evidence
            rec.positions |= obs.output_positions
        else:
            rec.unsaved.append(label)
            rec.unsaved_obs.append(obs)
            rec.int_only = rec.int_only or obs.case.int_only
    return rec


def build_saves_output(names: dict[str, list[str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    saves: dict[str, list[str]] = {}
    not_saved: dict[str, list[str]] = {}
    direct_cases = 0
    for cat in CATEGORIES:
        saves[cat], not_saved[cat] = [], []
        unknown, int_only, only_inplace, train_eval, secondary, broken = [], [], [], [], [], []
        unconfirmed = []
        for name in names[cat]:
            rec = save_record(RECORDS.get((cat, name), []))
            if not (rec.saved or rec.unsaved):
                unknown.append(name)
                continue
            direct_cases += rec.direct
            if not rec.direct:
                unconfirmed.append(name)
            if rec.broken_backward:
                broken.append(name)
            for d in rec.disagree:
                note(f"saves_output: {cat}.{name}: introspection and the direct add_-then-backward "
                     "check disagree (classified saving)", d)
            if not rec.saved:
                not_saved[cat].append(name)
                if rec.int_only and all("int64" in lab.split(" args=")[0] for lab in rec.unsaved):
                    int_only.append(name)
                continue
            saves[cat].append(name)
            if 0 not in rec.positions:
                secondary.append(name)
            plain_saved = [o.case.label for o in rec.saved_obs if o.case.variant != "inplace=True"]
            if not plain_saved:
                only_inplace.append(name)
                continue
            if cat == "modules":
                modes = {o.case.mode for o in rec.saved_obs}
                if len(modes) == 1 and any(o.case.mode != next(iter(modes)) for o in rec.unsaved_obs):
                    train_eval.append(f"{name} (only in {modes.pop()}())")
            plain_unsaved = [o.case.label for o in rec.unsaved_obs if o.case.variant != "inplace=True"]
            if plain_unsaved:
                note(f"saves_output: {cat}.{name} saves its output on some inputs only (classified "
                     f"saving; by {', '.join(sorted(rec.evidence)) or 'the direct check'}): saved on "
                     f"{examples(plain_saved)} || not on {examples(plain_unsaved)}")
        if only_inplace:
            note(f"saves_output: {cat}: saved only with inplace=True (the in-place result is saved; "
                 "classified saving): " + ", ".join(only_inplace))
        if secondary:
            note(f"saves_output: {cat}: only a later returned tensor is saved (indices, statistics), "
                 "never the first: " + ", ".join(secondary))
        if train_eval:
            note(f"saves_output: {cat}: train() and eval() differ (classified saving): "
                 + ", ".join(train_eval))
        elif cat == "modules":
            note("saves_output: modules: train() and eval() agree on every module (each measured in "
                 "both modes)")
        if int_only:
            note(f"saves_output: {cat}: ran on integer inputs only (float32 and complex64 raised), so "
                 "never part of an autograd graph: " + ", ".join(int_only))
        if broken:
            note(f"saves_output: {cat}: backward raises '{INPLACE_ERROR}' even with no write into the "
                 "output (a torch bug; the direct check is inconclusive there): " + ", ".join(broken))
        if unconfirmed:
            note(f"saves_output: {cat}: classified by introspection alone, the direct check was "
                 "inconclusive on every call (no differentiable output, or the write into it was "
                 "refused): " + ", ".join(unconfirmed))
        note(f"saves_output: {cat}: unknown (no measured call returned a tensor): "
             + (", ".join(unknown) or "none"))
    note(f"saves_output: measured on CPU by introspecting the autograd nodes each call creates; the "
         f"direct add_(0)-then-backward check was conclusive on {direct_cases} calls")
    return saves, not_saved


# --------------------------------------------------------------------------------------------------
# saves_inputs
# --------------------------------------------------------------------------------------------------

def in_pattern(obs: Observation, pattern: str) -> bool:
    """"any": every call but those with inplace=True; any other: the calls of that argument pattern
    (patterns.classify)."""
    return obs.pattern != "inplace" if pattern == "any" else obs.pattern == pattern


def with_names(keys: frozenset[str], names: dict[str, str]) -> list[str]:
    """Each saved input under every key a call may pass it by: its position and its keyword name."""
    by_name = {n: k for k, n in names.items()}
    return sorted(keys | {names[k] for k in keys if k in names} | {by_name[k] for k in keys if k in by_name})


def build_saves_inputs(names: dict[str, list[str]]) -> tuple[dict, dict, dict]:
    """(saves_inputs, saves_inputs_conditional, evidence) from the call sweep.

    Per name and pattern (`in_pattern`), the union of the input keys that the pattern's measured
    calls saved (the pattern is left out when none of its calls ran).  A pattern is conditional when its calls
    did not all save the same keys.  Evidence: per saved key, the first call (by label) that saved
    it."""
    rows: dict[str, dict[str, dict]] = {}
    conditional: dict[str, dict[str, list[str]]] = {}
    evidence: dict[str, dict[str, dict[str, str]]] = {}
    unversioned: list[str] = []
    only_direct: list[str] = []
    for cat in CATEGORIES:
        rows[cat], evidence[cat] = {}, {}
        conditional[cat] = {p: [] for p in ALL_PATTERNS}
        for name in names[cat]:
            calls = [o for o in RECORDS.get((cat, name), []) if o.measured_saving]
            if not calls:
                continue
            signature = positional_names(cat, name)
            row: dict[str, list[str]] = {}
            for pattern in ALL_PATTERNS:
                saved = [o.saved_inputs for o in calls if in_pattern(o, pattern)]
                if saved:
                    row[pattern] = with_names(frozenset().union(*saved), signature)
                if len(set(saved)) > 1:
                    conditional[cat][pattern].append(name)
            rows[cat][name] = row
            proofs: dict[str, str] = {}
            for o in sorted(calls, key=lambda o: o.case.label):
                for k in sorted(o.saved_inputs):
                    proofs.setdefault(k, o.case.label)
                    if o.input_direct[k] is False:
                        unversioned.append(f"{cat}.{name} {k}: {o.case.label}")
                    elif not o.input_evidence[k]:
                        only_direct.append(f"{cat}.{name} {k}: {o.case.label}")
            if proofs:
                evidence[cat][name] = proofs
    if unversioned:
        note("saves_inputs: a node saved a tensor on the input's storage, yet writing into the input did "
             "not make backward fail (the saved tensor does not share the input's version counter, "
             "so such a write silently changes the gradient; classified saved): "
             + examples(unversioned, 12))
    if only_direct:
        note("saves_inputs: writing into the input made backward fail, yet no node's saved tensors "
             "showed it (classified saved): " + examples(only_direct, 12))
    return rows, conditional, evidence


# --------------------------------------------------------------------------------------------------
# saved_output_positions: per argument pattern, which positions of what the call returned autograd saved
# --------------------------------------------------------------------------------------------------

def build_saved_output_positions(names: dict[str, list[str]]) -> tuple[dict, dict, dict]:
    """(saved_output_positions, saved_output_positions_conditional, evidence).

    Per name and pattern (`in_pattern`): the union of the positions the pattern's measured calls
    saved (`Observation.saved_top`: 0 for a single tensor; for a tuple, each position holding a
    tensor autograd saved, found by introspection or by writing into that position alone), an
    empty list when none did; the pattern is left out when none of its calls ran.  A pattern is
    conditional when its calls did not all save the same positions.  Evidence: per pattern with a
    saved position, the first call (by label) that saved it."""
    rows: dict[str, dict[str, dict[str, list[int]]]] = {}
    conditional: dict[str, dict[str, list[str]]] = {}
    evidence: dict[str, dict[str, dict[str, str]]] = {}
    unplaced: list[str] = []
    for cat in CATEGORIES:
        rows[cat], evidence[cat] = {}, {}
        conditional[cat] = {p: [] for p in ALL_PATTERNS}
        for name in names[cat]:
            calls = sorted((o for o in RECORDS.get((cat, name), []) if o.measured_saving), key=lambda o: o.case.label)
            if not calls:
                continue
            row: dict[str, list[int]] = {}
            proofs: dict[str, str] = {}
            for pattern in ALL_PATTERNS:
                mine = [o for o in calls if in_pattern(o, pattern)]
                if not mine:
                    continue
                row[pattern] = sorted(frozenset().union(*(o.saved_top for o in mine)))
                if len({o.saved_top for o in mine}) > 1:
                    conditional[cat][pattern].append(name)
                saving = next((o for o in mine if o.saved_top), None)
                if saving is not None:
                    proofs[pattern] = f"{saving.case.label} -> {sorted(saving.saved_top)}"
            unplaced += [f"{cat}.{name}: {o.case.label}" for o in calls if o.output_saved and not o.saved_top]
            rows[cat][name] = row
            if proofs:
                evidence[cat][name] = proofs
    if unplaced:
        note("saved_output_positions: a returned tensor was saved, yet no single position of the returned tuple "
             "was (classified by position as not saved): " + examples(unplaced, 12))
    return rows, conditional, evidence


# --------------------------------------------------------------------------------------------------
# inplace_written_saved: is what an in-place op saves of its written tensor that tensor, or a copy?
# --------------------------------------------------------------------------------------------------

def inplace_names(methods: dict, functions: dict, functional: dict) -> dict[str, set[str]]:
    """Names every call of which writes its first tensor in place: in-place Tensor methods,
    torch.*_ functions, F.*_ functions."""
    return {"methods": set(methods), "torch": set(functions), "functional": set(functional["inplace_functions"]),
            "modules": set()}


def inplace_calls(cat: str, name: str, inplace_names: dict[str, set[str]]) -> tuple[str, list[Observation]]:
    """(the written input's key, the measured calls of `cat.name` that wrote it in place and
    returned it): every call of an in-place method / torch.*_ function / F.*_ function, the
    inplace=True calls of the others."""
    key = "self" if cat == "methods" else "0"
    calls = [o for o in RECORDS.get((cat, name), []) if o.differentiable and not o.case.int_only]
    if name not in inplace_names.get(cat, ()):
        calls = [o for o in calls if o.pattern == "inplace"]
    return key, [o for o in calls if o.returns_input]


def build_inplace_written_saved(names: dict[str, list[str]], inplace_names: dict[str, set[str]]
                                ) -> tuple[dict, dict]:
    """(inplace_written_saved, evidence): category -> name -> pattern -> whether, after the in-place
    call, writing into the tensor it wrote (add_(0)) makes backward fail: autograd saved that tensor
    itself (`sigmoid_` saves its result, which is the written tensor) rather than a copy of its
    original value (`pow_(2)` saves `self` cloned before the write) or nothing of it (`add_`).
    Measured like `saves_inputs`: a saved tensor on the written tensor's storage, confirmed by the
    write.  Evidence: the first call (by label) of each pattern and what held the tensor (or the
    copies it saved instead)."""
    rows: dict[str, dict[str, dict[str, bool]]] = {}
    evidence: dict[str, dict[str, dict[str, str]]] = {}
    not_returned: list[str] = []
    for cat in CATEGORIES:
        rows[cat], evidence[cat] = {}, {}
        for name in names[cat]:
            key, calls = inplace_calls(cat, name, inplace_names)
            if not calls:
                ran = RECORDS.get((cat, name), [])
                if name in inplace_names.get(cat, ()) or any(o.pattern == "inplace" for o in ran):
                    not_returned.append(f"{cat}.{name}")
                continue
            row: dict[str, bool] = {}
            proofs: dict[str, str] = {}
            for pattern in ALL_PATTERNS:
                mine = sorted((o for o in calls if in_pattern(o, pattern)), key=lambda o: o.case.label)
                if not mine:
                    continue
                written = [o for o in mine if key in o.saved_inputs]
                row[pattern] = bool(written)
                o = written[0] if written else mine[0]
                how = (f"written, held by {', '.join(sorted(o.input_evidence.get(key, ()))) or 'the write check'}"
                       if written else f"not it; saved instead: {', '.join(sorted(o.other_evidence))}"
                       if o.other_evidence else "nothing saved")
                proofs[pattern] = f"{o.case.label}: {how}"
            rows[cat][name] = row
            evidence[cat][name] = proofs
    if not_returned:
        note("inplace_written_saved: left out, no in-place call returned the tensor it was given (it did not "
             "write in place, or never ran on floating inputs): " + ", ".join(sorted(not_returned)))
    return rows, evidence
