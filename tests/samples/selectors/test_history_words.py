"""One vocabulary for history events: the sample page's timeline says each lifecycle event as
the audit trail does, without the sample (the page is the sample's) and without who acted (the
timeline shows who beside it); every kind the engine writes has its words."""

from __future__ import annotations

import pytest

from samples.selectors.words import HISTORY_WORDS, history_words
from workflows.ops import HISTORY_KINDS

# (kind, data, the audit trail's sentence, the timeline's), the trail's said for sample S-000123
# with tess acting.
EVENTS = [
    (
        "run_started",
        {"version": 2},
        "Sample S-000123 registered by tess (lifecycle version 2)",
        "Registered (lifecycle version 2)",
    ),
    (
        "signal_received",
        {"name": "reception", "payload": {"action": "receive", "condition": "acceptable"}},
        "Sample S-000123 received by tess (condition acceptable)",
        "Received (condition acceptable)",
    ),
    (
        "signal_received",
        {"name": "batched:GLU", "payload": {"batch_id": 3, "position": 14}},
        "Sample S-000123: GLU batch 3 closed, the sample at well B2 (plate position 14)",
        "GLU batch 3 closed, the sample at well B2 (plate position 14)",
    ),
    (
        "signal_received",
        {"name": "result:GLU", "payload": {"result_id": 9}},
        "GLU result of sample S-000123 reported by tess",
        "GLU result reported",
    ),
    (
        "signal_received",
        {"name": "review", "payload": {"action": "retest", "assay": "GLU"}},
        "GLU of sample S-000123 sent back for a retest by tess",
        "GLU sent back for a retest",
    ),
    (
        "step_completed",
        {"step": "samples.record_receipt"},
        "Sample S-000123: receipt recorded",
        "Receipt recorded",
    ),
    (
        "step_completed",
        {"step": "samples.mark"},
        "Sample S-000123: step samples.mark done",
        "Step samples.mark done",
    ),
    (
        "wait_timed_out",
        {"signal": "reception"},
        "Sample S-000123: stability window ended while waiting for reception",
        "Stability window ended while waiting for reception",
    ),
    (
        "intervention_requested",
        {"action": "restart", "step": 4},
        "Sample S-000123: restart from step 4 requested by tess, for a second person to approve",
        "Restart from step 4 requested, for a second person to approve",
    ),
    (
        "run_completed",
        {"result": "reported"},
        "Sample S-000123: lifecycle finished (reported)",
        "Lifecycle finished (reported)",
    ),
]


@pytest.mark.parametrize(("kind", "data", "trail", "timeline"), EVENTS)
def test_the_timeline_says_an_event_as_the_trail_does_without_the_sample_and_who(
    kind, data, trail, timeline
):
    said = history_words(kind, data, record="sample", owner="sample S-000123", by=" by tess")
    assert said == trail
    assert history_words(kind, data) == timeline


def test_a_controls_result_and_a_critical_values_calls_are_said_in_words():
    control = {
        "name": "control:QC-GLU-1",
        "payload": {"control_result_id": 7, "verdict": "rejected"},
    }
    said = history_words("signal_received", control, record="batch", owner="GLU batch 3",
                         by=" by cobas-1")  # fmt: skip
    assert said == "GLU batch 3: control QC-GLU-1 in, rejected by cobas-1"
    closed = {"name": "critical:42", "payload": {"call_id": 5, "outcome": "confirmed"}}
    assert history_words("signal_received", closed) == (
        "Critical value's notification closed, confirmed, read back"
    )
    call = {"name": "call", "payload": {"call_id": 6, "outcome": "unable_to_reach"}}
    said = history_words("signal_received", call, record="run", owner="run 1", by=" by tess")
    assert said == "Run 1: call recorded by tess, unable to reach"


def test_a_batch_is_named_with_its_assay():
    said = history_words("run_started", {}, record="batch", owner="GLU batch 3", by=" by tess")
    assert said == "GLU batch 3 opened by tess"


def test_every_kind_the_engine_writes_has_words_of_its_own():
    worded = {key.rsplit(" ", 1)[-1] for key in HISTORY_WORDS}
    # A signal received is said by the signal's name ("signal reception receive", ...).
    assert [kind for kind in HISTORY_KINDS if kind not in worded] == ["signal_received"]
