"""Load a municipality's charter from its YAML file (format: ``cms/charters/README.md``).

The file is parsed and validated completely before anything is written; a bad file raises
``CharterFileError`` naming the norm and the field, and the database stays as it was.
Loading is idempotent: an unchanged norm is left alone, a changed one gets a new published
revision, a norm missing from the file is reported (and retired only when asked).

Editors' work wins over the file: a norm whose latest revision was made in the CMS (by a person,
not by this loader), municipality settings changed in the CMS, and charter texts edited there are
left as they are and reported with what the file would change; ``force`` overwrites them.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import DataError, transaction
from wagtail.models import ModelLogEntry

from cms.models import (
    CASE_TERM_UNITS,
    NORM_CODE_RE,
    Channel,
    Charter,
    CharterPage,
    HomePage,
    MeasuredFrom,
    MeasurementPeriod,
    MunicipalitySettings,
    ServiceNorm,
    TargetKind,
    TargetUnit,
)

logger = logging.getLogger(__name__)

MUNICIPALITY_FIELDS = {
    "name": True,
    "registration_prefix": True,
    "phone": False,
    "phone_abroad": False,
    "opening_hours": False,
    "postal_address": False,
    "visiting_address": False,
    "complaint_email": False,
    "website": False,
}
CHARTER_FIELDS = {"title": True, "year": True, "introduction": False, "how_it_works": False, "complaints": False, "suggestions": False}
NORM_FIELDS = {"code", "channel", "promise", "target", "keywords"}
TARGET_FIELDS = {"kind", "percentage", "amount", "unit", "period", "per", "measured_from"}
# Fields of ServiceNorm the file sets; comparing them decides whether a norm changed.
NORM_MODEL_FIELDS = (
    "channel",
    "promise",
    "target_kind",
    "target_percentage",
    "target_amount",
    "target_unit",
    "target_period",
    "measurement_period",
    "measured_from",
    "keywords",
    "sort_order",
)
# The period a norm is judged over, read from its text when the file gives no 'per'.
PERIOD_WORDS = {"maand": MeasurementPeriod.MONTH, "kwartaal": MeasurementPeriod.QUARTER, "jaar": MeasurementPeriod.YEAR}


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML with each key once per mapping: PyYAML keeps the last of two equal keys without a word, so a
    norm with 'promise:' written twice silently lost the first (written ourselves: PyYAML has no option)."""


def _mapping_without_duplicates(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    mapping = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise CharterFileError(f"line {key_node.start_mark.line + 1}: field '{key}' appears twice in the same block")
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TEXT_TYPES = (str, int, float)


class CharterFileError(ValueError):
    """The charter file cannot be loaded; the message names where and why."""


@dataclass(frozen=True)
class Kept:
    """A value the CMS holds that differs from the file, left alone (``force`` overwrites it)."""

    what: str  # a norm code, "instellingen" or the charter's key
    field: str
    current: Any
    in_file: Any

    def __str__(self) -> str:
        return f"{self.what}.{self.field}: {self.current!r} -> {self.in_file!r}"


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    @property
    def kept_norms(self) -> list[str]:
        """Norms an editor revised in the CMS that the file would change."""
        return sorted({item.what for item in self.kept if NORM_CODE_RE.match(item.what)})

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.retired)


def _require(mapping: dict, key: str, where: str, required: bool = True) -> Any:
    value = mapping.get(key)
    if required and (value is None or value == ""):
        raise CharterFileError(f"{where}: field '{key}' is missing")
    return value


