"""Customer accounts without anyone typing a password for them, and tracking without one.

- Invitations: a customer's first order queues (through the outbox, after commit) an e-mail
  with a one-time link to choose a password; the link is Django's password-reset token, so it
  stops working once used and after PASSWORD_RESET_TIMEOUT.
- Password reset for anyone who forgot, answering the same whether or not the address is known.
- Tracking one order by order ID + postcode, with no account: failed lookups are counted per
  client address and per order ID, so neither IDs nor postcodes can be found by trying. The
  result page then follows the order by itself with a signed, time-limited token naming the
  order and the postcode the visitor proved (never the bare order ID).
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import ipaddress
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from notices.customer_words import order_situation
from orders import order_id as order_ids
from orders import selectors
from orders.live import live_fragment_response
from orders.models import Customer, Order, normalize_postcode
from orders.notifications import email_send
from orders.outbox import outbox_enqueue
from orders.roles import Role

logger = logging.getLogger(__name__)

INVITATION_TASK = "portal.send_customer_invitation"
TRACK_LIVE_SALT = "portal.accounts.track-live"
PASSWORD_RESET_TASK = "portal.send_password_reset"  # noqa: S105  (a task name)
# Overridden by tests to move time on; everything here reads the clock through it.
_clock: Callable[[], float] = time.time


# --- client address ---------------------------------------------------------------------------
def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the socket's peer, or, behind TRUSTED_PROXY_COUNT proxies, the
    address the outermost trusted proxy saw (entries further left are the client's own claim
    and could be forged). None when there is no valid address (a request built in code).
    Also django-axes' AXES_CLIENT_IP_CALLABLE, whose log stores it in an IP-address column."""
    candidates = []
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= hops:
            candidates.append(forwarded[-hops])
    candidates.append(request.META.get("REMOTE_ADDR") or "")
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


class EmailSignInBackend(ModelBackend):
    """Customers sign in with their e-mail address typed in any case: their username is its
    lower-case form (customer_account_invite), and phones capitalise the first letter. Tried
    after Django's exact-match backend, so other usernames behave as before."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or "@" not in username:
            return None
        folded = username.strip().lower()
        if folded == username:
            return None  # the exact-match backend already tried this one
        return super().authenticate(request, username=folded, password=password, **kwargs)


def sign_in_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The username django-axes counts failures against (AXES_USERNAME_CALLABLE): e-mail
    addresses folded to lower case, since every spelling reaches the same account."""
    username = str((credentials or {}).get("username") or "")
    if not username and request is not None:
        username = str(request.POST.get("username", ""))
    return username.strip().lower() if "@" in username else username


