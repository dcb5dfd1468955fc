from django.urls import path, register_converter

from .views import facility as views
from .views import professional as professional_views


class PosterFormat:
    regex = "png|pdf"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(PosterFormat, "poster_format")

app_name = "facilities"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("register/", views.register, name="register"),
    path("queue/", views.queue, name="queue"),
    path("directory/", views.directory, name="directory"),
    path("hfr/", views.hfr_steps, name="hfr_steps"),
    path("professionals/register/", professional_views.register, name="professional_register"),
    path("professionals/<uuid:uuid>/", professional_views.detail, name="professional_detail"),
    path("professionals/<uuid:uuid>/edit/", professional_views.edit, name="professional_edit"),
    path("professionals/<uuid:uuid>/submit/", professional_views.submit, name="professional_submit"),
    path("professionals/<uuid:uuid>/verify/", professional_views.verify, name="professional_verify"),
    path(
        "professionals/<uuid:uuid>/confirm/<uuid:facility_uuid>/",
        professional_views.confirm_affiliation,
        name="professional_confirm",
    ),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/<uuid:uuid>/", views.bulk_detail, name="bulk_detail"),
    path("bulk/<uuid:uuid>/status/", views.bulk_status, name="bulk_status"),
    path("bulk/<uuid:uuid>/errors.csv", views.bulk_errors, name="bulk_errors"),
    path("<uuid:uuid>/", views.detail, name="detail"),
    path("<uuid:uuid>/edit/<slug:step>/", views.step, name="step"),
    path("<uuid:uuid>/review/", views.review, name="review"),
    path("<uuid:uuid>/verify/", views.verify, name="verify"),
    path("<uuid:uuid>/status/", views.change_status, name="change_status"),
    path("<uuid:uuid>/counters/", views.counter_add, name="counter_add"),
    path("<uuid:uuid>/counters/<str:code>/toggle/", views.counter_toggle, name="counter_toggle"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("<uuid:uuid>/team/", views.team_invite, name="team_invite"),
    path("<uuid:uuid>/team/<uuid:member>/remove/", views.team_remove, name="team_remove"),
    path(
        "<uuid:uuid>/counters/<str:code>/poster.<poster_format:fmt>",
        views.counter_poster,
        name="counter_poster",
    ),
]
