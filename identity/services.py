"""Writing identifiers: find or create the rows for the digests a seller sent."""

from django.db import IntegrityError, transaction

from identity.models import Buyer, Identifier


def identifiers_resolve(*, identifiers):
    """The Identifier rows for these (kind, digest) values, creating the unknown ones.

    A new identifier starts as a buyer of its own: it has no corroborated link yet, since the
    only link it can have is the one the caller's flag is about to assert. Two requests racing
    on the same new digest collide on its unique index; the loser's savepoint rolls back and it
    retries, now finding the winner's row. Must run inside a transaction.
    Returns {digest: Identifier}.
    """
    wanted = {i.digest: i.kind for i in identifiers}
    for attempt in range(3):
        found = {row.digest: row for row in Identifier.objects.filter(digest__in=list(wanted))}
        missing = [d for d in wanted if d not in found]
        if not missing:
            return found
        try:
            with transaction.atomic():
                buyers = Buyer.objects.bulk_create([Buyer() for _ in missing])
                created = Identifier.objects.bulk_create(
                    Identifier(digest=d, kind=wanted[d], buyer=b) for d, b in zip(missing, buyers, strict=True)
                )
            found.update((row.digest, row) for row in created)
            return found
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
