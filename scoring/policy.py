"""The score formula and the decision rules, as pure functions over plain data.

Score (see docs/scoring.md):
    voice(s, r)  = weight(r) × trust(s) × 0.5 ** (age / half_life(r))     0 once age > max_age(r)
    risk(r)      = 1 − Π_s (1 − voice(s, r))          one seller, one voice per reason
    score        = round(100 × (1 − Π_r (1 − risk(r))))   over trust reasons only

Independent sellers add up with diminishing returns (noisy-OR); a seller counts once per reason
via its latest counting flag; logistics reasons add shipping conditions, never score.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

TRUST = "trust"
LOGISTICS = "logistics"
COUNTING_STATUSES = frozenset({"active", "disputed", "upheld"})
STALE_AFTER_DAYS = 365
# Consensus: a score alone only blocks shipping when at least this many sellers stand behind it.
MIN_SELLERS_FOR_NO_SHIP = 2
DECISION_ORDER = ("ship", "review", "no_ship")
OVERRIDE_IGNORE = "ignore"
OVERRIDE_REVIEW = "review"


@dataclass(frozen=True)
class ReasonRule:
    code: str
    label: str
    kind: str
    weight: float
    half_life_days: float
    max_age_days: float
    condition: str = ""
    # A logistics condition that only matters for orders paid this way (e.g. "cod").
    condition_payment: str = ""


@dataclass(frozen=True)
class FlagFact:
    """One flag as the formula sees it."""

    seller_id: int
    reason: str
    occurred_at: datetime
    status: str
    trust: float


@dataclass(frozen=True)
class Voice:
    """One seller's say on one reason: its latest counting flag."""

    seller_id: int
    reason: str
    last_at: datetime
    trust: float
    disputed: int = 0


@dataclass(frozen=True)
class SellerVoice:
    """What one seller adds to one reason, as precomputed: enough to combine buyers later."""

    strength: float
    disputed: int = 0
    stale: bool = False


@dataclass(frozen=True)
class ReasonSummary:
    code: str
    sellers: int
    seller_ids: frozenset
    last_flagged_at: datetime
    risk: float
    disputed: int = 0
    stale: int = 0
    voices: Mapping[int, SellerVoice] = field(default_factory=dict)


@dataclass(frozen=True)
class Breakdown:
    score: int
    reporting_sellers: int
    reasons: Mapping[str, ReasonSummary]
    aged_out: int = 0  # voices dropped for being past their reason's maximum age


@dataclass(frozen=True)
class Policy:
    review_at: int = 40
    no_ship_at: int = 75
    own_flags_block: bool = True
    reason_overrides: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    decision: str
    score: int
    conditions: list
    reasons: list  # ReasonSummary, most significant first
    reporting_sellers: int
    explanation: str
    ignored: frozenset = frozenset()  # reason codes the seller's policy left out


def voices_from_flags(flags: Iterable[FlagFact]) -> list[Voice]:
    """Collapse flags to one voice per seller and reason; non-counting flags drop out."""
    latest, disputed = {}, {}
    for f in flags:
        if f.status not in COUNTING_STATUSES:
            continue
        key = (f.seller_id, f.reason)
        # Ties resolved on trust too, so the result never depends on the order of the input.
        if key not in latest or (f.occurred_at, f.trust) > (latest[key].occurred_at, latest[key].trust):
            latest[key] = f
        disputed[key] = disputed.get(key, 0) + (f.status == "disputed")
    return [
        Voice(seller_id=s, reason=r, last_at=f.occurred_at, trust=f.trust, disputed=disputed[(s, r)])
        for (s, r), f in latest.items()
    ]


def freshness(age_days: float, rule: ReasonRule) -> float:
    """How much a report of this age still weighs: halves every half-life, 0 past max age."""
    if age_days > rule.max_age_days:
        return 0.0
    return 0.5 ** (max(age_days, 0.0) / rule.half_life_days)


def to_score(risk: float) -> int:
    return max(0, min(100, math.floor(100 * risk + 0.5)))


def combine(risks: Iterable[float]) -> float:
    """1 − Π(1 − risk). Sorted first: float products must not depend on the input order."""
    remaining = 1.0
    for risk in sorted(risks):
        remaining *= 1.0 - risk
    return 1.0 - remaining


