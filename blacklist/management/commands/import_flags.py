"""`manage.py import_flags --seller ID FILE`: a seller's history, in bulk, through the flag service."""

import collections
import csv
import itertools
import json
import multiprocessing
import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from rest_framework.exceptions import ValidationError
from tqdm import tqdm

from blacklist.models import Seller
from blacklist.serializers import flag_input, flag_input_item
from blacklist.services.flags import flag_submit_many
from riskhub.errors import flatten_detail

BUYER_COLUMNS = ("email", "phone", "country", "platform_id", "address", "payment_fingerprint")
FLAG_COLUMNS = ("reason", "order_ref", "occurred_at", "note")
COLUMNS = BUYER_COLUMNS + FLAG_COLUMNS


def api_body(row):
    """A CSV row or flat NDJSON object → the API's flag body (empty cells are absent fields).
    An NDJSON object already in the API's shape ({"buyer": {...}, ...}) is taken as it is."""
    if not isinstance(row, dict) or "buyer" in row:
        return row
    unknown = sorted(k for k in row if k not in COLUMNS)
    body = {k: v for k, v in row.items() if k in FLAG_COLUMNS and v not in (None, "")}
    body["buyer"] = {k: v for k, v in row.items() if k in BUYER_COLUMNS and v not in (None, "")}
    for name in unknown:  # the serializer refuses them, naming the column
        body[name] = row[name]
    return body


def read_rows(path, fmt):
    """(line number, row) pairs, streamed: memory stays constant whatever the file's size."""
    with open(path, newline="", encoding="utf-8") as handle:
        if fmt == "csv":
            reader = csv.DictReader(handle)
            missing = {"reason", "order_ref"} - set(reader.fieldnames or ())
            if missing:
                raise CommandError(f"CSV header lacks: {', '.join(sorted(missing))} (columns: {', '.join(COLUMNS)})")
            for row in reader:
                yield reader.line_num, row
        else:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except ValueError:
                        yield number, ValueError("Not a JSON object.")


class Command(BaseCommand):
    help = (
        "Import flags for one seller from a CSV (header: " + ",".join(COLUMNS) + ") or NDJSON file "
        "(one flag per line, flat like the CSV or shaped like the POST /api/v1/flags body). Idempotent: "
        "a rerun skips flags already there. Rows that fail validation go to an error report."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--seller", type=int, required=True, help="The seller id the flags belong to.")
        parser.add_argument("--format", choices=["csv", "ndjson"], help="Default: from the file's extension.")
        parser.add_argument("--errors", help="Error report (NDJSON). Default: FILE.errors.ndjson")
        parser.add_argument("--chunk", type=int, default=1000, help="Flags per transaction (default 1000).")
        parser.add_argument(
            "--analyze-after",
            type=int,
            default=ANALYZE_AFTER,
            help=f"ANALYZE the tables the import grows once it has created this many flags, and again "
            f"each time it has doubled them (default {ANALYZE_AFTER:,}; 0: never). PostgreSQL only.",
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="Processes validating and writing chunks side by side (default 1). Up to the cores "
            "the database leaves free: each job is one database connection.",
        )

    def handle(self, *args, file, seller, format, errors, chunk, jobs, analyze_after, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        owner = Seller.objects.filter(pk=seller, is_active=True).first()
        if owner is None:
            raise CommandError(f"No active seller with id {seller}.")
        fmt = format or ("csv" if path.suffix.lower() == ".csv" else "ndjson")
        if chunk < 1 or jobs < 1 or analyze_after < 0:
            raise CommandError("--chunk and --jobs must be positive, --analyze-after not negative.")
        report = Path(errors or f"{path}.errors.ndjson")
        counts = collections.Counter(created=0, existing=0, errors=0)
        started = time.monotonic()
        rows = read_rows(path, fmt)
        chunks = iter(lambda: list(itertools.islice(rows, chunk)), [])
        statistics = StatisticsUpkeep(analyze_after)
        with report.open("w") as out, tqdm(unit="flag", file=sys.stderr, disable=None) as bar:
            for done, (chunk_counts, chunk_errors) in imported(owner.pk, chunks, jobs):
                counts.update(chunk_counts)
                out.writelines(chunk_errors)
                bar.update(done)
                statistics.created(counts["created"])
        elapsed = time.monotonic() - started
        total = sum(counts.values())
        rate = total / elapsed if elapsed else 0
        self.stderr.write(
            f"{total} rows in {elapsed:.1f} s ({rate:,.0f}/s): {counts['created']} created, "
            f"{counts['existing']} already there, {counts['errors']} errors"
            + (f" (see {report})" if counts["errors"] else "")
            + (f"; statistics refreshed {len(statistics.runs)}×" if statistics.runs else "")
        )
        if not counts["errors"]:
            report.unlink()
        self.stdout.write(json.dumps(dict(counts)))


# The tables whose statistics the write path's and the decision's plans read: the seller's share
# of the flags, the identifiers' size, the flags' identifier rows.
ANALYZED_TABLES = ("blacklist_flag", "identity_identifier", "blacklist_flagidentifier")
ANALYZE_AFTER = 5_000


class StatisticsUpkeep:
    """ANALYZE as an import grows the tables, as PostgreSQL's documentation advises after bulk
    loads. Autovacuum analyzes a table only after it has changed by a tenth and at most once a
    minute: meanwhile a seller new to the statistics is planned as having one flag, and each
    chunk's idempotency lookup read every flag the import had written so far (docs/benchmarks.md).
    At `first` created flags and at every doubling since: about log₂(rows) runs of ≈ 0.3 s."""

    def __init__(self, first):
        self.next_at = first if first and connection.vendor == "postgresql" else None
        self.runs = []  # the created counts it ran at

    def created(self, count):
        if self.next_at is None or count < self.next_at:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(ANALYZED_TABLES)}")
        self.runs.append(count)
        self.next_at = 2 * count


def imported(seller_id, chunks, jobs):
    """(rows, (counts, error report lines)) for each chunk, in the file's order. One job: in this
    process. More: that many forked processes, each chunk its own transaction in one of them, at
    most two chunks per job read ahead (memory stays flat)."""
    if jobs == 1:
        seller = Seller.objects.get(pk=seller_id)
        for batch in chunks:
            yield len(batch), chunk_import(seller, batch)
        return
    connections.close_all()  # no connection crosses the fork: each process opens its own
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        pending = collections.deque()
        for batch in chunks:
            pending.append((len(batch), pool.apply_async(_chunk_job, (seller_id, batch))))
            if len(pending) >= 2 * jobs:
                done, result = pending.popleft()
                yield done, result.get()
        while pending:
            done, result = pending.popleft()
            yield done, result.get()


def _chunk_job(seller_id, batch):
    return chunk_import(Seller.objects.get(pk=seller_id), batch)


def chunk_import(seller, batch):
    """Validate and file one chunk of (line number, row) in one transaction: (counts, error lines)."""
    counts = collections.Counter()
    errors = []
    items = []
    for number, row in batch:
        try:
            if isinstance(row, Exception):
                raise ValidationError({"non_field_errors": [str(row)]})
            items.append(flag_input_item(flag_input(api_body(row))))
        except ValidationError as exc:
            counts["errors"] += 1
            error = {"code": "validation_error", "details": flatten_detail(exc.detail)}
            errors.append(json.dumps({"line": number, "error": error}) + "\n")
    for _, created in flag_submit_many(seller=seller, items=items):
        counts["created" if created else "existing"] += 1
    return counts, errors
