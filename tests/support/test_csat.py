"""Customer satisfaction (issue 12): once a new line is live its customer is asked one question
(1-5 and a comment) by an e-mail link and on their order page, and answers once per order;
support reads the answer on the order."""

from __future__ import annotations

import datetime
import re
import threading
import time

import pytest
from django.core import mail, signing
from django.db import transaction
from django.urls import reverse

from notices.models import CustomerNotice, NoticeKind
from orders.changes import order_submit_change
from orders.models import Order
from orders.roles import Role
from orders.services import order_confirm_manual_activation
from orders.signals import order_status_changed
from orders.states import EventSource, ItemChange, OrderStatus
from support.csat_links import CSAT_LINK_SALT, csat_token
from support.csat_models import CSAT_COMMENT_MAX_LENGTH
from support.models import CsatChannel, CsatResponse
from support.services import CSAT_ALREADY_ANSWERED, CsatRefused, csat_answer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FEEDBACK_LINK = re.compile(r"https://orders\.isp\.example(/feedback/[^/\s]+/)")


@pytest.fixture(autouse=True)
def notices_on(settings):
    """The customer is e-mailed about their order's events (off in other areas' tests)."""
    settings.CUSTOMER_NOTICES_ON_EVENTS = True
    settings.SITE_URL = "https://orders.isp.example"


@pytest.fixture
def live_order(place_order, plan, serviceable_area, customer_user) -> Order:
    """customer_user's new Fibre 500 line, activated and completed (billing started)."""
    order = place_order(
        plan=plan, area=serviceable_area, email="rita@example.com", customer_user=customer_user
    )
    assert order.status == OrderStatus.COMPLETED
    return order


@pytest.fixture
def customer_client(client, customer_user):
    client.force_login(customer_user)
    return client


def csat_mails(to: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if m.to == [to] and m.subject.startswith("How did we do?")]


def feedback_path(to: str) -> str:
    """The feedback page's path from the one CSAT e-mail sent to ``to``."""
    (message,) = csat_mails(to)
    found = FEEDBACK_LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def order_page(order: Order) -> str:
    return reverse("portal:order_detail", kwargs={"order_id": order.pk})


def answer_on_order_page(client, order: Order, **data):
    return client.post(reverse("portal:order_csat", kwargs={"order_id": order.pk}), data)


