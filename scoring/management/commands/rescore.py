import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from identity.models import Buyer
from scoring.services import score_rescore


class Command(BaseCommand):
    help = (
        "Rebuild buyer scores from their flags: all scored buyers (--all), given buyers (--buyer), or "
        "the buyers some sellers flagged (--seller). Runs in the Celery workers by default and waits, "
        "with a progress bar; --inline computes in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Every buyer with a counting flag.")
        parser.add_argument("--buyer", type=int, action="append", default=[], help="A buyer id (repeatable).")
        parser.add_argument("--seller", type=int, action="append", default=[], help="A seller id (repeatable).")
        parser.add_argument("--inline", action="store_true", help="Compute here instead of in the workers.")
        parser.add_argument("--chunk", type=int, default=2000, help="Buyers per chunk / task (default 2000).")
        parser.add_argument("--no-wait", action="store_true", help="Enqueue and return without waiting.")
        parser.add_argument("--timeout", type=float, default=3600, help="Seconds to wait for the workers.")

    def handle(self, *args, **opts):
        if not (opts["all"] or opts["buyer"] or opts["seller"]):
            raise CommandError("Say which buyers: --all, --buyer ID or --seller ID.")
        if opts["chunk"] < 1:
            raise CommandError("--chunk must be positive.")
        selection = {
            "buyer_ids": opts["buyer"] or None,
            "seller_ids": opts["seller"] or None,
        }
        started = time.monotonic()
        label = "rescoring" if opts["inline"] else "enqueueing"
        with tqdm(desc=label, unit="buyer", file=self.stderr._out, disable=None) as bar:
            total = score_rescore(**selection, inline=opts["inline"], chunk=opts["chunk"], progress=bar.update)
        if not opts["inline"] and not opts["no_wait"]:
            self._wait(total, opts["timeout"])
        elapsed = time.monotonic() - started
        self.stderr.write(f"rescored {total} buyers in {elapsed:.1f} s")
        self.stdout.write(str(total))

    def _wait(self, total, timeout):
        """Progress = buyers whose "needs score" mark the workers have cleared."""
        deadline = time.monotonic() + timeout
        with tqdm(total=total, desc="rescoring", unit="buyer", file=self.stderr._out, disable=None) as bar:
            while True:
                pending = Buyer.objects.filter(needs_score_since__isnull=False).count()
                bar.n = max(0, total - pending)
                bar.refresh()
                if pending == 0:
                    return
                if time.monotonic() > deadline:
                    raise CommandError(f"{pending} buyers still waiting after {timeout:.0f} s (workers running?)")
                time.sleep(0.5)
