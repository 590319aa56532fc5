"""Seller trust (scoring.trust): new sellers count at least half, overturns cost more and more."""

from hypothesis import given
from hypothesis import strategies as st

from scoring.trust import TrackRecord, seller_trust

records = st.builds(
    lambda age, flags, retracted, overturned: TrackRecord(
        age_days=age, flags=flags, retracted=min(retracted, flags), overturned=min(overturned, flags)
    ),
    st.floats(min_value=0, max_value=5000, allow_nan=False),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=10_000),
)


def trust(**kw):
    return seller_trust(TrackRecord(**kw))[0]


@given(records)
def test_trust_is_between_0_and_1(record):
    assert 0 <= seller_trust(record)[0] <= 1


@given(st.floats(min_value=0, max_value=5000, allow_nan=False), st.integers(min_value=0, max_value=10_000))
def test_a_seller_with_a_clean_record_counts_at_least_half(age, flags):
    assert trust(age_days=age, flags=flags) >= 0.5


def test_a_brand_new_seller_counts_half_and_an_established_one_fully():
    assert trust(age_days=0, flags=0) == 0.5
    assert trust(age_days=400, flags=200) == 1.0
    assert trust(age_days=30, flags=3) < trust(age_days=400, flags=200)


@given(st.integers(min_value=1, max_value=500), st.data())
def test_more_overturned_flags_never_raise_trust(flags, data):
    fewer = data.draw(st.integers(min_value=0, max_value=flags - 1))
    more = data.draw(st.integers(min_value=fewer + 1, max_value=flags))
    assert trust(age_days=365, flags=flags, overturned=more) <= trust(age_days=365, flags=flags, overturned=fewer)


def test_sellers_whose_flags_are_often_overturned_count_less_and_less():
    series = [trust(age_days=365, flags=100, overturned=n) for n in (0, 10, 30, 60, 100)]
    assert series == sorted(series, reverse=True)
    assert series[-1] < 0.05
    assert series[2] < 0.5  # 30 % overturned already counts less than a brand-new seller


def test_the_details_explain_the_trust():
    value, details = seller_trust(TrackRecord(age_days=10, flags=20, retracted=2, overturned=5))
    assert details["overturned"] == 5
    assert "5 of 20 flags overturned on appeal" in details["reasons"]
    assert "account is 10 days old (full weight from 180)" in details["reasons"]
    assert (
        details["experience"] * details["reliability"] == value
        or abs(details["experience"] * details["reliability"] - value) < 1e-3
    )