def sign_in_locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, *args: Any
) -> HttpResponse:
    """django-axes' answer to a sign-in refused by the lockout (AXES_LOCKOUT_CALLABLE): a
    page in our words, 429. It says the same whether or not the username exists."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/lockout.html", {"minutes": minutes}, status=429)


# --- rate limiting ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RateLimit:
    """At most ``max_hits`` hits per key in each fixed window of ``window_seconds``.

    Counters live in the default cache (shared by every web process when CACHE_URL points to
    Redis). ``rate_limit_take`` counts before it answers, with the cache's atomic increment, so
    parallel requests cannot slip past the limit together. Fixed windows let at most twice
    ``max_hits`` through around a window boundary.
    """

    scope: str
    max_hits: int
    window_seconds: int

    def _window(self, now: float) -> int:
        return int(now // self.window_seconds)

    def cache_key(self, key: str, *, now: float) -> str:
        # Hashed: the key may be an e-mail address or an order ID, which stay out of the cache.
        digest = hashlib.sha256(f"{self.scope}:{key}".encode()).hexdigest()[:40]
        return f"ratelimit:{self.scope}:{self._window(now)}:{digest}"

    def seconds_left(self, *, now: float) -> int:
        """Seconds until the current window closes (at least 1)."""
        return max(1, int((self._window(now) + 1) * self.window_seconds - now))


def rate_limit_reached(limit: RateLimit, key: str, *, now: float | None = None) -> bool:
    """True when ``key`` has used up its hits in the current window."""
    now = _clock() if now is None else now
    return int(cache.get(limit.cache_key(key, now=now), 0)) >= limit.max_hits


def rate_limit_hit(limit: RateLimit, key: str, *, now: float | None = None) -> int:
    """Count one hit for ``key``; returns the hits in the current window, this one included."""
    now = _clock() if now is None else now
    cache_key = limit.cache_key(key, now=now)
    # The counter outlives its window a little; later windows use other keys anyway.
    timeout = limit.window_seconds + 60
    cache.add(cache_key, 0, timeout=timeout)
    try:
        return cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=timeout)
        return 1


def rate_limit_refund(limit: RateLimit, key: str, *, now: float) -> None:
    """Give back a hit taken at ``now`` (same window)."""
    with contextlib.suppress(ValueError):  # already expired: nothing to give back
        cache.decr(limit.cache_key(key, now=now))


def rate_limit_take(limit: RateLimit, key: str, *, now: float | None = None) -> bool:
    """Take one hit for ``key`` if the window has one left; False (and nothing taken) if not."""
    now = _clock() if now is None else now
    if rate_limit_hit(limit, key, now=now) > limit.max_hits:
        rate_limit_refund(limit, key, now=now)
        return False
    return True


def tracking_ip_limit() -> RateLimit:
    return RateLimit(
        scope="track-ip",
        max_hits=settings.TRACKING_MAX_FAILURES_PER_IP,
        window_seconds=settings.TRACKING_WINDOW_SECONDS,
    )


def tracking_order_limit() -> RateLimit:
    return RateLimit(
        scope="track-order",
        max_hits=settings.TRACKING_MAX_FAILURES_PER_ORDER,
        window_seconds=settings.TRACKING_WINDOW_SECONDS,
    )


def password_reset_limit() -> RateLimit:
    return RateLimit(
        scope="password-reset",
        max_hits=settings.PASSWORD_RESET_MAX_PER_EMAIL,
        window_seconds=settings.TRACKING_WINDOW_SECONDS,
    )


# --- links and e-mail -------------------------------------------------------------------------
def account_link(user: User, *, url_name: str) -> str:
    """An absolute one-time link for ``user`` to the password page ``url_name``. It stops
    working when the password changes and after PASSWORD_RESET_TIMEOUT."""
    path = reverse(
        url_name,
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


# --- invitations ------------------------------------------------------------------------------
def customer_invitation_queue(*, customer: Customer, order: Order) -> None:
    """Queue the invitation for a customer taken on with ``order``, in the caller's
    transaction: nothing is sent unless it commits."""
    if customer.user_id is not None:
        return
    # One invitation per order that takes a customer on, whatever is retried.
    outbox_enqueue(
        INVITATION_TASK, order=order, key=f"invitation:{order.pk}", customer_id=customer.pk
    )


def customer_account_invite(*, customer_id: int, order_id: str) -> bool:
    """Give the customer a sign-in and e-mail them a link to choose its password.

    Idempotent: a customer whose account is already active with a password gets nothing (no
    second user, no second e-mail); an invited customer who has not chosen a password yet gets
    a fresh link. Returns True when an e-mail was sent. Never links the customer to a user it
    did not create (a username equal to their e-mail already taken is logged and skipped)."""
    with transaction.atomic():
        # No select_related: PostgreSQL cannot lock the nullable side of an outer join.
        customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
        if customer is None:
            logger.warning("order %s: invitation for unknown customer %s", order_id, customer_id)
            return False
        user = customer.user
        if user is not None and (not user.is_active or user.has_usable_password()):
            # Active with a password (nothing to do), or switched off by staff (not revived).
            return False
        if user is None:
            username = customer.email.strip().lower()
            taken = User.objects.filter(username__iexact=username).exists()
            too_long = len(username) > (User._meta.get_field("username").max_length or 150)
            if taken or too_long:
                logger.warning(
                    "order %s: customer %s not invited: no free username for their e-mail",
                    order_id,
                    customer.pk,
                )
                return False
            user = User.objects.create_user(username=username, email=customer.email)
            user.groups.add(Group.objects.get(name=Role.CUSTOMER.value))
            customer.user = user
            customer.save(update_fields=["user"])
    order = Order.objects.filter(pk=order_id).select_related("plan").first()
    display_id = order.display_id if order else order_ids.display(order_id)
    email_send(
        template="customer_invitation",
        context={
            "customer_name": customer.name,
            "order_display_id": display_id,
            "plan_name": order.plan.name if order else "",
            "set_password_url": account_link(user, url_name="account_activate"),
            "track_url": f"{settings.SITE_URL}{reverse('track_order')}?order_id={display_id}",
            "my_orders_url": settings.SITE_URL + reverse("portal:my_orders"),
            "username": user.get_username(),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
        to=customer.email,
    )
    logger.info("order %s: invitation sent to customer %s", order_id, customer.pk)
    return True


# --- password reset ---------------------------------------------------------------------------
class AccountPasswordResetForm(PasswordResetForm):
    """Django's reset form, with two changes: invited customers who never chose a password
    can ask too (Django skips unusable passwords), and the e-mail leaves through the outbox,
    so the answer takes the same time whether or not the address is known."""

    def get_users(self, email: str) -> Iterator[User]:
        candidates = User.objects.filter(email__iexact=email.strip(), is_active=True)
        for user in candidates:
            invited = hasattr(user, "customer")
            if user.has_usable_password() or invited:
                yield user

    def save(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        email = self.cleaned_data["email"].strip().lower()
        if not rate_limit_take(password_reset_limit(), email):
            logger.info("password reset: per-address limit reached; nothing sent")
            return
        with transaction.atomic():
            for user in self.get_users(email):
                outbox_enqueue(PASSWORD_RESET_TASK, user_id=user.pk)


def password_reset_send(*, user_id: int) -> bool:
    """E-mail an active user a link to choose a new password. True when sent."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return False
    email_send(
        template="password_reset",
        context={
            "username": user.get_username(),
            "reset_url": account_link(user, url_name="password_reset_confirm"),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        },
        to=user.email,
    )
    logger.info("password reset link sent to user %s", user.pk)
    return True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = AccountPasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class AccountActivateView(auth_views.PasswordResetConfirmView):
    """The invitation link: the same one-time token as a reset, in welcoming words."""

    template_name = "registration/account_activate.html"
    success_url = reverse_lazy("account_activate_done")


