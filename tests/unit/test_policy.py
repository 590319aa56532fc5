"""Invariants of the score formula and the decision rules (scoring.policy), as properties."""

import importlib
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scoring import policy
from scoring.policy import FlagFact, Policy, ReasonRule

SEED = importlib.import_module("blacklist.migrations.0002_seed_reasons").REASONS
RULES = {
    code: ReasonRule(code, label, kind, weight, half_life, max_age, condition, payment)
    for code, label, kind, weight, half_life, max_age, condition, payment, _ in SEED
}
TRUST_CODES = sorted(c for c, r in RULES.items() if r.kind == "trust")
LOGISTICS_CODES = sorted(c for c, r in RULES.items() if r.kind == "logistics")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DEFAULT = Policy()

statuses = st.sampled_from(["active", "disputed", "upheld", "retracted", "expired", "overturned"])
counting = st.sampled_from(["active", "disputed", "upheld"])
not_counting = st.sampled_from(["retracted", "expired", "overturned"])
ages = st.floats(min_value=0, max_value=3000, allow_nan=False)
trusts = st.floats(min_value=0, max_value=1, allow_nan=False)


def fact(seller, reason, age_days=0.0, status="active", trust=1.0):
    return FlagFact(seller, reason, NOW - timedelta(days=age_days), status, trust)


flag_facts = st.builds(
    fact,
    seller=st.integers(min_value=1, max_value=30),
    reason=st.sampled_from(sorted(RULES)),
    age_days=ages,
    status=statuses,
    trust=trusts,
)
flag_lists = st.lists(flag_facts, max_size=40)


def score(flags):
    return policy.score_flags(flags, RULES, NOW).score


def decide_for(flags, asker=None, pol=DEFAULT, payment_method=None):
    breakdown = policy.score_flags(flags, RULES, NOW)
    own = {f.reason for f in flags if f.seller_id == asker and f.status in policy.COUNTING_STATUSES}
    return policy.decide(
        reasons=breakdown.reasons, rules=RULES, policy=pol, own_reasons=own, payment_method=payment_method
    )


@given(flag_lists)
def test_score_is_always_between_0_and_100(flags):
    assert 0 <= score(flags) <= 100


@given(flag_lists, st.randoms())
def test_the_order_of_flags_never_matters(flags, rnd):
    shuffled = list(flags)
    rnd.shuffle(shuffled)
    assert policy.score_flags(flags, RULES, NOW) == policy.score_flags(shuffled, RULES, NOW)


@given(
    flag_lists,
    st.lists(st.builds(fact, st.integers(1, 30), st.sampled_from(sorted(RULES)), ages, not_counting, trusts)),
)
def test_retracted_expired_and_overturned_flags_have_no_effect(flags, dead):
    assert policy.score_flags(flags + dead, RULES, NOW) == policy.score_flags(flags, RULES, NOW)


@given(flag_lists, st.sampled_from(sorted(RULES)), ages, counting, trusts)
def test_a_flag_from_a_new_seller_never_lowers_the_score(flags, reason, age, status, trust):
    newcomer = fact(999, reason, age, status, trust)
    assert score(flags + [newcomer]) >= score(flags)


@given(st.sampled_from(TRUST_CODES), ages, trusts, st.integers(min_value=2, max_value=40))
def test_one_seller_counts_once_per_reason_however_many_flags(reason, age, trust, copies):
    one = [fact(1, reason, age, "active", trust)]
    many = [fact(1, reason, age, "active", trust)] * copies
    many += [fact(1, reason, age + extra, "active", trust) for extra in range(1, copies)]  # older repeats
    assert policy.score_flags(many, RULES, NOW) == policy.score_flags(one, RULES, NOW)


def test_forty_flags_from_one_seller_weigh_exactly_what_one_does():
    one = decide_for([fact(1, "extortion")], asker=2)
    forty = decide_for([fact(1, "extortion", age_days=i / 10) for i in range(40)], asker=2)
    assert forty.score == one.score
    assert forty.reasons[0].sellers == 1


@given(st.lists(st.builds(fact, st.just(7), st.sampled_from(sorted(RULES)), ages, counting, trusts), min_size=1))
def test_one_sellers_flags_alone_never_give_another_seller_no_ship(flags):
    assert decide_for(flags, asker=8).decision != "no_ship"


