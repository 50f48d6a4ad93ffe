"""Dutch messages of the conversation, as named constants that tests import."""

from django.utils.translation import gettext_lazy as _

QUESTION_EMPTY = _("Schrijf eerst uw vraag aan de indiener.")
QUESTION_CASE_CLOSED = _("Deze zaak is afgesloten; een vraag stellen kan alleen bij een open zaak.")
QUESTION_ALREADY_OPEN = _("Er staat al een vraag open bij de indiener. Wacht op het antwoord, of trek die vraag eerst in.")
QUESTION_NOT_FOUND = _("Deze vraag hoort niet bij uw zaak.")
QUESTION_NOT_OPEN = _("Deze vraag is al beantwoord of ingetrokken. U hoeft niets meer te doen.")
REPLY_EMPTY = _("Schrijf uw antwoord, of voeg een bestand toe.")
REPLY_TOO_LONG = _("Uw antwoord is te lang: ten hoogste %(max)s tekens.")
# Kept in the answer above an addition that came after it (another tab, the page left open).
ADDITION_HEADER = _("Aanvulling van %(date)s:")

CONSENT_NOT_NEEDED = _(
    "De termijn is nog niet verlengd. Verleng eerst één keer met een tussentijdse mededeling (Awb 9:11 lid 2); daarvoor is geen instemming nodig."
)
CONSENT_ALREADY_PENDING = _("Er staat al een verzoek om instemming open bij de indiener.")
CONSENT_DATE_NOT_LATER = _("De nieuwe datum moet na de huidige termijn (%(current)s) liggen.")
CONSENT_NEEDS_REASON = _("Vermeld waarom het langer duurt; dat staat in het verzoek aan de indiener.")
CONSENT_NOT_PENDING = _("Op dit verzoek is al geantwoord. U hoeft niets meer te doen.")
CONSENT_NOT_IN_WRITING = _(
    "Instemmen met langer wachten moet schriftelijk (Awb 9:11 lid 3): via de eigen pagina, per e-mail of per brief. "
    "Leg een telefonisch 'ja' vast als notitie en vraag de indiener het schriftelijk te bevestigen."
)
CONSENT_EXPIRED_NOTE = _("Verzoek om instemming verlopen zonder antwoord: de voorgestelde datum is voorbij of de zaak is beantwoord.")
CONSENT_EXPIRED = _(
    "Dit verzoek is verlopen: de voorgestelde datum is voorbij of uw zaak is al beantwoord. U hoeft niets meer te doen."
)
CONSENT_NOT_FOUND = _("Dit verzoek hoort niet bij uw zaak.")
CONSENT_ANSWER_UNKNOWN = _("Kies: akkoord of niet akkoord.")
CONSENT_CASE_ANSWERED = _("De zaak is al beantwoord of afgesloten; uitstel is niet meer nodig.")

SATISFACTION_SCORE = _("Kies een cijfer van 1 tot 5.")
SATISFACTION_ALREADY = _("U heeft deze vraag al beantwoord. Dank u wel.")
SATISFACTION_NOT_ASKED = _("Wij hebben u deze vraag (nog) niet gesteld.")
REOPEN_NOT_PENDING = _("Over dit verzoek om heropening is al besloten.")
REOPEN_NEEDS_EXPLANATION = _("Leg uit waarom de zaak niet wordt heropend; de indiener krijgt deze uitleg.")
REOPEN_CASE_NOT_CLOSED = _("De zaak is niet afgesloten en kan dus niet heropend worden.")
REOPEN_NEW_TERM = _("Nieuwe antwoordtermijn: uiterlijk %(date)s.")

OMBUDSMAN_ONLY_COMPLAINTS = _("Alleen een klacht kan aan de ombudsman worden voorgelegd.")
OMBUDSMAN_NOT_ANSWERED = _("De indiener kan pas naar de ombudsman als de klacht is afgehandeld (Awb 9:18).")
OMBUDSMAN_DATE_IN_FUTURE = _("De datum kan niet in de toekomst liggen.")
OMBUDSMAN_UNKNOWN = _("Kies de Nationale ombudsman of de ombudsman van de gemeente.")
OMBUDSMAN_NOT_RECORDED = _("Leg eerst vast dat de indiener naar de ombudsman ging.")
OMBUDSMAN_FINDINGS_EMPTY = _("Vul de bevindingen van de ombudsman of de genomen maatregelen in.")
REPLY_SHORTENED = _("[…] (ingekort; de hele e-mail staat bij de zaak)")
