from django.urls import path

from tickets import views

app_name = "tickets"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("search/", views.search, name="search"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/<int:number>/", views.ticket_detail, name="detail"),
    path("tickets/<int:number>/header/", views.ticket_header, name="header"),
    path("tickets/<int:number>/older/", views.ticket_older, name="older"),
    path("tickets/<int:number>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<int:number>/quick-replies/", views.quick_replies, name="quick_replies"),
    path("tickets/<int:number>/tab/<slug:tab>/", views.ticket_tab, name="tab"),
    path("tickets/<int:number>/do/<slug:action>/", views.ticket_action, name="action"),
    path(
        "tickets/<int:number>/messages/<int:message_id>/retry/",
        views.message_retry,
        name="retry",
    ),
    path("attachments/<str:token>/", views.attachment, name="attachment"),
]
