"""The access matrix: every named URL x every role has an expected outcome, in ONE table below.

The URL list is generated from the URL configuration, so a new view without a rule here fails
``test_every_named_url_has_an_access_rule``. Django's own admin pages (add/change/delete/history
of each registered model, the admin's login and password pages) are left to Django, apart from a
representative handful listed in the table; custom admin URLs are ours and need a rule.

Missing and forbidden objects look the same (404); 403 means the role may not use the page at all
(whatever the object, so it tells nothing about it). The objects in the URLs belong to
``customer``: an order in 'exception' whose exception case the lead owns; the manual task is on
another customer's order in the manual pool.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from orders import order_id
from orders.models import Order
from orders.roles import Role
from orders.services import customer_link_user
from provisioning.models import ExceptionCase, FulfilmentTask, TaskState
from support.models import SupportTicket
from support.services import ticket_open
from tests.factories import UserFactory, submit_order

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "sales",
    "provisioning",
    "lead",
    "billing",
    "support",
    "customer",
    "other_customer",
    "superuser",
)
OK, FORBIDDEN, MISSING, NOT_ALLOWED = 200, 403, 404, 405
LOGIN, ADMIN_LOGIN, REDIRECT = "login", "admin-login", "redirect"
Outcome = int | str


# --- the URLs ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class NamedUrl:
    name: str
    pattern: str
    params: tuple[str, ...]


def _walk(patterns: list[Any], namespace: str = "", prefix: str = "") -> Iterator[NamedUrl]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, inner, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            params = tuple(re.findall(r"<(?:\w+:)?(\w+)>", str(entry.pattern)))
            yield NamedUrl(name, prefix + str(entry.pattern), params)


ADMIN_SITE_URLS = {
    "index",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "autocomplete",
    "jsi18n",
    "view_on_site",
    "app_list",
    "auth_user_password_change",  # django.contrib.auth's UserAdmin
}
ADMIN_MODEL_VIEWS = ("changelist", "add", "history", "delete", "change")


def _django_admin_url(name: str) -> bool:
    """One of the pages Django's admin generates by itself (not a view of ours)."""
    if not name.startswith("admin:"):
        return False
    short = name.removeprefix("admin:")
    if short in ADMIN_SITE_URLS:
        return True
    generated = {
        f"{model._meta.app_label}_{model._meta.model_name}_{view}"
        for model in admin.site._registry
        for view in ADMIN_MODEL_VIEWS
    }
    return short in generated


def named_urls() -> dict[str, NamedUrl]:
    """Every named URL that needs a rule: ours, plus the admin pages the table lists."""
    urls = {}
    for url in _walk(get_resolver().url_patterns):
        if _django_admin_url(url.name) and url.name not in GET_RULES:
            continue
        urls[url.name] = url
    return urls


# --- the people and the objects -----------------------------------------------------------------
@dataclass
class World:
    users: dict[str, User | None]
    order: Order
    case: ExceptionCase
    ticket: SupportTicket
    clients: dict[str, Client] = field(default_factory=dict)  # signed in once per role
    task: FulfilmentTask | None = None  # a manual task in the pool (other_customer's order)

    def kwargs(self, url: NamedUrl) -> dict[str, Any]:
        objects = {
            "orders_order": self.order.pk,
            "orders_customer": self.order.customer_id,
            "provisioning_exceptioncase": self.case.pk,
        }
        values: dict[str, Any] = {
            "order_id": self.order.pk,
            "ticket_id": self.ticket.pk,
            "task_id": self.task.pk if self.task is not None else 0,
            "escalation_id": 0,
            "contact_id": 0,
            "kind": "force-status",
            "name": "activation-trend",
            "app_label": "orders",
            # A link that is not valid: the page must say so, to anyone.
            "uidb64": "MQ",
            "token": "not-a-token",
            # TM Forum API resources (the APIs answer 401 before looking them up)
            "cancel_id": "0" * 32,
            "qualification_id": "0" * 32,
            "offering_id": "fibre-500",
            "price_id": "fibre-500-monthly",
            "specification_id": "internet-access",
            "product_id": "00000000-0000-0000-0000-000000000000",
            "subscription_id": "0" * 32,
        }
        if "object_id" in url.params:
            model = next(m for m in objects if url.name.startswith(f"admin:{m}_"))
            values["object_id"] = objects[model]
        return {param: values[param] for param in url.params}


