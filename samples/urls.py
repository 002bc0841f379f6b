"""URL routes of the samples app (included at the site root)."""

from django.urls import path

from samples import views

app_name = "samples"

urlpatterns = [
    path("assays/", views.assay_list, name="assay_list"),
    path("instruments/", views.instrument_list, name="instrument_list"),
    path("users/", views.user_list, name="user_list"),
]
