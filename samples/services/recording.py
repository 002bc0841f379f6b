"""Recording results: from instruments (one or many at a time) or entered by hand.

A result is recorded for a sample waiting in a running batch of its assay, once: the member
row is locked first, so of two messages carrying it only one records it. An instrument run
reports a sample's assay once; the same (instrument, run, sample, assay) again is a repeat and
answers with the result recorded the first time. The sample's lifecycle and the batch's run are
signalled in the same transaction.

An instrument posts only within its scope: the assays it is configured to run
(``Instrument.assays``), into batches its run was started on (``Batch.instrument``, chosen when
the run starts; a batch started without one takes any instrument that runs its assay). Outside
it, the result is refused on the field ``instrument``: a configuration to correct, not a sample
to find, so the whole message is refused and nothing of it recorded.

A quantitative assay's result is a number; a qualitative assay's is one of its answers, matched
whatever its case and blanks and stored in the answer's own spelling (``samples.values.answers``).
A number sent for a qualitative assay, a text for a quantitative one, or a text that is none of
the answers is refused (field ``value``), naming what the assay takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.models import (
    Assay,
    Batch,
    BatchMember,
    BatchStatus,
    Instrument,
    Result,
    Retest,
    Sample,
)
from samples.roles import Role
from samples.services.access import require_role
from samples.values import answers, bounds
from samples.values.codes import code_clean
from samples.values.numbers import decimal_point
from workflows.api import Signal, signal_many


@dataclass(frozen=True)
class Incoming:
    """One result to record, as an instrument (or a technician) gave it: ``value`` a number (or
    its text) for a quantitative assay, an answer's text for a qualitative one."""

    barcode: str
    assay_code: str
    value: Any
    units: str = ""
    flags: list[str] = field(default_factory=list)
    measured_at: datetime | None = None
    instrument_run_id: str = ""


@dataclass(frozen=True)
class Repeat:
    """An entry its instrument run had reported before: the result recorded then."""

    result: Result


Outcome = Result | Repeat | LabError


def result_record(
    *,
    barcode: str,
    assay_code: str,
    value: Any,
    units: str = "",
    flags: list[str] | None = None,
    measured_at: datetime | None = None,
    instrument: Instrument | None = None,
    user: Any = None,
    reason: str = "",
    message: Any = None,
    instrument_run_id: str = "",
) -> Result:
    """Record a result from an instrument, or entered by hand by a technician (with a reason),
    for a sample in a running batch of that assay; the lifecycle and the batch are told."""
    incoming = Incoming(
        barcode, assay_code, value, units, flags or [], measured_at, instrument_run_id
    )
    outcome = results_record(
        [incoming], instrument=instrument, user=user, reason=reason, message=message
    )[0]
    if isinstance(outcome, Repeat):
        raise LabError(
            f"Run {instrument_run_id} already reported {outcome.result.assay.code} of "
            f"{outcome.result.sample.barcode}: result {outcome.result.pk}."
        )
    if isinstance(outcome, LabError):
        raise outcome
    return outcome


def results_record(
    entries: Sequence[Incoming],
    *,
    instrument: Instrument | None = None,
    user: Any = None,
    reason: str = "",
    message: Any = None,
) -> list[Outcome]:
    """Record several results at once, in a fixed number of statements whatever their number.
    Returns, for each entry, its new result, the earlier one it repeats, or the refusal saying
    why it was not recorded (the others are recorded all the same)."""
    if instrument is None:
        require_role(user, Role.TECHNICIAN)
        reason = (reason or "").strip()
        if not reason:
            raise LabError(
                "A result entered by hand needs a reason (for example: instrument down).",
                field="reason",
            )
    samples = _samples_with_assays({code_clean(e.barcode) for e in entries})
    runs = _assays_run_by(instrument)
    outcomes: list[Outcome | None] = [None] * len(entries)
    checked = []
    for index, entry in enumerate(entries):
        try:
            sample, assay, number = _check(entry, samples, typed=instrument is None)
            if instrument is not None and assay.pk not in runs:
                raise _not_configured(instrument, assay)
            checked.append((index, entry, sample, assay, number))
        except LabError as refusal:
            outcomes[index] = refusal
    with transaction.atomic(savepoint=False):
        members = _waiting_members({(sample.pk, assay.pk) for _, _, sample, assay, _ in checked})
        # Read after the members are locked, so a result recorded meanwhile is seen.
        earlier = _Earlier(instrument, [sample for _, _, sample, _, _ in checked])
        now = timezone.now()
        created: list[tuple[int, Result]] = []
        for index, entry, sample, assay, reading in checked:
            repeated = earlier.reported(entry.instrument_run_id, sample, assay)
            member = members.get((sample.pk, assay.pk))
            if repeated is not None:
                outcomes[index] = Repeat(repeated)
            elif member is None or earlier.taken(sample, member):
                outcomes[index] = LabError(
                    f"{sample.barcode} is not waiting for a {assay.code} result in a running batch."
                )
            elif not _runs_batch(instrument, member.batch):
                outcomes[index] = _another_instruments(instrument, sample, member.batch)
            else:
                result = Result(
                    sample=sample,
                    assay=assay,
                    batch=member.batch,
                    value=None if isinstance(reading, str) else reading,
                    text=reading if isinstance(reading, str) else None,
                    units=(entry.units or "").strip() or assay.units,
                    flags=[str(f).strip().upper() for f in entry.flags or [] if str(f).strip()],
                    instrument=instrument,
                    entered_by=None if instrument else user,
                    entry_reason=reason,
                    measured_at=entry.measured_at or now,
                    recorded_at=now,
                    message=message,
                    instrument_run_id=entry.instrument_run_id or "",
                )
                earlier.add(result)
                created.append((index, result))
        new = [result for _, result in created]
        Result.objects.bulk_create(new)
        earlier.link_retests(new)
        # An instrument acts as its service identity: the trail names it by that identity.
        actor = actor_name(instrument.service_user if instrument else user)
        signal_many([s for result in new for s in _signals(result, actor, reason)])
    for index, result in created:
        outcomes[index] = result
    return [o for o in outcomes if o is not None]