@pytest.fixture
def world(django_capture_on_commit_callbacks, plan, faulty_area, manual_area) -> World:
    users: dict[str, User | None] = {
        "anonymous": None,
        "sales": UserFactory(role=Role.SALES),
        "provisioning": UserFactory(role=Role.PROVISIONING, is_staff=True),
        "lead": UserFactory(role=Role.PROVISIONING_LEAD, is_staff=True),
        "billing": UserFactory(role=Role.BILLING, is_staff=True),
        "support": UserFactory(role=Role.SUPPORT),
        "customer": UserFactory(role=Role.CUSTOMER),
        "other_customer": UserFactory(role=Role.CUSTOMER),
        "superuser": UserFactory(is_staff=True, is_superuser=True),
    }
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=faulty_area).order
        other = submit_order(plan=plan, area=manual_area).order
    customer_link_user(order.customer_id, users["customer"])  # type: ignore[arg-type]
    customer_link_user(other.customer_id, users["other_customer"])  # type: ignore[arg-type]
    case = ExceptionCase.objects.get(order=order)
    assert case.owner == users["lead"]
    ticket = ticket_open(
        order=order,
        customer_user=users["customer"],
        subject="other",
        message="When will my line work?",
    )  # type: ignore[arg-type]
    task = FulfilmentTask.objects.get(order=other, mode="manual", state=TaskState.READY)
    return World(
        users=users, order=Order.objects.get(pk=order.pk), case=case, ticket=ticket, task=task
    )


def outcome_of(response: Any) -> Outcome:
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith(reverse("admin:login")):
            return ADMIN_LOGIN
        if location.startswith(reverse("login")):
            return LOGIN
        return REDIRECT
    return int(response.status_code)


def request_as(world: World, role: str, url: NamedUrl, method: str) -> Outcome:
    client = world.clients.get(role)
    if client is None:
        client = world.clients[role] = Client()
        user = world.users[role]
        if user is not None:
            client.force_login(user)
    path = reverse(url.name, kwargs=world.kwargs(url))
    response = client.post(path) if method == "post" else client.get(path)
    return outcome_of(response)


