from django.core.management.base import BaseCommand

from cases.workflow.state_diagram import mermaid_state_diagram


class Command(BaseCommand):
    help = "Print the case workflow as a Mermaid state diagram, generated from the django-fsm-2 transitions."

    def handle(self, *args, **options):
        self.stdout.write(mermaid_state_diagram())