# --- asked once, after activation -----------------------------------------------------------------
def test_the_customer_is_asked_once_by_email_when_their_new_line_goes_live(
    customer_manual_order, lead_user, django_capture_on_commit_callbacks
):
    # Given an order waiting for manual provisioning: nobody is asked yet
    order = customer_manual_order
    assert not csat_mails("mine@example.com")
    # When the team confirms the line is live (and billing then completes the order)
    with django_capture_on_commit_callbacks(execute=True):
        order_confirm_manual_activation(
            order, actor=lead_user, reason="Engineer switched it on.", source=EventSource.ADMIN
        )
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    # Then one e-mail asks how we did, after the one saying the line is live
    kinds = list(
        CustomerNotice.objects.filter(order=order)
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds[-2:] == [NoticeKind.ACTIVE, NoticeKind.CSAT]
    (message,) = csat_mails("mine@example.com")
    assert order.display_id in message.subject
    assert "Rate us from 1 (poor) to 5 (excellent)" in message.body
    assert "the link works for 30 days" in message.body
    assert feedback_path("mine@example.com").startswith("/feedback/")


def test_the_question_is_not_asked_again_when_the_order_is_live_again(
    live_order, django_capture_on_commit_callbacks
):
    # Given a live order whose customer was asked
    assert len(csat_mails("rita@example.com")) == 1
    event = live_order.events.get(to_status=OrderStatus.COMPLETED)
    # When the "line is live" event reaches the receivers a second time (a replay, an override)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        order_status_changed.send(sender=Order, order=live_order, event=event)
    # Then no second question is recorded or sent
    assert CustomerNotice.objects.filter(order=live_order, kind=NoticeKind.CSAT).count() == 1
    assert len(csat_mails("rita@example.com")) == 1


def test_a_change_to_a_live_line_asks_nothing(
    make_live_line, plan, plan_factory, serviceable_area, django_capture_on_commit_callbacks
):
    # Given a live line (its customer was asked when it went live)
    line = make_live_line(plan=plan, area=serviceable_area, email="lee@example.com")
    assert len(csat_mails("lee@example.com")) == 1
    # When a speed change to it is made
    with django_capture_on_commit_callbacks(execute=True):
        change = order_submit_change(
            line.pk,
            ItemChange.PLAN,
            offering=plan_factory(download_mbps=900),
            channel=EventSource.CUSTOMER_PORTAL,
            submitted_by=None,
        ).order
    assert Order.objects.get(pk=change.pk).status == OrderStatus.COMPLETED
    # Then the change is not asked about, and cannot be answered
    assert not CustomerNotice.objects.filter(order=change, kind=NoticeKind.CSAT).exists()
    assert len(csat_mails("lee@example.com")) == 1
    with pytest.raises(CsatRefused):
        csat_answer(order=change, score=5, channel=CsatChannel.PORTAL)


def test_an_order_not_live_yet_is_not_asked_about(customer_client, customer_manual_order):
    # Given the customer's order still being set up
    page = customer_client.get(order_page(customer_manual_order)).content.decode()
    # Then its page asks nothing, and an answer posted anyway is turned back with why
    assert 'data-testid="csat"' not in page
    response = answer_on_order_page(customer_client, customer_manual_order, score="5")
    assert response.status_code == 302
    followed = customer_client.get(response["Location"]).content.decode()
    assert "We ask how we did once your new line is live." in followed
    assert not CsatResponse.objects.exists()


# --- answering by the e-mail's link ---------------------------------------------------------------
def test_the_email_link_answers_without_signing_in(client, live_order):
    # Given the link from the CSAT e-mail, opened with no session
    path = feedback_path("rita@example.com")
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert live_order.display_id in html and "How did we do" in html
    assert html.count('type="radio" name="score"') == 5
    # When the customer rates us 4 with a comment
    response = client.post(path, {"score": "4", "comment": "Quick, thanks."})
    # Then the answer is recorded for the order, from the e-mail, and the page thanks them
    assert response.status_code == 302 and response["Location"] == path
    answer = CsatResponse.objects.get(order=live_order)
    assert (answer.score, answer.comment, answer.channel, answer.answered_by) == (
        4,
        "Quick, thanks.",
        CsatChannel.EMAIL,
        None,
    )
    thanks = client.get(path).content.decode()
    assert "Thanks, you rated 4/5." in thanks and 'data-testid="csat-form"' not in thanks


def test_a_second_answer_by_the_link_is_refused(client, live_order):
    path = feedback_path("rita@example.com")
    client.post(path, {"score": "2"})
    # When the link is used again (another tab, a forwarded mail)
    again = client.post(path, {"score": "5", "comment": "Changed my mind"})
    # Then it is refused, and the first answer stands
    assert again.status_code == 409
    assert "You have already answered" in again.content.decode()
    assert "Thanks, you rated 2/5." in again.content.decode()
    assert list(CsatResponse.objects.values_list("score", flat=True)) == [2]


def test_answered_by_email_then_the_order_page_refuses_a_second(
    client, customer_client, live_order
):
    # Given the customer answered by the e-mail's link
    client.post(feedback_path("rita@example.com"), {"score": "3"})
    # When they answer again on their order page
    response = answer_on_order_page(customer_client, live_order, score="5")
    # Then they are told they already answered, and the page shows the first answer
    assert response.status_code == 302
    page = customer_client.get(response["Location"]).content.decode()
    assert CSAT_ALREADY_ANSWERED in page
    assert "Thanks, you rated 3/5." in page
    assert 'data-testid="csat-form"' not in page
    assert CsatResponse.objects.get(order=live_order).score == 3


def test_answered_on_the_order_page_then_the_email_link_refuses_a_second(
    client, customer_client, live_order, customer_user
):
    # Given the customer's order page asks the question
    page = customer_client.get(order_page(live_order)).content.decode()
    assert 'data-testid="csat-form"' in page
    # When they answer there
    response = answer_on_order_page(customer_client, live_order, score="5", comment="Great")
    assert response.status_code == 302
    page = customer_client.get(response["Location"]).content.decode()
    assert "Thanks, you rated 5/5." in page
    answer = CsatResponse.objects.get(order=live_order)
    assert (answer.channel, answer.answered_by) == (CsatChannel.PORTAL, customer_user)
    # Then the e-mail's link shows that answer and refuses another
    path = feedback_path("rita@example.com")
    assert "Thanks, you rated 5/5." in client.get(path).content.decode()
    refused = client.post(path, {"score": "1"})
    assert refused.status_code == 409
    assert "You have already answered" in refused.content.decode()
    assert CsatResponse.objects.get(order=live_order).score == 5


@pytest.mark.postgresql  # about PostgreSQL's concurrent writers; SQLite has one at a time
@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_leave_one_and_refuse_the_other(
    place_order, plan, serviceable_area, run_in_threads
):
    order = place_order(plan=plan, area=serviceable_area, email="race@example.com")
    assert order.status == OrderStatus.COMPLETED
    first_written = threading.Event()

    def by_email() -> str:
        with transaction.atomic():
            csat_answer(order=order, score=4, channel=CsatChannel.EMAIL)
            first_written.set()
            time.sleep(0.5)  # the other one has checked (nothing committed) and now waits
        return "recorded"

    def on_the_page() -> str:
        first_written.wait(5)
        try:
            csat_answer(order=order, score=1, channel=CsatChannel.PORTAL)
        except CsatRefused as exc:
            return str(exc)
        return "recorded"

    # When the e-mail's link and the order page answer at the same moment
    results = run_in_threads(by_email, on_the_page)
    # Then one answer is kept and the other is told it was already answered
    assert results == ["recorded", CSAT_ALREADY_ANSWERED]
    assert list(CsatResponse.objects.values_list("score", "channel")) == [(4, "email")]


# --- links that cannot be used --------------------------------------------------------------------
def test_an_expired_link_gets_a_clear_page(client, live_order, monkeypatch):
    # Given a link sent 31 days ago
    sent = time.time() - datetime.timedelta(days=31).total_seconds()
    monkeypatch.setattr(signing.time, "time", lambda: sent)
    token = csat_token(live_order)
    monkeypatch.undo()
    path = reverse("csat_feedback", kwargs={"token": token})
    # When it is opened, or an answer is posted with it
    for response in (client.get(path), client.post(path, {"score": "5"})):
        # Then the page says it expired, and where to answer instead; nothing is recorded
        assert response.status_code == 410
        html = response.content.decode()
        assert "This link has expired: it works for 30 days" in html
        assert "answer on your order's page" in html
        assert live_order.display_id not in html
    assert not CsatResponse.objects.exists()


def test_a_link_within_its_days_still_works(client, live_order, monkeypatch):
    sent = time.time() - datetime.timedelta(days=29).total_seconds()
    monkeypatch.setattr(signing.time, "time", lambda: sent)
    token = csat_token(live_order)
    monkeypatch.undo()
    response = client.post(reverse("csat_feedback", kwargs={"token": token}), {"score": "4"})
    assert response.status_code == 302
    assert CsatResponse.objects.get(order=live_order).score == 4


@pytest.mark.parametrize("forge", ["altered", "unsalted", "another_order", "garbage"])
def test_a_tampered_or_forged_link_gets_a_clear_page(client, live_order, forge):
    token = csat_token(live_order)
    forged = {
        # one character of the signed value changed
        "altered": token[:3] + ("A" if token[3] != "A" else "B") + token[4:],
        # the same value signed for another use of the site's key (no CSAT salt)
        "unsalted": signing.dumps({"order": live_order.pk}),
        # a valid-looking token whose signature belongs to another value
        "another_order": signing.dumps({"order": "0000000000"}, salt=CSAT_LINK_SALT).split(":")[0]
        + ":"
        + token.split(":", 1)[1],
        "garbage": "not-a-token",
    }[forge]
    path = reverse("csat_feedback", kwargs={"token": forged})
    for response in (client.get(path), client.post(path, {"score": "1"})):
        assert response.status_code == 400
        html = response.content.decode()
        assert "This link is not valid" in html
        assert live_order.display_id not in html
    assert not CsatResponse.objects.exists()


def test_a_valid_link_for_an_order_that_is_gone_is_not_valid(client):
    response = client.get(reverse("csat_feedback", kwargs={"token": csat_token("0000000000")}))
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


# --- the form's problems, next to their fields ----------------------------------------------------
@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"comment": "No score given"}, "Choose a score from 1 to 5."),
        ({"score": "6"}, "Choose a score from 1 to 5."),
        ({"score": "0"}, "Choose a score from 1 to 5."),
        ({"score": "four"}, "Choose a score from 1 to 5."),
        (
            {"score": "3", "comment": "x" * (CSAT_COMMENT_MAX_LENGTH + 1)},
            f"Keep your comment to {CSAT_COMMENT_MAX_LENGTH} characters (it has "
            f"{CSAT_COMMENT_MAX_LENGTH + 1}).",
        ),
    ],
)
def test_each_problem_is_told_next_to_its_field_on_both_pages(
    client, customer_client, live_order, data, problem
):
    field = "comment" if "characters" in problem else "score"
    by_link = client.post(feedback_path("rita@example.com"), data)
    on_page = answer_on_order_page(customer_client, live_order, **data)
    for response in (by_link, on_page):
        assert response.status_code == 200
        html = response.content.decode()
        # the problem sits in the field's own block, with the field
        block = html[html.index(f'id="field-{field}"') :]
        block = block[: block.index("</fieldset>" if field == "score" else "</textarea>")]
        assert problem in block
    assert not CsatResponse.objects.exists()


