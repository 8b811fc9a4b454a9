"""Which torch.nn.functional functions and torch.nn module classes may return their input, or a
view of it, and when: `may_alias_input` / `no_input_alias`, from the call sweep's observations.

A call aliases when a returned tensor *is* an input tensor object or shares an input's storage
(a module's own parameters and buffers are not its input).  Per name, the conditions under which
some measured call aliased, in a fixed vocabulary:

* ``always``: every measured call did (nn.Identity, nn.Flatten...);
* ``inplace=True``, ``p=0.0``, ``training=False``: calls (constructions) with that keyword did;
* ``train``, ``eval``: a module without those keywords did in that mode, on some constructor
  arguments and inputs (nn.Dropout in eval());
* ``args``: a functional without those keywords did on some argument pattern (the evidence names
  it: ``F.dropout(x, 0.5, False)`` passes training=False by position; ``F.alpha_dropout``'s
  ``training`` defaults to False).

A name no measured call aliased is in `no_input_alias`; a name no call ran is in neither.
"""

from __future__ import annotations

from .calls import Case
from .common import note
from .probe import RECORDS, Observation

ALIAS_CATEGORIES = ("functional", "modules")


def _aliases(obs: Observation) -> bool:
    return obs.returns_input or obs.shares_input


def _condition(case: Case) -> str:
    if case.variant:
        return case.variant
    return case.mode or "args"


def build_input_aliasing(names: dict[str, list[str]]) -> tuple[dict, dict, dict]:
    """(may_alias_input, no_input_alias, evidence): category -> name -> sorted conditions;
    category -> names measured never to alias; category -> name -> condition -> proving call."""
    may: dict[str, dict[str, list[str]]] = {}
    never: dict[str, list[str]] = {}
    evidence: dict[str, dict[str, dict[str, str]]] = {}
    for cat in ALIAS_CATEGORIES:
        may[cat], never[cat], evidence[cat] = {}, [], {}
        state = []
        for name in names[cat]:
            calls = RECORDS.get((cat, name), [])
            if not calls:
                continue
            if any(o.shares_state for o in calls):
                state.append(name)
            aliasing = sorted((o for o in calls if _aliases(o)), key=lambda o: o.case.label)
            if not aliasing:
                never[cat].append(name)
                continue
            # A keyword call in a mode where every plain call aliases too shows nothing new
            # (nn.AlphaDropout(inplace=True) in eval()).
            plain_modes = {o.case.mode for o in calls if not o.case.variant}
            explained = {m for m in plain_modes
                         if all(_aliases(o) for o in calls if not o.case.variant and o.case.mode == m)}
            proofs: dict[str, str] = {}
            for o in aliasing:
                if not (o.case.variant and o.case.mode in explained):
                    proofs.setdefault(_condition(o.case), o.case.label)
            if len(aliasing) == len(calls):
                proofs = {"always": aliasing[0].case.label}
            may[cat][name] = sorted(proofs)
            evidence[cat][name] = proofs
        if state:
            note(f"aliasing: {cat}: a returned tensor shares storage with the module's own parameters or "
                 "buffers: " + ", ".join(state))
    return may, never, evidence
