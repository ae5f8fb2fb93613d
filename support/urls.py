from django.urls import path

from support import views, views_contacts

app_name = "support"
urlpatterns = [
    path("", views.search, name="search"),
    path("queue/", views.ticket_queue, name="queue"),
    path("contacts/", views_contacts.contact_queue, name="contacts"),
    path("contacts/<int:contact_id>/take/", views_contacts.contact_take, name="contact_take"),
    path("contacts/<int:contact_id>/record/", views_contacts.contact_record, name="contact_record"),
    path("orders/<str:order_id>/", views.order_view, name="order"),
    path("orders/<str:order_id>/live/", views.order_live, name="order_live"),
    path("orders/<str:order_id>/cancel/", views.order_cancel, name="order_cancel"),
    path(
        "orders/<str:order_id>/cancel/withdraw/",
        views.order_cancellation_withdraw,
        name="order_cancellation_withdraw",
    ),
    path("tickets/<int:ticket_id>/status/", views.ticket_status, name="ticket_status"),
    path("tickets/<int:ticket_id>/answer/", views.ticket_answer, name="ticket_answer"),
]
