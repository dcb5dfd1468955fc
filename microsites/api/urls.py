from django.urls import path

from . import views

urlpatterns = [
    path("microsites/", views.MicrositeListView.as_view(), name="api-microsites"),
    path("microsites/leaderboard/", views.LeaderboardView.as_view(), name="api-microsites-leaderboard"),
    path("microsites/<uuid:uuid>/", views.MicrositeDetailView.as_view(), name="api-microsite"),
    path("dashboard/summary/", views.DashboardSummaryView.as_view(), name="api-dashboard-summary"),
    path("dashboard/districts/", views.DashboardDistrictsView.as_view(), name="api-dashboard-districts"),
    path("dashboard/timeseries/", views.DashboardTimeseriesView.as_view(), name="api-dashboard-timeseries"),
]
