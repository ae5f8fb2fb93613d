from django.urls import re_path

from tmf.hub.views import hub_urls
from tmf.models import HubApi
from tmf.qualification import views
from tmf.views import UnknownPath

app_name = "tmf679"

urlpatterns = [
    re_path(
        r"^productOfferingQualification/?$",
        views.QualificationList.as_view(),
        name="qualification-list",
    ),
    re_path(
        r"^productOfferingQualification/(?P<qualification_id>[^/]+)/?$",
        views.QualificationDetail.as_view(),
        name="qualification-detail",
    ),
    *hub_urls(HubApi.QUALIFICATION),
    re_path(r"^.*$", UnknownPath.as_view(), name="unknown"),
]