def _check_unknown(mapping: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise CharterFileError(f"{where}: unknown field(s) {', '.join(unknown)}")


def parse_target(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        raise CharterFileError(f"{where}: field 'target' is missing")
    if not isinstance(raw, dict):
        raise CharterFileError(f"{where}: field 'target' must be a mapping")
    _check_unknown(raw, TARGET_FIELDS, f"{where}, target")
    kind = _require(raw, "kind", f"{where}, target")
    if kind not in TargetKind.values:
        raise CharterFileError(f"{where}: field 'target.kind' is '{kind}', expected one of {', '.join(TargetKind.values)}")
    period_text = str(raw.get("period") or "")
    target = {
        "target_kind": kind,
        "target_percentage": None,
        "target_amount": None,
        "target_unit": "",
        "target_period": period_text,
        **_parse_measuring(raw, period_text, where),
    }
    if kind == TargetKind.QUALITATIVE:
        if raw.get("percentage") is not None or target["measured_from"] != MeasuredFrom.IMPORT:
            raise CharterFileError(f"{where}: a qualitative target has no 'percentage' and is not 'measured_from' the cases")
        return target
    pct = _require(raw, "percentage", f"{where}, target", required=kind == TargetKind.SHARE_WITHIN)
    if pct is not None:
        if not isinstance(pct, int) or not 1 <= pct <= 100:
            raise CharterFileError(f"{where}: field 'target.percentage' must be a whole number from 1 to 100")
        target["target_percentage"] = pct
    amount = _require(raw, "amount", f"{where}, target")
    if not isinstance(amount, int) or amount < 1:
        raise CharterFileError(f"{where}: field 'target.amount' must be a positive whole number")
    unit = _require(raw, "unit", f"{where}, target")
    if unit not in TargetUnit.values:
        raise CharterFileError(f"{where}: field 'target.unit' is '{unit}', expected one of {', '.join(TargetUnit.values)}")
    if target["measured_from"] != MeasuredFrom.IMPORT and (kind != TargetKind.TERM or unit not in CASE_TERM_UNITS):
        raise CharterFileError(f"{where}: 'measured_from: {target['measured_from']}' needs kind 'term' in {', '.join(CASE_TERM_UNITS)}")
    target.update(target_amount=amount, target_unit=unit)
    return target


def _parse_measuring(raw: dict, period_text: str, where: str) -> dict[str, str]:
    """How the norm is measured: per month, quarter or year ('per', else read from 'period'), and from where."""
    per = raw.get("per")
    if per is None:
        per = next((value for word, value in PERIOD_WORDS.items() if word in period_text.lower()), MeasurementPeriod.MONTH)
    if per not in MeasurementPeriod.values:
        raise CharterFileError(f"{where}: field 'target.per' is '{per}', expected one of {', '.join(MeasurementPeriod.values)}")
    measured_from = raw.get("measured_from") or MeasuredFrom.IMPORT
    if measured_from not in MeasuredFrom.values:
        raise CharterFileError(f"{where}: field 'target.measured_from' is '{measured_from}', expected one of {', '.join(MeasuredFrom.values)}")
    return {"measurement_period": str(per), "measured_from": str(measured_from)}


def parse_charter(text: str, *, source: str = "charter file") -> dict[str, Any]:
    """Parse and validate a charter file's text into plain data; raise ``CharterFileError``."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader that refuses duplicate keys
    except yaml.YAMLError as exc:
        raise CharterFileError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CharterFileError(f"{source}: expected a mapping with 'municipality', 'charter' and 'norms'")
    _check_unknown(data, {"key", "municipality", "charter", "norms"}, source)
    key = _require(data, "key", source)
    municipality = _require(data, "municipality", source)
    charter = _require(data, "charter", source)
    norms = _require(data, "norms", source)
    if not isinstance(municipality, dict) or not isinstance(charter, dict) or not isinstance(norms, list):
        raise CharterFileError(f"{source}: 'municipality' and 'charter' must be mappings, 'norms' a list")
    _check_unknown(municipality, set(MUNICIPALITY_FIELDS), "municipality")
    _check_unknown(charter, set(CHARTER_FIELDS), "charter")
    for name, required in MUNICIPALITY_FIELDS.items():
        _require(municipality, name, "municipality", required)
    for name, required in CHARTER_FIELDS.items():
        _require(charter, name, "charter", required)
    _check_texts(municipality, "municipality")
    _check_texts({name: value for name, value in charter.items() if name != "year"}, "charter")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise CharterFileError(f"{source}: field 'key' must be lower-case letters, digits and hyphens, e.g. harlingen-2017")
    prefix = str(municipality["registration_prefix"])
    if not prefix.isalpha() or not prefix.isupper() or not 2 <= len(prefix) <= 6:
        raise CharterFileError("municipality: field 'registration_prefix' must be 2 to 6 capital letters")
    if not isinstance(charter["year"], int) or isinstance(charter["year"], bool) or not 1990 <= charter["year"] <= 2100:
        raise CharterFileError("charter: field 'year' must be a year from 1990 to 2100, e.g. 2017")

    parsed_norms: list[dict[str, Any]] = []
    seen: set[str] = set()
    position_in_channel: dict[str, int] = {}
    for index, raw in enumerate(norms, start=1):
        where = f"norm #{index}"
        if not isinstance(raw, dict):
            raise CharterFileError(f"{where}: must be a mapping with code, channel, promise, target")
        code = raw.get("code")
        if code:
            where = f"norm {code}"
        _check_unknown(raw, NORM_FIELDS, where)
        code = _require(raw, "code", where)
        if not isinstance(code, str) or not NORM_CODE_RE.match(code):
            raise CharterFileError(f"{where}: field 'code' must look like TEL-25SEC (capitals, digits, hyphens)")
        if code in seen:
            raise CharterFileError(f"{where}: field 'code' is a duplicate; each code appears once")
        seen.add(code)
        channel = _require(raw, "channel", where)
        if channel not in Channel.values:
            raise CharterFileError(f"{where}: field 'channel' is '{channel}', expected one of {', '.join(Channel.values)}")
        promise = _require(raw, "promise", where)
        if not isinstance(promise, str):
            raise CharterFileError(f"{where}: field 'promise' must be text")
        keywords = raw.get("keywords") or []
        if not isinstance(keywords, list) or not all(isinstance(word, str) for word in keywords):
            raise CharterFileError(f"{where}: field 'keywords' must be a list of words")
        position_in_channel[channel] = position_in_channel.get(channel, 0) + 1
        parsed_norms.append(
            {
                "code": code,
                "channel": channel,
                "promise": " ".join(str(promise).split()),
                "keywords": ", ".join(keywords),
                "sort_order": position_in_channel[channel],
                **parse_target(raw.get("target"), where),
            }
        )
    return {"key": str(key), "municipality": municipality, "charter": charter, "norms": parsed_norms}


def _check_texts(mapping: dict, where: str) -> None:
    for name, value in mapping.items():
        if value is not None and (not isinstance(value, TEXT_TYPES) or isinstance(value, bool)):
            raise CharterFileError(f"{where}: field '{name}' must be text, not a {type(value).__name__}")


def _apply_settings(municipality: dict[str, Any], report: LoadReport, force: bool) -> None:
    """Fill the municipality's settings; a field changed in the CMS (not empty, not the default) is kept unless ``force``."""
    settings = MunicipalitySettings.load()
    changed = False
    for name in MUNICIPALITY_FIELDS:
        value = str(municipality.get(name) or "").strip()
        current = getattr(settings, name)
        if current == value:
            continue
        if current not in ("", MunicipalitySettings._meta.get_field(name).get_default()) and not force:
            report.kept.append(Kept("instellingen", name, current, value))
            continue
        setattr(settings, name, value)
        changed = True
    if changed:
        settings.full_clean()
        settings.save()


def _apply_charter(key: str, data: dict[str, Any], report: LoadReport, force: bool) -> Charter:
    """The charter version of the file; texts edited in the CMS are kept unless ``force``."""
    values = {
        "title": data["title"],
        "year": data["year"],
        "introduction": str(data.get("introduction") or "").strip(),
        "how_it_works": str(data.get("how_it_works") or "").strip(),
        "complaints_text": str(data.get("complaints") or "").strip(),
        "suggestions_text": str(data.get("suggestions") or "").strip(),
    }
    # Its fields checked before anything is written: a title longer than its column is refused naming the
    # field on every database (SQLite, the embedded default, does not enforce a column's length).
    Charter(key=key, **values).clean_fields()
    charter, created = Charter.objects.get_or_create(key=key, defaults=values)
    differences = {name: value for name, value in values.items() if not created and getattr(charter, name) != value}
    if differences and not force:
        report.kept += [Kept(key, name, getattr(charter, name), value) for name, value in differences.items()]
    elif differences:
        for name, value in differences.items():
            setattr(charter, name, value)
        charter.save()
    return charter


def _publish(norm: ServiceNorm) -> None:
    norm.full_clean()
    revision = norm.save_revision(clean=False)
    revision.publish()


def revised_in_cms(norm: ServiceNorm) -> bool:
    """Whether the norm's latest revision was saved by a person in the CMS (the loader saves without a user).
    A revision's user is emptied when the account is deleted; Wagtail's log keeps whose it was."""
    latest = norm.latest_revision
    if latest is None:
        return False
    return latest.user_id is not None or ModelLogEntry.objects.filter(revision=latest).exclude(user_id=None).exists()


def _apply_norm(charter: Charter, values: dict[str, Any], report: LoadReport, force: bool) -> None:
    norm = ServiceNorm.objects.filter(code=values["code"]).first()
    if norm is None:
        norm = ServiceNorm(charter=charter, live=False, **values)
        norm.full_clean()
        norm.save()
        _publish(norm)
        report.created.append(norm.code)
        return
    wanted = {name: values[name] for name in NORM_MODEL_FIELDS}
    wanted["charter_id"] = charter.pk
    if not norm.active:
        wanted.update(active=True, retired_on=None)
    differences = {name: value for name, value in wanted.items() if getattr(norm, name) != value}
    if not differences:
        report.unchanged.append(norm.code)
        return
    if revised_in_cms(norm) and not force:
        report.kept += [Kept(norm.code, name, getattr(norm, name), value) for name, value in differences.items()]
        return
    for name, value in differences.items():
        setattr(norm, name, value)
    _publish(norm)
    report.updated.append(norm.code)


def _apply_page(charter: Charter, report: LoadReport, force: bool) -> None:
    """Make sure the site's home page has a live charter page showing this charter version; a page that shows a
    newer version (one the editors published in the CMS) stays on it unless ``force``."""
    home = HomePage.objects.first()
    if home is None:
        return
    page = CharterPage.objects.child_of(home).first()
    if page is None:
        page = CharterPage(title=charter.title, slug="kwaliteitshandvest", charter=charter)
        home.add_child(instance=page)
        page.save_revision().publish()
    elif page.charter_id != charter.pk and page.charter is not None and page.charter.year > charter.year and not force:
        report.kept.append(Kept("kwaliteitshandvest", "charter", page.charter.key, charter.key))
    elif page.charter_id != charter.pk or (force and page.title != charter.title):
        page.charter = charter
        page.title = charter.title
        page.save_revision().publish()


def load_charter(*, path: Path, retire_missing: bool = False, force: bool = False, today: datetime.date | None = None) -> LoadReport:
    """Load the charter file at ``path``; all or nothing. ``force`` overwrites what editors changed in the CMS."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CharterFileError(f"{path}: cannot be read: {exc}") from exc
    data = parse_charter(text, source=str(path))
    report = LoadReport()
    try:
        _load(data, report, retire_missing=retire_missing, force=force, today=today)
    except ValidationError as exc:  # the models' own checks, e.g. an e-mail address or a website that is none
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
        raise CharterFileError(f"{path}: {problems}") from exc
    except DataError as exc:  # e.g. a text longer than its column
        raise CharterFileError(f"{path}: a value does not fit its field: {str(exc).splitlines()[0]}") from exc
    logger.info(
        "charter %s loaded: %d created, %d updated, %d unchanged, %d missing, %d retired",
        data["key"],
        len(report.created),
        len(report.updated),
        len(report.unchanged),
        len(report.missing),
        len(report.retired),
    )
    return report


def _check_municipality(municipality: dict[str, Any], force: bool) -> None:
    """One instance, one municipality: a charter file of another than the one whose charter is loaded (a mistake
    that would mix two charters' norms in the form, the tagger and the terms) is refused before anything is
    written; ``force`` when the municipality really changed its name."""
    current = MunicipalitySettings.load().name.strip()
    incoming = str(municipality.get("name") or "").strip()
    default = MunicipalitySettings._meta.get_field("name").get_default()
    if force or not incoming or current in ("", default) or current == incoming or not ServiceNorm.objects.exists():
        return
    raise CharterFileError(
        f"this instance holds the charter of {current}; the file is the charter of {incoming}. Load it into its own "
        "instance (its own database), or use --force if the municipality changed its name."
    )


def _load(data: dict[str, Any], report: LoadReport, *, retire_missing: bool, force: bool, today: datetime.date | None) -> None:
    """Write the parsed file: all or nothing."""
    with transaction.atomic():
        _check_municipality(data["municipality"], force)
        _apply_settings(data["municipality"], report, force)
        charter = _apply_charter(data["key"], data["charter"], report, force)
        for values in data["norms"]:
            _apply_norm(charter, values, report, force)
        listed = {values["code"] for values in data["norms"]}
        for norm in ServiceNorm.objects.filter(active=True).exclude(code__in=listed).order_by("code"):
            report.missing.append(norm.code)
            if retire_missing:
                norm.active = False
                norm.retired_on = today or datetime.date.today()
                _publish(norm)
                report.retired.append(norm.code)
        _apply_page(charter, report, force)