@settings(max_examples=200)
@given(
    st.lists(st.floats(min_value=0, max_value=30), min_size=6, max_size=6),
    st.lists(st.floats(min_value=0.5, max_value=1), min_size=6, max_size=6),
)
def test_six_new_sellers_flagging_extortion_within_a_month_give_no_ship(ages_days, trust_values):
    flags = [fact(s, "extortion", a, "active", t) for s, (a, t) in enumerate(zip(ages_days, trust_values, strict=True))]
    assert decide_for(flags, asker=100).decision == "no_ship"


@given(st.integers(min_value=1, max_value=40), st.sampled_from(TRUST_CODES), trusts)
def test_flags_from_five_years_ago_never_give_no_ship(sellers, reason, trust):
    flags = [fact(s, reason, 5 * 365 + s, "active", trust) for s in range(sellers)]
    result = decide_for(flags, asker=1000)
    assert result.decision != "no_ship"
    assert result.score == 0


@given(ages, ages, st.sampled_from(sorted(RULES)))
def test_freshness_never_grows_with_age(a, b, reason):
    young, old = sorted((a, b))
    assert policy.freshness(old, RULES[reason]) <= policy.freshness(young, RULES[reason])


@given(st.lists(st.builds(fact, st.integers(1, 50), st.sampled_from(LOGISTICS_CODES), ages, counting, trusts)))
def test_logistics_reasons_alone_never_give_no_ship_nor_a_score(flags):
    for payment in (None, "cod", "prepaid"):
        result = decide_for(flags, asker=1000, payment_method=payment)
        assert result.decision == "ship"
        assert result.score == 0


def test_remote_address_adds_the_prepaid_only_condition():
    result = decide_for([fact(1, "remote_address")], asker=2)
    assert result.decision == "ship"
    assert result.conditions == ["prepaid_only"]


@given(flag_lists)
def test_cod_refusal_does_not_affect_a_prepaid_order(flags):
    with_refusal = flags + [fact(500, "cod_refusal")]
    without = decide_for(flags, asker=1000, payment_method="prepaid")
    refused = decide_for(with_refusal, asker=1000, payment_method="prepaid")
    assert (refused.decision, refused.score, refused.conditions) == (
        without.decision,
        without.score,
        without.conditions,
    )


def test_cod_refusal_makes_a_cod_order_prepaid_only():
    result = decide_for([fact(1, "cod_refusal")], asker=2, payment_method="cod")
    assert result.conditions == ["prepaid_only"]
    assert decide_for([fact(1, "cod_refusal")], asker=2, payment_method="prepaid").conditions == []


@given(flag_lists, st.sampled_from(TRUST_CODES))
def test_your_own_trust_flag_blocks_you_but_nobody_else(flags, reason):
    mine = flags + [fact(77, reason)]
    assert decide_for(mine, asker=77).decision == "no_ship"
    # For anyone else it is just one more seller in the score.
    other = decide_for(mine, asker=78)
    breakdown = policy.score_flags(mine, RULES, NOW)
    plain = policy.decide(reasons=breakdown.reasons, rules=RULES, policy=DEFAULT, own_reasons=())
    assert other.decision == plain.decision


def test_own_flags_block_can_be_turned_off():
    result = decide_for([fact(77, "refund_abuse")], asker=77, pol=Policy(own_flags_block=False))
    assert result.decision != "no_ship"


def test_an_own_logistics_flag_does_not_block():
    assert decide_for([fact(77, "remote_address")], asker=77).decision == "ship"


@given(flag_lists, st.sampled_from(TRUST_CODES))
def test_an_ignored_reason_counts_as_if_it_had_never_been_flagged(flags, reason):
    pol = Policy(reason_overrides={reason: "ignore"})
    ignored = decide_for(flags, asker=1000, pol=pol)
    without = decide_for([f for f in flags if f.reason != reason], asker=1000)
    assert (ignored.decision, ignored.score) == (without.decision, without.score)


@given(flag_lists, st.sampled_from(sorted(RULES)))
def test_a_reason_mapped_to_review_gives_at_least_review(flags, reason):
    assume(
        any(
            f.reason == reason
            and f.status in policy.COUNTING_STATUSES
            and (NOW - f.occurred_at).days <= RULES[reason].max_age_days
            for f in flags
        )
    )
    result = decide_for(flags, asker=1000, pol=Policy(reason_overrides={reason: "review"}))
    assert result.decision in ("review", "no_ship")


