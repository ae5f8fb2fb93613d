from django.urls import path

from orders import views_amend
from portal import changes, operations, views, worklists

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("my/orders/", views.my_orders, name="my_orders"),
    path("my/orders/live/", views.my_orders_live, name="my_orders_live"),
    path("my/orders/<str:order_id>/", views.order_detail, name="order_detail"),
    path("my/orders/<str:order_id>/live/", views.order_live, name="order_live"),
    path("my/orders/<str:order_id>/contact/", views.order_contact, name="order_contact"),
    path("my/orders/<str:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path("my/orders/<str:order_id>/feedback/", views.order_csat, name="order_csat"),
    path(
        "my/orders/<str:order_id>/cancel/withdraw/",
        views.order_cancellation_withdraw,
        name="order_cancellation_withdraw",
    ),
    path("my/orders/<str:order_id>/change/", changes.order_change, name="order_change"),
    path(
        "my/orders/<str:order_id>/amend/",
        views_amend.customer_amend_page,
        name="order_amend",
    ),
    # The staff roles' worklists (portal/worklists.py).
    path("work/sales/", worklists.sales_home, name="sales_home"),
    path("work/provisioning/", worklists.provisioning_home, name="provisioning_home"),
    path(
        "work/provisioning/orders/<str:order_id>/confirm-activation/",
        worklists.confirm_activation,
        name="confirm_activation",
    ),
    path(
        "work/provisioning/tasks/<int:task_id>/done/",
        worklists.task_done,
        name="task_done",
    ),
    path("work/lead/", worklists.lead_home, name="lead_home"),
    path("work/lead/assign/", worklists.lead_assign, name="lead_assign"),
    path("work/lead/retry/", worklists.lead_retry, name="lead_retry"),
    path("work/billing/", worklists.billing_home, name="billing_home"),
    path("work/operations/", operations.operations_home, name="operations_home"),
    path(
        "work/escalations/<int:escalation_id>/take/",
        operations.escalation_take,
        name="escalation_take",
    ),
]
