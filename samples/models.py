"""Lab configuration records: assays and the instruments that run them.

Samples, batches, results and retests join these as the lifecycle is built. Writes go through
``samples.services``; reads for pages through ``samples.selectors``.
"""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_-]*$", "Use capital letters, digits, '-' and '_' (for example GLU)."
)


class Assay(models.Model):
    code = models.CharField(max_length=16, unique=True, validators=[code_validator])
    name = models.CharField(max_length=120)
    units = models.CharField(max_length=32)
    reference_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    reference_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    critical_low = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    critical_high = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    batch_capacity = models.PositiveIntegerField(default=96, validators=[MinValueValidator(1)])
    batch_close_after = models.DurationField(
        default=timedelta(hours=2), help_text="An open batch closes this long after it opened."
    )
    stability_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1)],
        help_text="Hours after collection within which the sample must be analysed.",
    )
    max_retests = models.PositiveSmallIntegerField(default=2)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(reference_low__isnull=True)
                | Q(reference_high__isnull=True)
                | Q(reference_low__lte=F("reference_high")),
                name="assay_reference_range_ordered",
            ),
            models.CheckConstraint(
                condition=Q(critical_low__isnull=True)
                | Q(critical_high__isnull=True)
                | Q(critical_low__lt=F("critical_high")),
                name="assay_critical_limits_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class Instrument(models.Model):
    name = models.CharField(max_length=64, unique=True)
    model = models.CharField(max_length=120)
    serial = models.CharField(max_length=64, unique=True)
    assays = models.ManyToManyField(Assay, blank=True, related_name="instruments")
    # The identity the instrument authenticates as over the API (member of the instrument role).
    service_user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="instrument"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