# --- the table ------------------------------------------------------------------------------
# One row per URL, one column per role (ROLES order). A status code, or: in = 302 to the sign-in
# page, adm = 302 to the admin's sign-in page, go = 302 anywhere else (a landing page, the page
# the person came from).
GET_TABLE = """
# URL name                                     anon sale prov lead bill supp cust othr supr
# sign-in, and the pages anyone may open (Django's auth pages, tracking without an account)
login                                          200  200  200  200  200  200  200  200  200
logout                                         405  405  405  405  405  405  405  405  405
password_reset                                 200  200  200  200  200  200  200  200  200
password_reset_done                            200  200  200  200  200  200  200  200  200
password_reset_confirm                         200  200  200  200  200  200  200  200  200
password_reset_complete                        200  200  200  200  200  200  200  200  200
account_activate                               200  200  200  200  200  200  200  200  200
account_activate_done                          200  200  200  200  200  200  200  200  200
track_order                                    200  200  200  200  200  200  200  200  200
# the tracking result's live status: only with the signed token its page was given (a header)
track_live                                     404  404  404  404  404  404  404  404  404
# landing, and the customer's own pages: only the owner sees the order (others: missing)
portal:home                                    in   go   go   go   go   go   go   go   go
portal:my_orders                               in   200  200  200  200  200  200  200  200
portal:order_detail                            in   404  404  404  404  404  200  404  404
portal:order_live                              in   404  404  404  404  404  200  404  404
# the live stream of "My orders": one's own orders only (none named here: nothing to follow)
portal:my_orders_live                          in   404  404  404  404  404  404  404  404
portal:order_contact                           in   405  405  405  405  405  405  405  405
portal:order_cancel                            in   405  405  405  405  405  405  405  405
portal:order_cancellation_withdraw             in   405  405  405  405  405  405  405  405
portal:order_csat                              in   405  405  405  405  405  405  405  405
# the CSAT question by the e-mail's signed link: public, and a link that is not one is refused
csat_feedback                                  400  400  400  400  400  400  400  400  400
# the customer's own changes to their live line: the order here is not complete, so no line
portal:order_change                            in   404  404  404  404  404  404  404  404
portal:order_amend                             in   404  404  404  404  404  200  404  404
# the staff worklists
portal:sales_home                              in   200  403  403  403  403  403  403  200
portal:provisioning_home                       in   403  200  200  403  403  403  403  200
portal:confirm_activation                      in   403  405  405  403  403  403  403  405
portal:task_done                               in   403  405  405  403  403  403  403  405
portal:lead_home                               in   403  403  200  403  403  403  403  200
portal:lead_assign                             in   403  403  405  403  403  403  403  405
portal:lead_retry                              in   403  403  405  403  403  403  403  405
portal:billing_home                            in   403  403  403  200  403  403  403  200
# cross-system mismatches (reconciliation): the lead and billing (and the operations manager)
reconciliation:mismatches                      in   403  403  200  200  403  403  403  200
reconciliation:export                          in   403  403  200  200  403  403  403  200
# jeopardies across every order: the operations manager's page, which the lead also reads
portal:operations_home                         in   403  403  200  403  403  403  403  200
portal:escalation_take                         in   405  405  405  405  405  405  405  405
# sales pages (400: the serviceability check asked without a postcode; 404: the line asked for
# add-ons is no product here)
orders:new                                     in   200  403  403  403  403  403  403  200
orders:line_add_ons                            in   404  403  403  403  403  403  403  404
orders:line_move                               in   404  403  403  403  403  403  403  404
# changing a live line: who may take or cancel orders (the plan change and add-on removal
# need the first, suspend/resume/cease the second); the product here is none, so 404
orders:line_change                             in   404  403  404  403  404  403  403  404
orders:serviceability                          in   400  403  403  403  403  403  403  400
orders:customer_lookup                         in   200  403  403  403  403  403  403  200
orders:detail                                  in   200  200  200  200  200  403  403  200
orders:live                                    in   200  200  200  200  200  403  403  200
# a worklist's live stream: staff only, and only naming orders they may see (none named here)
orders:list_live                               in   404  404  404  404  404  403  403  404
# cancelling on the customer's behalf: sales, support and the provisioning lead (POST only)
orders:cancel                                  in   405  403  405  403  405  403  403  405
orders:cancellation_withdraw                   in   405  403  405  403  405  403  403  405
# changing an order: sales (add_order) and who may cancel (cancel_order)
orders:amend                                   in   200  403  200  403  200  403  403  200
# support
support:search                                 in   200  200  200  200  200  403  403  200
support:order                                  in   200  200  200  200  200  403  403  200
support:order_live                             in   200  200  200  200  200  403  403  200
support:order_cancel                           in   405  403  405  403  405  403  403  405
support:order_cancellation_withdraw            in   405  403  405  403  405  403  403  405
support:ticket_status                          in   403  403  403  403  405  403  403  405
support:ticket_answer                          in   403  403  403  403  405  403  403  405
# support's worklist of open tickets: only for who may answer them (customers never)
support:queue                                  in   403  403  403  403  200  403  403  200
support:contacts                               in   403  403  403  403  200  403  403  200
support:contact_take                           in   403  403  403  403  405  403  403  405
support:contact_record                         in   403  403  403  403  405  403  403  405
# the KPI dashboard: each role its own figures (the lead all of them, billing activations and
# duplicates, support tickets and CSAT); the figure exported here is the activation trend
kpis:dashboard                                 in   403  403  200  200  200  403  403  200
kpis:export                                    in   403  403  200  200  403  403  403  200
# TM Forum APIs: for registered client systems with a bearer token (tmf.auth); a signed-in
# person's session is no credential there (401 for everyone). The OpenAPI document and its
# browsable view are public; an unknown path under an API is a TMF 404.
tmf622:product-order-list                      401  401  401  401  401  401  401  401  401
tmf622:product-order-detail                    401  401  401  401  401  401  401  401  401
tmf622:cancel-product-order-list               401  401  401  401  401  401  401  401  401
tmf622:cancel-product-order-detail             401  401  401  401  401  401  401  401  401
tmf622:hub                                     401  401  401  401  401  401  401  401  401
tmf622:hub-detail                              401  401  401  401  401  401  401  401  401
tmf622:unknown                                 404  404  404  404  404  404  404  404  404
tmf679:qualification-list                      401  401  401  401  401  401  401  401  401
tmf679:qualification-detail                    401  401  401  401  401  401  401  401  401
tmf679:hub                                     401  401  401  401  401  401  401  401  401
tmf679:hub-detail                              401  401  401  401  401  401  401  401  401
tmf679:unknown                                 404  404  404  404  404  404  404  404  404
tmf620:product-specification-list              401  401  401  401  401  401  401  401  401
tmf620:product-specification-detail            401  401  401  401  401  401  401  401  401
tmf620:product-offering-list                   401  401  401  401  401  401  401  401  401
tmf620:product-offering-detail                 401  401  401  401  401  401  401  401  401
tmf620:price-list                              401  401  401  401  401  401  401  401  401
tmf620:price-detail                            401  401  401  401  401  401  401  401  401
tmf620:hub                                     401  401  401  401  401  401  401  401  401
tmf620:hub-detail                              401  401  401  401  401  401  401  401  401
tmf620:unknown                                 404  404  404  404  404  404  404  404  404
tmf637:product-list                            401  401  401  401  401  401  401  401  401
tmf637:product-detail                          401  401  401  401  401  401  401  401  401
tmf637:hub                                     401  401  401  401  401  401  401  401  401
tmf637:hub-detail                              401  401  401  401  401  401  401  401  401
tmf637:unknown                                 404  404  404  404  404  404  404  404  404
tmf-openapi                                    200  200  200  200  200  200  200  200  200
tmf-docs                                       200  200  200  200  200  200  200  200  200
# Prometheus' scrape: its bearer token only (METRICS_TOKEN), whoever is signed in
observability:metrics                          401  401  401  401  401  401  401  401  401
# the back office: staff only (sales, support and customers are not staff)
admin:index                                    adm  adm  200  200  200  adm  adm  adm  200
admin:orders_plan_changelist                   adm  adm  200  200  200  adm  adm  adm  200
admin:orders_servicearea_changelist            adm  adm  403  403  403  adm  adm  adm  200
admin:orders_customer_changelist               adm  adm  200  200  200  adm  adm  adm  200
admin:orders_customer_change                   adm  adm  200  200  200  adm  adm  adm  200
admin:orders_order_changelist                  adm  adm  200  200  200  adm  adm  adm  200
admin:orders_order_change                      adm  adm  200  200  200  adm  adm  adm  200
admin:orders_order_override                    adm  adm  403  200  403  adm  adm  adm  200
admin:orders_outboxmessage_changelist          adm  adm  403  403  403  adm  adm  adm  200
admin:provisioning_exceptioncase_changelist    adm  adm  200  200  403  adm  adm  adm  200
admin:provisioning_exceptioncase_change        adm  adm  200  200  403  adm  adm  adm  200
admin:provisioning_exceptioncase_assign_to_me  adm  adm  405  405  405  adm  adm  adm  405
admin:provisioning_exceptioncase_assign        adm  adm  405  405  405  adm  adm  adm  405
admin:provisioning_exceptioncase_retry         adm  adm  405  405  405  adm  adm  adm  405
admin:provisioning_exceptioncase_resolve       adm  adm  405  405  405  adm  adm  adm  405
admin:provisioning_exceptioncase_cancel_item   adm  adm  405  405  405  adm  adm  adm  405
admin:provisioning_exceptioncase_router_serial adm  adm  405  405  405  adm  adm  adm  405
admin:provisioning_fulfilmenttask_changelist   adm  adm  200  200  403  adm  adm  adm  200
admin:billing_billingaccount_changelist        adm  adm  403  403  200  adm  adm  adm  200
admin:inventory_product_changelist             adm  adm  200  200  200  adm  adm  adm  200
admin:auditlog_logentry_changelist             adm  adm  403  403  403  adm  adm  adm  200
admin:auth_user_changelist                     adm  adm  403  403  403  adm  adm  adm  200
"""