def _check(
    entry: Incoming, samples: dict[str, tuple[Sample, list[Assay]]], *, typed: bool
) -> tuple[Sample, Assay, Decimal | str]:
    """The sample and ordered assay an entry names, and its number or answer (``typed`` by a
    person, or sent by an instrument), or the refusal."""
    found = samples.get(code_clean(entry.barcode))
    if found is None:
        raise LabError(
            f"Unknown barcode {code_clean(entry.barcode) or '(empty)'}: no sample is registered "
            "under it.",
            field="barcode",
        )
    sample, ordered = found
    code = code_clean(entry.assay_code)
    assay = next((a for a in ordered if a.code == code), None)
    if assay is None:
        raise LabError(
            f"{sample.barcode} has no {entry.assay_code or '(empty)'} ordered.", field="assay"
        )
    reading = result_reading(entry.value, typed=typed, assay=assay)
    units = (entry.units or "").strip() or assay.units
    if units != assay.units:
        raise LabError(
            f"{assay.code} is reported in {assay.units or 'no units'}, not {units}.",
            field="units",
        )
    if entry.measured_at is not None:  # a doubtful one is recorded and flagged for review
        bounds.measured(entry.measured_at)
    return sample, assay, reading


def result_reading(value: Any, *, assay: Assay, typed: bool = False) -> Decimal | str:
    """What a result of ``assay`` records for the value sent: a number for a quantitative
    assay (``decimal_value``), the answer's own spelling for a qualitative one
    (``samples.values.answers``); a number for a qualitative assay or a text for a quantitative
    one is refused, naming what the assay takes."""
    text = value if isinstance(value, str) else None
    if assay.is_qualitative:
        # A text that reads as a number is refused as one, unless it is an answer ("0", "1+").
        if text is not None and (
            answers.answer_key(text) in answers.keys_of(assay) or not _numeric(text, typed=typed)
        ):
            return answers.answer_match(assay, text).text
        raise LabError(
            f"{assay.code} is qualitative: it takes {answers.answers_named(assay)}, not a number.",
            field="value",
        )
    if text is not None and not any(ch.isdigit() for ch in text):
        raise LabError(
            f"{answers.quoted(text.strip())} is not a number. {assay.code} takes a number "
            f"({assay.units or 'no units'}), not a text.",
            field="value",
        )
    return decimal_value(value, typed=typed, assay=assay)


def _numeric(text: str, *, typed: bool) -> bool:
    try:
        decimal_value(text, typed=typed)
    except LabError:
        return False
    return True


def _assays_run_by(instrument: Instrument | None) -> set[int]:
    """The assays the instrument is configured to run (none for a result entered by hand)."""
    if instrument is None:
        return set()
    return set(instrument.assays.values_list("pk", flat=True))


def _not_configured(instrument: Instrument, assay: Assay) -> LabError:
    return LabError(
        f"{instrument.name} is not configured to run {assay.code}: its results of {assay.code} "
        "are not taken until an administrator adds the assay to the instrument.",
        field="instrument",
    )


def _runs_batch(instrument: Instrument | None, batch: Batch) -> bool:
    """Whether ``instrument`` may report into ``batch``: the batch's run was started on it, or
    on no instrument in particular. By hand (no instrument), any batch."""
    return instrument is None or batch.instrument_id in (None, instrument.pk)


def _another_instruments(instrument: Any, sample: Sample, batch: Batch) -> LabError:
    return LabError(
        f"{sample.barcode} waits in {batch.assay.code} batch {batch.pk}, whose run is on "
        f"{batch.instrument}, not {instrument.name}: only that instrument reports into it.",
        field="instrument",
    )


