"""Customer accounts (portal/accounts.py): an invitation with a one-time link on the first order,
and password reset, neither of which tells anyone whether an address is known."""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from orders.models import Customer, OutboxMessage
from orders.roles import Role
from portal import accounts
from portal.tasks import send_customer_invitation
from tests.factories import UserFactory, submit_order

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-harbour-47"
LINK = re.compile(r"https?://[^\s]+/accounts/(?:welcome|password-reset)/[^\s]+/[^\s]+/")


class Rollback(Exception):
    pass


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # Counters live in the cache, which outlives each test's database transaction.
    cache.clear()
    yield
    cache.clear()


def _link_path(message: mail.EmailMessage) -> str:
    found = LINK.findall(message.body)
    assert len(found) == 1, message.body
    return urlsplit(found[0]).path


def _choose_password(client: Client, link_path: str, password: str = NEW_PASSWORD):
    """Follow a one-time link and submit the password form; returns the final response."""
    form_page = client.get(link_path, follow=True)
    return client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link_path,
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


def _sign_in(client: Client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password}, follow=True)


def test_a_new_customers_first_order_sends_one_invitation_naming_the_order(
    plan, serviceable_area, django_capture_on_commit_callbacks, settings
):
    # Given a site reached at a public address
    settings.SITE_URL = "https://orders.isp.example"
    # When a sales rep submits an order for a customer we have never seen
    with django_capture_on_commit_callbacks(execute=True):
        submission = submit_order(
            plan=plan, area=serviceable_area, email="New.Customer@Example.com", name="Nia New"
        )
    order = submission.order
    # Then exactly one e-mail goes to the customer, naming the order and how to track it
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.customer@example.com"]
    assert order.display_id in message.subject
    assert order.display_id in message.body
    assert f"https://orders.isp.example/track/?order_id={order.display_id}" in message.body
    assert "Nia New" in message.body
    # ... with one absolute link to choose a password
    link = LINK.findall(message.body)
    assert len(link) == 1 and link[0].startswith("https://orders.isp.example/accounts/welcome/")
    # ... and the customer now has a sign-in of their own, with no password anyone typed
    customer = Customer.objects.select_related("user").get(pk=order.customer_id)
    user = customer.user
    assert user is not None
    assert user.username == "new.customer@example.com"
    assert not user.has_usable_password()
    assert list(user.groups.values_list("name", flat=True)) == [Role.CUSTOMER.value]


def test_the_invitation_link_sets_a_password_and_the_customer_then_sees_their_order(
    client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an invitation for a new customer's first order
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="pat@example.com").order
    link_path = _link_path(mail.outbox[0])
    # When they follow the link and choose a password
    done = _choose_password(client, link_path)
    # Then the password is saved
    assert done.status_code == 200
    assert done.redirect_chain[-1][0] == reverse("account_activate_done")
    assert "Your account is ready" in done.content.decode()
    # ... and they can sign in with their e-mail and see the order in their own list
    landed = _sign_in(client, "pat@example.com", NEW_PASSWORD)
    assert landed.redirect_chain[-1][0] == reverse("portal:my_orders")
    assert order.display_id in landed.content.decode()


def test_customers_sign_in_with_their_e_mail_in_any_case(
    client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a customer with a password
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area, email="casey@example.com")
    _choose_password(client, _link_path(mail.outbox[0]))
    # When they type their address as their phone capitalised it
    landed = _sign_in(client, " Casey@Example.COM", NEW_PASSWORD)
    # Then they are in
    assert landed.context["user"].get_username() == "casey@example.com"
    # ... while a wrong password in any case still fails
    client.logout()
    assert not _sign_in(client, "Casey@Example.com", "wrong").context["user"].is_authenticated


