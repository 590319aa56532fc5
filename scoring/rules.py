"""Reason rules (weights, half-lives, conditions) read from the Reason table.

Decisions read them on every request, so they are cached in-process for a short while;
admin edits take effect within RULES_TTL seconds everywhere.
"""

import time

from blacklist.models import Reason
from scoring.policy import ReasonRule

RULES_TTL = 30.0
_cache = {"at": 0.0, "rules": None}


def rules_load():
    return {
        r.code: ReasonRule(
            code=r.code,
            label=r.label,
            kind=r.kind,
            weight=r.weight,
            half_life_days=r.half_life_days,
            max_age_days=r.max_age_days,
            condition=r.condition,
            condition_payment=r.condition_payment,
        )
        for r in Reason.objects.all()
    }


def rules_cached():
    now = time.monotonic()
    if _cache["rules"] is None or now - _cache["at"] > RULES_TTL:
        _cache["rules"] = rules_load()
        _cache["at"] = now
    return _cache["rules"]


def rules_forget():
    _cache["rules"] = None
