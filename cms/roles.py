"""The role groups of Handvest, by the Dutch names officers know them by."""

EDITORS = "Redacteuren"
QUALITY_OFFICERS = "Kwaliteitsmedewerkers"
MAILROOM = "Postkamer"
ALL_ROLES = (EDITORS, QUALITY_OFFICERS, MAILROOM)
# The archivist's group and its permissions are made by cases' records migration (cases.0013), not by cms.0003.
ARCHIVISTS = "Archivarissen"
