"""Reason rules (weights, half-lives, conditions) as scoring.policy reads them.

Built from the reasons blacklist.selectors caches, so admin edits take effect within its TTL.
"""

from blacklist.selectors import reasons_cached, reasons_forget
from scoring.policy import ReasonRule

_built = {"from": None, "rules": None}


def _rule(r):
    return ReasonRule(
        code=r.code,
        label=r.label,
        kind=r.kind,
        weight=r.weight,
        half_life_days=r.half_life_days,
        max_age_days=r.max_age_days,
        condition=r.condition,
        condition_payment=r.condition_payment,
    )


def rules_load():
    """Fresh from the database (jobs: a full rescore must not use rules up to a TTL old)."""
    reasons_forget()
    return rules_cached()


def rules_cached():
    rows = reasons_cached()
    if _built["from"] is not rows:
        _built["rules"], _built["from"] = {code: _rule(r) for code, r in rows.items()}, rows
    return _built["rules"]


def rules_forget():
    reasons_forget()
