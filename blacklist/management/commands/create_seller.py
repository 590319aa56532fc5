from django.core.management.base import BaseCommand, CommandError

from blacklist.services.keys import api_key_create, seller_create
from console.models import Role
from console.services import member_create
from riskhub.errors import ApplicationError


class Command(BaseCommand):
    help = "Create a seller and an API key (or, with --admin, an admin key). The key is the last line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--admin", action="store_true", help="Create an admin key named NAME instead.")
        parser.add_argument("--email", default="", help="The seller's contact address for dispute notices.")
        parser.add_argument(
            "--user",
            default="",
            metavar="EMAIL",
            help="Also create the seller's first console user (an owner) signing in with EMAIL; "
            "its password is printed on stderr (or set with --password).",
        )
        parser.add_argument("--password", default="", help="The first user's password (default: a random one).")

    def handle(self, *args, name, admin, email, user, password, **options):
        name = name.strip()
        if not name:
            raise CommandError("The name must not be empty.")
        if admin:
            _, raw = api_key_create(is_admin=True, name=name)
            self.stderr.write(f"Created admin key {name!r}. It is shown once; store it now.")
        else:
            seller, raw = seller_create(name=name, contact_email=email)
            self.stderr.write(f"Created seller {seller.name!r} (id {seller.pk}). The key is shown once.")
            if user:
                try:
                    membership, password = member_create(
                        seller=seller, email=user, role=Role.OWNER, password=password or None
                    )
                except ApplicationError as exc:
                    raise CommandError(exc.message) from None
                self.stderr.write(f"Console user {membership.user.username} (owner), password: {password}")
        self.stdout.write(raw)