def score_voices(voices: Iterable[Voice], rules: Mapping[str, ReasonRule], now: datetime) -> Breakdown:
    by_reason, aged_out = {}, 0
    for v in voices:
        rule = rules.get(v.reason)
        if rule is None:
            continue
        age_days = (now - v.last_at).total_seconds() / 86400
        fresh = freshness(age_days, rule)
        if fresh <= 0.0:
            aged_out += 1  # past its maximum age: as good as expired
            continue
        strength = rule.weight * max(0.0, min(1.0, v.trust)) * fresh if rule.kind == TRUST else 0.0
        by_reason.setdefault(v.reason, []).append((v, strength, age_days))

    reasons = {
        code: summarise(
            code,
            {
                v.seller_id: SellerVoice(strength=s, disputed=v.disputed, stale=age > STALE_AFTER_DAYS)
                for v, s, age in entries
            },
            last_flagged_at=max(v.last_at for v, _, _ in entries),
        )
        for code, entries in by_reason.items()
    }
    trust_risks = [r.risk for c, r in reasons.items() if rules[c].kind == TRUST]
    sellers = set().union(*(r.seller_ids for r in reasons.values())) if reasons else set()
    return Breakdown(
        score=to_score(combine(trust_risks)), reporting_sellers=len(sellers), reasons=reasons, aged_out=aged_out
    )


def summarise(code: str, voices: Mapping[int, SellerVoice], *, last_flagged_at: datetime) -> ReasonSummary:
    """One reason's summary from its sellers' voices (one per seller)."""
    return ReasonSummary(
        code=code,
        sellers=len(voices),
        seller_ids=frozenset(voices),
        last_flagged_at=last_flagged_at,
        risk=combine(v.strength for v in voices.values()),
        disputed=sum(v.disputed for v in voices.values()),
        stale=sum(1 for v in voices.values() if v.stale),
        voices=dict(voices),
    )


def reasons_merge(parts: Iterable[Mapping[str, ReasonSummary]]) -> dict[str, ReasonSummary]:
    """Several buyers' precomputed reasons as one: what a decision about identifiers spread over
    several buyers reads. One seller stays one voice per reason across them (its strongest: the
    same seller's freshest flag), so asking with more identifiers never counts anyone twice."""
    parts = [p for p in parts if p]
    if len(parts) == 1:
        return dict(parts[0])
    voices, last = {}, {}
    for part in parts:
        for code, summary in part.items():
            merged = voices.setdefault(code, {})
            for seller, voice in summary.voices.items():
                if seller not in merged or voice.strength > merged[seller].strength:
                    merged[seller] = voice
            last[code] = max(last.get(code, summary.last_flagged_at), summary.last_flagged_at)
    return {code: summarise(code, v, last_flagged_at=last[code]) for code, v in voices.items()}


def score_flags(flags: Iterable[FlagFact], rules: Mapping[str, ReasonRule], now: datetime) -> Breakdown:
    return score_voices(voices_from_flags(flags), rules, now)


def _at_least(current: str, floor: str) -> str:
    return max(current, floor, key=DECISION_ORDER.index)