@given(flag_lists, st.integers(0, 100), st.integers(0, 100))
def test_stricter_thresholds_never_soften_the_decision(flags, a, b):
    lenient, strict = (
        Policy(review_at=max(a, b), no_ship_at=max(a, b)),
        Policy(review_at=min(a, b), no_ship_at=max(a, b)),
    )
    order = policy.DECISION_ORDER.index
    assert order(decide_for(flags, 1000, strict).decision) >= order(decide_for(flags, 1000, lenient).decision)


@given(flag_lists)
def test_reasons_are_ordered_by_contribution(flags):
    result = decide_for(flags, asker=1000)
    trust = [r for r in result.reasons if RULES[r.code].kind == "trust"]
    assert [r.risk for r in trust] == sorted((r.risk for r in trust), reverse=True)


def test_an_unknown_buyer_is_ship_with_score_zero():
    result = decide_for([], asker=1)
    assert (result.decision, result.score, result.reasons, result.conditions) == ("ship", 0, [], [])
    assert result.explanation == "No seller has flagged this buyer."


def test_the_worked_example_from_the_brief():
    """13 sellers for extortion, 8 for refund abuse, 1 for other — established sellers, recent flags."""
    flags = [fact(s, "extortion", 20) for s in range(13)]
    flags += [fact(100 + s, "refund_abuse", 25) for s in range(8)]
    flags += [fact(200, "other", 170)]
    result = decide_for(flags, asker=1000)
    assert result.decision == "no_ship"
    assert result.reporting_sellers == 22
    assert [r.code for r in result.reasons] == ["extortion", "refund_abuse", "other"]
    assert result.score == 100
    assert result.explanation.startswith(
        "Flagged by 22 sellers: malicious threats or extortion (13), "
        "frequent returns or refund requests without valid cause (8), other (1)."
    )


def test_the_explanation_says_when_most_flags_are_old():
    flags = [fact(s, "extortion", 500) for s in range(3)] + [fact(9, "extortion", 10)]
    assert "Most flags are over a year old (3 of 4)" in decide_for(flags, asker=1000).explanation


def test_the_explanation_names_the_conditions_and_your_own_flag():
    flags = [fact(1, "remote_address"), fact(2, "refund_abuse")]
    text = decide_for(flags, asker=2, pol=Policy(own_flags_block=False)).explanation
    assert "Ship only with: prepaid only." in text
    assert "You flagged this buyer yourself." in text


def test_the_explanation_says_when_only_ignored_reasons_are_held():
    result = decide_for([fact(1, "other"), fact(2, "other")], asker=9, pol=Policy(reason_overrides={"other": "ignore"}))
    assert result.explanation == "Only reasons your policy ignores are held about this buyer."


def test_the_explanation_says_when_the_pooled_score_is_not_computed_yet():
    """Own flags are read live; the pooled breakdown may still be on its way from the worker."""
    result = policy.decide(reasons={}, rules=RULES, policy=DEFAULT, own_reasons={"refund_abuse"})
    assert result.decision == "no_ship"  # your own flag blocks at once, before the worker has run
    assert result.explanation.startswith("No pooled score for this buyer yet")
    assert result.explanation.endswith("You flagged this buyer yourself (your policy blocks on your own flags).")


def test_a_buyer_whose_flags_all_expired_is_not_called_never_flagged():
    """Flags past their maximum age drop out of the breakdown; the caller passes how many lapsed."""
    old = [fact(1, "refund_abuse", RULES["refund_abuse"].max_age_days + 1)]
    breakdown = policy.score_flags(old, RULES, NOW)
    assert breakdown.reasons == {}
    one = policy.decide(reasons=breakdown.reasons, rules=RULES, policy=DEFAULT, lapsed=1)
    assert (one.decision, one.score) == ("ship", 0)
    assert one.explanation == "This buyer was flagged before, but that flag has expired and no longer counts."
    three = policy.decide(reasons={}, rules=RULES, policy=DEFAULT, lapsed=3)
    assert (
        three.explanation == "This buyer was flagged before, but all 3 of its flags have expired and no longer count."
    )
    assert policy.decide(reasons={}, rules=RULES, policy=DEFAULT).explanation == "No seller has flagged this buyer."


def test_lapsed_flags_change_no_decision_and_no_text_while_live_flags_remain():
    flags = [fact(1, "extortion", 5), fact(2, "extortion", 6)]
    breakdown = policy.score_flags(flags, RULES, NOW)
    with_lapsed = policy.decide(reasons=breakdown.reasons, rules=RULES, policy=DEFAULT, lapsed=4)
    without = policy.decide(reasons=breakdown.reasons, rules=RULES, policy=DEFAULT)
    assert with_lapsed == without
