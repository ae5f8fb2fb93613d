from django.urls import path

from orders import views, views_add_ons, views_amend, views_changes, views_live, views_moves

app_name = "orders"
urlpatterns = [
    path("orders/new/", views.order_new, name="new"),
    path(
        "orders/lines/<uuid:product_id>/add-ons/",
        views_add_ons.line_add_ons,
        name="line_add_ons",
    ),
    path(
        "orders/lines/<uuid:product_id>/change/",
        views_changes.line_change,
        name="line_change",
    ),
    path("orders/lines/<uuid:product_id>/move/", views_moves.line_move, name="line_move"),
    # Before the order's own URLs: "live" is no order ID (its check character fails anyway).
    path("orders/live/", views_live.orders_live, name="list_live"),
    path("orders/<str:order_id>/", views.order_detail, name="detail"),
    path("orders/<str:order_id>/live/", views.order_live, name="live"),
    path("orders/<str:order_id>/cancel/", views.order_cancel, name="cancel"),
    path(
        "orders/<str:order_id>/cancel/withdraw/",
        views.order_cancellation_withdraw,
        name="cancellation_withdraw",
    ),
    path("orders/<str:order_id>/amend/", views_amend.order_amend_page, name="amend"),
    path("serviceability/", views.serviceability, name="serviceability"),
    path("customers/lookup/", views.customer_lookup, name="customer_lookup"),
]
