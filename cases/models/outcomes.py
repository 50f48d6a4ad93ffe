"""How a case ends, and the legal grounds an officer names on the way: a complaint's and a suggestion's outcomes,
the grounds of Awb 9:8 for not handling a complaint and of Awb 9:10 lid 2 for not hearing the complainant."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ComplaintOutcome", "DeclineGround", "HearingWaiverGround", "SuggestionOutcome"]


class ComplaintOutcome(models.TextChoices):
    WELL_FOUNDED = "gegrond", _("gegrond")
    PARTLY_FOUNDED = "deels_gegrond", _("deels gegrond")
    UNFOUNDED = "ongegrond", _("ongegrond")
    NO_JUDGEMENT = "geen_oordeel", _("geen oordeel")
    RESOLVED_INFORMALLY = "informeel_opgelost", _("naar tevredenheid opgelost (Awb 9:5)")
    FORWARDED = "doorgezonden", _("doorgezonden (Awb 2:3)")
    DECLINED = "niet_behandeld", _("niet in behandeling genomen (Awb 9:8)")
    WITHDRAWN = "ingetrokken", _("ingetrokken")


class SuggestionOutcome(models.TextChoices):
    ADOPTED = "adopted", _("overgenomen")
    NEXT_REVISION = "next_revision", _("meegenomen in de volgende herziening")
    DECLINED = "declined", _("niet overgenomen (met redenen)")


class DeclineGround(models.TextChoices):
    """Grounds of Awb 9:8 on which a complaint need not be handled."""

    ALREADY_HANDLED = "9:8-1a", _("Awb 9:8 lid 1a: over deze gedraging is al eerder een klacht behandeld")
    OLDER_THAN_A_YEAR = "9:8-1b", _("Awb 9:8 lid 1b: de gedraging was langer dan een jaar geleden")
    OBJECTION_POSSIBLE = "9:8-1c", _("Awb 9:8 lid 1c: u kon bezwaar maken")
    APPEAL_OPEN = "9:8-1d", _("Awb 9:8 lid 1d: er staat of stond beroep open bij de bestuursrechter")
    COURT = "9:8-1e", _("Awb 9:8 lid 1e: de gedraging ligt of lag bij een andere rechter")
    CRIMINAL = "9:8-1f", _("Awb 9:8 lid 1f: de gedraging is onderwerp van strafrechtelijk onderzoek")
    INSUFFICIENT_INTEREST = "9:8-2", _("Awb 9:8 lid 2: het belang of het gewicht van de gedraging is kennelijk onvoldoende")


class HearingWaiverGround(models.TextChoices):
    """The only grounds on which the complainant need not be heard (Awb 9:10 lid 2)."""

    UNFOUNDED = "kennelijk_ongegrond", _("Awb 9:10 lid 2a: de klacht is kennelijk ongegrond")
    DECLINED = "afgezien", _("Awb 9:10 lid 2b: de indiener wil niet gehoord worden")
    NO_REPLY = "niet_gereageerd", _("Awb 9:10 lid 2c: de indiener heeft niet binnen een redelijke termijn gezegd gehoord te willen worden")
