"""Runtime facts: what a run of the program saw at each in-place write, as plain data (JSON).

    facts = load("outplace-facts.json")            # FactsError on anything that is not a valid file
    here = facts.for_text(path, text)              # FileFacts, or None (no facts, or the text changed)
    fact = here.at((line, col, end_line, end_col)) # SiteFact of the write at that span, or None

Written by `outplace trace` (and built in memory by `outplace diagnose`), read by `outplace check/fix
--facts FILE` through the engine (`outplace.analysis.Analysis.write` asks `refine` what a fact changes).
Loading a facts file never executes anything: it is `json.loads` of a size-capped file, then every
field is checked for its type; an unknown field is ignored, a wrong one makes the whole file invalid.

A file's facts are used only while the file is the one the run saw: each file entry carries the
sha256 of its text (`text_digest`), and a file whose digest no longer matches is ignored: the engine
gets no facts for it (`FactsSet.for_text`), and `FactsSet.stale` gives the one line the CLI prints.

The format (``"format": "outplace-facts"``, ``"version": 1``)::

    {"format": "outplace-facts", "version": 1, "torch": "2.13.0", "command": ["train.py", "--epochs", "1"],
     "files": {"src/model.py": {"sha256": "...", "sites": [SITE, ...]}}}

Paths are relative to the folder holding the facts file (absolute when outside it). A SITE::

    {"span": [line, col, end_line, end_col],   # the write: 1-based lines, 0-based character columns, end exclusive
     "op": "mul_", "form": "*=", "count": 3,   # aten op, how the source spells it, how many times it ran
     "tensor": "yes",                          # the written object was a tensor: yes / no / maybe (mixed)
     "type": "Tensor", "dtypes": ["float32"], "shapes": [[4, 8]],
     "requires_grad": "yes", "leaf": "no", "view": "no", "multi_view": "no", "parameter": "no",
     "saved": "yes",                           # a tensor autograd saved for backward lived on its storage
     "broke": "yes",                           # backward later needed the old values (or torch refused the write)
     "saved_by": [{"op": "sigmoid", "line": 17}],
     "operands": [{"kind": "tensor", "dtypes": ["float32"], "shapes": [[4, 8]]}],
     "error": null}                            # "leaf" / "view" when torch refused the write at the op

Tri-state fields (``yes`` / ``no`` / ``maybe``) summarise every execution of the site: ``maybe`` means
it differed between executions.

What a fact may prove (docs/diagnose.md, "Runtime facts and safety"): a fact describes the values one
run produced at a site, so it never makes a fix *safe*: it can show that a write exists (the object is
a tensor, it was saved, backward needed it: the hazard) and what the write is (a parameter, one of
several views), and every fix that rests on it stays unsafe with the observation as its reason.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "outplace-facts"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024  # a facts file larger than this is refused (they are a few kB per write site)
TRI = ("yes", "no", "maybe")

Span = tuple[int, int, int, int]


class FactsError(Exception):
    """A facts file that cannot be used. `str()` is one line naming the file."""


@dataclass(frozen=True)
class SavedBy:
    op: str | None
    line: int | None
    file: str | None = None


@dataclass(frozen=True)
class Operand:
    kind: str  # tensor | scalar | other
    dtypes: tuple[str, ...] = ()
    shapes: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class SiteFact:
    span: Span
    op: str | None = None
    form: str | None = None
    count: int = 1
    tensor: str = "yes"
    type: str | None = None
    dtypes: tuple[str, ...] = ()
    shapes: tuple[tuple[int, ...], ...] = ()
    requires_grad: str = "maybe"
    leaf: str = "no"
    view: str = "no"
    multi_view: str = "no"
    parameter: str = "no"
    saved: str = "no"
    broke: str = "no"
    saved_by: tuple[SavedBy, ...] = ()
    operands: tuple[Operand, ...] = ()
    error: str | None = None

    def described(self) -> str:
        """`float32 (4, 8)`, `Parameter float32 (6, 4)`: what the run saw, for messages."""
        parts = []
        if self.parameter == "yes":
            parts.append("Parameter")
        if self.dtypes:
            parts.append("/".join(self.dtypes))
        if self.shapes:
            parts.append(" or ".join(str(tuple(s)) for s in self.shapes[:2]) + (" …" if len(self.shapes) > 2 else ""))
        return " ".join(parts) or "a tensor"

    def runs(self) -> str:
        return "once" if self.count == 1 else f"{self.count} times"


@dataclass
class FileFacts:
    path: str
    sha256: str
    sites: list[SiteFact] = field(default_factory=list)

    def at(self, span: Span) -> SiteFact | None:
        """The fact of the write at `span` (a node's span as `Analysis.span` gives it): the site whose
        span lies inside it, or overlaps it on its first line; the smallest such site."""
        line, col, end_line, end_col = span
        best = None
        for s in self.sites:
            sl, sc, sel, sec = s.span
            inside = (line, col) <= (sl, sc) and (sel, sec) <= (end_line, end_col)
            overlaps = (sl, sc) < (end_line, end_col) and (line, col) < (sel, sec) and sl == line
            if inside or overlaps:
                if best is None or _size(s.span) < _size(best.span):
                    best = s
        return best


def _size(span: Span) -> tuple[int, int]:
    return (span[2] - span[0], span[3] - span[1])


@dataclass
class FactsSet:
    """A loaded facts file: per file (by real path), its facts."""

    source: str  # where it was loaded from (for messages)
    files: dict[str, FileFacts] = field(default_factory=dict)
    torch: str | None = None
    command: tuple[str, ...] = ()

    def for_text(self, path: str | os.PathLike[str], text: str) -> FileFacts | None:
        """The facts of `path` when `text` is exactly the text the run saw (positions then agree);
        None otherwise (no facts, an edited file, or a fix pass that already rewrote it)."""
        found = self.files.get(_key(path))
        if found is None or found.sha256 != text_digest(text):
            return None
        return found

    def stale(self) -> list[str]:
        """One line per file whose facts no longer apply: it changed (or went) since the run."""
        from outplace.source import SourceError, read_source

        out = []
        for key, f in sorted(self.files.items()):
            try:
                same = text_digest(read_source(key).text) == f.sha256
            except SourceError:
                same = False
            if not same:
                out.append(f"{self.source}: facts for {_shown(f.path)} ignored: the file changed since the run that "
                           "recorded them (trace it again)")
        return out


def text_digest(text: str) -> str:
    """The digest a facts file keeps per source file: sha256 of its decoded text, as UTF-8."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _shown(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


_LOADED: dict[str, tuple[float, FactsSet]] = {}


def load_cached(path: str) -> FactsSet | None:
    """`load`, once per process and file version (the engine's workers); None when it cannot be used
    (the CLI has loaded it before and reported why)."""
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    hit = _LOADED.get(path)
    if hit is not None and hit[0] == mtime:
        return hit[1]
    try:
        facts = load(path)
    except FactsError:
        return None
    _LOADED[path] = (mtime, facts)
    return facts


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(path))


