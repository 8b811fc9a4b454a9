"""Widely used modules and functions of libraries outside the run, as the torch ones they run.

A module class of a library the run does not hold is unknown: its output may be anything, so a
write into it is neither known to be a tensor's nor known to break backward. A few such classes
are everywhere in real code, and what an instance runs is fixed by its constructor's literal
arguments. Each model here is read from the library's source (cited) and gives the torch chain the
instance runs; an argument that is not literal makes its part unknown (or optional), and one that
changes the structure itself (`order=`, a `*args`) gives the whole model up (None).

mmcv's `ConvModule` (OpenMMLab's detection, segmentation, OCR and pose code; mmcv/cnn/bricks/
conv_module.py): `forward` runs conv, norm, activation in `order` (default `('conv', 'norm',
'act')`); the norm only where `norm_cfg` is not None (default None), the activation only where
`act_cfg` is not None (default `dict(type='ReLU')`), built with `inplace` (default True) for every
type but Tanh, PReLU, Sigmoid, HSigmoid and Swish. What a caller sees: the activation's result
(saved by a ReLU, eval47 mmocr and eval50 mmdetection HTC: `x = self.lateral_convs[k](f)` then `x
+= ...`). The activation's in-place write is into the module's own intermediate (the norm's or
conv's output, which neither saved), so the model's ReLU is the out-of-place one: the same saves
and the same fresh result, and no `inplace=True` of the user's to report.
"""

from __future__ import annotations

import ast
from typing import Callable

from outplace.analysis.modules import SKIP, UNKNOWN_MEMBER, ModuleInfo, either

# Functions of other libraries that, given a tensor as their first argument, compute what a torch
# function does (ScopeFlow._e_Call): `einops.rearrange` permutes and reshapes (its tensor backend calls
# `permute` and `reshape`), so its result is a view of its input where memory allows, and it saves
# nothing for backward. (A list given is stacked: an unknown call.)
EXTERNAL_FUNCTIONS = {"einops.rearrange": "torch.reshape"}

_CONV_MODULE_PARAMS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                       "bias", "conv_cfg", "norm_cfg", "act_cfg", "inplace", "with_spectral_norm", "padding_mode",
                       "order")
_CONV_TYPES = {"Conv": "Conv2d", "Conv1d": "Conv1d", "Conv2d": "Conv2d", "Conv3d": "Conv3d"}
_NORM_TYPES = {"BN": "BatchNorm2d", "BN1d": "BatchNorm1d", "BN2d": "BatchNorm2d", "BN3d": "BatchNorm3d",
               "SyncBN": "SyncBatchNorm", "GN": "GroupNorm", "LN": "LayerNorm", "IN": "InstanceNorm2d",
               "IN1d": "InstanceNorm1d", "IN2d": "InstanceNorm2d", "IN3d": "InstanceNorm3d"}
# mmcv's activation registry entries that are torch.nn classes of the same name.
_ACT_TYPES = frozenset({"ReLU", "LeakyReLU", "PReLU", "RReLU", "ReLU6", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU"})
_UNSET = object()


def external_module(qualname: str, call: ast.Call, bound_once: Callable[[str], ast.AST | None]) -> ModuleInfo | None:
    """The torch chain the module `call` (of the class `qualname`, from outside the run) builds,
    or None where it is not one of these or not knowable from the call. `bound_once`: what a local
    name of the calling function is bound to, where it is bound once (None: not known)."""
    if qualname.startswith("mmcv.") and qualname.rsplit(".", 1)[-1] == "ConvModule":
        return _conv_module(call, bound_once)
    return None


def _conv_module(call: ast.Call, bound_once: Callable[[str], ast.AST | None]) -> ModuleInfo | None:
    args = _bound(call, _CONV_MODULE_PARAMS)
    if args is not None:  # (`act_cfg = dict(type='ReLU')` then `act_cfg=act_cfg`)
        args = {k: (bound_once(v.id) or v) if isinstance(v, ast.Name) else v for k, v in args.items()}
    if args is None or args.get("order", _UNSET) is not _UNSET:
        return None
    mode = args.get("padding_mode", _UNSET)
    if mode is not _UNSET and not (isinstance(mode, ast.Constant) and mode.value in ("zeros", "circular")):
        return None  # (another padding mode adds a padding layer of mmcv's own before the conv)
    conv = _typed(args.get("conv_cfg", _UNSET), _CONV_TYPES, default="Conv2d", optional=False)
    norm = _typed(args.get("norm_cfg", _UNSET), _NORM_TYPES, default=None, optional=True)
    act = _typed(args.get("act_cfg", _UNSET), {t: t for t in _ACT_TYPES}, default="ReLU", optional=True)
    return ModuleInfo("sequential", "mmcv ConvModule", parts=tuple(p for p in (conv, norm, act) if p is not SKIP),
                      node=call)


def _bound(call: ast.Call, params: tuple[str, ...]) -> dict | None:
    """Parameter name -> the argument expression the call passes; None with `*args`/`**kwargs`."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords) or \
            len(call.args) > len(params):
        return None
    out: dict = dict(zip(params, call.args))
    for k in call.keywords:
        if k.arg not in params:
            return None
        out[k.arg] = k.value
    return out


def _typed(cfg, types: dict, default: str | None, optional: bool) -> ModuleInfo:
    """The layer a `*_cfg` argument builds: the default's where it is not passed, none for a literal
    None, the torch class of a literal `dict(type=...)`/`{'type': ...}` of a known type; otherwise a
    module for sure (one that may be left out, where the argument may be None)."""
    if cfg is _UNSET:
        return ModuleInfo("torch", default) if default is not None else SKIP
    if isinstance(cfg, ast.Constant) and cfg.value is None:
        return SKIP
    kind = _literal_type(cfg)
    if kind is not None:
        return ModuleInfo("torch", types[kind]) if kind in types else UNKNOWN_MEMBER
    return either(SKIP, UNKNOWN_MEMBER) if optional else UNKNOWN_MEMBER


def _literal_type(cfg: ast.AST) -> str | None:
    """`dict(type='BN')` / `{'type': 'BN', ...}`: 'BN'."""
    value = None
    if isinstance(cfg, ast.Dict):
        value = next((v for k, v in zip(cfg.keys, cfg.values) if isinstance(k, ast.Constant) and k.value == "type"),
                     None)
    elif isinstance(cfg, ast.Call) and isinstance(cfg.func, ast.Name) and cfg.func.id == "dict" and not cfg.args:
        value = next((k.value for k in cfg.keywords if k.arg == "type"), None)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None
