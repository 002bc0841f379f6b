"""Settings of the intake bench's baseline server: LabTrack's, with the baseline's URLs."""

from labtrack.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.intake_baseline_urls"
