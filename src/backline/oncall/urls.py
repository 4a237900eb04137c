from django.urls import path

from backline.oncall import views

app_name = "oncall"

urlpatterns = [
    path("feeds/<str:secret>.ics", views.feed, name="feed"),
    path("", views.overview, name="overview"),
    path("rotations/", views.rotations, name="rotations"),
    path("rotations/new/", views.rotation_create, name="rotation_create"),
    path("rotations/<int:rotation_id>/edit/", views.rotation_edit, name="rotation_edit"),
    path("rotations/<int:rotation_id>/retire/", views.rotation_retire, name="rotation_retire"),
    path("overrides/new/", views.override_create, name="override_create"),
    path("overrides/<int:override_id>/delete/", views.override_delete, name="override_delete"),
    path("swaps/", views.swaps, name="swaps"),
    path("swaps/<int:swap_id>/<str:action>/", views.swap_action, name="swap_action"),
    path("handoffs/", views.handoff_list, name="handoffs"),
    path("handoffs/<int:handoff_id>/", views.handoff_detail, name="handoff"),
    path("handoffs/<int:handoff_id>/notes/", views.handoff_notes, name="handoff_notes"),
    path(
        "handoffs/<int:handoff_id>/acknowledge/",
        views.handoff_acknowledge,
        name="handoff_acknowledge",
    ),
    path("handoffs/<int:handoff_id>/markdown/", views.handoff_markdown, name="handoff_markdown"),
    path("fairness/", views.fairness, name="fairness"),
    path("feeds/", views.feeds, name="feeds"),
    path("feeds/<int:feed_id>/revoke/", views.feed_revoke, name="feed_revoke"),
    # Last: the role names are the remaining first segments (tier3, monitoring, investigator).
    path("<slug:role>/", views.schedule, name="schedule"),
]
