"""IPv4 network and address columns: PostgreSQL's own ``cidr`` and ``inet`` types there (so the
database can compare, contain and exclude overlaps: addressing migration 0002), text elsewhere
(SQLite, the embedded default), where the service and model validation keep the same rules.

Values are ``str`` in Python, always in canonical form ("10.0.0.0/24", "10.0.0.5"): what
PostgreSQL prints back, so a value read equals the value written.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


def canonical_network(value: str) -> str:
    """``value`` as an IPv4 network in canonical form; ValueError if it is not one (host bits
    set, an IPv6 network, not an address at all)."""
    return ipaddress.IPv4Network(value.strip(), strict=True).with_prefixlen


def canonical_address(value: str) -> str:
    """``value`` as an IPv4 address in canonical form; ValueError if it is not one."""
    return str(ipaddress.IPv4Address(value.strip()))


class _IPv4Field(models.Field):  # type: ignore[type-arg]
    postgresql_type = ""
    text_length = 0
    kind = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", self.text_length)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("max_length", None)
        return name, path, args, kwargs

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        if connection.vendor == "postgresql":
            return self.postgresql_type
        return f"varchar({self.text_length})"

    def _canonical(self, value: str) -> str:
        raise NotImplementedError

    def to_python(self, value: Any) -> str | None:
        if value is None or value == "":
            return None if self.null else value
        try:
            return self._canonical(str(value))
        except ValueError as exc:
            raise ValidationError(f"“{value}” is not an IPv4 {self.kind}.", code="invalid") from exc

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        return None if value is None else str(value)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return None
        return self.to_python(value)

    def formfield(self, **kwargs: Any) -> Any:
        from django import forms

        return super().formfield(**{"form_class": forms.CharField, "max_length": 43, **kwargs})


class IPv4NetworkField(_IPv4Field):
    """An IPv4 network ("198.51.100.0/24"): ``cidr`` on PostgreSQL."""

    description = "IPv4 network (CIDR)"
    postgresql_type = "cidr"
    text_length = 18
    kind = "network (a.b.c.d/n, no host bits set)"

    def _canonical(self, value: str) -> str:
        return canonical_network(value)


class IPv4AddressField(_IPv4Field):
    """One IPv4 host address ("198.51.100.7"): ``inet`` on PostgreSQL."""

    description = "IPv4 address"
    postgresql_type = "inet"
    text_length = 15
    kind = "address"

    def _canonical(self, value: str) -> str:
        return canonical_address(value)
