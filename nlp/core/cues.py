"""Channel and topic cues: where a complaint happened and what went wrong.

Words alone mislead on real citizens' text: a long story mentions a passport, a phone call and a
letter, while only one of them is the complaint; "bot" is a counter norm after "aan de balie" and
a phone norm after "aan de telefoon". A linear model over words cannot tie the two together, so
each sentence gets its *channels* (phone, counter, post, web, a travel document, an appointment)
and its *problems* (no answer, rude, waiting, can't find information, ...), and the features are
their pairs (``phone|rude``), the channel carried over from the previous sentence when a sentence
names none ("Ik belde de gemeente. De man was onbeschoft."). The classifier learns what each pair
weighs for each norm; a passport in a sentence without an expiry word adds nothing but
``document``.

The lexicon matches folded word forms by prefix or whole word, so compounds and inflections
(``baliemedewerker``, ``teruggebeld``) count. It is language data for Dutch, kept small on
purpose: the classifier decides how much each cue is worth.
"""

from __future__ import annotations

from collections.abc import Iterable

CHANNELS = ("phone", "counter", "post", "web", "document", "appointment")
PROBLEMS = (
    "noanswer",
    "rude",
    "wait",
    "info",
    "closed",
    "transfer",
    "callback",
    "access",
    "failure",
    "expiry",
    "confirm",
    "lost",
    "complaint",
    "evening",
    "staff",
    "device",
)

# (kind, name) -> (whole words, prefixes, substrings), on folded (lowercase, accent-free) tokens.
_LEXICON: dict[tuple[str, str], tuple[Iterable[str], Iterable[str], Iterable[str]]] = {
    ("channel", "phone"): (
        (
            "bel",
            "belt",
            "belde",
            "belden",
            "bellen",
            "gebeld",
            "lijn",
            "bandje",
            "kcc",
            "0517",
            "opgenomen",
            "opnemen",
            "neemt",
            "nam",
            "opgehangen",
            "ophangen",
            "hing",
        ),
        (
            "telefo",
            "terugbel",
            "teruggebeld",
            "opgebeld",
            "nabellen",
            "keuzemenu",
            "wachtmuziek",
            "klantcontact",
            "doorverb",
            "doorgeschakeld",
            "ingesprek",
            "voicemail",
            "ingesproken",
            "beltegoed",
            "beller",
        ),
        ("telefoon",),
    ),
    ("channel", "counter"): (
        ("hal", "lift", "deur", "ingang", "zuil"),
        (
            "balie",
            "loket",
            "stadhuis",
            "gemeentehuis",
            "wachtruimte",
            "wachtkamer",
            "publiekshal",
            "nummertje",
            "receptie",
            "gemeentewinkel",
            "spreekkamer",
            "aanmeldzuil",
            "hellingbaan",
            "drempel",
        ),
        ("balie", "loket"),
    ),
    ("channel", "post"): (
        ("post", "mail", "mails", "mailtje", "gemaild", "mailen", "schreef", "geschreven", "schrijven", "brieven"),
        (
            "brief",
            "e-mail",
            "email",
            "aangetekend",
            "postkamer",
            "postbus",
            "ontvangstbevestiging",
            "ingebrekestelling",
            "bezwaarschrift",
            "zienswijze",
            "poststuk",
        ),
        ("brief",),
    ),
    ("channel", "web"): (
        ("site", "app", "link", "pdf", "online", "internet", "ideal", "browser", "inloggen", "ingelogd"),
        (
            "website",
            "webformulier",
            "digid",
            "pagina",
            "inlog",
            "zoekfunctie",
            "afsprakenmodule",
            "afsprakensysteem",
            "foutmelding",
            "mijngemeente",
            "webpagina",
            "homepage",
            "digita",
        ),
        ("website", "webpagina"),
    ),
    ("channel", "document"): (
        ("id",),
        ("paspoort", "identiteit", "id-kaart", "idkaart", "rijbewijs", "reisdocument"),
        ("paspoort", "rijbewijs", "id-kaart"),
    ),
    ("channel", "appointment"): (
        (),
        ("afspraak", "afspraken", "afspaak", "ingepland", "tijdslot"),
        ("afspraak",),
    ),
    ("problem", "noanswer"): (
        ("stil", "niets", "niks", "nooit", "steeds", "gehoord"),
        ("antwoord", "beantwoord", "reactie", "gereageerd", "reageren", "reageert", "uitgebleven", "tussenbericht"),
        (),
    ),
    ("problem", "rude"): (
        ("bot", "toon", "grof", "lachte", "zeuren", "brutaal", "arrogant"),
        (
            "onbeschoft",
            "onvriendelijk",
            "snauw",
            "afgesnauwd",
            "afgeblaft",
            "afblaf",
            "uitgelach",
            "uitlach",
            "zucht",
            "schreeuw",
            "respectloos",
            "kwetsend",
            "gekwetst",
            "vernederd",
            "vernederend",
            "onbeleefd",
            "ongeduldig",
            "afgekapt",
            "neerbuigend",
            "onheus",
            "bejegen",
            "uitgescholden",
            "uitschold",
            "kleinerend",
            "afgewimpeld",
        ),
        ("onvriendelijk", "onbeschoft"),
    ),
    ("problem", "wait"): (
        ("uur", "rij", "lang", "langer", "duurde", "duurt", "kwartier"),
        ("wacht", "gewacht", "minuten", "uitloop", "uitliep", "eeuwigheid"),
        ("wachttijd", "wachtrij"),
    ),
    ("problem", "info"): (
        ("klopt", "klopte", "kloppen", "vind", "vinden", "gevonden", "nergens", "staat", "stond", "snap", "begrijp"),
        ("informatie", "verkeerd", "onjuist", "verouderd", "achterhaald", "zoek", "gezocht", "onduidelijk", "vermeld", "uitleg"),
        ("informatie",),
    ),
    ("problem", "closed"): (
        ("dicht", "open", "bereikbaar", "onbereikbaar", "gesloten"),
        ("openingstijd", "geopend", "kantoortijd", "kantooruren", "bereikba"),
        ("openingstijd",),
    ),
    ("problem", "transfer"): (
        ("afdeling", "afdelingen", "kastje"),
        ("doorverb", "doorgeschakeld", "doorgestuurd"),
        ("doorverb",),
    ),
    ("problem", "callback"): (
        (),
        ("terugbel", "teruggebeld", "terug te bellen", "terugkoppel"),
        ("terugbel", "teruggebeld"),
    ),
    ("problem", "access"): (
        ("trap", "lift", "blind", "doof"),
        (
            "rolstoel",
            "rollator",
            "toegankelijk",
            "ontoegankelijk",
            "drempel",
            "hellingbaan",
            "slechtziend",
            "schermlezer",
            "voorlees",
            "slechthorend",
            "ringleiding",
            "scootmobiel",
            "mindervalide",
            "invalide",
            "beperking",
            "vergrot",
            "contrast",
            "ondertitel",
            "dyslex",
            "leesbaar",
        ),
        ("rolstoel", "toegankelijk"),
    ),
    ("problem", "failure"): (
        ("fout", "plat", "eruit", "error", "vast", "laden", "werkt", "werkte", "storing", "kapot"),
        ("foutmelding", "foutcode", "storing", "onderhoud", "crash", "vastgelopen", "witte", "technische"),
        ("storing", "foutmelding"),
    ),
    ("problem", "expiry"): (
        ("geldig", "ongeldig"),
        ("verlo", "verliep", "herinnering", "verloopbericht", "vervaldatum", "vernieuw", "verleng"),
        ("verloop", "verlopen"),
    ),
    ("problem", "confirm"): (
        ("nummer", "kenmerk"),
        ("bevestig", "ontvangst", "zaaknummer", "registratienummer", "ontvangstbewijs"),
        ("bevestiging",),
    ),
    ("problem", "lost"): (
        ("kwijt", "lag", "lagen", "liggen"),
        ("zoekgeraakt", "verdwenen", "binnengekomen", "ingeboekt", "geregistreerd", "registreer", "verdwijn", "kwijtgeraakt", "verloren"),
        ("zoekgeraakt", "kwijtgeraakt"),
    ),
    ("problem", "complaint"): (
        ("oordeel",),
        ("klacht", "ongegrond", "gegrond", "uitgelegd", "uitleg", "afgehandeld", "afhandeling", "hoorgesprek", "hoorzitting", "klachtbehandel"),
        ("klacht",),
    ),
    ("problem", "evening"): (
        ("20.00", "avonds"),
        ("avond", "zaterdag", "werkenden"),
        ("avond",),
    ),
    ("problem", "staff"): (
        ("bezet", "druk"),
        ("bezetting", "personeel", "drukte", "onderbezet", "medewerkers", "loketten", "balies"),
        ("personeel",),
    ),
    ("problem", "device"): (
        ("mobiel", "tablet", "ipad", "scherm", "iphone"),
        ("smartphone", "inzoom", "responsive", "beeldscherm"),
        ("smartphone",),
    ),
}

