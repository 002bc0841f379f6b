"""Routes under ``/api/v1/``."""

from django.urls import path

from samples.api import critical, hl7, inbox, results, samples

app_name = "api"

urlpatterns = [
    path("results/", results.ResultsView.as_view(), name="results"),
    path("hl7/", hl7.Hl7View.as_view(), name="hl7"),
    path("samples/", samples.SampleList.as_view(), name="sample_list"),
    path("samples/<str:barcode>/", samples.SampleDetail.as_view(), name="sample_detail"),
    path("samples/<str:barcode>/history/", samples.SampleHistory.as_view(), name="sample_history"),
    path(
        "samples/<str:barcode>/critical-calls/",
        critical.CriticalCalls.as_view(),
        name="critical_calls",
    ),
    path("batches/", samples.BatchList.as_view(), name="batch_list"),
    path("batches/<int:pk>/", samples.BatchDetail.as_view(), name="batch_detail"),
    path("inbox/", inbox.InboxList.as_view(), name="inbox"),
]
