from django.urls import path

from backline.escalation import views

app_name = "escalation"

urlpatterns = [
    path("patterns/", views.patterns, name="patterns"),
    path("incidents/", views.incidents, name="incidents"),
    path("incidents/<int:pk>/", views.incident, name="incident"),
    path("tickets/<str:number>/panel/", views.ticket_panel, name="panel"),
    path("tickets/<str:number>/escalate/", views.ticket_escalate, name="escalate"),
    path("tickets/<str:number>/hotfix/", views.ticket_hotfix, name="hotfix"),
    path("settings/", views.rule_settings, name="settings"),
]