# ---- reading -------------------------------------------------------------------------------------

def load(path: str | os.PathLike[str]) -> FactsSet:
    """Read and validate a facts file. Raises FactsError (one line) when it cannot be used."""
    shown = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise FactsError(f"{shown}: cannot read the facts file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise FactsError(f"{shown}: facts file larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FactsError(f"{shown}: not JSON: {exc}") from None
    return from_json(doc, base=os.path.dirname(os.path.abspath(shown)), source=shown)


def from_json(doc: object, *, base: str, source: str = "<facts>") -> FactsSet:
    def bad(why: str) -> FactsError:
        return FactsError(f"{source}: not an outplace facts file: {why}")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad(f'"format" must be "{FORMAT}"')
    if doc.get("version") != VERSION:
        raise bad(f'unsupported "version" {doc.get("version")!r} (this outplace reads {VERSION})')
    files = doc.get("files")
    if not isinstance(files, dict):
        raise bad('"files" must be an object')
    out = FactsSet(source, torch=_opt_str(doc.get("torch"), "torch", bad),
                   command=tuple(_str_list(doc.get("command", []), "command", bad)))
    for name, entry in files.items():
        if not isinstance(name, str) or not isinstance(entry, dict):
            raise bad("each file entry must be an object keyed by its path")
        digest = entry.get("sha256")
        if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise bad(f"{name}: \"sha256\" must be a sha256 hex digest")
        sites = entry.get("sites")
        if not isinstance(sites, list):
            raise bad(f'{name}: "sites" must be a list')
        full = name if os.path.isabs(name) else os.path.join(base, name)
        out.files[_key(full)] = FileFacts(full, digest, [_site(s, name, bad) for s in sites])
    return out


def parse_site(data: object, where: str = "<site>") -> SiteFact:
    """One SITE (module docstring) checked and read; FactsError when it is malformed."""
    return _site(data, where, lambda why: FactsError(f"{where}: not a valid site: {why}"))


def _site(s: object, name: str, bad) -> SiteFact:
    if not isinstance(s, dict):
        raise bad(f"{name}: each site must be an object")
    span = s.get("span")
    if not (isinstance(span, list) and len(span) == 4 and all(_int(v) and v >= 0 for v in span)
            and span[0] >= 1 and (span[2], span[3]) >= (span[0], span[1])):
        raise bad(f'{name}: "span" must be [line, col, end_line, end_col]')
    where = f"{name}:{span[0]}"
    count = s.get("count", 1)
    if not _int(count) or count < 1:
        raise bad(f'{where}: "count" must be a positive integer')
    kw = {k: _tri(s.get(k, default), k, where, bad) for k, default in
          (("tensor", "yes"), ("requires_grad", "maybe"), ("leaf", "no"), ("view", "no"), ("multi_view", "no"),
           ("parameter", "no"), ("saved", "no"), ("broke", "no"))}
    error = s.get("error")
    if error not in (None, "leaf", "view"):
        raise bad(f'{where}: "error" must be null, "leaf" or "view"')
    saved_by = []
    for e in _list(s.get("saved_by", []), "saved_by", where, bad):
        if not isinstance(e, dict):
            raise bad(f'{where}: "saved_by" entries must be objects')
        line = e.get("line")
        if line is not None and not _int(line):
            raise bad(f'{where}: "saved_by" line must be an integer')
        saved_by.append(SavedBy(_opt_str(e.get("op"), "op", bad), line, _opt_str(e.get("file"), "file", bad)))
    operands = []
    for o in _list(s.get("operands", []), "operands", where, bad):
        if not isinstance(o, dict) or o.get("kind") not in ("tensor", "scalar", "other"):
            raise bad(f'{where}: each operand needs "kind": tensor, scalar or other')
        operands.append(Operand(o["kind"], tuple(_str_list(o.get("dtypes", []), "dtypes", bad)),
                                _shapes(o.get("shapes", []), where, bad)))
    return SiteFact(tuple(span), _opt_str(s.get("op"), "op", bad), _opt_str(s.get("form"), "form", bad), count,
                    type=_opt_str(s.get("type"), "type", bad), dtypes=tuple(_str_list(s.get("dtypes", []), "dtypes", bad)),
                    shapes=_shapes(s.get("shapes", []), where, bad), saved_by=tuple(saved_by),
                    operands=tuple(operands), error=error, **kw)


def _int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _tri(v: object, key: str, where: str, bad) -> str:
    if v not in TRI:
        raise bad(f'{where}: "{key}" must be "yes", "no" or "maybe"')
    return v  # type: ignore[return-value]


def _list(v: object, key: str, where: str, bad) -> list:
    if not isinstance(v, list):
        raise bad(f'{where}: "{key}" must be a list')
    return v


def _opt_str(v: object, key: str, bad) -> str | None:
    if v is not None and not isinstance(v, str):
        raise bad(f'"{key}" must be a string')
    return v


def _str_list(v: object, key: str, bad) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise bad(f'"{key}" must be a list of strings')
    return v


def _shapes(v: object, where: str, bad) -> tuple[tuple[int, ...], ...]:
    if not isinstance(v, list) or not all(isinstance(s, list) and all(_int(d) and d >= 0 for d in s) for s in v):
        raise bad(f'{where}: "shapes" must be a list of shapes (lists of sizes)')
    return tuple(tuple(s) for s in v)


# ---- writing -------------------------------------------------------------------------------------

def to_json(files: dict[str, dict], *, base: str, torch_version: str | None, command: list[str]) -> dict:
    """A facts document from {absolute path: {"sha256": ..., "sites": [SITE as a dict]}}; paths inside
    `base` are written relative to it."""
    out = {}
    for path in sorted(files):
        rel = os.path.relpath(path, base)
        shown = Path(rel).as_posix() if not rel.startswith("..") else path
        out[shown] = files[path]
    return {"format": FORMAT, "version": VERSION, "torch": torch_version, "command": list(command), "files": out}


def write(path: str | os.PathLike[str], doc: dict) -> None:
    """Write a facts document atomically (temporary file, then rename)."""
    target = os.fspath(path)
    tmp = f"{target}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    os.replace(tmp, target)


# ---- what a fact changes in the verdict on a write (the engine's hook) ------------------------------

def refine(judged, fact: SiteFact):
    """`judged` (an `outplace.analysis.Judgement`) with what `fact` adds: the object is a tensor, the
    hazard the run showed, and the rewrites a parameter or leaf rules out. Never removes a reason
    against a fix and never adds safety: every fact is an observation of one run (module docstring)."""
    from dataclasses import replace

    from outplace.analysis.judge import HAZARD_RANK

    if fact.tensor != "yes" or judged.hazard is None:  # `.data`/`.grad` writes stay deliberate
        return judged
    shown = f"`{judged.spelling}`" if judged.spelling else "the written tensor"
    run = f"the traced run ({fact.runs()})"
    info, reasons, certain, rebindable = judged.info, list(judged.reasons), judged.certain, judged.rebindable
    if not info.sure:
        info = replace(info, tensor=True, sure=True)
        reasons.append(f"{shown} was a tensor ({fact.described()}) every time this line ran in {run}; outplace "
                       "cannot show that it is one in every run")
    hazard, why = _observed_hazard(fact, shown, run)
    if HAZARD_RANK[hazard] > HAZARD_RANK[judged.hazard]:
        new_hazard, new_why = hazard, why
    else:
        new_hazard, new_why = judged.hazard, judged.why
    if fact.leaf == "yes" and fact.requires_grad == "yes" and not any("leaf" in r for r in reasons):
        reasons.append(f"{shown} is a leaf that requires grad (seen in {run}): in place this raises; out of place "
                       "it silently replaces the leaf")
    if fact.parameter == "yes" and fact.requires_grad == "yes" and certain is None:
        spelling = judged.spelling or ""
        if spelling and "." not in spelling:
            certain = (f"{shown} is a parameter of the model (seen in {run}): rebinding it would leave the parameter "
                       "unchanged; update it in place under `with torch.no_grad():` (or let an optimizer do it)")
        else:
            rebindable = False  # assigning a plain tensor to a Parameter attribute raises
    return replace(judged, info=info, reasons=tuple(dict.fromkeys(reasons)), hazard=new_hazard, why=new_why,
                   certain=certain, rebindable=rebindable)


def _observed_hazard(fact: SiteFact, shown: str, run: str) -> tuple[str | None, str]:
    from outplace.analysis.judge import BREAKS, INPLACE, NOGRAD

    saver = next((s for s in fact.saved_by if s.op), None)
    by = f" by `{saver.op}`" + (f" on line {saver.line}" if saver.line else "") if saver else ""
    if fact.error == "leaf" or (fact.leaf == "yes" and fact.requires_grad == "yes"):
        return BREAKS, f"{shown} was a leaf that requires grad (or a view of one) in {run}: the write raises at once"
    if fact.error == "view" or (fact.multi_view == "yes" and fact.requires_grad == "yes"):
        return BREAKS, (f"{shown} was one of several views returned by one call (`chunk`, `split`, `unbind`) in {run}: "
                        "writing into it in place raises")
    if fact.broke != "no":
        return BREAKS, f"in {run} backward needed the values this write overwrote (saved{by}): backward fails"
    if fact.saved != "no" and fact.requires_grad != "no":
        return BREAKS, f"{shown} was saved for backward{by} when this write ran in {run}: backward fails if it runs"
    if fact.requires_grad in ("yes", "maybe"):
        return INPLACE, f"{shown} required grad in {run}, but nothing had saved it when this write ran"
    return NOGRAD, f"{shown} did not require grad in {run}"


# ---- building sites from what a recorder saw -------------------------------------------------------

def tri(values) -> str:
    """One tri-state from the booleans of every execution: yes (all), no (none), maybe (some)."""
    values = [bool(v) for v in values]
    if not values:
        return "maybe"
    return "yes" if all(values) else "no" if not any(values) else "maybe"


def site_json(span: Span, *, targets: list[dict], op: str | None = None, form: str | None = None,
              saved: list[bool] = (), broke: list[bool] = (), saved_by: list[dict] = (),
              operands: list[list[dict]] = (), error: str | None = None, count: int | None = None) -> dict:
    """A SITE (module docstring) from one entry per execution: `targets` the written tensor's facts
    (`outplace.diagnose.recorder.tensor_facts`), `operands` per execution the operands' facts."""
    dtypes = sorted({t["dtype"] for t in targets if t.get("dtype")})
    shapes: list[list[int]] = []
    for t in targets:
        if isinstance(t.get("shape"), list) and t["shape"] not in shapes and len(shapes) < 4:
            shapes.append(t["shape"])
    ops_out = []
    for position in zip(*operands) if operands else ():
        kinds = {o.get("kind", "other") for o in position}
        kind = kinds.pop() if len(kinds) == 1 else "other"
        seen = sorted({tuple(o["shape"]) for o in position if isinstance(o.get("shape"), list)})[:4]
        ops_out.append({"kind": kind, "dtypes": sorted({o["dtype"] for o in position if o.get("dtype")}),
                        "shapes": [list(s) for s in seen]})
    return {
        "span": list(span), "op": op, "form": form, "count": count or max(1, len(targets)),
        "tensor": "yes", "type": targets[0].get("type") if targets else None, "dtypes": dtypes, "shapes": shapes,
        "requires_grad": tri(t.get("requires_grad") for t in targets) if targets else "yes",
        "leaf": tri(t.get("leaf") for t in targets) if targets else "no",
        "view": tri(t.get("view") for t in targets) if targets else "no",
        "multi_view": tri(t.get("multi_view") for t in targets) if targets else "no",
        "parameter": tri(t.get("parameter") for t in targets) if targets else "no",
        "saved": tri(saved) if saved else "no", "broke": tri(broke) if broke else "no",
        "saved_by": [dict(s) for s in saved_by][:4], "operands": ops_out, "error": error,
    }