# Every URL that writes, posted with an empty form: who is turned away before anything happens.
# For those let in, 200 is the form back with its errors and go the page they came from, with a
# message saying what was (or could not be) done. The lead owns the case; provisioning staff may
# see it but not work it; billing may not see it at all.
POST_TABLE = """
# URL name                                     anon sale prov lead bill supp cust othr supr
login                                          200  200  200  200  200  200  200  200  200
logout                                         in   in   in   in   in   in   in   in   in
password_reset                                 200  200  200  200  200  200  200  200  200
password_reset_confirm                         200  200  200  200  200  200  200  200  200
account_activate                               200  200  200  200  200  200  200  200  200
track_order                                    200  200  200  200  200  200  200  200  200
orders:new                                     in   200  403  403  403  403  403  403  200
tmf622:product-order-list                      401  401  401  401  401  401  401  401  401
tmf622:cancel-product-order-list               401  401  401  401  401  401  401  401  401
tmf622:hub                                     401  401  401  401  401  401  401  401  401
tmf679:qualification-list                      401  401  401  401  401  401  401  401  401
tmf620:hub                                     401  401  401  401  401  401  401  401  401
portal:order_contact                           in   404  404  404  404  404  200  404  404
# the customer cancels their own order with no reason given (it is optional for them); staff
# cancel with a mandatory reason, so an empty form comes back with its error
portal:order_cancel                            in   404  404  404  404  404  go   404  404
# withdrawing a scheduled cancellation (none is scheduled here): back to the page, saying so
portal:order_cancellation_withdraw             in   404  404  404  404  404  go   404  404
# the CSAT answer: only the owner, and this order's line is not live, so back with a message
portal:order_csat                              in   404  404  404  404  404  go   404  404
csat_feedback                                  400  400  400  400  400  400  400  400  400
orders:cancel                                  in   200  403  200  403  200  403  403  200
orders:cancellation_withdraw                   in   go   403  go   403  go   403  403  go
orders:amend                                   in   200  403  200  403  200  403  403  200
portal:order_amend                             in   404  404  404  404  404  200  404  404
support:order_cancel                           in   200  403  200  403  200  403  403  200
support:order_cancellation_withdraw            in   go   403  go   403  go   403  403  go
portal:confirm_activation                      in   403  go   go   403  403  403  403  go
portal:task_done                               in   403  200  200  403  403  403  403  200
portal:lead_assign                             in   403  403  go   403  403  403  403  go
portal:lead_retry                              in   403  403  go   403  403  403  403  go
# an escalation is taken only by the person it was brought to: none here
portal:escalation_take                         in   404  404  404  404  404  404  404  404
support:ticket_status                          in   403  403  403  403  go   403  403  go
support:ticket_answer                          in   403  403  403  403  go   403  403  go
# a contact to take or record: none here
support:contact_take                           in   403  403  403  403  404  403  403  404
support:contact_record                         in   403  403  403  403  404  403  403  404
admin:orders_order_change                      adm  adm  403  403  403  adm  adm  adm  403
admin:orders_order_override                    adm  adm  403  200  403  adm  adm  adm  200
admin:provisioning_exceptioncase_change        adm  adm  403  403  403  adm  adm  adm  403
admin:provisioning_exceptioncase_assign_to_me  adm  adm  403  go   403  adm  adm  adm  go
admin:provisioning_exceptioncase_assign        adm  adm  403  200  403  adm  adm  adm  200
admin:provisioning_exceptioncase_retry         adm  adm  403  go   403  adm  adm  adm  go
admin:provisioning_exceptioncase_resolve       adm  adm  403  200  403  adm  adm  adm  200
admin:provisioning_exceptioncase_cancel_item   adm  adm  403  200  403  adm  adm  adm  200
"""
_TOKENS: dict[str, Outcome] = {"in": LOGIN, "adm": ADMIN_LOGIN, "go": REDIRECT}


