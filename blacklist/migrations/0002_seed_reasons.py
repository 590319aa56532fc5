"""Seed the reason codes. Weights and time constants are data: admins may tune them later."""

from django.db import migrations

# code, label, kind, weight, half-life days, max age days, condition, condition payment, description
REASONS = [
    ("refund_abuse", "Frequent returns or refund requests without valid cause", "trust", 0.35, 180, 730, "", "",
     "Repeated returns or refund claims that do not hold up (item not returned, claims of damage without evidence)."),
    ("extortion", "Malicious threats or extortion", "trust", 0.50, 365, 1095, "", "",
     "Threatens bad reviews, chargebacks or worse unless given money, goods or refunds."),
    ("non_payment", "Did not pay after delivery (chargeback, refused payment)", "trust", 0.45, 270, 1095, "", "",
     "Received the goods and then charged back or refused to pay."),
    ("unpaid_order", "Placed orders but never completed payment", "trust", 0.20, 90, 365, "", "",
     "Orders that were placed and never paid, tying up stock."),
    ("card_fraud", "Suspected credit-card fraud", "trust", 0.55, 365, 1095, "", "",
     "Paid with a card that was reported stolen or otherwise looked fraudulent."),
    ("malicious_feedback", "Malicious negative feedback (unreasonable demands, sabotage)", "trust", 0.30, 180, 730,
     "", "", "Negative feedback used as leverage or sabotage rather than an honest review."),
    ("false_quality_dispute", "Quality dispute without merit", "trust", 0.25, 180, 730, "", "",
     "Disputed the quality of goods that were as described."),
    ("remote_address", "Remote area where shipping is problematic", "logistics", 0.0, 365, 1095, "prepaid_only", "",
     "Deliveries to this buyer are slow, costly or often fail: take payment before shipping."),
    ("cod_refusal", "Refused cash-on-delivery or customs duties", "logistics", 0.0, 365, 1095, "prepaid_only",
     "cod", "Refused to pay on delivery: cash-on-delivery orders should be prepaid instead."),
    ("other", "Other", "trust", 0.15, 90, 365, "", "", "Anything else; weighs little on its own."),
]


def seed(apps, schema_editor):
    Reason = apps.get_model("blacklist", "Reason")
    for position, (code, label, kind, weight, half_life, max_age, condition, payment, description) in enumerate(
        REASONS
    ):
        Reason.objects.update_or_create(
            code=code,
            defaults={
                "label": label,
                "kind": kind,
                "weight": weight,
                "half_life_days": half_life,
                "max_age_days": max_age,
                "condition": condition,
                "condition_payment": payment,
                "description": description,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("blacklist", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