def test_the_invitation_link_works_only_once(
    client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a customer who already chose a password with their invitation link
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area, email="once@example.com")
    link_path = _link_path(mail.outbox[0])
    _choose_password(client, link_path)
    # When someone opens the same link again
    again = client.get(link_path, follow=True)
    # Then it is refused, with no form to set a password
    page = again.content.decode()
    assert "already been used or has expired" in page
    assert "new_password1" not in page
    # ... and posting a password through it changes nothing
    client.post(
        link_path.replace(link_path.rstrip("/").rsplit("/", 1)[1], "set-password"),
        {"new_password1": "another-pass-93", "new_password2": "another-pass-93"},
    )
    user = User.objects.get(username="once@example.com")
    assert user.check_password(NEW_PASSWORD)


def test_the_invitation_link_expires_after_the_reset_timeout(
    client, plan, serviceable_area, django_capture_on_commit_callbacks, settings, monkeypatch
):
    # Given an invitation sent now, and links valid for 3 days
    assert settings.PASSWORD_RESET_TIMEOUT == 3 * 24 * 3600
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area, email="late@example.com")
    link_path = _link_path(mail.outbox[0])
    # When the customer opens it 3 days and a minute later
    later = datetime.datetime.now() + datetime.timedelta(days=3, minutes=1)
    monkeypatch.setattr(PasswordResetTokenGenerator, "_now", lambda self: later)
    response = client.get(link_path, follow=True)
    # Then the link is refused
    assert "already been used or has expired" in response.content.decode()


def test_an_existing_customers_next_order_sends_no_new_invitation(
    plan, plan_factory, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a customer who received their invitation with a first order
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area, email="again@example.com")
    assert len(mail.outbox) == 1
    # When the same customer orders again
    with django_capture_on_commit_callbacks(execute=True):
        second = submit_order(
            plan=plan_factory(download_mbps=100), area=serviceable_area, email="again@example.com"
        )
    # Then no second invitation is sent and no second account made
    assert second.customer_created is False
    assert len(mail.outbox) == 1
    assert User.objects.filter(username="again@example.com").count() == 1


def test_a_rolled_back_submission_sends_nothing(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an order for a new customer submitted in a transaction that then fails
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(Rollback),
        transaction.atomic(),
    ):
        submit_order(plan=plan, area=serviceable_area, email="ghost@example.com")
        raise Rollback
    # Then no e-mail left, no account exists, and nothing waits to be sent
    assert mail.outbox == []
    assert not User.objects.filter(username="ghost@example.com").exists()
    assert not OutboxMessage.objects.exists()


def test_the_invitation_is_queued_in_the_orders_transaction_and_sent_after_commit(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="later@example.com").order
        # Given the order is written but not committed
        # Then the invitation is an outbox row carrying the order ID, and nothing is sent yet
        message = OutboxMessage.objects.get(task_name=accounts.INVITATION_TASK)
        assert message.order_id == order.pk
        assert message.kwargs == {"order_id": order.pk, "customer_id": order.customer_id}
        assert mail.outbox == []
    # When it commits, the e-mail goes out
    assert len(mail.outbox) == 1


def test_running_the_invitation_again_never_makes_a_second_account_or_e_mail(
    client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a customer invited and signed up with a password
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="twice@example.com").order
    _choose_password(client, _link_path(mail.outbox[0]))
    # When the invitation task runs again (a redelivered message)
    sent = send_customer_invitation(order_id=order.pk, customer_id=order.customer_id)
    # Then nothing is sent and the account is untouched
    assert sent is False
    assert len(mail.outbox) == 1
    assert User.objects.filter(username="twice@example.com").count() == 1
    assert User.objects.get(username="twice@example.com").check_password(NEW_PASSWORD)


def test_an_invited_customer_who_has_not_chosen_a_password_gets_a_fresh_link(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an invited customer who never used their link
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="lost@example.com").order
    # When the invitation runs again
    assert send_customer_invitation(order_id=order.pk, customer_id=order.customer_id) is True
    # Then they get a new e-mail for the same, single account
    assert len(mail.outbox) == 2
    assert User.objects.filter(username="lost@example.com").count() == 1


