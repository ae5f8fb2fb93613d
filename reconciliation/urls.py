from django.urls import path

from reconciliation import views

app_name = "reconciliation"
urlpatterns = [
    path("", views.mismatch_list, name="mismatches"),
    path("export.csv", views.mismatch_export, name="export"),
]
