"""Conformance checks against the official TM Forum Swagger 2.0 documents.

    from tests.tmf.schema import assert_valid, assert_each_valid

    assert_valid("TMF679", "ProductOfferingQualification", response.json())
    assert_each_valid("TMF620", "ProductOffering", response.json())   # a list response
    assert_valid("TMF622", "Error", response.json())

``spec_name`` is a key of ``tests.tmf.specs.FILES`` (TMF622, TMF679, TMF620); ``definition`` a
name under the document's ``definitions``. The test fails (with a plain message) when the
swagger file is not there, as ``specs.load`` does.

How: a Swagger 2.0 definition is a JSON Schema draft 4 object whose ``$ref``s
(``#/definitions/X``) point into the same document. The whole document is registered with
``referencing`` under a URI of its own and the instance is validated, with
``Draft4Validator``, against ``{"$ref": "<uri>#/definitions/<definition>"}``, so every nested
reference resolves inside the right document. Swagger's own keywords (``discriminator``,
``x-*``) are ignored, as JSON Schema ignores unknown keywords.

Formats are checked too (jsonschema leaves ``date-time`` unchecked without an optional
package): ``date-time`` must be RFC 3339 (a time zone is required, so ``Z`` or an offset),
``date`` an ISO date, ``uri`` absolute (a scheme and something after it). Failures list every
problem with the path of the attribute it is about.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT4

from tests.tmf import specs

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # "type" says what is wrong with a non-string
    if not _RFC3339.match(value):
        return False
    datetime.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    datetime.date.fromisoformat(value)
    return len(value) == 10


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


def _uri_of(spec_name: str) -> str:
    return f"urn:tmf-spec:{spec_name}"


@functools.cache
def _registry(spec_name: str) -> Registry:
    return Registry().with_resource(
        _uri_of(spec_name), DRAFT4.create_resource(specs.load(spec_name))
    )


def validator(spec_name: str, definition: str) -> Draft4Validator:
    """A draft 4 validator for ``#/definitions/<definition>`` of the official ``spec_name``
    document (fails the test when the document is absent, or when the definition is not in
    the document, which is a typo in the test)."""
    document = specs.load(spec_name)
    # Swagger 2.0 keeps them under definitions, OpenAPI 3 (v5) under components/schemas.
    where = "definitions" if "definitions" in document else "components/schemas"
    definitions = document.get("definitions") or document.get("components", {}).get("schemas", {})
    if definition not in definitions:
        pytest.fail(f"{spec_name} defines no '{definition}'.")
    return Draft4Validator(
        {"$ref": f"{_uri_of(spec_name)}#/{where}/{definition}"},
        registry=_registry(spec_name),
        format_checker=FORMATS,
    )


def problems(spec_name: str, definition: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks the definition, as '<attribute path>: <message>'. A
    ``fields=`` selection is held to the whole definition too: it keeps what is required."""
    errors = list(validator(spec_name, definition).iter_errors(instance))
    errors.sort(key=lambda error: [str(part) for part in error.absolute_path])
    return [f"{error.json_path}: {error.message}" for error in errors]


def assert_valid(spec_name: str, definition: str, instance: Any) -> None:
    """Fail the test, listing every problem, unless ``instance`` is a valid ``definition`` of
    the official ``spec_name`` swagger document."""
    found = problems(spec_name, definition, instance)
    if found:
        pytest.fail(
            f"Not a valid {spec_name} {definition}:\n  " + "\n  ".join(found), pytrace=False
        )


def assert_each_valid(spec_name: str, definition: str, instances: Iterable[Any]) -> None:
    """``assert_valid`` for every element of a list response (which must not be empty: an
    empty list proves nothing)."""
    items = list(instances)
    assert items, f"expected at least one {definition} to check"
    for index, instance in enumerate(items):
        found = problems(spec_name, definition, instance)
        if found:
            pytest.fail(
                f"Item {index} is not a valid {spec_name} {definition}:\n  " + "\n  ".join(found),
                pytrace=False,
            )


# --- v5 definitions carried by our v4 APIs as extensions --------------------------------------
def assert_valid_v5(spec_name: str, schema: str, instance: Any) -> None:
    """``assert_valid`` against ``#/components/schemas/<schema>`` of the official v5
    ``spec_name`` document (OpenAPI 3: its schemas are validated as JSON Schema,
    ``discriminator`` ignored)."""
    assert_valid(f"{spec_name}v5", schema, instance)
