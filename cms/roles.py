"""The role groups of Handvest, by the Dutch names officers know them by."""

EDITORS = "Redacteuren"
QUALITY_OFFICERS = "Kwaliteitsmedewerkers"
MAILROOM = "Postkamer"
ALL_ROLES = (EDITORS, QUALITY_OFFICERS, MAILROOM)
