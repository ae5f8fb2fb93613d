"""Reading a JSON request body attribute by attribute, noting every problem with its path (in a
``tmf.errors.Problems``) instead of stopping at the first, so one 400 lists them all."""

from __future__ import annotations

from typing import Any

from tmf.errors import Problems


def path_of(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_object(value: Any, path: str, problems: Problems, *, required: bool) -> dict[str, Any]:
    """``value`` if it is an object; {} (and a problem) otherwise."""
    if value is None:
        if required:
            problems.add(path, "Required.")
        return {}
    if not isinstance(value, dict):
        problems.add(path, "Must be an object.")
        return {}
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