def test_both_problems_at_once_are_each_told(client, live_order):
    data = {"score": "9", "comment": "x" * (CSAT_COMMENT_MAX_LENGTH + 5)}
    html = client.post(feedback_path("rita@example.com"), data).content.decode()
    assert "Choose a score from 1 to 5." in html
    assert f"Keep your comment to {CSAT_COMMENT_MAX_LENGTH} characters" in html


def test_the_service_refuses_a_score_outside_one_to_five_or_a_comment_too_long(live_order):
    for score in (0, 6):
        with pytest.raises(ValueError, match="1 to 5"):
            csat_answer(order=live_order, score=score, channel=CsatChannel.EMAIL)
    with pytest.raises(ValueError, match=f"at most {CSAT_COMMENT_MAX_LENGTH} characters"):
        csat_answer(
            order=live_order,
            score=3,
            comment="x" * (CSAT_COMMENT_MAX_LENGTH + 1),
            channel=CsatChannel.EMAIL,
        )
    assert not CsatResponse.objects.exists()


# --- who may answer and see it --------------------------------------------------------------------
def test_another_customer_can_neither_answer_nor_see_it(client, live_order):
    # Given another customer, signed in
    other = UserFactory(username="someone-else", role=Role.CUSTOMER)
    client.force_login(other)
    # When they post an answer for this order, or open its page
    response = answer_on_order_page(client, live_order, score="1")
    # Then the order is missing for them, and nothing is recorded
    assert response.status_code == 404
    assert client.get(order_page(live_order)).status_code == 404
    assert not CsatResponse.objects.exists()
    # ... nor, once it is answered, may they see the answer
    csat_answer(order=live_order, score=5, comment="Lovely", channel=CsatChannel.PORTAL)
    assert client.get(order_page(live_order)).status_code == 404
    assert client.get(reverse("support:order", kwargs={"order_id": live_order.pk})).status_code == (
        403
    )