def test_an_invitation_never_takes_over_an_existing_user_with_that_name(
    plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a staff member whose username happens to be the customer's e-mail address
    staff = UserFactory(username="shared@example.com", role=Role.SALES)
    # When that address places its first order as a customer
    with django_capture_on_commit_callbacks(execute=True):
        order = submit_order(plan=plan, area=serviceable_area, email="shared@example.com").order
    # Then no invitation is sent and the customer is not linked to the staff account
    assert mail.outbox == []
    assert Customer.objects.get(pk=order.customer_id).user_id is None
    staff.refresh_from_db()
    assert staff.has_usable_password()


# --- password reset -----------------------------------------------------------------------------
def test_login_page_offers_password_reset_and_tracking(client):
    page = client.get(reverse("login")).content.decode()
    assert "Forgot your password?" in page
    assert reverse("password_reset") in page
    assert reverse("track_order") in page


def test_password_reset_end_to_end(client, django_capture_on_commit_callbacks):
    # Given a customer who forgot their password
    user = UserFactory(username="forgetful@example.com", email="forgetful@example.com")
    # When they ask for a reset with their address (any case)
    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(reverse("password_reset"), {"email": "Forgetful@Example.com"})
    # Then they are told to check their e-mail, and one link arrives
    assert asked.status_code == 302
    assert asked["Location"] == reverse("password_reset_done")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["forgetful@example.com"]
    # ... which lets them choose a new password
    done = _choose_password(client, _link_path(mail.outbox[0]))
    assert done.redirect_chain[-1][0] == reverse("password_reset_complete")
    # ... with which they sign in; the old one no longer works
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert not user.check_password("password")
    landed = _sign_in(client, "forgetful@example.com", NEW_PASSWORD)
    assert landed.context["user"].is_authenticated


def test_password_reset_answers_the_same_for_an_unknown_address(
    client, django_capture_on_commit_callbacks
):
    # Given one known address
    UserFactory(username="known", email="known@example.com")
    # When someone asks for a reset of a known and of an unknown address
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("password_reset"), {"email": "known@example.com"}, follow=True)
    sent_for_known = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(
            reverse("password_reset"), {"email": "nobody@example.com"}, follow=True
        )
    # Then both answers are the same page; only the known address got an e-mail
    assert known.redirect_chain == unknown.redirect_chain
    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert sent_for_known == 1
    assert len(mail.outbox) == 1


def test_an_invited_customer_who_lost_the_invitation_can_ask_for_a_reset(
    client, plan, serviceable_area, django_capture_on_commit_callbacks
):
    # Given an invited customer who never chose a password
    with django_capture_on_commit_callbacks(execute=True):
        submit_order(plan=plan, area=serviceable_area, email="mislaid@example.com")
    mail.outbox.clear()
    # When they use "Forgot your password?"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": "mislaid@example.com"})
    # Then a link arrives and works
    assert len(mail.outbox) == 1
    _choose_password(client, _link_path(mail.outbox[0]))
    assert User.objects.get(username="mislaid@example.com").check_password(NEW_PASSWORD)


def test_reset_e_mails_to_one_address_are_limited_without_saying_so(
    client, settings, django_capture_on_commit_callbacks
):
    # Given an address that may receive 3 reset e-mails per window
    settings.PASSWORD_RESET_MAX_PER_EMAIL = 3
    UserFactory(username="target", email="target@example.com")
    answers = []
    # When someone asks 5 times
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(client.post(reverse("password_reset"), {"email": "target@example.com"}))
    # Then the address got 3 e-mails, and every answer looked the same
    assert len(mail.outbox) == 3
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (302, reverse("password_reset_done"))
    }


def test_a_deactivated_account_gets_no_reset_link(client, django_capture_on_commit_callbacks):
    # Given an account switched off by staff
    UserFactory(username="gone", email="gone@example.com", is_active=False)
    # When its address asks for a reset
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": "gone@example.com"})
    # Then nothing is sent
    assert mail.outbox == []
