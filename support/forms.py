from __future__ import annotations

from django import forms

from support.csat_models import CSAT_COMMENT_MAX_LENGTH, CSAT_SCORES
from support.models import ANSWER_MAX_LENGTH, MESSAGE_MAX_LENGTH, SupportTicket


class ContactForm(forms.Form):
    """The customer's "Contact support" form on their order page."""

    subject = forms.ChoiceField(choices=[("", "Choose a subject"), *SupportTicket.Subject.choices])
    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class TicketAnswerForm(forms.Form):
    """Support's answer to a ticket, from the order view."""

    message = forms.CharField(
        label="Answer",
        max_length=ANSWER_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The customer reads this on their order page and gets it by e-mail.",
    )


SCORE_WORDS = {1: "1 (poor)", 2: "2", 3: "3", 4: "4", 5: "5 (excellent)"}


class CsatForm(forms.Form):
    """The one CSAT question, on the customer's order page and on the e-mail's feedback page.
    Every problem is told next to its field (includes/field.html)."""

    score = forms.TypedChoiceField(
        label="How did we do, from your order to your line being switched on?",
        choices=[(n, SCORE_WORDS[n]) for n in CSAT_SCORES],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose a score from 1 to 5.",
            "invalid_choice": "Choose a score from 1 to 5.",
        },
    )
    comment = forms.CharField(
        label="Anything you would like to tell us?",
        required=False,
        strip=True,
        max_length=CSAT_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": (
                f"Keep your comment to {CSAT_COMMENT_MAX_LENGTH} characters "
                "(it has %(show_value)d)."
            )
        },
    )
