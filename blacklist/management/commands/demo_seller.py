import secrets

from django.core.management.base import BaseCommand

from blacklist.models import Seller
from blacklist.services.keys import api_key_create
from console.models import Membership, Role
from console.services import member_create

DEMO_NAME = "Demo seller"
DEMO_USER = "demo@riskhub.test"


class Command(BaseCommand):
    help = (
        "Ensure a demo seller exists, issue it a fresh API key and a fresh console password, and print "
        "them with a ready-to-paste curl call."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, base_url, **options):
        seller, _ = Seller.objects.get_or_create(name=DEMO_NAME)
        _, raw = api_key_create(seller=seller, name="demo")
        password = self._demo_password(seller)
        url = base_url.rstrip("/")
        self.stdout.write(
            f"""
  riskhub is starting on {url}  (docs: {url}/api/docs/)
  Demo seller: {seller.name} (id {seller.pk})
  Console: {url}/console/  sign in as {DEMO_USER} / {password}
  Buyer's page: {url}/buyer/  (codes are printed in this terminal)
  API key (shown once): {raw}

  Try it:
    curl -s -X POST {url}/api/v1/flags \\
      -H 'Authorization: Bearer {raw}' -H 'Content-Type: application/json' \\
      -d '{{"buyer": {{"email": "buyer@example.com"}}, "reason": "refund_abuse", "order_ref": "A-1001"}}'
    curl -s -X POST {url}/api/v1/decisions \\
      -H 'Authorization: Bearer {raw}' -H 'Content-Type: application/json' \\
      -d '{{"buyer": {{"email": "Buyer@Example.com"}}}}'
"""
        )
        self.stdout.write(raw)

    def _demo_password(self, seller):
        """A fresh password on every run, like the key: nothing guessable is left behind."""
        password = secrets.token_urlsafe(9)
        membership = Membership.objects.filter(user__username=DEMO_USER).select_related("user").first()
        if membership is None:
            member_create(seller=seller, email=DEMO_USER, role=Role.OWNER, password=password)
        else:
            membership.user.set_password(password)
            membership.user.save(update_fields=["password"])
        return password
