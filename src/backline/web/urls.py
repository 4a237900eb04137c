from django.contrib.auth import views as auth_views
from django.urls import include, path

from backline.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="web/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("tickets/", include("backline.tickets.urls")),
    path("health/", include("backline.health.urls")),
    path("escalation/", include("backline.escalation.urls")),
    path("notifications/", include("backline.notify.urls")),
    path("", include("backline.workbench.urls")),
]
