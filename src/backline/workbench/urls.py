from django.urls import path

from backline.workbench import views

app_name = "workbench"

urlpatterns = [
    path("logs/", views.explorer, name="explorer"),
    path("logs/export/", views.export, name="export"),
    path("logs/tickets/<str:number>/", views.investigate, name="investigate"),
    path("logs/tickets/<str:number>/pin/", views.pin, name="pin"),
    path(
        "logs/tickets/<str:number>/evidence/<int:evidence_id>/unpin/",
        views.unpin,
        name="unpin",
    ),
    path("audit/", views.audit, name="audit"),
]
