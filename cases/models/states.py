"""The states of both workflows (complaint and suggestion) and what the citizen reads for each.

The named groups of states (``CaseState.open_states`` and the rest) are the one place that says which
states count as what; ``cases.models.case`` moves a case between them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["PUBLIC_STATE_TEXT", "CaseState"]


class CaseState(models.TextChoices):
    """States of both workflows; the complaint and suggestion transitions guard which apply."""

    RECEIVED = "received", _("ontvangen")
    ACKNOWLEDGED = "acknowledged", _("ontvangst bevestigd")
    IN_TREATMENT = "in_treatment", _("in behandeling")
    HEARING = "hearing", _("hoorzitting gepland")
    EXPLAINED = "explained", _("uitleg gegeven")
    ANSWERED = "answered", _("beantwoord")
    UNDER_CONSIDERATION = "under_consideration", _("wordt bekeken")
    RESPONDED = "responded", _("gereageerd")
    CLOSED = "closed", _("afgesloten")

    @classmethod
    def open_states(cls) -> list[str]:
        """Every state but closed."""
        return [state for state in cls.values if state != cls.CLOSED]

    @classmethod
    def closed_states(cls) -> list[str]:
        return [cls.CLOSED]

    @classmethod
    def answered_states(cls) -> list[str]:
        """The answer (or response) has gone, or the case ended: no answer term runs any more."""
        return [cls.ANSWERED, cls.RESPONDED, cls.CLOSED]

    @classmethod
    def awaiting_answer_states(cls) -> list[str]:
        """Acknowledged and not yet answered: the answer term (Awb 9:11) is the next deadline."""
        return [state for state in cls.open_states() if state != cls.RECEIVED and state not in cls.answered_states()]

    @classmethod
    def hearing_waivable_states(cls) -> list[str]:
        """Where a complaint is being handled and its hearing can still be waived (Awb 9:10 lid 2)."""
        return [cls.IN_TREATMENT, cls.HEARING, cls.EXPLAINED]


# What a citizen reads on the private page for each state (plain Dutch, B1).
PUBLIC_STATE_TEXT = {
    CaseState.RECEIVED: _("Wij hebben uw bericht ontvangen."),
    CaseState.ACKNOWLEDGED: _("Wij hebben de ontvangst bevestigd. Uw bericht wordt binnenkort bekeken."),
    CaseState.IN_TREATMENT: _("Een medewerker behandelt uw klacht."),
    CaseState.HEARING: _("Wij willen graag met u praten over uw klacht. U krijgt of kreeg hiervoor een uitnodiging."),
    CaseState.EXPLAINED: _("U heeft uitleg gekregen. Het schriftelijke antwoord volgt."),
    CaseState.ANSWERED: _("U heeft een antwoord gekregen."),
    CaseState.UNDER_CONSIDERATION: _("Wij bekijken uw suggestie."),
    CaseState.RESPONDED: _("Wij hebben op uw suggestie gereageerd."),
    CaseState.CLOSED: _("Uw zaak is afgesloten."),
}
