"""Tensor-by-tensor comparison of two runs' records (runs inside a worker process).

"Identical" (the default, ``rtol == atol == 0``) means: same dtype, same shape and the same bits,
except that NaNs match NaNs by position whatever their payload. ``-0.0`` and ``0.0`` have different
bits and therefore count as a difference (reported with ``max_abs_diff`` 0.0 and "sign of zero").
With ``rtol``/``atol`` the values are compared like ``torch.isclose(ref, new, rtol, atol,
equal_nan=True)`` in float64 (complex128), so signed zeros compare equal; a dtype difference is
still a difference.

Tensors are compared in pieces of `CHUNK` elements (`_chunks`), so the comparison's own memory stays
small even for tensors of gigabytes (the records themselves are mapped from their files).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_DIFFERENCES = 1000
CHUNK = 1 << 20  # elements compared at a time: float64 temporaries of a few MB, whatever the tensor's size


def compare_runs(torch: Any, ref: dict[str, Any], new: dict[str, Any], *, rtol: float, atol: float, scope: str
                 ) -> tuple[list[dict[str, Any]], list[str]]:
    """Differences of `new`'s records from `ref`'s, as JSON-ready dicts (see results.Difference), and
    the names that could not be compared (a side recorded the tensor as ``skipped``: over its budget).

    The record files are mapped (``mmap=True``), not read into memory, and compared chunk by chunk.
    """
    ref_entries = ref["entries"]
    new_entries = new["entries"]
    ref_tensors = _load(torch, ref) if ref_entries else []
    new_tensors = _load(torch, new) if new_entries else []
    new_index = {e["name"]: j for j, e in enumerate(new_entries)}
    in_scope = [i for i, e in enumerate(ref_entries) if scope == "all" or e["phase"] == "event"]
    ref_names = {ref_entries[i]["name"] for i in in_scope}

    diffs: list[dict[str, Any]] = []
    skipped: list[str] = []
    for i in in_scope:
        entry = ref_entries[i]
        j = new_index.get(entry["name"])
        if j is None:
            diffs.append(_missing(entry["name"], "recorded in the reference run, absent from the rewritten run"))
        elif ref_tensors[i] is None or new_tensors[j] is None:
            skipped.append(entry["name"])
        else:
            d = diff_tensor(torch, entry["name"], entry["kind"], ref_tensors[i], new_tensors[j], rtol=rtol, atol=atol)
            if d is not None:
                diffs.append(d)
        if len(diffs) >= MAX_DIFFERENCES:
            return diffs, skipped
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
    return diffs, skipped


def _load(torch: Any, side: dict[str, Any]) -> list[Any]:
    try:
        return torch.load(side["path"], weights_only=True, mmap=True)
    except RuntimeError:  # not a zip archive (an old or foreign record): read it whole
        return torch.load(side["path"], weights_only=True)


def _missing(name: str, detail: str) -> dict[str, Any]:
    return {"tensor": name, "kind": "missing", "max_abs_diff": None, "count": None, "numel": None, "detail": detail}


def _chunks(a: Any, b: Any, limit: int) -> Iterator[tuple[Any, Any]]:
    """Pairs of 1-d pieces of `a` and `b` (same shape) in row-major order, each at most `limit` elements
    (views where the layout allows, else copies of at most `limit` elements)."""
    if a.numel() <= limit or a.dim() == 0:
        yield a.reshape(-1), b.reshape(-1)
        return
    rows = a.shape[0]
    inner = a.numel() // rows
    if inner <= limit:
        step = max(1, limit // inner)
        for i in range(0, rows, step):
            yield a[i : i + step].reshape(-1), b[i : i + step].reshape(-1)
    else:
        for i in range(rows):
            yield from _chunks(a[i], b[i], limit)


def diff_tensor(torch: Any, name: str, kind: str, a: Any, b: Any, *, rtol: float = 0.0, atol: float = 0.0):
    """None when `b` is identical to `a` (see the module docstring), else a difference dict."""
    numel = a.numel()
    if tuple(a.shape) != tuple(b.shape):
        return {"tensor": name, "kind": "shape", "max_abs_diff": None, "count": None, "numel": numel,
                "detail": f"{list(a.shape)} vs {list(b.shape)}"}
    same_dtype = a.dtype == b.dtype
    exact = rtol == 0 and atol == 0
    wide = torch.complex128 if (a.is_complex() or b.is_complex()) else torch.float64

    count = 0  # differing elements
    unordered = 0  # of which NaN/inf at different places
    largest = 0.0  # largest finite difference
    first = None  # (flat index, value in a, value in b)
    offset = 0
    for ca, cb in _chunks(a, b, CHUNK):
        wa, wb = ca.to(wide), cb.to(wide)
        if exact and same_dtype:
            neq = _bits_differ(torch, ca, cb) & ~(wa.isnan() & wb.isnan())
        elif exact:
            neq = (wa != wb) & ~(wa.isnan() & wb.isnan())
        else:
            neq = ~torch.isclose(wa, wb, rtol=rtol, atol=atol, equal_nan=True)
        n = int(neq.sum())
        if n:
            d = (wa - wb).abs()[neq]
            bad = d.isnan()
            unordered += int(bad.sum())
            finite = d[~bad]
            if finite.numel():
                largest = max(largest, float(finite.max()))
            if first is None:
                local = int(neq.nonzero()[0, 0])
                first = (offset + local, ca[local].item(), cb[local].item())
            count += n
        offset += ca.numel()
        del wa, wb, neq

    if count == 0 and same_dtype:
        return None

    out_kind = "dtype" if not same_dtype else ("grad" if kind == "grad" else "value")
    notes = []
    if not same_dtype:
        notes.append(f"{_dt(a)} vs {_dt(b)}")
    max_abs: float | None = 0.0
    if count:
        if unordered:
            notes.append(f"NaN/inf at different places in {unordered} element(s)")
            max_abs = None
        else:
            max_abs = largest
        notes.append(f"{count} of {numel} element(s) differ")
        flat, ra, rb = first
        notes.append(f"first at {_unravel(flat, tuple(a.shape))}: {ra!r} vs {rb!r}")
        if max_abs == 0.0 and exact:
            notes.append("sign of zero")
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
