from django.urls import path

from backline.tickets import views

app_name = "tickets"

urlpatterns = [
    path("queue/<int:tier>/", views.queue, name="queue"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.ticket_create, name="create"),
    path("<str:number>/", views.ticket_detail, name="detail"),
    path("<str:number>/identifier/", views.ticket_identifier, name="identifier"),
    path("<str:number>/acknowledge/", views.ticket_acknowledge, name="acknowledge"),
    path("<str:number>/comment/", views.ticket_comment, name="comment"),
    path("<str:number>/status/", views.ticket_status, name="status"),
    path("<str:number>/send-back/", views.ticket_send_back, name="send_back"),
    path("<str:number>/answer/", views.ticket_answer, name="answer"),
    path("<str:number>/resolve/", views.ticket_resolve, name="resolve"),
    path("<str:number>/reopen/", views.ticket_reopen, name="reopen"),
    path("<str:number>/cancel/", views.ticket_cancel, name="cancel"),
    path("<str:number>/priority/", views.ticket_priority, name="priority"),
    path("<str:number>/escalate/<int:to_tier>/", views.ticket_escalate, name="escalate"),
]
