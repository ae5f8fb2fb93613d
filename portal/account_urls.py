"""Customer account pages (invitation, password reset) and tracking without an account.

Included at the site root: ``path("", include("portal.account_urls"))``. No namespace: Django's
password views and the login page reverse these names as they are.
"""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

from portal import accounts

urlpatterns = [
    path("accounts/password-reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="registration/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path(
        "accounts/welcome/<uidb64>/<token>/",
        accounts.AccountActivateView.as_view(),
        name="account_activate",
    ),
    path(
        "accounts/welcome/done/",
        TemplateView.as_view(template_name="registration/account_activate_done.html"),
        name="account_activate_done",
    ),
    path("track/", accounts.track_order, name="track_order"),
    path("track/live/", accounts.track_live, name="track_live"),
]
