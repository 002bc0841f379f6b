"""The intake bench's baseline: ``POST /api/v1/results/`` through the same Django and DRF stack
as the real view (token check, throttle, permission, parsing and validation of the items),
answering 201 without recording anything. What it costs is the floor under any recording."""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from samples.api.results import ResultsView
from samples.api.serializers import ResultItemSerializer


class ValidateOnly(ResultsView):
    def post(self, request: Request) -> Response:
        data: Any = request.data
        serializer = ResultItemSerializer(data=data, many=isinstance(data, list))
        serializer.is_valid(raise_exception=True)
        return Response({"accepted": [], "unmatched": []}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("api/v1/results/", ValidateOnly.as_view()),
    path("", include("labtrack.urls")),  # /healthz, which the bench waits for
]
