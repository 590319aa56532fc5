"""Scoring services: writes and jobs. See each module's docstring."""

from scoring.services.aging import flags_expire, score_rescore
from scoring.services.policies import policy_update
from scoring.services.scores import (
    breakdown_from_json,
    breakdown_to_json,
    score_recompute,
    score_sweep,
)
from scoring.services.trust import seller_trust_recompute

__all__ = [
    "breakdown_from_json",
    "breakdown_to_json",
    "flags_expire",
    "policy_update",
    "score_recompute",
    "score_rescore",
    "score_sweep",
    "seller_trust_recompute",
]
