"""What kind of mail this is: complaint, suggestion, other, or advertising (which is not registered).

Advertising is always decided here, by rules (charter POST-REGISTRATIE: "alle post ... behalve
reclame"). For complaint / suggestion / other the trained tagger's kind classifier decides as
soon as a model is ready (``cases.tagging.kind_classifier_if_ready``: the active model, never
trained here). The model is loaded only where it may be: on a Celery worker, in ``import_eml``
and the inbound relay, and in eager mode; a web process that hands its tasks to a worker never
loads spaCy (``cases.tagging.models_stay_out``), so mail it takes in is decided by the rules. A
classifier plugged in with ``set_kind_classifier`` takes its place (tests). A complaint or suggestion the classifier is unsure of (probability below
``UNCERTAIN_BELOW``) goes to triage as 'other', with the guess and its probability in the reason.
Without a model, or when it fails, a small rule-based fallback decides, and anything it is
unsure about is 'other' so that an officer looks at it in triage.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cases import tagging

logger = logging.getLogger(__name__)

COMPLAINT = "complaint"
SUGGESTION = "suggestion"
OTHER = "other"
ADVERTISING = "advertising"
KINDS = (COMPLAINT, SUGGESTION, OTHER)

# text -> kind, or text -> (kind, probability)
KindClassifier = Callable[[str], "str | tuple[str, float]"]
_kind_classifier: KindClassifier | None = None
# A complaint or suggestion the trained classifier gives less than this probability waits in
# triage: one wrongly made case costs an officer more than one look at the triage list.
UNCERTAIN_BELOW = 0.6

# Headers that bulk mailers (Mailchimp, Laposta, Brevo, ...) put on campaigns.
CAMPAIGN_HEADERS = ("List-Unsubscribe", "X-Campaign", "X-Campaign-Id", "X-Mailchimp-Campaign", "X-MC-User", "X-Laposta-Campaign", "X-Newsletter", "Feedback-ID")
ADVERTISING_PHRASES = (
    "afmelden voor deze nieuwsbrief",
    "afmelden voor onze nieuwsbrief",
    "uitschrijven voor deze nieuwsbrief",
    "klik hier om je af te melden",
    "klik hier om u af te melden",
    "wilt u deze e-mail niet meer ontvangen",
    "wil je deze e-mail niet meer ontvangen",
    "bekijk deze e-mail in je browser",
    "bekijk deze e-mail in uw browser",
    "bekijk de online versie",
    "uitschrijven voor deze mailing",
    "afmelden voor deze mailing",
    "unsubscribe",
)
OFFER_WORDS = re.compile(
    r"\b(aanbieding(en)?|korting|gratis|actie(prijs)?|offerte|bestel (nu|direct|vandaag)|shop nu|profiteer|nu voor maar|"
    r"uitverkoop|black friday|webinar|demo aanvragen|exclusief voor u|speciale prijs|€\s?\d+[,.]?\d*\s*(excl|incl)\.?)\b",
    re.I,
)

COMPLAINT_WORDS = re.compile(
    r"\b(klacht(en)?|klaag|klagen|beklag|ontevreden|teleurgesteld|teleurstellend|onacceptabel|onbehoorlijk|schandalig|belachelijk|"
    r"onbegrijpelijk|onbeschoft|onvriendelijk|grof|respectloos|boos|woedend|geërgerd|ergernis|irritant|frustrerend|vervelend|"
    r"slecht(e|er)?|niet (handig|normaal|te doen|toegankelijk|beschikbaar|bereikbaar|doorgegaan|door|teruggebeld|gebeld|gereageerd|geholpen)|"
    r"geen (reactie|antwoord|ontvangstbevestiging|bericht|noodnummer)|niets? (meer )?gehoord|nog steeds|al (weken|maanden|dagen)|"
    r"gewacht|wachten|wachttijd|wachtrij|te (laat|lang|hard|vol)|erg laat|pas na|kwijtgeraakt|kwijt|zoekgeraakt|"
    r"ligt (er )?(weer )?(uit|plat)|werkt (weer )?niet|storing|foutmelding|doorverbonden|overlast|stank|afgewimpeld|"
    r"opgehangen|afgesnauwd|uitgelachen|waarom (wordt|werd|is|zijn|moet|kan)|wie gaat (dat|dit) betalen)\b",
    re.I,
)
SUGGESTION_WORDS = re.compile(
    r"\b(suggestie|verbetersuggestie|verbeterpunt|voorstel|idee|tip|zou(den)? (het )?(fijn|handig|mooi|beter|prettig) zijn|"
    r"zou het mogelijk zijn|is het (misschien )?mogelijk om|misschien (is het )?een idee|wellicht (kunt|kunnen)|"
    r"kunnen jullie (niet )?(ook|eens|een)|kunt u (niet )?(ook|eens|overwegen)|overweeg|ik stel voor|mijn advies|waarom niet)\b",
    re.I,
)
# Questions, forms, objections, thanks and invitations: mail for the right department, not a case.
OTHER_WORDS = re.compile(
    r"\b(graag (wil|zou) ik (weten|informeren)|ik wil (graag )?(weten|vragen|aanvragen|melden|uitschrijven|inschrijven|afmelden)|kunt u mij|"
    r"hoe (doe|kan|moet) ik|bijgaand|bijgevoegd|in de bijlage|formulier|aanvraag|factuur|aanslag(nummer)?|bezwaar|zienswijze|"
    r"compliment|bedank(en|t)|dank(je|u)? wel|uitnodig(ing|en)|nodigt? .{0,40} uit|nieuwsbrief|afspraak maken|vraag over|"
    r"graag een afspraak|rondleiding|informatie over|wob|woo-verzoek)\b",
    re.I,
)


@dataclass(frozen=True)
class Classification:
    kind: str  # complaint | suggestion | other | advertising
    source: str  # "rules", "classifier", "classifier, uncertain" or "advertising rules"
    reason: str = ""
    confidence: float | None = None  # the classifier's probability of its guess


UNCERTAIN_SOURCE = "classifier, uncertain"
GUESS_RE = re.compile(rf"\({re.escape(UNCERTAIN_SOURCE)}: (?P<kind>[a-z]+)\? (?P<confidence>[01]\.\d+)\)")


def routing_reason(classification: Classification) -> str:
    """What the intake notes of its decision, e.g. ``other (classifier, uncertain: complaint? 0.41)``."""
    detail = f": {classification.reason}" if classification.reason and classification.source == UNCERTAIN_SOURCE else ""
    return f"{classification.kind} ({classification.source}{detail})"


def uncertain_guess(reason: str) -> tuple[str, float] | None:
    """The classifier's guess and its probability in a routing reason (``routing_reason``), when it was unsure."""
    found = GUESS_RE.search(reason or "")
    return (found["kind"], float(found["confidence"])) if found else None


