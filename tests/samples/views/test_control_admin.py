"""Control materials and lots on the admin site, for administrators: a lot's SD above 0, its
code in capitals and never a sample's barcode, its assay quantitative and run by its instrument;
each change in the audit trail."""

from __future__ import annotations

import pytest

from samples.models import ControlLot, ControlLotEvent, ControlMaterial
from tests.samples.qualitative import make_qualitative


@pytest.fixture
def material(db):
    return ControlMaterial.objects.create(name="Lyphochek Assayed Chemistry", level="1")


@pytest.fixture
def form(material, glucose, instrument):
    return {
        "material": material.pk, "lot_number": "24051", "assay": glucose.pk,
        "instrument": instrument.pk, "code": " qc-glu-1 ", "target_mean": "5.0",
        "target_sd": "0.2", "expires_on": "", "is_active": "on",
    }  # fmt: skip


def test_an_administrator_sets_up_a_lot(administrator, signed_in, form):
    page = signed_in(administrator).post("/admin/samples/controllot/add/", form)
    assert page.status_code == 302, page.content.decode()[:2000]
    lot = ControlLot.objects.get()
    assert lot.code == "QC-GLU-1" and str(lot.target_sd) == "0.2000"
    assert ControlLotEvent.objects.filter(pgh_obj=lot).exists()


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"target_sd": "0"}, "The SD must be above 0."),
        ({"target_sd": "-0.1"}, "The SD must be above 0."),
        ({"code": "QC GLU"}, "Use capital letters, digits"),
        ({"code": "S-000123"}, "S-000123 is a sample&#x27;s barcode"),
    ],
)
def test_a_lot_is_refused_with_the_reason(lab, administrator, signed_in, form, change, said):
    lab.register("S-000123")
    page = signed_in(administrator).post("/admin/samples/controllot/add/", {**form, **change})
    assert page.status_code == 200
    assert said in page.content.decode()
    assert not ControlLot.objects.exists()


def test_a_lot_of_a_qualitative_assay_or_an_instrument_not_running_it_is_refused(
    administrator, signed_in, form
):
    hiv = make_qualitative()
    page = signed_in(administrator).post(
        "/admin/samples/controllot/add/", {**form, "assay": hiv.pk}
    )
    assert "HIV is qualitative" in page.content.decode()
    assert not ControlLot.objects.exists()


def test_only_administrators_set_up_controls(technician, signed_in, material):
    assert signed_in(technician).get("/admin/samples/controllot/").status_code == 302
