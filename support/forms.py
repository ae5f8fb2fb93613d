from __future__ import annotations

from django import forms

from support.models import MESSAGE_MAX_LENGTH, SupportTicket


class ContactForm(forms.Form):
    """The customer's "Contact support" form on their order page."""

    subject = forms.ChoiceField(choices=[("", "Choose a subject"), *SupportTicket.Subject.choices])
    message = forms.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
