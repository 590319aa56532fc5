"""`naive_import --seller ID --jobs N FILE`: the naive design's import — CSV rows straight into
`bulk_create`, chunk by chunk, in N processes. Prints the rows written as JSON."""

import csv
import itertools
import json
import multiprocessing

from django.core.management.base import BaseCommand
from django.db import connections

from naive.models import Flag, Seller
from naive.views import flag_row


def _write(job):
    seller_id, rows = job
    seller = Seller(pk=seller_id)
    return len(Flag.objects.bulk_create([flag_row(seller, {"buyer": row, **row}) for row in rows]))


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--seller", type=int, required=True)
        parser.add_argument("--chunk", type=int, default=1000)
        parser.add_argument("--jobs", type=int, default=1)

    def handle(self, *args, file, seller, chunk, jobs, **options):
        with open(file, newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            chunks = iter(lambda: list(itertools.islice(reader, chunk)), [])
            connections.close_all()  # no connection crosses the fork: each process opens its own, once
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                written = sum(pool.imap_unordered(_write, ((seller, rows) for rows in chunks)))
        self.stdout.write(json.dumps({"created": written}))
