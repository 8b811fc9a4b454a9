"""What every fact family shares: notes, running a call, describing inputs, storage identity."""

from __future__ import annotations

import collections
import re
import sys
import types
import unittest
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable

import torch

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "outplace" / "data" / "optable.json"

torch.set_num_threads(1)  # reductions and RNG streams must not depend on the thread count
warnings.filterwarnings("ignore")  # deprecated ops warn on every call; the results are what matter

# torch's function namespaces measured with its own functions, by dotted name ("linalg.norm"): what
# code calls as `torch.linalg.norm(x)`. aten names them with an underscore (`aten::linalg_norm`).
TORCH_NAMESPACES = ("linalg", "fft", "special")


def torch_attr(name: str) -> Any:
    """`torch.<name>` for a name of `torch_function_names` ("exp", "linalg.norm")."""
    obj: Any = torch
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def torch_function_names() -> list[str]:
    """The public names of `torch` and of its function namespaces (functions only there: the
    namespaces re-export classes such as `torch.fft.Tensor`)."""
    names = [n for n in dir(torch) if not n.startswith("_")]
    for ns in TORCH_NAMESPACES:
        module = getattr(torch, ns)
        names += [f"{ns}.{n}" for n in dir(module) if not n.startswith("_")
                  and callable(getattr(module, n)) and not isinstance(getattr(module, n), type)]
    return sorted(names)


# Anything measured that contradicts an expectation ends up in the JSON's "notes": a message, and
# the inputs it was seen on (aggregated, so one message per finding).
NOTES: dict[str, set[str]] = collections.defaultdict(set)


def note(msg: str, case: str | None = None) -> None:
    NOTES[msg].update([case] if case else [])


def rendered_notes() -> list[str]:
    return sorted(f"{m} [{'; '.join(sorted(c))}]" if c else m for m, c in NOTES.items())


# --------------------------------------------------------------------------------------------------
# Running things and comparing results
# --------------------------------------------------------------------------------------------------

def attempt(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    # Random ops (dropout_, rrelu_) then draw the same stream in both forms.  Everything runs on the
    # CPU: seeding its generator alone is what torch.manual_seed does there, minus the lazy
    # per-device seeding that formats a stack trace on every call (milliseconds each).
    torch.default_generator.manual_seed(0)
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - any failure is an observation
        return None, e


def same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Equal shape and values (NaN equals NaN), after casting b to a's dtype."""
    if a.shape != b.shape:
        return False
    try:
        torch.testing.assert_close(b.to(a.dtype), a, rtol=0, atol=0, equal_nan=True, check_stride=False)
    except AssertionError:
        return False
    return True


def describe(x: torch.Tensor, args: tuple, kwargs: dict, shapes: bool = True) -> str:
    def one(a: Any) -> str:
        if isinstance(a, torch.Tensor):
            return str(a.dtype).removeprefix("torch.") + (str(list(a.shape)) if shapes else "")
        if isinstance(a, (tuple, list)):
            return "(" + ", ".join(one(v) for v in a) + ")"
        return repr(a)

    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return f"x={one(x)} args=({', '.join(parts)})"


def load_op_db() -> list:
    # common_utils imports `expecttest` (a test-only package) for its TestCase base class; the
    # samples do not need it, so a stand-in module is enough when it is not installed.
    if "expecttest" not in sys.modules:
        try:
            import expecttest  # noqa: F401
        except ImportError:
            stub = types.ModuleType("expecttest")
            stub.TestCase = unittest.TestCase  # type: ignore[attr-defined]
            sys.modules["expecttest"] = stub
    from torch.testing._internal.common_methods_invocations import op_db

    return op_db


def tensors_in(obj: Any) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in tensors_in(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in tensors_in(o)]
    return []


def storage_ptr(t: torch.Tensor) -> int:
    try:
        return t.untyped_storage().data_ptr()
    except Exception:  # noqa: BLE001 - sparse and other layouts without a plain storage
        return 0


def shares_storage(result: Any, inputs: Iterable[torch.Tensor]) -> bool:
    ptrs = {storage_ptr(t) for t in inputs if t.numel()} - {0}
    return any(storage_ptr(r) in ptrs for r in tensors_in(result) if r.numel())


def clean_label(text: str) -> str:
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)  # callables in sample args: no addresses


def examples(labels: list[str], k: int = 2) -> str:
    return "; ".join(sorted(labels)[:k]) + (f"; +{len(labels) - k} more" if len(labels) > k else "")
