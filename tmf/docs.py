"""What the three APIs share in the served OpenAPI document (drf-spectacular): the TM Forum
Error body (one component for all of them) and the ``@``-attribute helper."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class TmfErrorDoc(serializers.Serializer):
    code = serializers.CharField(help_text="Application error code, e.g. NOT_SERVICEABLE.")
    reason = serializers.CharField()
    message = serializers.CharField(required=False)
    status = serializers.CharField(required=False, help_text="The HTTP status, as a string.")
    fieldErrors = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Attribute path -> what is wrong with it.",
    )


def error_responses(texts: dict[int, str]) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(TmfErrorDoc, description=text) for code, text in texts.items()}


def at_fields(serializer: type[serializers.Serializer], **fields: serializers.Field) -> None:
    """Declare ``@name`` attributes (``@type``, ``@referredType``) on a documentation
    serializer."""
    for name, field in fields.items():
        serializer._declared_fields[f"@{name}"] = field  # type: ignore[attr-defined]
