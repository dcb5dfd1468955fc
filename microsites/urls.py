from django.urls import path

from . import views

app_name = "microsites"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("achievements/", views.achievements, name="achievements"),
    path("microsites/", views.microsite_list, name="list"),
    path("microsites/<uuid:uuid>/", views.microsite_detail, name="detail"),
]
