"""Routes under ``/api/v1/``."""

from django.urls import path

from samples.api import views

app_name = "api"

urlpatterns = [
    path("results/", views.ResultsView.as_view(), name="results"),
]
