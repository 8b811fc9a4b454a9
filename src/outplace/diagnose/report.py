"""From the recorder's JSON report to culprits, and from culprits to text and JSON. No torch here.

A *culprit* is one source location that wrote in place into a tensor some backward had saved (or,
for `leaf`/`out`, one that torch refused at the op). Writes from the same location are grouped: a
culprit in a loop is one culprit with a count. Kinds:

- ``write``     an in-place write in the program's code (``add_``, ``+=``, ``__setitem__``, ``out=``,
                ``inplace=True``): fixable by rewriting it out of place (see `fixes`);
- ``optimizer`` ``optimizer.step()`` updated parameters a retained graph still needed: not fixable by
                rewriting;
- ``data``      a write through ``.data`` (no version bump): backward ran with a wrong gradient;
- ``bypass``    another write that bypassed the version counter;
- ``leaf`` / ``out``  torch refused the in-place op itself (a leaf that requires grad; ``out=`` with an
                argument that requires grad);
- ``view``      torch refused to write into a view in place: one of several views a ``chunk``/``split``/
                ``unbind`` (or iterating a tensor) returned ("... is a view and is being modified inplace.
                This view is the output of a function that returns multiple views"), or a view made
                under ``no_grad``;
- ``unseen``    the version moved but no write was seen through the dispatcher (a custom kernel?);
- ``unattributed`` torch raised its own in-place error (outplace's hooks were not active there).
"""

from __future__ import annotations

import ast
import linecache
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIXABLE_KINDS = ("write", "leaf", "out", "view")
REFUSED_KINDS = ("leaf", "out", "view")  # torch refused the write at the op: the program stopped there
UNFIXABLE_ADVICE = {
    "optimizer": (
        "not fixable by rewriting: `optimizer.step()` updated parameters in place after an op saved them, and "
        "the backward that needs their old values ran after the step: a second backward over one graph "
        "(retain_graph=True), or a graph that reaches a tensor computed before the step (one carried over from "
        "the previous iteration, a state or a target). Call backward once per forward (run the forward again "
        "after the step), step after every backward pass over that graph, or `.detach()` what is carried over."
    ),
    "data": (
        "not fixable by rewriting: a write through `.data` bypasses autograd's version counter, so backward "
        "raised nothing and silently used the modified values: the gradient is wrong. Drop `.data`: write out "
        "of place (`y = y + 1`) when the change is part of the computation; when it is not, make it after "
        "backward(), or on a copy (`y.detach().clone()`)."
    ),
    "bypass": (
        "not fixable by rewriting: this write bypassed autograd's version counter (`.data`, `set_`, a custom "
        "kernel), so backward raised nothing and silently used the modified values. Write out of place, or "
        "make the change after backward()."
    ),
    "unseen": (
        "the tensor's version moved but outplace saw no write: it ran where the recorder's dispatch mode was "
        "off (inside a TorchDispatchMode the program had entered before the forward pass, or in another "
        "thread), or in a kernel that bypasses the dispatcher. The forward op and line above are right; "
        "look for in-place writes to that tensor between them and the backward call."
    ),
    "unattributed": (
        "torch raised its own in-place error: outplace's saved-tensor hooks were not active there (the "
        "program installed its own hooks, e.g. activation checkpointing, or ran backward in another thread)."
    ),
}
NO_GRAD_ADVICE = (
    "it ran under torch.no_grad(), which does not hide the version bump: make the update after backward() "
    "(or on a copy), or compute the new value out of place"
)


@dataclass
class Save:
    node: str | None  # "ExpBackward0"
    forward_op: str | None  # "exp"
    at: dict | None  # file/line/function of the forward op (nearest user frame)
    module: str | None  # "model.net.1" when saved inside one of torch's modules
    module_type: str | None
    saved_version: int | None
    found_version: int | None
    tensor: dict | None


