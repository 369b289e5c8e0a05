from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("analytics/", views.dashboard, name="dashboard"),
    path("analytics/csv/<slug:panel>/", views.panel_csv, name="csv"),
]
