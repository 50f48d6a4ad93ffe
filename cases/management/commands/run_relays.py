from django.core.management.base import BaseCommand

from cases.tasks import inbound_relay, outbox_relay


class Command(BaseCommand):
    help = (
        "Run beat's relays once, here: register the web form submissions and process the e-mail a crash left stored, "
        "then write missing acknowledgements and send what is due. `make run` has no beat: it runs this on every start, "
        "so what a stopped or crashed run left is taken up (with a worker, beat runs them every five minutes)."
    )

    def handle(self, *args, **options):
        # The tasks' own functions, called in this process: they are what beat would run.
        taken = inbound_relay()
        outbox = outbox_relay()
        self.stdout.write(
            f"relays: {taken} stored submission(s) or e-mail(s) taken up; {outbox['written']} acknowledgement(s) written, "
            f"{outbox['queued']} letter(s) sent or queued, {outbox['unknown']} shown as unknown"
        )