@dataclass
class Culprit:
    kind: str
    at: dict | None  # where to point: the write's line, or the constructor line of an inplace=True module
    ops: list[str] = field(default_factory=list)  # aten op names, short ("add_", "relu_")
    aten: list[str] = field(default_factory=list)  # full overloads ("aten.add_.Tensor")
    form: str | None = None  # the Python form: "+=", "__setitem__", "out=", "inplace=True", ".data"
    called_at: dict | None = None  # for an inplace=True module: where it was called
    module: str | None = None  # "model.block1" (nn.Module path of the write; the first one seen)
    module_type: str | None = None
    modules: list[str] = field(default_factory=list)  # every module path seen (a culprit in a loop of blocks)
    order: float = float("inf")  # the program order of its first write (culprits are listed in it)
    _seqs: set = field(default_factory=set, repr=False)  # the writes counted
    count: int = 0  # writes grouped here (a loop: several)
    versions: list[tuple[int, int]] = field(default_factory=list)  # (before, after) per write
    saves: list[Save] = field(default_factory=list)
    backward_at: dict | None = None
    grad_enabled: bool = True
    message: str | None = None  # torch's message for leaf/out/view/unattributed
    target: dict | None = None  # what the run saw of the written tensor (recorder.tensor_facts), first write
    operands: list = field(default_factory=list)  # what it saw of the operands (recorder.operand_facts)
    callers: list = field(default_factory=list)  # a helper writing its caller's tensor: the callers' names
    inplace_set_at: dict | None = None  # where `m.inplace = True` switched the culprit module on
    # Filled in by outplace.diagnose.fixes:
    fix: Any = None  # fixes.CulpritFix or None
    note: str | None = None  # why there is no fix, and what to do instead

    @property
    def file(self) -> str | None:
        return self.at.get("file") if self.at else None

    @property
    def line(self) -> int | None:
        return self.at.get("line") if self.at else None

    @property
    def fixable(self) -> bool:
        return self.kind in FIXABLE_KINDS and self.at is not None


@dataclass
class Diagnosis:
    culprits: list[Culprit]
    program_exit: int  # the program's own exit status
    status: str  # ok | exit | exception | crash
    error: dict | None  # the program's uncaught exception (type, message, traceback)
    dropped: int = 0
    torch_version: str | None = None

    @property
    def exit_code(self) -> int:
        """0 no problem found; 1 culprit found; 2 the program failed for another reason."""
        if self.culprits:
            return 1
        return 0 if self.program_exit == 0 else 2


# ---- building -------------------------------------------------------------------------------------

def _source_line(site: dict | None) -> str:
    if not site:
        return ""
    if "text" in site:
        return site["text"]
    return linecache.getline(site["file"], site["line"]).strip()


def _statement_at(path: str, line: int) -> ast.stmt | None:
    lines = linecache.getlines(path)
    if not lines:
        return None
    try:
        tree = _parse_cached(path, "".join(lines))
    except (SyntaxError, ValueError):
        return None
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno <= line <= (node.end_lineno or node.lineno):
            if best is None or (node.lineno, -(node.end_lineno or 0)) >= (best.lineno, -(best.end_lineno or 0)):
                best = node
    return best


_TREES: dict[tuple[str, int], ast.Module] = {}


def _parse_cached(path: str, text: str) -> ast.Module:
    key = (path, hash(text))
    if key not in _TREES:
        _TREES[key] = ast.parse(text)
    return _TREES[key]


_AUG = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/=", ast.FloorDiv: "//=", ast.Mod: "%=",
        ast.Pow: "**=", ast.MatMult: "@=", ast.BitAnd: "&=", ast.BitOr: "|=", ast.BitXor: "^=",
        ast.LShift: "<<=", ast.RShift: ">>="}


