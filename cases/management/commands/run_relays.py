import logging
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.tasks import inbound_relay, outbox_relay

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run beat's relays here: register the web form submissions and process the e-mail a crash left stored, "
        "then write missing acknowledgements and send what is due. `make run` has no beat: it runs this once on every start, "
        "so what a stopped or crashed run left is taken up, and with --every 300 beside the server, so what fails while it "
        "serves is taken up within five minutes too (with a worker, beat runs them every five minutes)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            metavar="SECONDS",
            help="run the relays again every SECONDS until stopped, the first time SECONDS from now (without it: once, now)",
        )
        parser.add_argument("--rounds", type=int, default=0, help="with --every: stop after this many rounds (0: never)")

    def handle(self, *args, every: float = 0, rounds: int = 0, **options):
        if every < 0 or rounds < 0:
            raise CommandError("--every and --rounds are not negative")
        if not every:
            self._round(quiet=False)
            return
        done = 0
        while not rounds or done < rounds:
            time.sleep(every)
            try:
                self._round(quiet=True)
            except Exception:  # a locked SQLite file, a database restarting: the next round tries again, as beat's would
                logger.exception("the relays failed this round; trying again in %s seconds", every)
            done += 1

    def _round(self, *, quiet: bool) -> None:
        # The tasks' own functions, called in this process: they are what beat would run.
        taken = inbound_relay()
        outbox = outbox_relay()
        if quiet and not (taken or outbox["written"] or outbox["queued"] or outbox["unknown"]):
            return
        stamp = f"{timezone.localtime():%Y-%m-%d %H:%M:%S} " if quiet else ""
        self.stdout.write(
            f"{stamp}relays: {taken} stored submission(s) or e-mail(s) taken up; {outbox['written']} acknowledgement(s) written, "
            f"{outbox['queued']} letter(s) sent or queued, {outbox['unknown']} shown as unknown"
        )
        self.stdout.flush()
