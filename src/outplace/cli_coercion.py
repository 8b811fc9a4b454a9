"""Command-line values of plain types coerced without pydantic.

Typer (0.2x) coerces every option that is not a boolean flag through a pydantic `TypeAdapter`, built
when the command line is parsed, even for an option left at its default: importing pydantic and
building the adapters is about a quarter of a `check` answered from the cache. outplace's options
are strings, integers, choices and lists of those. `install()` makes typer coerce a value of those
kinds the way its own adapters do (the same result, not a similar one), and hands every other
value, every other kind of option and every value its adapter would reject (so the error message
too) to typer's own coercion. Without the hook this relies on (another typer), it does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, get_args, get_origin

_DECIMAL = re.compile(r"0|[1-9][0-9]*")  # what pydantic reads as that very integer, and nothing else
_CANNOT = object()  # not a plain value: typer's own coercion decides


def install() -> bool:
    """Coerce plain values in typer's command-line parsing from now on; False when this typer has
    no such hook (then it coerces everything itself, as before)."""
    try:
        from typer import _coercion, core
        from typer._param_types import coerce_cli_choice
    except ImportError:
        return False
    typer_build = getattr(core, "build_runtime_param", None)
    runtime_param = getattr(_coercion, "RuntimeParam", None)
    if typer_build is None or runtime_param is None or getattr(typer_build, "plain_first", False):
        return typer_build is not None

    @dataclass(frozen=True)
    class PlainFirst(runtime_param):  # type: ignore[misc, valid-type]
        """Typer's handling of a missing value (`RuntimeParam.coerce`), then a plain value's
        coercion here, else typer's."""

        descriptor: Any

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            plain = _plain(self.annotation, self.parameter_info, value, ctx, coerce_cli_choice)
            if plain is not _CANNOT:
                return plain
            return typer_build(self.descriptor)._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: Any) -> Any:
        if descriptor.file_annotation is not None:
            return typer_build(descriptor)
        return PlainFirst(annotation=descriptor.annotation, parameter_info=descriptor.parameter_info,
                          descriptor=descriptor)

    build.plain_first = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
    return True


def _plain(annotation: Any, info: Any, value: Any, ctx: Any, coerce_choice) -> Any:
    """`value` as typer's adapter for `annotation` would give it back, or _CANNOT."""
    if getattr(info, "parser", None) is not None:
        return _CANNOT
    if get_origin(annotation) is list:
        (item,) = get_args(annotation) or (_CANNOT,)
        items = value if isinstance(value, (list, tuple)) else [value]
        out = [_plain_leaf(item, info, v, ctx, coerce_choice) for v in items]
        return _CANNOT if any(v is _CANNOT for v in out) else out
    return _plain_leaf(annotation, info, value, ctx, coerce_choice)


def _plain_leaf(annotation: Any, info: Any, value: Any, ctx: Any, coerce_choice) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        try:
            return coerce_choice(value, choices=tuple(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
        except ValueError:
            return _CANNOT
    if annotation is str:
        return value if type(value) is str else _CANNOT
    if annotation is int and not getattr(info, "clamp", False):
        if type(value) is str and _DECIMAL.fullmatch(value):
            value = int(value)
        if type(value) is not int:
            return _CANNOT
        low, high = getattr(info, "min", None), getattr(info, "max", None)
        if (low is not None and value < low) or (high is not None and value > high):
            return _CANNOT
        return value
    return _CANNOT