def python_form(site: dict | None, constructed: bool) -> str | None:
    """How the write looks in the source: ``+=``, ``__setitem__``, ``out=``, ``inplace=True``, ``.data``."""
    if not site:
        return None
    if constructed:
        return "inplace=True"
    text = _source_line(site)
    stmt = _statement_at(site["file"], site["line"])
    if stmt is not None:
        if isinstance(stmt, ast.AugAssign):
            return "__setitem__" if isinstance(stmt.target, ast.Subscript) else _AUG.get(type(stmt.op), "+=")
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(isinstance(t, ast.Subscript) for t in targets):
                return "__setitem__"
        for node in ast.walk(stmt):
            if isinstance(node, ast.Attribute) and node.attr == "data":
                return ".data"
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call):
                if any(k.arg == "out" for k in node.keywords):
                    return "out="
                if any(k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
                       for k in node.keywords):
                    return "inplace=True"
    elif ".data" in text:
        return ".data"
    return None


def _save(incident: dict) -> Save:
    return Save(incident.get("node"), incident.get("forward_op"), incident.get("saved_at"),
                incident.get("saved_module"), incident.get("saved_module_type"),
                incident.get("saved_version"), incident.get("found_version"), incident.get("tensor"))


def _normalise(obj, cwd: str):
    """Every site's "file" made absolute (the program ran with `cwd` as its working directory), and a
    snapshot of its source line and character columns taken now: `--fix` rewrites the file later."""
    if isinstance(obj, dict):
        out = {k: _normalise(v, cwd) for k, v in obj.items()}
        f = out.get("file")
        if isinstance(f, str) and isinstance(out.get("line"), int):
            if not f.startswith("<") and not os.path.isabs(f):
                out["file"] = f = os.path.normpath(os.path.join(cwd, f))
            linecache.checkcache(f)
            out["text"] = linecache.getline(f, out["line"]).strip()
            if out.get("col") is not None:
                out["char_col"] = _char_col(out)
            if out.get("end_col") is not None and out.get("end_line") is not None:
                out["char_end_col"] = _char_col({"file": f, "line": out["end_line"], "col": out["end_col"]})
        return out
    if isinstance(obj, list):
        return [_normalise(v, cwd) for v in obj]
    return obj


