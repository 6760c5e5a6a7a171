"""Turn pydantic's errors into positioned diagnostics with "did you mean" hints."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from bridge.mapping.diagnostics import Diagnostic, did_you_mean
from bridge.mapping.safe_yaml import YamlDocument

_TYPE_ERRORS = {
    "string_type",
    "int_type",
    "bool_type",
    "dict_type",
    "list_type",
    "model_type",
    "model_attributes_type",
    "int_from_float",
    "int_parsing",
    "bool_parsing",
}


def diagnostics_from(
    error: ValidationError, doc: YamlDocument, root: type[BaseModel] | None = None
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, positioned on the offending key or value."""
    out = []
    for item in error.errors(include_url=False):
        kind, loc, given = item["type"], tuple(item["loc"]), item.get("input")
        path = data_path(loc, doc.data, keep_last=kind in ("extra_forbidden", "missing"))
        if kind == "extra_forbidden":
            allowed = _keys_at(root, loc[:-1]) if root is not None else []
            out.append(
                doc.diagnostic(
                    path, "unknown-key", f"unknown key '{loc[-1]}'", did_you_mean(str(loc[-1]), allowed), key=True
                )
            )
        elif kind == "missing":
            out.append(doc.diagnostic(path, "missing-key", f"missing required key '{loc[-1]}'"))
        elif kind in _TYPE_ERRORS:
            out.append(doc.diagnostic(path, "wrong-type", item["msg"].lower(), _type_hint(kind, given)))
        elif kind == "literal_error":
            expected = str(item.get("ctx", {}).get("expected", ""))
            choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
            hint = did_you_mean(given, choices) if isinstance(given, str) else ""
            out.append(doc.diagnostic(path, "invalid-value", f"expected {expected}", hint))
        elif kind == "string_pattern_mismatch":
            out.append(
                doc.diagnostic(
                    path, "invalid-name", "names use letters, digits, '_', '.', '-' and start with a letter or '_'"
                )
            )
        else:
            message = item["msg"].removeprefix("Value error, ")
            out.append(doc.diagnostic(path, "invalid-value", message[0].lower() + message[1:] if message else kind))
    return out


def _type_hint(kind: str, given: Any) -> str:
    if kind == "string_type" and isinstance(given, bool | float):
        return "an unquoted true/false or number is not text; quote it"
    if kind == "bool_type" and isinstance(given, str):
        return "write true or false (yes/no/on/off are text here)"
    return ""


def data_path(loc: tuple[Any, ...], data: Any, *, keep_last: bool) -> tuple[str | int, ...]:
    """`loc` without pydantic's union tags: only the parts that exist in the data."""
    out: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            out.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            out.append(part)
            current = current[part]
        elif keep_last and i == len(loc) - 1:
            out.append(part)
    return tuple(out)


def _keys_at(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at `loc` accepts (for "did you mean")."""
    annotation: Any = root
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    model = _model_in(annotation)
    if model is None:
        return []
    return [f.alias or name for name, f in model.model_fields.items()]


def _step(annotation: Any, part: Any) -> Any:
    annotation = _unwrap(annotation)
    model = _model_in(annotation)
    if model is not None:
        for name, info in model.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return model  # a union tag in the loc: stay on the model
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is list and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
