from __future__ import annotations

from django import forms

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