_BITS = {("channel", name): 1 << i for i, name in enumerate(CHANNELS)}
_BITS.update({("problem", name): 1 << (len(CHANNELS) + i) for i, name in enumerate(PROBLEMS)})
CHANNEL_MASK = (1 << len(CHANNELS)) - 1
N_BITS = len(CHANNELS) + len(PROBLEMS)


def word_cues(folded: str) -> int:
    """The cue bits of one folded word (0 for most words)."""
    if not folded or not folded[0].isalnum():
        return 0
    bits = 0
    for key, (words, prefixes, substrings) in _LEXICON.items():
        if folded in words or folded.startswith(tuple(prefixes)) or any(part in folded for part in substrings):
            bits |= _BITS[key]
    return bits


def cue_names() -> list[str]:
    """Every cue feature's name: each channel, each problem, and each channel|problem pair."""
    return [f"c:{c}" for c in CHANNELS] + [f"p:{p}" for p in PROBLEMS] + [f"{c}|{p}" for c in CHANNELS for p in PROBLEMS]


def cue_ids(bits: int, context_channels: int) -> list[int]:
    """Indices into ``cue_names()`` for a sentence with these bits; its own channels, or when it
    names none the channels carried over from an earlier sentence, pair with its problems."""
    channels = bits & CHANNEL_MASK
    problems = bits >> len(CHANNELS)
    ids = [i for i in range(len(CHANNELS)) if channels >> i & 1]
    problem_ids = [j for j in range(len(PROBLEMS)) if problems >> j & 1]
    ids += [len(CHANNELS) + j for j in problem_ids]
    paired = channels or context_channels
    base = len(CHANNELS) + len(PROBLEMS)
    ids += [base + i * len(PROBLEMS) + j for i in range(len(CHANNELS)) if paired >> i & 1 for j in problem_ids]
    return ids
