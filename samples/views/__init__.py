"""Pages of the samples app: they read through ``samples.selectors`` and change things only
through ``samples.services``; a refusal is answered by ``errors``. Each view states who may
see it in its decorator."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from samples.roles import Role, role_required
from samples.selectors import setup


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html")


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def assay_list(request: HttpRequest) -> HttpResponse:
    return render(request, "samples/assay_list.html", {"assays": setup.assay_list()})


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def instrument_list(request: HttpRequest) -> HttpResponse:
    return render(request, "samples/instrument_list.html", {"instruments": setup.instrument_list()})


@role_required(Role.COMPLIANCE, Role.ADMIN)
def user_list(request: HttpRequest) -> HttpResponse:
    return render(request, "samples/user_list.html", {"accounts": setup.account_list()})
