"""URLs of the notification pages, included from ``web/urls.py`` (names: ``web:notify:...``)."""

from django.urls import path

from backline.notify import views

app_name = "notify"

urlpatterns = [
    path("", views.my_settings, name="settings"),
    path("slack/", views.my_webhook, name="webhook"),
    path("slack/remove/", views.my_webhook_remove, name="webhook_remove"),
    path("channels/", views.channels, name="channels"),
    path("channels/new/<str:kind>/", views.channel_create, name="channel_create"),
    path("channels/<int:channel_id>/edit/", views.channel_edit, name="channel_edit"),
    path("channels/<int:channel_id>/delete/", views.channel_delete, name="channel_delete"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("outbox/<int:delivery_id>/retry/", views.delivery_retry, name="delivery_retry"),
]
