from django.urls import path

from backline.health import views

app_name = "health"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("upstreams/<str:name>/", views.upstream, name="upstream"),
    path("facilities/<str:station>/", views.facility, name="facility"),
    path("cohorts/", views.cohorts, name="cohorts"),
]
