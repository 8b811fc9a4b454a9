"""Tensor-by-tensor comparison of two runs' records (runs inside a worker process).

"Identical" (the default, ``rtol == atol == 0``) means: same dtype, same shape and the same bits,
except that NaNs match NaNs by position whatever their payload. ``-0.0`` and ``0.0`` have different
bits and therefore count as a difference (reported with ``max_abs_diff`` 0.0 and "sign of zero").
With ``rtol``/``atol`` the values are compared like ``torch.isclose(ref, new, rtol, atol,
equal_nan=True)`` in float64 (complex128), so signed zeros compare equal; a dtype difference is
still a difference.
"""

from __future__ import annotations

from typing import Any

MAX_DIFFERENCES = 1000


def compare_runs(torch: Any, ref: dict[str, Any], new: dict[str, Any], *, rtol: float, atol: float, scope: str):
    """Differences of `new`'s records from `ref`'s, as JSON-ready dicts (see results.Difference)."""
    ref_entries = ref["entries"]
    new_entries = new["entries"]
    ref_tensors = torch.load(ref["path"], weights_only=True) if ref_entries else []
    new_tensors = torch.load(new["path"], weights_only=True) if new_entries else []
    new_index = {e["name"]: j for j, e in enumerate(new_entries)}
    in_scope = [i for i, e in enumerate(ref_entries) if scope == "all" or e["phase"] == "event"]
    ref_names = {ref_entries[i]["name"] for i in in_scope}

    diffs: list[dict[str, Any]] = []
    for i in in_scope:
        entry = ref_entries[i]
        j = new_index.get(entry["name"])
        if j is None:
            diffs.append(_missing(entry["name"], "recorded in the reference run, absent from the rewritten run"))
        else:
            d = diff_tensor(torch, entry["name"], entry["kind"], ref_tensors[i], new_tensors[j], rtol=rtol, atol=atol)
            if d is not None:
                diffs.append(d)
        if len(diffs) >= MAX_DIFFERENCES:
            return diffs
    if scope == "all":
        for entry in new_entries:
            name = entry["name"]
            if name in ref_names:
                continue
            if entry["phase"] == "event":
                # e.g. a backward call the original never made
                diffs.append(_missing(name, "recorded only in the rewritten run"))
            elif entry["kind"] == "grad" and name.endswith(".grad") and name[: -len(".grad")] in ref_names:
                diffs.append(
                    {"tensor": name, "kind": "grad", "max_abs_diff": None, "count": None, "numel": None,
                     "detail": "the rewritten run has a gradient where the reference has none"}
                )
            if len(diffs) >= MAX_DIFFERENCES:
                break
    return diffs


def _missing(name: str, detail: str) -> dict[str, Any]:
    return {"tensor": name, "kind": "missing", "max_abs_diff": None, "count": None, "numel": None, "detail": detail}


def diff_tensor(torch: Any, name: str, kind: str, a: Any, b: Any, *, rtol: float = 0.0, atol: float = 0.0):
    """None when `b` is identical to `a` (see the module docstring), else a difference dict."""
    numel = a.numel()
    if tuple(a.shape) != tuple(b.shape):
        return {"tensor": name, "kind": "shape", "max_abs_diff": None, "count": None, "numel": numel,
                "detail": f"{list(a.shape)} vs {list(b.shape)}"}
    same_dtype = a.dtype == b.dtype
    exact = rtol == 0 and atol == 0
    wide = torch.complex128 if (a.is_complex() or b.is_complex()) else torch.float64
    wa, wb = a.to(wide), b.to(wide)
    nan_a, nan_b = wa.isnan(), wb.isnan()
    both_nan = nan_a & nan_b

    if exact and same_dtype:
        neq = _bits_differ(torch, a, b) & ~both_nan
    elif exact:
        neq = (wa != wb) & ~both_nan
    else:
        neq = ~torch.isclose(wa, wb, rtol=rtol, atol=atol, equal_nan=True)

    count = int(neq.sum())
    if count == 0 and same_dtype:
        return None

    out_kind = "dtype" if not same_dtype else ("grad" if kind == "grad" else "value")
    notes = []
    if not same_dtype:
        notes.append(f"{_dt(a)} vs {_dt(b)}")
    max_abs: float | None = 0.0
    if count:
        d = (wa - wb).abs()[neq]
        bad = d.isnan()
        if bool(bad.any()):
            notes.append(f"NaN/inf at different places in {int(bad.sum())} element(s)")
            finite = d[~bad]
            max_abs = None
        else:
            finite = d
        if max_abs is not None:
            max_abs = float(finite.max()) if finite.numel() else 0.0
        notes.append(f"{count} of {numel} element(s) differ")
        flat = int(neq.reshape(-1).nonzero()[0, 0])
        ra, rb = a.reshape(-1)[flat].item(), b.reshape(-1)[flat].item()
        where = _unravel(flat, tuple(a.shape))
        notes.append(f"first at {where}: {ra!r} vs {rb!r}")
        if max_abs == 0.0 and exact:
            notes.append("sign of zero")
    else:
        max_abs = 0.0
    return {"tensor": name, "kind": out_kind, "max_abs_diff": max_abs, "count": count, "numel": numel,
            "detail": "; ".join(notes)}


def _bits_differ(torch: Any, a: Any, b: Any) -> Any:
    if a.dtype.is_floating_point or a.is_complex():
        ra = torch.view_as_real(a) if a.is_complex() else a
        rb = torch.view_as_real(b) if b.is_complex() else b
        ints = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[ra.element_size()]
        neq = ra.contiguous().view(ints) != rb.contiguous().view(ints)
        return neq.any(-1) if a.is_complex() else neq
    return a != b


def _unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    index = []
    for size in reversed(shape):
        flat, r = divmod(flat, size)
        index.append(r)
    return tuple(reversed(index))


def _dt(t: Any) -> str:
    return str(t.dtype).replace("torch.", "")
