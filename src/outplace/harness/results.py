"""Plain data the harness passes around: one run's outcome, one difference, one case's result.

Everything here is JSON-shaped and free of torch: the CLI process builds, compares and prints these
without ever importing torch (tensors stay in record files that only workers open).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Outcome.status values.
OK = "ok"  # ran to the end
ERROR = "error"  # raised an exception (in user code, or SyntaxError compiling it)
EXIT = "exit"  # raised SystemExit (sys.exit / exit()); exit code 0 or None counts as ran-to-the-end
TIMEOUT = "timeout"  # exceeded the per-run timeout; the worker was killed and replaced
CRASH = "crash"  # the worker process died (os._exit, segfault, abort, killed by the kernel)
MEMORY = "memory"  # ran out of memory (MemoryError or torch's allocator failing, usually at the memory cap)

# Verdicts (issue 3's words; interface names).
FIXED = "fixed"
PRESERVED = "preserved"
CHANGED = "changed"
BROKEN = "broken"
UNFIXED = "unfixed"
INCONCLUSIVE = "inconclusive"  # nothing (or not everything) could be compared: see compare.py
VERDICTS = (FIXED, PRESERVED, CHANGED, BROKEN, UNFIXED, INCONCLUSIVE)
FAILING_VERDICTS = (CHANGED, BROKEN, UNFIXED, INCONCLUSIVE)  # exit 1
# Not verdicts: an entry the harness did not run (CUDA absent) or could not judge (the engine or
# the harness itself failed; exit 2).
SKIPPED = "skipped"
ERROR_ENTRY = "error"

# Difference.kind values.
DIFF_KINDS = ("value", "dtype", "shape", "grad", "missing", "outcome")


@dataclass
class ErrorInfo:
    type: str  # exception class name, module-qualified unless builtin ("RuntimeError", "mypkg.Oops")
    message: str
    normalized: str = ""  # message with the script's path and hex addresses blanked (for matching)
    line: int | None = None  # innermost line of the script in the traceback
    inplace: str | None = None  # in-place autograd error class (compare.INPLACE_ERRORS), else None
    traceback: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ErrorInfo | None:
        if not data:
            return None
        return cls(
            type=data.get("type", "?"),
            message=data.get("message", ""),
            normalized=data.get("normalized", data.get("message", "")),
            line=data.get("line"),
            inplace=data.get("inplace"),
            traceback=data.get("traceback", ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "message": self.message,
            "line": self.line,
            "inplace": self.inplace,
            "traceback": self.traceback,
        }

    def short(self, limit: int = 120) -> str:
        first = self.message.strip().splitlines()[0] if self.message.strip() else ""
        text = f"{self.type}: {first}" if first else self.type
        if self.line is not None:
            text += f" (line {self.line})"
        return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class RecordEntry:
    """One recorded tensor (the tensor itself is in the run's record file, at the same index)."""

    name: str  # "backward#1", "output['logits']", "x", "x.grad", "model.fc.weight.grad"
    kind: str  # "value" (forward value or state) | "grad"
    phase: str  # "event" (recorded as it happened: backward roots, outputs) | "final" (end-of-run state)
    dtype: str = ""
    shape: tuple[int, ...] = ()
    skipped: bool = False  # over the run's record budget: listed, but its data was not kept

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RecordEntry:
        return cls(data["name"], data["kind"], data["phase"], data.get("dtype", ""), tuple(data.get("shape", ())),
                   bool(data.get("skipped", False)))

    def to_json(self) -> dict[str, Any]:
        out = {
            "name": self.name, "kind": self.kind, "phase": self.phase, "dtype": self.dtype, "shape": list(self.shape)
        }
        if self.skipped:
            out["skipped"] = True
        return out


@dataclass
class Outcome:
    """How one run (original, rewritten or oracle) of a case ended."""

    status: str
    error: ErrorInfo | None = None
    exit_code: int | None = None  # SystemExit code (status exit) or the dead worker's code / -signal (crash)
    duration_s: float = 0.0
    output_tail: str = ""  # the run's stdout+stderr: its first and last few kB
    output_dropped: int = 0  # bytes of output between those two that were not kept
    entries: list[RecordEntry] = field(default_factory=list)
    record_path: str | None = None
    notes: list[str] = field(default_factory=list)
    # The random draws the run made, [[aten op, count], ...] in order; None when not listed (CPU runs).
    random_draws: list[list[Any]] | None = None

    @property
    def completed(self) -> bool:
        """Ran to the end: returned normally, or sys.exit(0) / sys.exit()."""
        return self.status == OK or (self.status == EXIT and self.exit_code in (0, None))

    @property
    def inplace_error(self) -> str | None:
        return self.error.inplace if self.status == ERROR and self.error is not None else None

    @property
    def has_records(self) -> bool:
        return self.record_path is not None

    def describe(self) -> str:
        if self.status == OK:
            return "ran"
        if self.status == EXIT:
            return f"exited with sys.exit({self.exit_code!r})"
        if self.status == ERROR and self.error is not None:
            return f"raised {self.error.short()}"
        if self.status == TIMEOUT:
            return "timed out"
        if self.status == MEMORY:
            return "ran out of memory"
        if self.status == CRASH:
            if self.exit_code is not None and self.exit_code < 0:
                return f"crashed (killed by signal {-self.exit_code})"
            return f"crashed (worker exited with code {self.exit_code})"
        return self.status

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(
            status=data["status"],
            error=ErrorInfo.from_json(data.get("error")),
            exit_code=data.get("exit_code"),
            duration_s=float(data.get("duration_s") or 0.0),
            output_tail=data.get("output_tail", ""),
            output_dropped=int(data.get("output_dropped") or 0),
            entries=[RecordEntry.from_json(e) for e in data.get("entries", [])],
            record_path=data.get("record_path"),
            notes=list(data.get("notes", [])),
            random_draws=data.get("random_draws"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "error": self.error.to_json() if self.error else None,
            "exit_code": self.exit_code,
            "duration_s": round(self.duration_s, 6),
            "recorded": len(self.entries),
            "output_tail": self.output_tail,
            "output_dropped": self.output_dropped,
            "notes": self.notes,
        }


@dataclass
class Difference:
    tensor: str | None  # record name ("x.grad"); None for a whole-run difference (kind "outcome")
    kind: str  # one of DIFF_KINDS
    max_abs_diff: float | None = None  # None when not defined (shape/missing/outcome, NaN mismatch)
    detail: str = ""
    count: int | None = None  # differing elements
    numel: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Difference:
        return cls(
            data.get("tensor"),
            data["kind"],
            data.get("max_abs_diff"),
            data.get("detail", ""),
            data.get("count"),
            data.get("numel"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "tensor": self.tensor,
            "kind": self.kind,
            "max_abs_diff": self.max_abs_diff,
            "detail": self.detail,
            "count": self.count,
            "numel": self.numel,
        }

    def headline(self) -> str:
        if self.kind == "outcome":
            return self.detail
        text = f"{self.tensor}: {self.kind}"
        if self.max_abs_diff is not None and self.kind in ("value", "grad", "dtype"):
            text += f", max abs diff {self.max_abs_diff:.3g}"
        return text

    def short(self) -> str:
        text = self.headline()
        if self.detail and self.kind != "outcome":
            text += f" ({self.detail})"
        return text


@dataclass
class CaseResult:
    path: str
    device: str
    verdict: str
    reason: str = ""
    against: str | None = None  # hand-made rewrite; None when the engine rewrote in memory
    mode: str = "script"
    expected: str | None = None  # from a "# expect: <verdict>" header line, if any
    original: Outcome | None = None
    rewritten: Outcome | None = None
    oracle: Outcome | None = None
    reference: str | None = None  # what the rewritten run was compared with: "original" | "oracle" | None
    differences: list[Difference] = field(default_factory=list)
    tolerance: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def failing(self) -> bool:
        return self.verdict in FAILING_VERDICTS

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "device": self.device,
            "verdict": self.verdict,
            "reason": self.reason,
            "against": self.against,
            "rewrite": "against" if self.against else "engine",
            "mode": self.mode,
            "expected": self.expected,
            "original": self.original.to_json() if self.original else None,
            "rewritten": self.rewritten.to_json() if self.rewritten else None,
            "oracle": self.oracle.to_json() if self.oracle else None,
            "reference": self.reference,
            "differences": [d.to_json() for d in self.differences],
            "tolerance": self.tolerance,
            "notes": self.notes,
        }
