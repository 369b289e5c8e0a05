from django.urls import path

from desk import views, views_inbox

app_name = "tickets"
urlpatterns = [
    path("inbox/", views_inbox.inbox, name="inbox"),
    path("inbox/layout/", views_inbox.inbox_layout, name="inbox_layout"),
    path("inbox/columns/new/", views_inbox.column_edit, name="column_new"),
    path("inbox/columns/order/", views_inbox.columns_reorder, name="columns_reorder"),
    path("inbox/columns/flow/", views_inbox.columns_flow, name="columns_flow"),
    path("inbox/columns/<int:column_id>/", views_inbox.column_edit, name="column_edit"),
    path("inbox/columns/<int:column_id>/page/", views_inbox.column_page, name="column_page"),
    path("inbox/columns/<int:column_id>/delete/", views_inbox.column_delete, name="column_delete"),
    path("inbox/columns/<int:column_id>/move/", views_inbox.column_move, name="column_move"),
    path("search/", views.search, name="search"),
    path("tickets/new/", views.ticket_new, name="new"),
    path("tickets/<int:number>/", views.ticket_detail, name="detail"),
    path("tickets/<int:number>/header/", views.ticket_header, name="header"),
    path("tickets/<int:number>/older/", views.ticket_older, name="older"),
    path("tickets/<int:number>/reply/", views.ticket_reply, name="reply"),
    path(
        "tickets/<int:number>/reply/template/",
        views.ticket_reply_template,
        name="reply_template",
    ),
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
