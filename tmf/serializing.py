"""DRF building blocks for TMF request bodies: strict JSON types, the TMF630 meta attributes,
and every problem of a body listed at once with its attribute path.

A TMF resource is described once, as a serializer built from these: it validates the request
(its errors become the TMF error body, tmf.errors) and drf-spectacular documents it from the
same fields. What DRF would coerce (``4711`` to ``"4711"``, ``"1"`` to ``1``) is refused here:
a client that sends the wrong JSON type is told so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from tmf.reading import META_TEXT

REQUIRED = "Required."


class Text(serializers.CharField):
    """A JSON string, stripped. Optional ones take null as absent (``None``); required ones
    refuse null, blank and absence alike ("Required.")."""

    default_error_messages = {
        "invalid": "Must be a string.",
        "required": REQUIRED,
        "null": REQUIRED,
        "blank": REQUIRED,
        "max_length": "At most {max_length} characters.",
    }

    def __init__(self, *, required: bool = False, **kwargs: Any) -> None:
        if not required:
            kwargs.setdefault("allow_null", True)
            kwargs.setdefault("allow_blank", True)
        super().__init__(required=required, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MetaText(Text):
    """``@type``, ``@baseType``, ...: when given, text (null is a malformed body)."""

    default_error_messages = {"null": "Must be a string."}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=False, allow_blank=True, **kwargs)


class Whole(serializers.IntegerField):
    """A JSON integer (not a string of digits, not a boolean)."""

    default_error_messages = {
        "invalid": "Must be a whole number.",
        "required": REQUIRED,
        "null": REQUIRED,
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class TmfList(serializers.ListSerializer):
    default_error_messages = {
        "not_a_list": "Must be an array.",
        "required": REQUIRED,
        "null": REQUIRED,
        "empty": REQUIRED,
        "max_length": "At most {max_length} entries.",
    }


class TmfObject(serializers.Serializer):
    # A JSON object with the TMF630 meta attributes (``meta``: which ones it may carry). Every
    # problem is listed: field errors, and those ``problems(data)`` finds in the raw object
    # (rules across attributes that still apply when some attribute is malformed), together;
    # ``validate`` runs once the object is clean. (A comment, not a docstring: the OpenAPI
    # document would show it as the description of every resource without one of its own.)

    meta: tuple[str, ...] = ("@type", "@baseType", "@schemaLocation")
    default_error_messages = {
        "invalid": "Must be an object.",
        "required": REQUIRED,
        "null": REQUIRED,
    }

    class Meta:
        list_serializer_class = TmfList

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for name in self.meta:
            fields[name] = MetaText(required=False, max_length=META_TEXT[name])
        return fields

    def problems(self, data: Mapping[str, Any], errors: Mapping[str, Any]) -> dict[str, Any]:
        """Problems of the raw object beyond its fields' own (``errors``), by attribute."""
        return {}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)  # "Must be an object."
        errors: dict[str, Any] = {}
        value = None
        try:
            value = super().to_internal_value(data)
        except ValidationError as exc:
            assert isinstance(exc.detail, dict)
            errors = dict(exc.detail)
        for key, problem in self.problems(data, errors).items():
            errors.setdefault(key, problem)
        if errors:
            raise ValidationError(errors)
        return value


class Ref(TmfObject):
    """A reference to another entity: its ``id`` (required), ``href`` and ``name``."""

    meta = ("@type", "@baseType", "@schemaLocation", "@referredType")
    id = Text(required=True, max_length=100)
    href = Text(required=False, max_length=500)
    name = Text(required=False, max_length=200)


def refuse_server_set(data: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {key: "Set by the server; leave it out of a create." for key in names if key in data}
