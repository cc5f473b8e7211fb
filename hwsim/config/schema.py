"""Strict typed schemas (pydantic v2) and their errors turned into file:line messages.

Every schema derives from `Strict`: unknown keys are errors, nothing is coerced
silently, and `parse()` reports every problem as 'file:line: key.path: message'.
"""
from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError, did_you_mean
from .loader import SourceMap


class Strict(BaseModel):
    """Base of every config schema: unknown keys rejected, values validated on assignment,
    plain numbers finite (a NaN compares False with every bound and would pass them all)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False,
                              validate_default=True, protected_namespaces=())


def _inner_types(annotation) -> list:
    """Unwrap Optional/Union/Annotated/list/dict to the types a nested value may take."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _inner_types(typing.get_args(annotation)[0])
    if origin in (list, tuple, set):
        return [t for arg in typing.get_args(annotation) for t in _inner_types(arg)]
    if origin is dict:
        return _inner_types(typing.get_args(annotation)[1])
    if origin is not None:  # Union, Optional, X | Y
        return [t for arg in typing.get_args(annotation) for t in _inner_types(arg)]
    return [annotation]


def _model_at(model: type[BaseModel], loc: tuple):
    """The schema class that owns the mapping at `loc`, or None when it cannot be told."""
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        nested = [t for t in _inner_types(field.annotation)
                  if isinstance(t, type) and issubclass(t, BaseModel)]
        if nested:
            model = nested[0]
        elif typing.get_origin(field.annotation) is dict or not isinstance(part, str):
            continue
        else:
            return None
    return model


def _takes_int(model: type[BaseModel], loc: tuple) -> bool:
    """Whether the field at `loc` holds integers (True when it cannot be told)."""
    owner = _model_at(model, loc[:-1])
    field = owner.model_fields.get(loc[-1]) if owner and isinstance(loc[-1], str) else None
    return field is None or int in _inner_types(field.annotation)


def _message(error: dict, model: type[BaseModel]) -> str:
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx", {})
    loc = error["loc"]
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        hint = did_you_mean(loc[-1], owner.model_fields) if owner else ""
        return f"unknown key '{loc[-1]}'{hint}"
    if kind == "missing":
        return "missing required key"
    if isinstance(value, int) and (ctx.get("gt") == 0 or ctx.get("ge") == 1) and _takes_int(model, loc):
        return f"must be a positive integer, got {value!r}"      # a Count or PositiveInt (a float field: below)
    if kind == "greater_than":
        return f"must be > {ctx.get('gt')}, got {value!r}"
    if kind == "greater_than_equal":
        return f"must be >= {ctx.get('ge')}, got {value!r}"
    if kind == "less_than":
        return f"must be < {ctx.get('lt')}, got {value!r}"
    if kind == "less_than_equal":
        return f"must be <= {ctx.get('le')}, got {value!r}"
    if kind in ("int_parsing", "int_type", "int_from_float", "int_parsing_size"):
        return f"must be an integer, got {value!r}"
    if kind == "finite_number":
        return f"must be a finite number, got {value!r}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number, got {value!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false, got {value!r}"
    if kind in ("string_type",):
        return f"must be a string, got {value!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of keys to values, got {value!r}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {value!r}"
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
        return f"must be one of {expected}, got {value!r}{did_you_mean(value, choices)}"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's internal union/tag markers ('function-after[...]', 'int', ...)."""
    return tuple(p for p in loc if isinstance(p, int) or not (
        "[" in p or p in ("int", "float", "str", "bool", "list", "dict")))


def parse(model: type[BaseModel], data: Any, source: SourceMap, prefix: tuple = ()):
    """Validate `data` against `model`; raise ConfigError naming file, line and key path."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems, seen = [], set()
        for error in exc.errors():
            error = {**error, "loc": _clean_loc(error["loc"])}
            path = prefix + error["loc"]
            problem = source.problem(path, _message(error, model))
            if str(problem) not in seen:
                seen.add(str(problem))
                problems.append(problem)
        raise ConfigError(problems) from None
