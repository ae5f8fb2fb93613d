from django.urls import path

from portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("my/orders/", views.my_orders, name="my_orders"),
    path("my/orders/<str:order_id>/", views.order_detail, name="order_detail"),
    path("my/orders/<str:order_id>/live/", views.order_live, name="order_live"),
]
