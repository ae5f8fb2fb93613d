"""Who the audit log names as the actor of a write.

In a web request django-auditlog's middleware names the signed-in person. Everywhere else a write
is made either by a system component (a Celery task: provisioning, billing, the scheduler) or by
a person through a service called outside a request (the shell, a test). Those are named here:

- ``system_user(component)``: the component's user, ``system:provisioning`` and so on. They are
  inactive with unusable passwords, so nobody can sign in as them; they exist only to be named.
- ``acting_as_system(component)``: wraps a task body; every audited write inside names the
  component.
- ``audit_actor(person)``: wraps a service a person calls; inside a request it keeps the
  middleware's actor (the same person), outside one it names ``person``.

auditlog's own ``set_actor`` cannot be nested: it overwrites the context the middleware set and
never restores it, so the rest of the request would be logged without an actor. ``_actor_context``
sets a context of its own and puts the previous one back on the way out.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from auditlog import get_logentry_model
from auditlog.context import auditlog_value
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import models
from django.db.models.signals import post_migrate, pre_save
from django.dispatch import receiver

P = ParamSpec("P")
R = TypeVar("R")


class SystemComponent(models.TextChoices):
    """The parts of the system that write without a person: each has its own audit actor."""

    PROVISIONING = "system:provisioning", "Provisioning worker"
    BILLING = "system:billing", "Billing worker"
    SCHEDULER = "system:scheduler", "Scheduler"
    ACCOUNTS = "system:accounts", "Customer accounts"
    MIGRATION = "system:migration", "Legacy migration import"


def system_user(component: SystemComponent | str) -> User:
    """The component's user, created on first use: inactive, with an unusable password."""
    component = SystemComponent(component)
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=component.value,
        defaults={"is_active": False, "first_name": component.label},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@receiver(post_migrate, dispatch_uid="orders.ensure_system_users")
def ensure_system_users(**kwargs: Any) -> None:
    """post_migrate: the system users exist in every environment (and after a test flush)."""
    if kwargs.get("app_config") is not None and kwargs["app_config"].label != "orders":
        return
    for component in SystemComponent:
        system_user(component)


def _live_context() -> dict[str, Any] | None:
    """The auditlog context in force here, if any. auditlog leaves its last context behind in
    the ContextVar after the request ends; a context is live only while its receiver is
    connected."""
    current = auditlog_value.get(None)
    if not isinstance(current, dict) or "signal_duid" not in current:
        return None
    duid = current["signal_duid"]
    if any(lookup_key[0] == duid for lookup_key, *_ in pre_save.receivers):
        return current
    return None


@contextmanager
def _actor_context(actor: User | None) -> Iterator[None]:
    live = _live_context() or {}
    duid = ("orders.audit_actor", uuid.uuid4().hex)
    context = {
        "actor": actor,
        "remote_addr": live.get("remote_addr"),
        "remote_port": live.get("remote_port"),
        "signal_duid": duid,
    }
    log_entry_model = get_logentry_model()

    def name_actor(sender: Any, instance: Any, **kwargs: Any) -> None:
        # Every thread's context has its receiver connected at once (signals are global):
        # only the one whose context is current here acts.
        if auditlog_value.get(None) is not context:
            return
        if instance.actor_id is None and actor is not None:
            instance.actor = actor
            instance.actor_email = getattr(actor, "email", None) or None
        if context["remote_addr"] and not instance.remote_addr:
            instance.remote_addr = context["remote_addr"]

    token = auditlog_value.set(context)
    pre_save.connect(name_actor, sender=log_entry_model, dispatch_uid=duid, weak=False)
    try:
        yield
    finally:
        pre_save.disconnect(sender=log_entry_model, dispatch_uid=duid)
        auditlog_value.reset(token)


@contextmanager
def audit_actor(person: User | None) -> Iterator[None]:
    """Audited writes inside name ``person``, unless a request already names its signed-in
    user (that person is the one calling the service)."""
    live = _live_context()
    if live is not None and live.get("actor") is not None:
        yield
        return
    if person is None or not person.is_authenticated:
        yield
        return
    with _actor_context(person):
        yield


@contextmanager
def acting_as_system(component: SystemComponent | str) -> Iterator[User]:
    """Audited writes inside name the system component, even inside a request (an eager task
    running at a request's commit is still the worker's write)."""
    user = system_user(component)
    with _actor_context(user):
        yield user


def system_task(component: SystemComponent) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator for a Celery task body: it runs as ``component`` in the audit log."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @wraps(func)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with acting_as_system(component):
                return func(*args, **kwargs)

        return run

    return decorate
