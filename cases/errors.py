"""Messages shown to people when something cannot be done, as named constants tests import, and the exceptions that carry them."""

from django.utils.translation import gettext_lazy as _

TRANSITION_NOT_ALLOWED = _("Deze stap kan nu niet: de zaak staat op '%(state)s'. Vernieuw de pagina en kies een stap die nu kan.")
CONCURRENT_CHANGE = _("Een collega heeft deze zaak net gewijzigd (nu: '%(state)s'). Uw wijziging is niet opgeslagen; bekijk de zaak opnieuw.")
CONCURRENT_REPORT = _("Een collega heeft het verslag van het horen net vastgelegd of gewijzigd. Uw tekst is niet opgeslagen; lees eerst dat verslag.")
TAG_DECIDED_MEANWHILE = _("Een collega heeft norm %(code)s net beoordeeld (nu: %(status)s). Uw keuze is niet opgeslagen; bekijk de zaak opnieuw.")
CONCURRENT_ASSIGN = _("Een collega heeft de behandelaar van deze zaak net gewijzigd (nu: %(name)s). Uw keuze is niet opgeslagen.")
NO_PERMISSION = _("U mag zaken niet behandelen.")
UNHEARD_BUT_FOUNDED = _(
    "De indiener is niet gehoord omdat de klacht kennelijk ongegrond was (Awb 9:10 lid 2a). Een klacht die (deels) "
    "gegrond is, moet na het horen worden beoordeeld: nodig de indiener uit voor een hoorgesprek, of kies een ander oordeel."
)
RECEIVED_IN_FUTURE = _("De datum van ontvangst kan niet in de toekomst liggen.")
RECEIVED_TOO_EARLY = _("Controleer het jaartal van de datum van ontvangst: die ligt vóór %(year)s.")
UNKNOWN_NORM = _("Onbekende norm: %(code)s.")
RETIRED_NORM = _(
    "Norm %(code)s geldt niet meer (ingetrokken, of niet in het handvest dat nu geldt). Kies een norm die nu geldt; "
    "een zaak die deze norm al had, houdt haar."
)
EXTENSION_TWICE = _(
    "De termijn is al een keer verlengd. Nog eens uitstellen mag alleen als de indiener daar schriftelijk mee instemt (Awb 9:11 lid 3): "
    "vraag eerst om instemming bij 'Gesprek met de indiener'."
)
EXTENSION_TOO_LONG = _("Verlengen kan met ten hoogste vier weken (Awb 9:11 lid 2): uiterlijk %(latest)s.")
EXTENSION_NOT_LATER = _("De nieuwe datum moet na de huidige termijn (%(current)s) liggen.")
EXTENSION_NEEDS_REASON = _("Vermeld waarom het langer duurt; dat staat in de tussentijdse mededeling.")
EXTENSION_CLOSED = _("Een afgehandelde zaak kan niet meer verlengd worden.")
EXTENSION_TOO_LATE = _(
    "De antwoordtermijn liep af op %(due)s. Verdagen kan alleen zolang die termijn loopt (Awb 9:11 lid 2); "
    "stuur de indiener nu zo snel mogelijk het antwoord, of een bericht waarom het later wordt."
)
NO_CONTACT = _("Vul een e-mailadres of een postadres in, zodat wij u kunnen antwoorden.")
EMPTY_TEXT = _("Beschrijf uw klacht of suggestie.")
CASE_IS_MERGED = _("Deze zaak is samengevoegd met %(number)s; behandel die zaak.")
STEP_NEEDS_LETTER = _("'%(step)s' gaat altijd met een brief aan de indiener (Awb 9:12, 9:8 lid 3, 2:3): kies 'Met brief…'.")
CLOSE_ANSWER_STRANDED = _(
    "Afsluiten kan nog niet: de antwoordbrief is niet verstuurd (mislukt of tegengehouden). "
    "Verstuur hem opnieuw onder 'Brieven', zo nodig per post, en sluit de zaak daarna af."
)
ANSWER_NEEDS_HEARING = _(
    "Eerst horen: plan een hoorzitting, leg op of na die dag het verslag vast (Awb 9:10 lid 3) en antwoord dan, "
    "of leg vast waarom de indiener niet gehoord wordt (Awb 9:10 lid 2)."
)
HEARING_REPORT_EMPTY = _("Schrijf het verslag van het horen: wie er waren, wat de indiener vertelde en wat de medewerker zei.")
HEARING_REPORT_NOT_YET = _(
    "Een verslag van het horen kan pas op of na de dag van de hoorzitting, en zolang de klacht niet beantwoord is (nu: '%(state)s')."
)
HEARING_NEEDS_REASON = _("Vermeld waarom er geen hoorzitting is (Awb 9:10 lid 2).")
HEARING_NEEDS_GROUND = _("Kies de grond uit Awb 9:10 lid 2: alleen dan mag de indiener niet gehoord worden.")
HEARING_NOT_WAIVABLE = _("Afzien van horen kan alleen bij een klacht in behandeling die nog niet gehoord is (nu: '%(state)s').")
NOTE_EMPTY = _("Een notitie kan niet leeg zijn.")
CALLBACK_NOT_OWED = _("Bij deze zaak staat geen terugbelverzoek open.")
CALLBACK_DONE_ALREADY = _("Het terugbellen is al vastgelegd op %(at)s; er is niets nieuws opgeslagen.")
UNKNOWN_STEP = _("Onbekende stap: %(name)s")


class WorkflowError(Exception):
    """A step that cannot be taken; ``str(exc)`` is a Dutch message for the officer."""


class CaseConflict(WorkflowError):
    """Someone else changed the case first."""
