from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("orders/new/", views.order_new, name="new"),
    path("orders/<str:order_id>/", views.order_detail, name="detail"),
    path("orders/<str:order_id>/live/", views.order_live, name="live"),
    path("orders/<str:order_id>/cancel/", views.order_cancel, name="cancel"),
    path("serviceability/", views.serviceability, name="serviceability"),
    path("customers/lookup/", views.customer_lookup, name="customer_lookup"),
]
