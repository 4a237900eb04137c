from django.urls import path

from backline.oncall import views

app_name = "oncall"

urlpatterns = [
    path("feeds/<str:secret>.ics", views.feed, name="feed"),
]
