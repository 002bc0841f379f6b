"""Top-level URL routes: health, metrics, accounts, admin, and each app's own routes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from labtrack import health
from labtrack.idle import SignOutView, activity
from labtrack.lockout import locked
from labtrack.metrics import metrics
from samples.views import home

# A path under /api/ that matches no route gets a JSON 404, like every other API error.
handler404 = "samples.api.errors.page_not_found"

urlpatterns = [
    path("livez", health.livez, name="livez"),
    path("readyz", health.readyz, name="readyz"),
    path("healthz", health.readyz, name="healthz"),  # the older name of readiness
    path("healthz/deep", health.deep, name="healthz-deep"),
    path("metrics", metrics, name="metrics"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path("accounts/activity/", activity, name="activity"),
    path("accounts/locked/", locked, name="account_locked"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("samples.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Its page and its start-up script are two answers: no inline script (the CSP forbids it).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", home, name="home"),
    path("", include("samples.urls")),
]