def set_kind_classifier(fn: KindClassifier | None) -> None:
    """Plug in a kind classifier: ``fn(text) -> kind`` or ``(kind, probability)``; None unplugs it
    (then the trained tagger's decides when a model is ready)."""
    global _kind_classifier
    _kind_classifier = fn


def get_kind_classifier() -> KindClassifier | None:
    """The plugged-in classifier, else the trained tagger's when a model is ready, else None."""
    if _kind_classifier is not None:
        return _kind_classifier
    try:
        return tagging.kind_classifier_if_ready()
    except Exception:
        logger.exception("the trained kind classifier could not be loaded; falling back to the rules")
        return None


def advertising_reason(*, subject: str, text: str, headers: Mapping[str, str]) -> str:
    """Why this message is advertising, or '' when it is not.

    Advertising is a mailing (a campaign header such as List-Unsubscribe, or a newsletter's
    unsubscribe line) that offers something. A mailing without an offer (a club's newsletter) is
    post like any other, and a citizen's letter that mentions an offer is no mailing.
    """
    lowered = f"{subject}\n{text}".lower()
    campaign = [name for name in CAMPAIGN_HEADERS if headers.get(name)]
    phrases = [phrase for phrase in ADVERTISING_PHRASES if phrase in lowered]
    if not (campaign or phrases):
        return ""
    offers = {match.group(0).lower() for match in OFFER_WORDS.finditer(f"{subject}\n{text}")}
    if not offers:
        return ""
    sign = (campaign or phrases)[0]
    return f"reclame: {sign}; aanbod: {', '.join(sorted(offers)[:3])}"


def rule_kind(text: str, subject: str = "") -> str:
    """The fallback: words that complain, suggest, or ask; unsure means 'other' (triage)."""
    whole = f"{subject}\n{text}"
    complaint = len(COMPLAINT_WORDS.findall(whole)) + whole.count("!!") + 0.5 * whole.count("??")
    suggestion = len(SUGGESTION_WORDS.findall(whole))
    other = len(OTHER_WORDS.findall(whole))
    if re.search(r"\b(klacht|ik wil (graag )?klagen|dien(en)? (hierbij )?een klacht in)\b", whole, re.I):
        complaint += 2
    if re.search(r"\b(verbetersuggestie|suggestie)\b", whole, re.I):
        suggestion += 2
    best = max(complaint, suggestion)
    if best == 0 or other > best:
        return OTHER
    return COMPLAINT if complaint >= suggestion else SUGGESTION


def classify_kind(*, subject: str, text: str, headers: Mapping[str, str] | None = None) -> Classification:
    """Advertising by rules; otherwise the plugged-in classifier, falling back to ``rule_kind``."""
    reason = advertising_reason(subject=subject, text=text, headers=headers or {})
    if reason:
        return Classification(ADVERTISING, "advertising rules", reason)
    classifier = get_kind_classifier()
    if classifier is not None:
        try:
            answer = classifier(f"{subject}\n\n{text}".strip())
        except Exception:
            logger.exception("kind classifier failed; falling back to the rules")
        else:
            kind, confidence = answer if isinstance(answer, tuple) else (answer, None)
            if kind in KINDS:
                if confidence is not None and kind != OTHER and confidence < UNCERTAIN_BELOW:
                    return Classification(OTHER, UNCERTAIN_SOURCE, f"{kind}? {confidence:.2f}", confidence)
                return Classification(kind, "classifier", confidence=confidence)
            logger.warning("kind classifier returned %r, not one of %s; falling back to the rules", kind, ", ".join(KINDS))
    return Classification(rule_kind(text, subject), "rules")
