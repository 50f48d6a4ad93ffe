import json as json_module

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from cases.tagging import NoNormsToTag, officer_messages, tagger_train


class Command(BaseCommand):
    help = (
        "Retrain the tagger from the corpus plus the officers' confirmed tags, score it on the held-out split, "
        "and activate it unless it scores worse than the active model (--force activates anyway)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Activate the new model even if it scores worse.")
        parser.add_argument("--json", action="store_true", help="Print the result as one JSON object.")

    def handle(self, *args, force: bool, json: bool, **options):
        self.stderr.write(f"training on the corpus plus {len(officer_messages())} officer-decided cases")
        # One bar over the whole training: every fit (calibration parts, then the model that tags) fits the
        # kind classifier and one classifier per norm.
        bar = tqdm(desc="training the tagger", unit="label", disable=None)

        def progress(step) -> None:
            bar.total = step.steps * step.rounds
            bar.set_postfix(stage=step.stage, label=step.label)
            bar.update(1)

        try:
            model, activated, reason = tagger_train(force=force, progress=progress)
        except NoNormsToTag as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        result = {"version": model.version, "activated": activated, "reason": reason, **{k: v for k, v in model.scores.items() if k != "per_norm"}}
        if json:
            self.stdout.write(json_module.dumps(result))
            return
        for key in ("norm_micro_f1", "norm_macro_f1", "kind_accuracy", "exact_match"):
            if key in model.scores:
                self.stdout.write(f"{key:16} {model.scores[key]:.3f}")
        for warning in model.scores.get("warnings", []):
            # e.g. a norm of this charter the corpus has no examples of: it is not suggested until officers confirm some.
            self.stderr.write(self.style.WARNING(f"warning: {warning}"))
        style = self.style.SUCCESS if activated else self.style.WARNING
        self.stdout.write(style(f"model {model.version[:12]}: {reason}"))