def _parse(table: str) -> dict[str, tuple[Outcome, ...]]:
    rules = {}
    for line in table.strip().splitlines():
        if line.startswith("#"):
            continue
        name, *cells = line.split()
        rules[name] = tuple(_TOKENS[c] if c in _TOKENS else int(c) for c in cells)
    return rules


GET_RULES = _parse(GET_TABLE)
POST_RULES = _parse(POST_TABLE)


# --- the tests ----------------------------------------------------------------------------------
def test_every_named_url_has_an_access_rule() -> None:
    # given every named URL of the site
    urls = named_urls()
    # then each has a rule in the table (a new view must say who may use it)
    missing = sorted(set(urls) - set(GET_RULES))
    assert not missing, "\n".join(f"add an access rule for {name}" for name in missing)
    # and the table names no URL that is gone
    stale = sorted(set(GET_RULES) - set(urls)) + sorted(set(POST_RULES) - set(urls))
    assert not stale, f"access rules for URLs that no longer exist: {', '.join(stale)}"


def test_every_rule_has_one_outcome_per_role() -> None:
    for table in (GET_RULES, POST_RULES):
        for name, row in table.items():
            assert len(row) == len(ROLES), f"{name}: {len(row)} outcomes for {len(ROLES)} roles"


def _mismatches(world: World, name: str, method: str, rules: dict[str, Any]) -> list[str]:
    url = named_urls()[name]
    wrong = []
    for role, expected in zip(ROLES, rules[name], strict=True):
        got = request_as(world, role, url, method)
        if got != expected:
            wrong.append(f"{method.upper()} {name} as {role}: expected {expected}, got {got}")
    return wrong


