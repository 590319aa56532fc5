"""Seller trust: how much one seller's voice weighs, from its track record. Pure functions.

    experience  = 0.5 + 0.25 × min(1, age_days / 180) + 0.25 × min(1, flags / 50)     ∈ [0.5, 1]
    bad share   = (overturned + severed + 0.25 × retracted) / (flags + 5)   5 = benefit of the doubt
                  severed: flags asserting a link an admin severed (a wrong identity claim)
    reliability = (1 − bad share) ³
    trust       = experience × reliability                                          ∈ [0, 1]

A new seller counts half; an established one fully; one whose flags are often overturned on
appeal counts less and less, towards zero.
"""

from dataclasses import dataclass

MATURE_AGE_DAYS = 180
MATURE_VOLUME = 50
PRIOR_GOOD_FLAGS = 5
RETRACTED_WEIGHT = 0.25


@dataclass(frozen=True)
class TrackRecord:
    age_days: float
    flags: int  # flags ever filed (all statuses)
    retracted: int = 0
    overturned: int = 0
    upheld: int = 0
    severed: int = 0  # flags asserting a link that an admin severed


def experience(record: TrackRecord) -> float:
    age = min(1.0, max(0.0, record.age_days) / MATURE_AGE_DAYS)
    volume = min(1.0, max(0, record.flags) / MATURE_VOLUME)
    return 0.5 + 0.25 * age + 0.25 * volume


def reliability(record: TrackRecord) -> float:
    bad = record.overturned + record.severed + RETRACTED_WEIGHT * record.retracted
    share = min(1.0, bad / (max(0, record.flags) + PRIOR_GOOD_FLAGS))
    return (1.0 - share) ** 3


def seller_trust(record: TrackRecord) -> tuple[float, dict]:
    """(trust, details): details say why, for the admin."""
    exp, rel = experience(record), reliability(record)
    trust = round(max(0.0, min(1.0, exp * rel)), 4)
    reasons = []
    if record.age_days < MATURE_AGE_DAYS:
        reasons.append(f"account is {int(record.age_days)} days old (full weight from {MATURE_AGE_DAYS})")
    if record.flags < MATURE_VOLUME:
        reasons.append(f"{record.flags} flags filed (full weight from {MATURE_VOLUME})")
    if record.overturned:
        reasons.append(f"{record.overturned} of {record.flags} flags overturned on appeal")
    if record.retracted:
        reasons.append(f"{record.retracted} of {record.flags} flags retracted")
    if record.severed:
        reasons.append(f"{record.severed} flags asserted links that admins severed")
    if record.upheld:
        reasons.append(f"{record.upheld} flags upheld on appeal")
    if not reasons:
        reasons.append("established seller with a clean record")
    details = {
        "age_days": int(record.age_days),
        "flags": record.flags,
        "retracted": record.retracted,
        "overturned": record.overturned,
        "upheld": record.upheld,
        "severed": record.severed,
        "experience": round(exp, 4),
        "reliability": round(rel, 4),
        "reasons": reasons,
    }
    return trust, details