def decide(
    *,
    reasons: Mapping[str, ReasonSummary],
    rules: Mapping[str, ReasonRule],
    policy: Policy,
    own_reasons: Iterable[str] = (),
    payment_method: str | None = None,
    lapsed: int = 0,
) -> Decision:
    """The decision for one seller, from the buyer's precomputed breakdown.

    1. Drop reasons the seller's policy ignores; rescore from the per-reason risks.
    2. Thresholds: review_at → review; no_ship_at → no_ship, but only with the consensus of
       MIN_SELLERS_FOR_NO_SHIP distinct sellers (one seller alone never blacklists a buyer).
    3. Reasons the policy maps to review raise the decision to at least review.
    4. The seller's own active trust flag means no_ship for that seller (own_flags_block).
    5. Logistics reasons add conditions (unless the order's payment makes them moot).

    `lapsed`: how many of the buyer's flags no longer count because they expired (by status or
    by age), so the explanation does not call a once-flagged buyer "never flagged".
    """
    overrides = policy.reason_overrides or {}
    ignored = frozenset(c for c in reasons if c in rules and overrides.get(c) == OVERRIDE_IGNORE)
    live = {c: r for c, r in reasons.items() if c in rules and c not in ignored}
    trust = {c: r for c, r in live.items() if rules[c].kind == TRUST}
    score = to_score(combine(r.risk for r in trust.values()))
    trust_sellers = len(set().union(*(r.seller_ids for r in trust.values()))) if trust else 0
    # Own flags are read live, not from the breakdown: they block even before the worker has run.
    own = {c for c in own_reasons if c in rules and rules[c].kind == TRUST and overrides.get(c) != OVERRIDE_IGNORE}

    decision = "ship"
    if score >= policy.no_ship_at and trust_sellers >= MIN_SELLERS_FOR_NO_SHIP:
        decision = "no_ship"
    elif trust and score >= policy.review_at:
        decision = "review"
    if any(overrides.get(c) == OVERRIDE_REVIEW for c in live):
        decision = _at_least(decision, "review")
    if own and policy.own_flags_block:
        decision = "no_ship"

    conditions = []
    if decision != "no_ship":
        for c in live:
            rule = rules[c]
            if rule.kind != LOGISTICS or not rule.condition:
                continue
            if rule.condition_payment and payment_method and payment_method != rule.condition_payment:
                continue
            if rule.condition not in conditions:
                conditions.append(rule.condition)
        conditions.sort()

    ordered = sorted(
        reasons.values(),
        key=lambda r: (
            rules[r.code].kind != TRUST if r.code in rules else True,
            r.code in ignored,
            -r.risk,
            -r.sellers,
            r.code,
        ),
    )
    sellers = set().union(*(r.seller_ids for r in live.values())) if live else set()
    explanation = explain(
        decision=decision,
        score=score,
        reasons=[r for r in ordered if r.code in live],
        rules=rules,
        policy=policy,
        reporting_sellers=len(sellers),
        trust_sellers=trust_sellers,
        own=bool(own_reasons),
        conditions=conditions,
        ignored=len(ignored),
        lapsed=lapsed,
    )
    return Decision(
        decision=decision,
        score=score,
        conditions=conditions,
        reasons=ordered,
        reporting_sellers=len(sellers),
        explanation=explanation,
        ignored=ignored,
    )


def explain(
    *, decision, score, reasons, rules, policy, reporting_sellers, trust_sellers, own, conditions, ignored=0, lapsed=0
):
    """One readable paragraph: who flagged, for what, how old, and what the rule was.

    `lapsed` counts the buyer's flags that no longer count because they expired: a buyer with
    only such flags was flagged once, and the text says so rather than "no seller has flagged".
    """
    own_sentence = ""
    if own:
        suffix = " (your policy blocks on your own flags)" if policy.own_flags_block else ""
        own_sentence = f"You flagged this buyer yourself{suffix}."
    if not reasons:
        if ignored:
            text = "Only reasons your policy ignores are held about this buyer."
        elif own:
            text = "No pooled score for this buyer yet: it is being computed."
        elif lapsed == 1:
            text = "This buyer was flagged before, but that flag has expired and no longer counts."
        elif lapsed:
            text = f"This buyer was flagged before, but all {lapsed} of its flags have expired and no longer count."
        else:
            text = "No seller has flagged this buyer."
        return " ".join(filter(None, [text, own_sentence]))
    parts = ", ".join(f"{rules[r.code].label.lower()} ({r.sellers})" for r in reasons[:3])
    if len(reasons) > 3:
        parts += f" and {len(reasons) - 3} more"
    noun = "seller" if reporting_sellers == 1 else "sellers"
    sentences = [f"Flagged by {reporting_sellers} {noun}: {parts}."]
    if any(rules[r.code].kind == TRUST for r in reasons):  # logistics alone: conditions, no score
        sentences.append(_score_sentence(decision, score, policy, trust_sellers))
    total = sum(r.sellers for r in reasons)
    stale = sum(r.stale for r in reasons)
    if total and stale * 2 > total:
        sentences.append(f"Most flags are over a year old ({stale} of {total}) and weigh less.")
    disputed = sum(r.disputed for r in reasons)
    if disputed:
        sentences.append(f"{disputed} flag{'s are' if disputed != 1 else ' is'} under dispute.")
    if conditions:
        sentences.append("Ship only with: " + ", ".join(c.replace("_", " ") for c in conditions) + ".")
    sentences.append(own_sentence)
    return " ".join(filter(None, sentences))


def _score_sentence(decision, score, policy, trust_sellers):
    if score >= policy.no_ship_at and trust_sellers < MIN_SELLERS_FOR_NO_SHIP:
        return f"Score {score} would block shipping, but it rests on one seller alone, so it needs review."
    if score >= policy.no_ship_at:
        return f"Score {score} is at or above your no-ship threshold ({policy.no_ship_at})."
    if score >= policy.review_at:
        return f"Score {score} is at or above your review threshold ({policy.review_at})."
    return f"Score {score} is below your review threshold ({policy.review_at})."