def build(report: dict | None, program_exit: int, cwd: str | None = None) -> Diagnosis:
    """Group the incidents of a recorder report into culprits."""
    report = _normalise(report or {}, cwd or os.getcwd())
    program = report.get("program") or {}
    groups: dict[tuple, Culprit] = {}
    for inc in report.get("incidents") or []:
        kind = inc.get("kind")
        writes = inc.get("writes") or []
        if kind in ("leaf", "out", "view", "unattributed"):
            w = writes[0] if writes else {}
            constructed = w.get("constructed_at")
            at = constructed or w.get("at")
            key = (kind, at and at["file"], at and at["line"], at and at.get("col"))
            c = groups.get(key)
            if c is None:
                c = groups[key] = Culprit(kind if at or kind == "unattributed" else "unattributed", at,
                                          form=python_form(at, constructed is not None), message=inc.get("message"),
                                          called_at=w.get("at") if constructed else None,
                                          module_type=w.get("module_type"), target=w.get("target"))
                if w.get("op"):
                    c.ops.append(w["op"])
            c.count += 1
            continue
        if not writes:
            key = ("unseen", inc.get("saved_at") and inc["saved_at"]["file"], inc.get("saved_at") and inc["saved_at"]["line"])
            c = groups.setdefault(key, Culprit("unseen", None, backward_at=inc.get("backward_at")))
            c.count += 1
            c.saves.append(_save(inc))
            continue
        for w in writes:
            constructed = w.get("constructed_at")
            at = constructed or w.get("at")
            form = python_form(at, constructed is not None)
            if w.get("optimizer"):
                wkind = "optimizer"
            elif kind == "bypass":
                wkind = "data" if form == ".data" else "bypass"
            elif form == ".data":
                wkind = "data"
            else:
                wkind = "write"
            key = (wkind, at and at["file"], at and at["line"], at and at.get("col"))
            c = groups.get(key)
            if c is None:
                c = groups[key] = Culprit(wkind, at, form=form, called_at=w.get("at") if constructed else None,
                                          module=w.get("module"), module_type=w.get("module_type"),
                                          backward_at=inc.get("backward_at"), target=w.get("target"),
                                          operands=list(w.get("operands") or []),
                                          inplace_set_at=w.get("inplace_set_at"))
            caller = w.get("caller")
            if caller and caller.get("at") and caller not in c.callers:
                c.callers.append(caller)
            s = _save(inc)
            if not any((x.at, x.node, x.module, x.tensor) == (s.at, s.node, s.module, s.tensor) for x in c.saves):
                c.saves.append(s)
            seq = w.get("seq")
            if isinstance(seq, int):
                if seq in c._seqs:  # one write, several saved tensors on its storage (`w * w` saves w twice)
                    continue
                c._seqs.add(seq)
                c.order = min(c.order, seq)
            if w.get("module") and w["module"] not in c.modules:
                c.modules.append(w["module"])
            if w.get("op") and w["op"] not in c.ops:
                c.ops.append(w["op"])
            if w.get("aten") and w["aten"] not in c.aten:
                c.aten.append(w["aten"])
            if w.get("version") is not None and kind == "stale":
                c.versions.append((w["version"], w["version"] + 1))
            c.grad_enabled = c.grad_enabled and bool(w.get("grad_enabled", True))
            c.count += 1
    culprits = sorted(groups.values(), key=lambda c: c.order)  # stable: leaf/out/unseen keep their order
    status = program.get("status") or "crash"
    code = program.get("exit_code")
    if not isinstance(code, int):
        code = program_exit
    return Diagnosis(culprits, code, status, program.get("error"), int(report.get("dropped_incidents") or 0),
                     report.get("torch"))


# ---- text ---------------------------------------------------------------------------------------

def display(path: str | None) -> str:
    if not path:
        return "?"
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith(".." + os.sep + ".." + os.sep) else Path(rel).as_posix()


def where(site: dict | None, col: bool = False) -> str:
    if not site:
        return "?"
    from outplace.notebook import cell_position

    cell = cell_position(site.get("file"), site.get("line"))
    text = f"{display(site.get('file'))}:" + (f"cell {cell[0]}:{cell[1]}" if cell else f"{site.get('line')}")
    if col and site.get("col") is not None:
        text += f":{site.get('char_col', _char_col(site)) + 1}"
    return text


def _char_col(site: dict) -> int:
    """The 0-based character column of `site` (positions count UTF-8 bytes)."""
    raw = linecache.getline(site["file"], site["line"])
    col = site.get("col") or 0
    try:
        return len(raw.encode("utf-8")[:col].decode("utf-8", "replace"))
    except Exception:
        return col


def _op_text(c: Culprit) -> str:
    ops = ", ".join(f"`{o}`" for o in c.ops) or "an in-place write"
    if c.kind == "optimizer":
        return f"optimizer step wrote parameters in place ({ops} in torch/optim)"
    written = f"`{c.form}`" if c.form and c.form != "inplace=True" else (ops if c.ops else "an in-place write")
    if c.kind == "leaf":
        what = f"`{c.module_type}(inplace=True)`" if c.called_at else written
        return f"{what} into a leaf tensor that requires grad (or a view of one)"
    if c.kind == "out":
        return "`out=` with an argument that requires grad" + (f" ({ops})" if c.ops else "")
    if c.kind == "view":
        what = f"`{c.module_type}(inplace=True)`" if c.called_at else written
        node = (c.target or {}).get("node")
        return f"{what} into a view torch does not allow to be written in place" + (f" (output of {node})" if node else "")
    if c.form == "inplace=True":
        return f"{ops} from `{c.module_type or 'module'}(inplace=True)`" if c.called_at else f"{ops} from `inplace=True`"
    if c.form:
        return f"`{c.form}` ({ops})"
    return ops


