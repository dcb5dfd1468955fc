from django.urls import path

from . import views

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("auth/sign-out/", views.SignOutView.as_view(), name="api-sign-out"),
    path("me/", views.MeView.as_view(), name="api-me"),
    path("geography/districts/", views.DistrictListView.as_view(), name="api-districts"),
]