def decimal_value(value: Any, *, typed: bool = False, assay: Assay | None = None) -> Decimal:
    """A result's value as a number within what a result can be (``samples.values.bounds``), or the
    refusal saying why it is not usable. ``typed``: a person typed it, so a decimal comma reads
    as a point ("4,9" is 4.9; ``samples.values.numbers``). With ``assay``, a negative value is
    refused unless the assay can be negative."""
    text = str(value).strip()
    if typed:
        text = decimal_point(text)
    return bounds.result_value(bounds.number(text), assay=assay)


def _samples_with_assays(barcodes: set[str]) -> dict[str, tuple[Sample, list[Assay]]]:
    """The samples with these barcodes, each with its ordered assays: one query, and one more
    when a barcode is unknown or (never in practice) orders nothing."""
    ordered = Sample.assays.through.objects.filter(sample__barcode__in=barcodes).select_related(
        "sample", "assay"
    )
    samples: dict[str, tuple[Sample, list[Assay]]] = {}
    for row in ordered:
        samples.setdefault(row.sample.barcode, (row.sample, []))[1].append(row.assay)
    for unordered in Sample.objects.filter(barcode__in=barcodes - samples.keys()):
        samples[unordered.barcode] = (unordered, [])
    return samples


def _waiting_members(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], BatchMember]:
    """For each (sample, assay), its place in a running batch of that assay (the newest),
    locked (in id order, so concurrent callers never wait for each other crosswise)."""
    if not pairs:
        return {}
    rows = (
        BatchMember.objects.select_for_update(of=("self",))
        .select_related("batch__assay", "batch__instrument")
        .filter(
            sample_id__in={s for s, _ in pairs},
            batch__assay_id__in={a for _, a in pairs},
            batch__status=BatchStatus.RUNNING,
        )
        .order_by("pk")
    )
    members: dict[tuple[int, int], BatchMember] = {}
    for member in rows:
        key = (member.sample_id, member.batch.assay_id)
        if key in pairs and (key not in members or member.added_at > members[key].added_at):
            members[key] = member
    return members


_EARLIER_FIELDS = [
    "sample",
    "assay__code",
    "batch",
    "value",
    "units",
    "instrument",
    "instrument_run_id",
]


class _Earlier:
    """The results the samples already have (one query): which batches they were recorded in,
    what each instrument run reported, and which results wait for a retest."""

    def __init__(self, instrument: Instrument | None, samples: list[Sample]) -> None:
        self.batches: set[tuple[int, int | None]] = set()
        self.runs: dict[tuple[str, int, int], Result] = {}
        self.retests: dict[tuple[int, int], tuple[int, int]] = {}
        self.instrument = instrument
        by_pk = {s.pk: s for s in samples}
        rows = (
            Result.objects.filter(sample_id__in=by_pk)
            .order_by()
            .select_related("assay")
            .only(*_EARLIER_FIELDS)
            .annotate(open_retest=F("retest__pk"), answered_by=F("retest__new_result_id"))
        )
        for result in rows:
            result.sample = by_pk[result.sample_id]
            self.add(result)
            if result.open_retest is not None and result.answered_by is None:
                self.retests[result.sample_id, result.assay_id] = (result.open_retest, result.pk)

    def add(self, result: Result) -> None:
        self.batches.add((result.sample_id, result.batch_id))
        if result.instrument_run_id and result.instrument_id == getattr(self.instrument, "pk", -1):
            key = (result.instrument_run_id, result.sample_id, result.assay_id)
            self.runs.setdefault(key, result)

    def reported(self, run_id: str, sample: Sample, assay: Assay) -> Result | None:
        return self.runs.get((run_id, sample.pk, assay.pk)) if run_id else None

    def taken(self, sample: Sample, member: BatchMember) -> bool:
        return (sample.pk, member.batch_id) in self.batches

    def link_retests(self, results: list[Result]) -> None:
        """A new result of an assay sent for a retest answers that retest and supersedes the
        retested result."""
        for result in results:
            retest = self.retests.pop((result.sample_id, result.assay_id), None)
            if retest is not None:
                retest_id, original_id = retest
                Retest.objects.filter(pk=retest_id).update(new_result=result)
                Result.objects.filter(pk=original_id).update(superseded_by=result)


def _signals(result: Result, actor: str, reason: str) -> list[Signal]:
    """Tell the sample's lifecycle its result is in, and the batch's run that a member is done."""
    signals = [
        Signal(
            str(result.sample.run_id),
            f"result:{result.assay.code}",
            {"result_id": result.pk},
            actor=actor,
            reason=reason,
            idempotency_key=f"result:{result.pk}",
        )
    ]
    if result.batch is not None:
        signals.append(
            Signal(
                str(result.batch.run_id),
                "member_done",
                {"barcode": result.sample.barcode},
                actor=actor,
                idempotency_key=f"done:{result.sample.barcode}",
            )
        )
    return signals