def _versions(c: Culprit) -> str | None:
    parts = []
    saves = [s for s in c.saves if s.saved_version is not None]
    if c.versions:
        shown = ", ".join(f"{a} → {b}" for a, b in c.versions[:4]) + (" …" if len(c.versions) > 4 else "")
        parts.append(f"this write took it {shown}")
    if saves:
        s = saves[0]
        parts.insert(0, f"saved at version {s.saved_version}")
        bw = f" (at {where(c.backward_at)})" if c.backward_at else ""
        parts.append(f"backward{bw} expected version {s.saved_version} and found {s.found_version}")
    return "; ".join(parts) if parts else None


def _save_text(s: Save) -> str:
    op = f"`{s.forward_op}` ({s.node})" if s.forward_op else (s.node or "a forward op")
    text = f"the tensor saved by {op} at {where(s.at)}"
    if s.module:
        text += f" in {s.module}" + (f" ({s.module_type})" if s.module_type and s.module_type not in s.module else "")
    if s.tensor:
        t = s.tensor
        text += f" [{t.get('dtype')} {tuple(t.get('shape') or ())}{'' if t.get('device') == 'cpu' else ' ' + str(t.get('device'))}]"
    return text


def _indent(text: str, prefix: str) -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(keepends=True))


def headline(d: Diagnosis) -> str:
    n = len(d.culprits)
    if not n:
        if d.program_exit == 0:
            return "outplace diagnose: no in-place problem found; the program ran to the end."
        return (f"outplace diagnose: no in-place problem found; the program failed for another reason "
                f"(exit status {d.program_exit}; its traceback is above).")
    kinds = {c.kind for c in d.culprits}
    if kinds <= {"data", "bypass"}:
        what = "backward ran, but with a wrong gradient: a tensor saved for backward was modified behind autograd's back"
    elif kinds <= set(REFUSED_KINDS):
        what = "an in-place operation was refused by autograd"
    else:
        what = "a tensor saved for backward was modified in place"
    return f"outplace diagnose: {what}; {n} culprit{'s' if n != 1 else ''}:"


def render(d: Diagnosis, *, fix_hint: str | None = "outplace diagnose --fix") -> str:
    out = [headline(d), ""]
    for n, c in enumerate(d.culprits, 1):
        loc = where(c.at, col=True) if c.at else "(no source line)"
        out.append(f"{n}. {loc}: {_op_text(c)}" + (f" — {c.count} times" if c.count > 1 else ""))
        src = _source_line(c.at)
        if src:
            out.append(f"       {src}")
        if c.modules:
            kind = f" ({c.module_type})" if c.module_type else ""
            shown = ", ".join(c.modules[:4]) + (f", … ({len(c.modules)} in all)" if len(c.modules) > 4 else "")
            out.append(f"   in module{'s' if len(c.modules) > 1 else ''} {shown}{kind}")
        if c.called_at:
            out.append(f"   called at {where(c.called_at)}: {_source_line(c.called_at)}")
        if c.inplace_set_at:
            out.append(f"   made in place at {where(c.inplace_set_at)}: {_source_line(c.inplace_set_at)}")
        for caller in c.callers[:2]:
            names = ", ".join(f"`{n}`" for n in caller.get("names") or [])
            out.append(f"   the tensor is the caller's {names} at {where(caller.get('at'))}: {_source_line(caller.get('at'))}")
        if c.message and c.kind in ("leaf", "out", "view", "unattributed"):
            out.append(f"   torch: {c.message}")
        for s in c.saves[:3]:
            verb = "overwrote" if c.kind != "unseen" else "stale:"
            out.append(f"   {verb} {_save_text(s)}")
        if len(c.saves) > 3:
            out.append(f"   … and {len(c.saves) - 3} more saved tensors")
        v = _versions(c)
        if v:
            out.append(f"   versions: {v}")
        if not c.grad_enabled and c.kind == "write" and c.fix is not None:
            out.append("   (under torch.no_grad(): no_grad does not hide the version bump)")
        fix = c.fix
        if fix is not None:
            label = ("safe" if fix.safe else "unsafe") + (", applied" if fix.applied else "") + \
                ("" if getattr(fix, "kind", "rule") == "rule" else f", from the run: {fix.kind}")
            codes = ", ".join(sorted({f.code for f in fix.findings}))
            out.append(f"   fix ({label}, {codes}):" + ("" if fix.safe else " " + "; ".join(fix.reasons)))
            out.append(_indent(fix.diff, "     ").rstrip("\n"))
        if c.note:
            out.append(f"   {c.note}")
        out.append("")
    fixes = [c for c in d.culprits if c.fix is not None]
    if fixes and fix_hint and not any(getattr(c.fix, "applied", False) for c in fixes):
        safe = sum(1 for c in fixes if c.fix.safe)
        unsafe = len(fixes) - safe
        hints = []
        if safe:
            hints.append(f"`{fix_hint}` applies the safe fix{'es' if safe > 1 else ''}")
        if unsafe:
            hints.append(f"`{fix_hint} --unsafe-fixes` also the unsafe one{'s' if unsafe > 1 else ''} (read the reasons first)")
        out.append("; ".join(hints) + ".")
    if d.dropped:
        out.append(f"({d.dropped} further incidents not recorded)")
    return "\n".join(out).rstrip("\n") + "\n"