def test_staff_cannot_answer_on_the_customers_behalf_from_the_portal(client, live_order):
    for user in (UserFactory(username="support-agent", role=Role.SUPPORT), UserFactory()):
        client.force_login(user)
        assert answer_on_order_page(client, live_order, score="5").status_code == 404
    client.logout()
    anonymous = answer_on_order_page(client, live_order, score="5")
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
    assert not CsatResponse.objects.exists()


def test_the_order_page_only_takes_a_post(customer_client, live_order):
    url = reverse("portal:order_csat", kwargs={"order_id": live_order.pk})
    assert customer_client.get(url).status_code == 405


# --- support sees the answer ----------------------------------------------------------------------
def test_support_sees_the_answer_on_the_order(client, support_user, live_order):
    client.force_login(support_user)
    url = reverse("support:order", kwargs={"order_id": live_order.pk})
    # Before the customer answers: asked, not answered
    panel = _panel(client.get(url).content.decode())
    assert "not answered yet" in panel
    # After: the score, the comment and how it was given
    csat_answer(order=live_order, score=2, comment="Took a while.", channel=CsatChannel.EMAIL)
    panel = _panel(client.get(url).content.decode())
    assert "2/5" in panel and "Took a while." in panel and "by e-mail link" in panel
    # ... on the live panels too (the page refreshes them in place)
    live = client.get(reverse("support:order_live", kwargs={"order_id": live_order.pk}))
    assert "2/5" in _panel(live.content.decode())


def test_support_sees_that_an_order_not_live_is_not_asked(client, support_user, submitted_order):
    client.force_login(support_user)
    page = client.get(reverse("support:order", kwargs={"order_id": submitted_order.pk}))
    assert "Not asked" in _panel(page.content.decode())


def _panel(html: str) -> str:
    start = html.index('data-testid="csat-panel"')
    return html[start : html.index("</section>", start)]


def test_only_the_customer_reads_the_feedback_link_that_was_sent(
    client, customer_client, support_user, live_order
):
    # Given the CSAT e-mail as sent, with the customer's own link
    path = feedback_path("rita@example.com")
    notice = CustomerNotice.objects.get(order=live_order, kind=NoticeKind.CSAT)
    # Then the customer's page lists it with the link
    assert path in customer_client.get(order_page(live_order)).content.decode()
    # ... support's order view and the back office list it without (a link to answer with is
    # the customer's: an agent could otherwise rate their own work)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    pages = []
    client.force_login(support_user)
    pages.append(client.get(reverse("support:order", kwargs={"order_id": live_order.pk})))
    client.force_login(superuser)
    pages.append(client.get(reverse("admin:notices_customernotice_change", args=[notice.pk])))
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert notice.subject in html
        assert "/feedback/" not in html
        assert "not shown to staff" in html
