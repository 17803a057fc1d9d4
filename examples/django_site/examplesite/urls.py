"""URL routes of the example site."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("form/", views.form_echo, name="form-echo"),
    path("upload/", views.upload, name="upload"),
    path("api/info/", views.api_info, name="api-info"),
    path("api/echo/", views.api_echo, name="api-echo"),
    path("stream/", views.stream, name="stream"),
    path("download/", views.download, name="download"),
    path("download/from/", views.download_from, name="download-from"),
    path("session/counter/", views.session_counter, name="session-counter"),
    path("error/", views.error, name="error"),
]
