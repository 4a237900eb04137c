from django.contrib import admin
from django.urls import include, path

from backline.api import api
from backline.logs.intake import intake_view

admin.site.site_header = "Backline administration"
admin.site.site_title = "Backline admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/v2/logs", intake_view, name="logs-intake"),
    path("oncall/", include("backline.oncall.urls")),
    path("", include("backline.web.urls")),
]
