"""Reading a JSON request body attribute by attribute, noting every problem with its path (in a
``tmf.errors.Problems``) instead of stopping at the first, so one 400 lists them all."""

from __future__ import annotations

from typing import Any

from tmf.errors import Problems

# The meta attributes any TMF entity may carry (TMF630: its class, base class, schema and, in
# a reference, the class referred to), with the most we keep of each. When given they are text:
# null, a list or an object there is a malformed body, not an absent attribute.
META_TEXT = {"@type": 120, "@baseType": 120, "@referredType": 120, "@schemaLocation": 500}


def path_of(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_meta(source: dict[str, Any], path: str, problems: Problems) -> None:
    """Note a problem for each meta attribute of ``source`` that is not a short string."""
    for key, max_length in META_TEXT.items():
        if key not in source:
            continue
        value, where = source[key], path_of(path, key)
        if not isinstance(value, str):
            problems.add(where, "Must be a string.")
        elif len(value) > max_length:
            problems.add(where, f"At most {max_length} characters.")


def read_object(value: Any, path: str, problems: Problems, *, required: bool) -> dict[str, Any]:
    """``value`` if it is an object (with a problem for each malformed meta attribute); {}
    (and a problem) otherwise."""
    if value is None:
        if required:
            problems.add(path, "Required.")
        return {}
    if not isinstance(value, dict):
        problems.add(path, "Must be an object.")
        return {}
    read_meta(value, path, problems)
    return value


def read_array(value: Any, path: str, problems: Problems, *, required: bool) -> list[Any]:
    """``value`` if it is an array; [] (and a problem) otherwise."""
    if value is None:
        if required:
            problems.add(path, "Required.")
        return []
    if not isinstance(value, list):
        problems.add(path, "Must be an array.")
        return []
    return value


def read_text(
    source: dict[str, Any],
    key: str,
    path: str,
    problems: Problems,
    *,
    max_length: int,
    required: bool = False,
) -> str | None:
    """``source[key]`` stripped; None when absent, not a string or too long (with a problem
    for the last two, and for an absent or blank required one)."""
    value = source.get(key)
    where = path_of(path, key)
    if value is None:
        if required:
            problems.add(where, "Required.")
        return None
    if not isinstance(value, str):
        problems.add(where, "Must be a string.")
        return None
    value = value.strip()
    if required and not value:
        problems.add(where, "Required.")
        return None
    if len(value) > max_length:
        problems.add(where, f"At most {max_length} characters.")
        return None
    return value
