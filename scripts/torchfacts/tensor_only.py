"""`tensor_only_methods`: public attributes of torch.Tensor that no other common kind of object has,
so that `x.<name>` is evidence that x is a tensor.

Measured with ``dir()``: a name counts when torch.Tensor has it and none of the reference types
below does.  The reference types are the values a PyTorch program commonly holds next to its
tensors and calls methods on:

* Python's builtins: list, tuple, dict, str, bytes, bytearray, set, frozenset, int, float,
  complex, bool; ``pathlib.Path`` (``p.rename``, ``p.absolute``), ``collections.deque``,
  ``array.array``;
* numpy (in the dev environment): ``ndarray``, its scalars (``numpy.generic``) and
  ``numpy.random.Generator`` (``rng.multinomial``);
* torch's own objects that are not tensors but share tensor method names: ``nn.Module``
  (``model.cuda()``, ``.to()``, ``.float()``, ``.half()``, ``.type()``...), ``PackedSequence``,
  storages, ``distributions.Distribution`` (``d.mean``, ``d.expand``...), ``optim.Optimizer``,
  ``dtype``, ``device``, ``Generator``;
* optional packages, only where installed when the table is generated (pandas, jax, PIL,
  scipy.sparse, tensorflow, cupy, xarray): the notes say which were found.  sympy (a torch
  dependency) is left out on purpose: its matrices share many tensor names (``det``, ``inv``...)
  but do not live next to tensors in the code outplace reads; ``autograd.Function`` too (its
  ``backward``, ``requires_grad`` and ``register_hook`` are never called on the class in user code,
  while ``loss.backward()`` and ``x.requires_grad`` are the commonest tensor evidence there is).
"""

from __future__ import annotations

import array
import collections
import importlib
import pathlib
from typing import Any

import numpy
import torch

from .common import note

BUILTIN_TYPES = (list, tuple, dict, str, bytes, bytearray, set, frozenset, int, float, complex, bool,
                 pathlib.Path, collections.deque, array.array)
NUMPY_TYPES = (numpy.ndarray, numpy.generic, numpy.random.Generator)
TORCH_NON_TENSORS = (torch.nn.Module, torch.nn.utils.rnn.PackedSequence, torch.UntypedStorage,
                     torch.TypedStorage, torch.distributions.Distribution, torch.optim.Optimizer,
                     torch.dtype, torch.device, torch.Generator)
# module -> attribute paths of array-like classes; consulted only when the module imports.
OPTIONAL_TYPES = {
    "pandas": ("DataFrame", "Series", "Index"),
    "jax.numpy": ("ndarray",),
    "PIL.Image": ("Image",),
    "scipy.sparse": ("spmatrix", "sparray"),
    "tensorflow": ("Tensor", "Variable"),
    "cupy": ("ndarray",),
    "xarray": ("DataArray", "Dataset"),
}


def optional_types() -> tuple[list[Any], list[str]]:
    """(classes of the optional packages that import, names of those that do not)."""
    found, missing = [], []
    for module, attrs in OPTIONAL_TYPES.items():
        try:
            mod = importlib.import_module(module)
        except Exception:  # noqa: BLE001 - not installed, or broken: either way not consulted
            missing.append(module)
            continue
        found += [getattr(mod, a) for a in attrs if hasattr(mod, a)]
    return found, missing


def public_names(obj: Any) -> set[str]:
    return {n for n in dir(obj) if not n.startswith("_")}


def build_tensor_only_methods() -> list[str]:
    extra, missing = optional_types()
    others: set[str] = set()
    for t in (*BUILTIN_TYPES, *NUMPY_TYPES, *TORCH_NON_TENSORS, *extra):
        others |= public_names(t)
    tensor = public_names(torch.Tensor)
    note(f"tensor_only_methods: {len(tensor)} public torch.Tensor names, {len(tensor & others)} also on a "
         f"reference type; optional packages not installed, so not consulted: {', '.join(missing) or 'none'}"
         + (f"; consulted: {', '.join(sorted(m for m in OPTIONAL_TYPES if m not in missing))}"
            if len(missing) < len(OPTIONAL_TYPES) else ""))
    return sorted(tensor - others)