def test_get_access_matches_the_table(world: World) -> None:
    # given the people of every role and an order (with its case) owned by one customer
    # when each opens every URL (reading changes nothing, so one world serves them all)
    wrong = [
        line for name in sorted(GET_RULES) for line in _mismatches(world, name, "get", GET_RULES)
    ]
    # then each gets exactly the table's outcome
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("name", sorted(POST_RULES))
def test_post_access_matches_the_table(world: World, name: str) -> None:
    # given the same people, when each posts an empty form to a URL that writes,
    # then those without the right are turned away as the table says, before anything happens
    wrong = _mismatches(world, name, "post", POST_RULES)
    assert not wrong, "\n".join(wrong)


def test_forbidden_and_missing_orders_look_the_same(world: World) -> None:
    # given an order ID that is valid but names no order
    missing = World(
        users=world.users,
        order=Order(id=order_id.generate()),
        case=world.case,
        ticket=world.ticket,
        clients=world.clients,
    )
    order_urls = [url for url in named_urls().values() if "order_id" in url.params]
    assert order_urls
    wrong = []
    for url in order_urls:
        for role, real in zip(ROLES, GET_RULES[url.name], strict=True):
            # when each role asks for it
            got = request_as(missing, role, url, "get")
            # then it is what they get for an order they may not see: never a different answer
            expected = MISSING if real in (OK, REDIRECT) else real
            if got != expected:
                wrong.append(f"{url.name} as {role}: missing order gave {got}, not {expected}")
    assert not wrong, "\n".join(wrong)
