"""The public CSAT feedback page, reached by the e-mail's signed link (support.views_csat).

Included at the site root, without a namespace: ``path("", include("support.feedback_urls"))``.
"""

from django.urls import path

from support import views_csat

urlpatterns = [
    path("feedback/<str:token>/", views_csat.feedback, name="csat_feedback"),
]
