"""The Westgard rules, each at its boundary: a target mean of 100 and an SD of 10, so that
+2 SD is 120, +3 SD 130, +1 SD 110 (samples/values/westgard.py)."""

from decimal import Decimal

import pytest

from samples.models import QcVerdict
from samples.values.westgard import IN_CONTROL, NEEDED, REJECTED, WARNING, evaluate

MEAN, SD = Decimal("100"), Decimal("10")
HAIR = Decimal("0.0001")


def rules(value, *previous) -> tuple[str, ...]:
    return evaluate(
        mean=MEAN, sd=SD, previous=[Decimal(str(p)) for p in previous], value=Decimal(str(value))
    ).rules


def verdict(value, *previous) -> str:
    return evaluate(
        mean=MEAN, sd=SD, previous=[Decimal(str(p)) for p in previous], value=Decimal(str(value))
    ).verdict


def test_the_verdicts_are_the_models():
    assert {IN_CONTROL, WARNING, REJECTED} == set(QcVerdict.values)


def test_a_result_at_the_mean_with_no_history_is_in_control():
    assert rules(100) == ()
    assert verdict(100) == IN_CONTROL


# 1-2s -------------------------------------------------------------------------------------


def test_exactly_2sd_is_not_1_2s_either_side():
    assert rules(120, 100) == ()
    assert rules(80, 100) == ()


def test_just_beyond_2sd_is_a_1_2s_warning_either_side():
    assert rules(Decimal("120") + HAIR, 100) == ("1-2s",)
    assert rules(Decimal("80") - HAIR, 100) == ("1-2s",)
    assert verdict(Decimal("120") + HAIR, 100) == WARNING


def test_the_warning_alone_with_no_history():
    assert rules(125) == ("1-2s",)
    assert verdict(125) == WARNING


# 1-3s -------------------------------------------------------------------------------------


def test_exactly_3sd_is_a_warning_not_1_3s():
    assert rules(130, 100) == ("1-2s",)
    assert rules(70, 100) == ("1-2s",)


def test_just_beyond_3sd_is_1_3s_and_rejects():
    assert rules(Decimal("130") + HAIR, 100) == ("1-2s", "1-3s")
    assert rules(Decimal("70") - HAIR) == ("1-2s", "1-3s")
    assert verdict(Decimal("70") - HAIR) == REJECTED


# 2-2s -------------------------------------------------------------------------------------


def test_two_in_a_row_beyond_2sd_on_one_side_is_2_2s():
    assert rules(121, 121) == ("1-2s", "2-2s")
    assert rules(79, 79) == ("1-2s", "2-2s")
    assert verdict(121, 121) == REJECTED


def test_2_2s_needs_the_previous_one_beyond_2sd_not_at_it():
    assert rules(121, 120) == ("1-2s",)
    assert rules(121, Decimal("120") + HAIR) == ("1-2s", "2-2s")


def test_2_2s_is_not_two_on_opposite_sides():
    assert "2-2s" not in rules(121, 79)


def test_2_2s_reads_only_the_previous_result():
    assert rules(121, 125, 100) == ("1-2s",)


def test_2_2s_needs_a_previous_result():
    assert rules(125) == ("1-2s",)


# R-4s -------------------------------------------------------------------------------------


def test_one_beyond_plus_2sd_and_the_other_beyond_minus_2sd_is_r_4s():
    assert rules(121, 79) == ("1-2s", "R-4s")
    assert rules(79, 121) == ("1-2s", "R-4s")
    assert verdict(79, 121) == REJECTED


def test_r_4s_at_its_boundary():
    # A range over 4 SD with one result exactly at -2 SD: not beyond it, so no R-4s.
    assert rules(Decimal("121"), Decimal("80")) == ("1-2s",)
    assert rules(Decimal("120") + HAIR, Decimal("80") - HAIR) == ("1-2s", "R-4s")


def test_a_range_over_4sd_on_one_side_of_a_limit_is_not_r_4s():
    # 135 and 90: a range of 4.5 SD, but 90 is not below -2 SD.
    assert rules(135, 90) == ("1-2s", "1-3s")


def test_r_4s_reads_the_previous_result_only():
    assert rules(121, 79, 100) == ("1-2s",)


# 4-1s -------------------------------------------------------------------------------------


def test_four_in_a_row_beyond_1sd_on_one_side_is_4_1s():
    assert rules(111, 111, 111, 111) == ("4-1s",)
    assert rules(89, 89, 89, 89) == ("4-1s",)
    assert verdict(111, 111, 111, 111) == REJECTED


def test_4_1s_with_one_exactly_at_1sd_is_not_broken():
    assert rules(111, 110, 111, 111) == ()
    assert rules(111, Decimal("110") + HAIR, 111, 111) == ("4-1s",)


def test_4_1s_needs_three_previous_results():
    assert rules(115, 115, 115) == ()


def test_4_1s_is_not_four_beyond_1sd_on_both_sides():
    assert rules(111, 89, 111, 111) == ()


def test_4_1s_reads_only_the_last_three_before():
    assert rules(111, 89, 111, 111, 111) == ("4-1s",)


# 10x --------------------------------------------------------------------------------------


def test_ten_in_a_row_above_the_mean_is_10x():
    assert rules(101, *[101] * 9) == ("10x",)
    assert rules(99, *[99] * 9) == ("10x",)
    assert verdict(101, *[101] * 9) == REJECTED


def test_10x_needs_nine_previous_results():
    assert NEEDED == 9
    assert rules(101, *[101] * 8) == ()


def test_a_result_at_the_mean_breaks_the_10x_streak():
    assert rules(101, 100, *[101] * 8) == ()
    assert rules(101, Decimal("100") + HAIR, *[101] * 8) == ("10x",)


def test_10x_reads_only_the_last_nine_before():
    assert rules(101, 50, *[101] * 9) == ("10x",)


def test_10x_is_not_broken_by_one_on_the_other_side():
    assert rules(101, *[101] * 4, 99, *[101] * 4) == ()


# combinations -----------------------------------------------------------------------------


def test_every_rule_at_once_on_the_high_side():
    # Nine results beyond 3 SD high, then one more: 1-2s, 1-3s, 2-2s, 4-1s and 10x.
    assert rules(131, *[131] * 9) == ("1-2s", "1-3s", "2-2s", "4-1s", "10x")


def test_r_4s_with_1_3s():
    assert rules(131, 75) == ("1-2s", "1-3s", "R-4s")


def test_4_1s_and_10x_together_without_a_warning():
    assert rules(112, *[112] * 9) == ("4-1s", "10x")
    assert verdict(112, *[112] * 9) == REJECTED


def test_a_warning_after_a_history_in_control():
    assert rules(125, 100, 104, 96, 100) == ("1-2s",)
    assert verdict(125, 100, 104, 96, 100) == WARNING


def test_it_refuses_an_sd_that_is_not_above_zero():
    with pytest.raises(ValueError):
        evaluate(mean=MEAN, sd=Decimal(0), previous=[], value=MEAN)
