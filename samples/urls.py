"""URL routes of the samples app (included at the site root)."""

from django.urls import path

from samples import views
from samples.views import (
    amend,
    audit,
    batches,
    bench,
    deploy,
    dossier,
    inbox,
    labels,
    registration,
    review,
    runs,
    tokens,
    worklist,
)

app_name = "samples"

urlpatterns = [
    path("assays/", views.assay_list, name="assay_list"),
    path("instruments/", views.instrument_list, name="instrument_list"),
    path("users/", views.user_list, name="user_list"),
    path("audit/", audit.audit_trail, name="audit"),
    path("audit/export.csv", audit.audit_export, {"kind": "csv"}, name="audit_export_csv"),
    path("audit/export.json", audit.audit_export, {"kind": "json"}, name="audit_export_json"),
    path("audit/export.pdf", audit.audit_export_pdf, name="audit_export_pdf"),
    path("audit/verify/", audit.audit_verify, name="audit_verify"),
    path("audit/review/", audit.audit_review, name="audit_review"),
    path("scan/", bench.scan, name="scan"),
    path("workflows/runs/", runs.run_list, name="run_list"),
    path("workflows/deploy/", deploy.deploy_check, name="deploy_check"),
    path("workflows/runs/<str:run_id>/", runs.run_detail, name="run_detail"),
    path("workflows/runs/<str:run_id>/live/", runs.run_live, name="run_live"),
    path("workflows/runs/<str:run_id>/intervene/", runs.run_intervene, name="run_intervene"),
    path(
        "workflows/interventions/<int:intervention_id>/",
        runs.intervention_decide,
        name="intervention_decide",
    ),
    path("batches/", batches.batch_list, name="batch_list"),
    path("batches/<int:batch_id>/start/", batches.batch_start, name="batch_start"),
    path("batches/<int:batch_id>/result/", batches.batch_result, name="batch_result"),
    path("tokens/", tokens.token_list, name="token_list"),
    path("tokens/new/", tokens.token_create, name="token_create"),
    path("tokens/revoke/", tokens.token_revoke, name="token_revoke"),
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/<int:entry_id>/", inbox.inbox_resolve, name="inbox_resolve"),
    path("review/", review.review_list, name="review_list"),
    path("review/<str:barcode>/verify/", review.review_verify, name="review_verify"),
    path("review/<str:barcode>/retest/", review.review_retest, name="review_retest"),
    path("samples/<str:barcode>/report.pdf", review.report_pdf, name="report_pdf"),
    path("samples/", worklist.sample_list, name="sample_list"),
    path("samples/new/", registration.sample_new, name="sample_new"),
    path("samples/labels.pdf", labels.label_sheet, name="label_sheet"),
    path("samples/<str:barcode>/label/", labels.sample_label, name="sample_label"),
    path("samples/<str:barcode>/label.zpl", labels.sample_label_zpl, name="sample_label_zpl"),
    path("samples/import/", registration.sample_import, name="sample_import"),
    path("samples/<str:barcode>/", bench.sample_detail, name="sample_detail"),
    path(
        "samples/<str:barcode>/custody.json",
        dossier.sample_dossier,
        {"kind": "json"},
        name="sample_dossier_json",
    ),
    path(
        "samples/<str:barcode>/custody.pdf",
        dossier.sample_dossier,
        {"kind": "pdf"},
        name="sample_dossier_pdf",
    ),
    path("samples/<str:barcode>/condition/", amend.condition_amend, name="condition_amend"),
    path(
        "samples/<str:barcode>/results/<int:result_id>/amend/",
        amend.result_amend,
        name="result_amend",
    ),
    path("samples/<str:barcode>/card/", bench.sample_card, name="sample_card"),
    path("samples/<str:barcode>/<slug:action>/", bench.sample_action, name="sample_action"),
]