# ---- JSON ---------------------------------------------------------------------------------------

def to_json(d: Diagnosis) -> dict:
    def site(s):
        """Columns as everywhere in outplace's JSON: 1-based characters, `end_col` exclusive."""
        if not s:
            return None
        out = {k: s.get(k) for k in ("file", "line", "end_line", "function") if s.get(k) is not None}
        if s.get("col") is not None:
            out["col"] = s.get("char_col", _char_col(s)) + 1
        if s.get("end_col") is not None and s.get("end_line") is not None:
            end = s.get("char_end_col")
            if end is None:
                end = _char_col({"file": s["file"], "line": s["end_line"], "col": s["end_col"]})
            out["end_col"] = end + 1
        return out

    items = []
    for c in d.culprits:
        fix = c.fix
        items.append({
            "kind": c.kind,
            "path": c.file,
            "line": c.line,
            "at": site(c.at),
            "op": c.ops,
            "aten": c.aten,
            "form": c.form,
            "called_at": site(c.called_at),
            "module": c.module,
            "modules": c.modules,
            "module_type": c.module_type,
            "count": c.count,
            "versions": [list(v) for v in c.versions],
            "saves": [{"node": s.node, "forward_op": s.forward_op, "at": site(s.at), "module": s.module,
                       "saved_version": s.saved_version, "found_version": s.found_version, "tensor": s.tensor}
                      for s in c.saves],
            "backward_at": site(c.backward_at),
            "grad_enabled": c.grad_enabled,
            "message": c.message,
            "runtime": c.target,
            "callers": [{"names": x.get("names"), "at": site(x.get("at"))} for x in c.callers],
            "inplace_set_at": site(c.inplace_set_at),
            "fix": None if fix is None else {
                "repair": getattr(fix, "kind", "rule"),
                "applicability": "safe" if fix.safe else "unsafe",
                "reasons": list(fix.reasons),
                "codes": sorted({f.code for f in fix.findings}),
                "diff": fix.diff,
                "applied": bool(getattr(fix, "applied", False)),
            },
            "note": c.note,
        })
    return {"exit_code": d.exit_code, "program_exit": d.program_exit, "status": d.status,
            "error": None if not d.error else {"type": d.error.get("type"), "message": d.error.get("message")},
            "culprits": items}