# --- tracking without an account --------------------------------------------------------------
class TrackForm(forms.Form):
    order_id = forms.CharField(
        label="Order ID",
        max_length=30,
        help_text="10 letters and digits, as in your confirmation e-mail, e.g. K7QM3-XPA9Z.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    postcode = forms.CharField(
        label="Postcode of the service address",
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )

    def clean_order_id(self) -> str:
        try:
            return order_ids.normalize(self.cleaned_data["order_id"])
        except order_ids.InvalidOrderId as exc:
            # Says only what anyone can compute from the ID itself: nothing about orders.
            raise forms.ValidationError(f"Check the order ID. {exc}") from exc

    def clean_postcode(self) -> str:
        postcode = normalize_postcode(self.cleaned_data["postcode"])
        if not postcode.isalnum():
            raise forms.ValidationError("A postcode has only letters and digits.")
        return postcode


class TrackOutcome(enum.Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"
    LIMITED = "limited"


@dataclass(frozen=True)
class TrackResult:
    outcome: TrackOutcome
    order: Order | None = None
    retry_after: int = 0


def order_track(*, order_id: str, postcode: str, client: str) -> TrackResult:
    """Find order ``order_id`` (canonical) if ``postcode`` (normalized) is its service
    postcode. A wrong postcode and an unknown ID are the same NOT_FOUND. Failures are counted
    per client and per order ID, existing or not; past either limit every lookup is LIMITED,
    even a correct one, until the window closes. Successes are not counted."""
    now = _clock()
    # Each lookup takes its hits before it looks (so a parallel burst cannot pass the check
    # together) and gives them back when it finds the order.
    taken: list[tuple[RateLimit, str]] = []
    for limit, key in ((tracking_ip_limit(), client), (tracking_order_limit(), order_id)):
        if not rate_limit_take(limit, key, now=now):
            for held, held_key in taken:
                rate_limit_refund(held, held_key, now=now)
            logger.warning("tracking: %s limit reached; lookup refused", limit.scope)
            return TrackResult(TrackOutcome.LIMITED, retry_after=limit.seconds_left(now=now))
        taken.append((limit, key))
    order = (
        Order.objects.select_related("plan", "service_area")
        .filter(pk=order_id, service_postcode=postcode)
        .first()
    )
    if order is None:
        return TrackResult(TrackOutcome.NOT_FOUND)
    for held, held_key in taken:
        rate_limit_refund(held, held_key, now=now)
    return TrackResult(TrackOutcome.FOUND, order=order)


@never_cache
@require_http_methods(["GET", "POST"])
def track_order(request: HttpRequest) -> HttpResponse:
    """Track one order with its ID and postcode, no sign-in. A POST form, so the pair never
    lands in access logs, browser history or a Referer header."""
    if request.method == "GET":
        form = TrackForm(initial={"order_id": request.GET.get("order_id", "")[:30]})
        return render(request, "portal/track.html", {"form": form})
    form = TrackForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/track.html", {"form": form})
    result = order_track(
        order_id=form.cleaned_data["order_id"],
        postcode=form.cleaned_data["postcode"],
        client=client_ip(request) or "unknown",
    )
    if result.outcome is TrackOutcome.LIMITED:
        minutes = -(-result.retry_after // 60)
        response = render(request, "portal/track_limited.html", {"minutes": minutes}, status=429)
        response["Retry-After"] = str(result.retry_after)
        return response
    if result.outcome is TrackOutcome.NOT_FOUND:
        return render(request, "portal/track.html", {"form": form, "not_found": True}, status=404)
    order = result.order
    assert order is not None  # FOUND always carries the order
    context = {
        "form": form,
        **tracking_context(order, prices=False),
        "live_version": selectors.order_last_event_id(order),
        "live_token": track_live_token(order),
        "live_hours": max(1, settings.TRACKING_LIVE_SECONDS // 3600),
    }
    return render(request, "portal/track_result.html", context)


def tracking_context(order: Order, *, prices: bool = True) -> dict[str, Any]:
    """What the customer's status fragment (portal/_tracking.html) shows, in customer words:
    the order's status, each item's ("Static IP: being set up") and, with ``prices``, what
    each costs. The tracking page without sign-in shows no prices: it proves only an order ID
    and a postcode, so it says how far the order is, not what the household pays."""
    timeline = selectors.customer_timeline(order)
    return {
        "order": order,
        "label": selectors.customer_status_label(order),
        **selectors.estimate_context(order),
        "timeline": timeline,
        "situation": order_situation(order, timeline=timeline),
        "items": selectors.customer_items(order),
        "show_prices": prices,
    }


def track_live_token(order: Order) -> str:
    """A token that lets the page it is given to follow ``order`` for TRACKING_LIVE_SECONDS.

    Signed with SECRET_KEY: it cannot be made up or changed, and it names the order AND the
    postcode the visitor proved, so it stops working if either no longer match."""
    expires = int(_clock()) + settings.TRACKING_LIVE_SECONDS
    return signing.dumps(
        {"o": order.pk, "p": order.service_postcode, "e": expires}, salt=TRACK_LIVE_SALT
    )


def track_live_order(token: str) -> Order | None:
    """The order ``token`` (from ``track_live_token``) names; None when the token, though
    ours, has expired or its order and postcode no longer match. Raises signing.BadSignature
    for a token we never issued (made up or altered)."""
    claims = signing.loads(token, salt=TRACK_LIVE_SALT)
    if not isinstance(claims, dict) or int(claims.get("e", 0)) <= _clock():
        return None
    return (
        Order.objects.select_related("plan")
        .filter(pk=str(claims.get("o", "")), service_postcode=str(claims.get("p", "")))
        .first()
    )


@never_cache
@require_GET
def track_live(request: HttpRequest) -> HttpResponseBase:
    """The tracking result's status fragment, polled like the signed-in pages (orders.live: 204
    while nothing changed). The token travels in a header, never in the URL, so it stays out
    of access logs and Referer headers. A token we never issued counts as a failed lookup for
    the client's address, under the tracking page's limit; one of ours that ran out answers 410
    and counts nothing (a page left open must not lock its visitor out)."""
    token = request.headers.get("X-Live-Token", "")
    if not token:
        return HttpResponse(status=404)
    try:
        order = track_live_order(token)
    except signing.BadSignature:
        if not rate_limit_take(tracking_ip_limit(), client_ip(request) or "unknown"):
            response = HttpResponse(status=429)
            response["Retry-After"] = str(tracking_ip_limit().seconds_left(now=_clock()))
            return response
        return HttpResponse(status=404)
    if order is None:
        return HttpResponse(status=410)
    return live_fragment_response(
        request,
        order,
        template="portal/_tracking.html",
        context=lambda: tracking_context(order, prices=False),
        # A pushed stream ends with the token: the page's next request is then told 410.
        until=float(signing.loads(token, salt=TRACK_LIVE_SALT)["e"]),
    )
