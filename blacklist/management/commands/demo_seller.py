from django.core.management.base import BaseCommand

from blacklist.models import Seller
from blacklist.services.keys import api_key_create

DEMO_NAME = "Demo seller"


class Command(BaseCommand):
    help = "Ensure a demo seller exists, issue it a fresh API key and print a ready-to-paste curl call."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, base_url, **options):
        seller, _ = Seller.objects.get_or_create(name=DEMO_NAME)
        _, raw = api_key_create(seller=seller, name="demo")
        url = base_url.rstrip("/")
        self.stdout.write(
            f"""
  riskhub is starting on {url}  (docs: {url}/api/docs/)
  Demo seller: {seller.name} (id {seller.pk})
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
