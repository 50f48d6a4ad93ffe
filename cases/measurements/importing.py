"""Importing a measurement file (CSV): read and check every line first, then store all or nothing.

Two formats, told apart by the header (or, without one, by the number of columns):

* observations, ``norm,observed_at,value``: an ISO date-time (without an offset it is local time,
  ``HANDVEST_TIME_ZONE``) and a decimal value in the norm's unit;
* totals per period, ``norm,period_start,period_end,observations,within_target``: ISO dates,
  both days included, and two whole numbers.

A file separated by semicolons (Excel in Dutch) may use a decimal comma. A file with any bad line
(unknown norm, unreadable date, non-numeric or negative value, ...) is refused whole with each
line number and reason in Dutch (``MeasurementFileRefused``), and nothing is stored. Importing the
same file again adds nothing (``cases.measurements.storing``). Called by ``manage.py
import_measurements`` and the officer's upload (``cases.workspace.measurements``).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from django.utils import timezone
from django.utils.translation import gettext_lazy

from cases.measurements import storing
from cases.measurements.storing import ImportResult, ParsedTotal
from cases.models import MeasurementSource
from cms.models import MeasuredFrom, ServiceNorm, TargetKind

RAW_HEADER = ("norm", "observed_at", "value")
TOTALS_HEADER = ("norm", "period_start", "period_end", "observations", "within_target")
RAW, TOTALS = "raw", "totals"
logger = logging.getLogger(__name__)
MAX_LISTED_PROBLEMS = 200
MAX_VALUE = Decimal(10) ** 9
MAX_COUNT = 10**9  # below the integer column's limit; no service counts a billion observations in a period
PROGRESS_EVERY = 10_000

LINE_PROBLEM = gettext_lazy("regel %(line)s: %(reason)s")
MORE_PROBLEMS = gettext_lazy("en nog %(count)s regels met fouten")
NOT_UTF8 = gettext_lazy("het bestand is geen UTF-8-tekst (sla het op als ‘CSV UTF-8’)")
EMPTY_FILE = gettext_lazy("het bestand bevat geen metingen")
UNKNOWN_HEADER = gettext_lazy("onbekende kop; verwacht ‘norm,observed_at,value’ of ‘norm,period_start,period_end,observations,within_target’")
WRONG_COLUMNS = gettext_lazy("%(found)s kolommen, verwacht %(expected)s (%(names)s)")
UNKNOWN_NORM = gettext_lazy("onbekende norm ‘%(code)s’")
NORM_FROM_CASES = gettext_lazy("norm %(code)s wordt door Handvest zelf uit de zaken gemeten; lever hiervoor geen metingen aan")
NORM_QUALITATIVE = gettext_lazy("norm %(code)s heeft geen meetbaar doel; lever hiervoor tellingen per periode aan")
BAD_MOMENT = gettext_lazy("‘%(value)s’ is geen datum en tijd (ISO, bijv. 2026-03-02T09:15:00)")
BAD_DATE = gettext_lazy("‘%(value)s’ is geen datum (ISO, bijv. 2026-03-01)")
IN_FUTURE = gettext_lazy("%(value)s ligt in de toekomst")
TOO_EARLY = gettext_lazy("%(value)s ligt vóór %(year)s; een meting van zo lang geleden is een typefout")
# A measurement before this year is a typo (0001-01-01 from an empty spreadsheet cell, 1926 for 2026).
EARLIEST_YEAR = 2000
# A plain number: digits with one decimal point or comma (Python would also read "1_8" as 18, or "1e3").
PLAIN_NUMBER = re.compile(r"[-+]?[0-9]+(?:[.,][0-9]+)*")
AMBIGUOUS_MOMENT = gettext_lazy(
    "%(value)s bestaat twee keer (de klok ging die nacht een uur terug): zet er de tijdzone bij, zoals %(value)s+02:00 of %(value)s+01:00"
)
BAD_NUMBER = gettext_lazy("‘%(value)s’ is geen getal")
NEGATIVE = gettext_lazy("de waarde %(value)s is negatief")
TOO_PRECISE = gettext_lazy("de waarde %(value)s heeft meer dan 3 decimalen")
TOO_LARGE = gettext_lazy("de waarde %(value)s is te groot")
BAD_COUNT = gettext_lazy("‘%(value)s’ is geen geheel getal van 0 of meer")
COUNT_TOO_LARGE = gettext_lazy("het aantal %(value)s is te groot")
BROKEN_CSV = gettext_lazy(
    "vanaf hier is het bestand geen geldige CSV meer: waarschijnlijk een aanhalingsteken (\") zonder sluitend aanhalingsteken"
)
END_BEFORE_START = gettext_lazy("de laatste dag (%(end)s) ligt vóór de eerste (%(start)s)")
WITHIN_EXCEEDS = gettext_lazy("binnen de norm (%(within)s) is meer dan het aantal waarnemingen (%(observations)s)")
DOUBLE_PERIOD = gettext_lazy("dezelfde norm en periode staan al op regel %(line)s, met andere aantallen")
OVERLAPPING_PERIOD = gettext_lazy("de periode overlapt met die van regel %(line)s voor dezelfde norm: dezelfde metingen zouden twee keer tellen")
UNKNOWN_SOURCE = gettext_lazy("Onbekende bron ‘%(source)s’; kies uit %(choices)s.")

Progress = Callable[[int, str], None]


class MeasurementFileRefused(ValueError):
    """The file was refused whole; ``problems`` lists each bad line (Dutch), ``more`` how many were left out."""

    def __init__(self, problems: list[str], more: int = 0):
        self.problems = problems
        self.more = more
        super().__init__("\n".join(self.messages))

    @property
    def messages(self) -> list[str]:
        return self.problems + ([str(MORE_PROBLEMS % {"count": self.more})] if self.more else [])


@dataclass
class _Problems:
    listed: list[str] = field(default_factory=list)
    more: int = 0

    def add(self, line: int, reason: str) -> None:
        if len(self.listed) < MAX_LISTED_PROBLEMS:
            self.listed.append(str(LINE_PROBLEM % {"line": line, "reason": reason}))
        else:
            self.more += 1


@dataclass(frozen=True)
class _Norm:
    pk: int
    code: str
    from_cases: bool
    qualitative: bool


def _norms() -> dict[str, _Norm]:
    rows = ServiceNorm.objects.values_list("pk", "code", "measured_from", "target_kind")
    return {code: _Norm(pk, code, measured_from != MeasuredFrom.IMPORT, kind == TargetKind.QUALITATIVE) for pk, code, measured_from, kind in rows}


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


class _Reader:
    """The file's rows as lists of strings, with the number of the line each ended on."""

    def __init__(self, stream: BinaryIO):
        self.text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        first, self.last_line = self.text.readline(), 1
        # Empty lines before the first row are skipped, as everywhere in the file; so is a row of empty cells (";;",
        # a spreadsheet's empty first row saved as CSV).
        while first and not first.strip().strip(";,\t\"' "):
            first, self.last_line = self.text.readline(), self.last_line + 1
        self.first_line = self.last_line
        self.delimiter = ";" if first.count(";") > first.count(",") else ","
        self.rows = csv.reader(io.StringIO(first), delimiter=self.delimiter)
        self.first = next(self.rows, [])
        self.rows = csv.reader(self.text, delimiter=self.delimiter)

    def close(self) -> None:
        # Detached, not closed: the caller owns the stream (an upload, an open file).
        self.text.detach()


def _trimmed(row: list[str], width: int) -> list[str]:
    """The row without the empty cells a spreadsheet leaves after its last column (";;" at the end of every line)."""
    while len(row) > width and not row[-1].strip():
        row = row[:-1]
    return row


def _format_of(first: list[str]) -> tuple[str | None, bool]:
    """(raw or totals, whether the first row is a header); (None, True) for a header of known column names in
    another order or with others among them (refused as a header, never read as a measurement)."""
    for header, kind in ((RAW_HEADER, RAW), (TOTALS_HEADER, TOTALS)):
        if tuple(cell.strip().lower() for cell in _trimmed(first, len(header))) == header:
            return kind, True
    if {cell.strip().lower() for cell in first} & {*RAW_HEADER, *TOTALS_HEADER}:
        return None, True
    return {3: RAW, 5: TOTALS}.get(len(_trimmed(first, 3))), False


def _norm_problem(norm: _Norm | None, code: str, raw: bool) -> str | None:
    if norm is None:
        return str(UNKNOWN_NORM % {"code": code})
    if norm.from_cases:
        return str(NORM_FROM_CASES % {"code": code})
    if raw and norm.qualitative:
        return str(NORM_QUALITATIVE % {"code": code})
    return None


def _moment(text: str, now: tuple[datetime.datetime, datetime.datetime]) -> datetime.datetime | str:
    """The moment, or why not; ``now`` is (aware, naive local): a moment without an offset is local time."""
    try:
        # A date alone is no moment (Python reads it as midnight): the call's time is asked for.
        moment = datetime.datetime.fromisoformat(text) if len(text) > len("2026-03-02") else None
    except ValueError:
        moment = None
    if moment is None:
        return str(BAD_MOMENT % {"value": text})
    if moment.year < EARLIEST_YEAR:
        return str(TOO_EARLY % {"value": text, "year": EARLIEST_YEAR})
    if moment.tzinfo is None and _repeated_hour(moment):
        return str(AMBIGUOUS_MOMENT % {"value": text})
    later = moment > (now[0] if moment.tzinfo else now[1])
    return str(IN_FUTURE % {"value": text}) if later else moment


def _repeated_hour(local: datetime.datetime) -> bool:
    """A local time the clock shows twice (the night summer time ends): without an offset it is two moments,
    and a second export of the same calls with offsets would count one of them again."""
    zone = timezone.get_default_timezone()
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return False
    # Both exist (not the hour skipped in spring): each comes back as the same wall time.
    return all(moment.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) == local for moment in (first, second))


def _value(text: str, decimal_comma: bool) -> Decimal | str:
    if not PLAIN_NUMBER.fullmatch(text):
        return str(BAD_NUMBER % {"value": text})
    try:
        value = Decimal(text.replace(",", ".") if decimal_comma else text)
    except InvalidOperation:
        return str(BAD_NUMBER % {"value": text})
    if not value.is_finite():
        return str(BAD_NUMBER % {"value": text})
    if value < 0:
        return str(NEGATIVE % {"value": text})
    if value.as_tuple().exponent < -3:
        return str(TOO_PRECISE % {"value": text})
    return str(TOO_LARGE % {"value": text}) if value >= MAX_VALUE else value


def _raw_row(row: list[str], norms: dict[str, _Norm], now: tuple, decimal_comma: bool) -> tuple[int, datetime.datetime, Decimal] | str:
    """One observation checked: (norm id, moment, value), or the reason it is refused."""
    row = _trimmed(row, len(RAW_HEADER))
    if len(row) != len(RAW_HEADER):
        return str(WRONG_COLUMNS % {"found": len(row), "expected": len(RAW_HEADER), "names": ",".join(RAW_HEADER)})
    code, moment_text, value_text = (cell.strip() for cell in row)
    norm = norms.get(code)
    problem = _norm_problem(norm, code, raw=True)
    moment = _moment(moment_text, now)
    value = _value(value_text, decimal_comma)
    reasons = [reason for reason in (problem, moment, value) if isinstance(reason, str)]
    return "; ".join(reasons) if reasons else (norm.pk, moment, value)


def _parse_raw(reader: _Reader, first: list[str] | None, problems: _Problems, out, progress: Progress | None, days: set) -> int:
    """Check every observation; write the good ones to ``out`` in PostgreSQL's COPY text format (norm id, moment, value,
    line), and note each (norm, local day) in ``days``."""
    moment, zone = timezone.now(), timezone.get_default_timezone()
    norms, now, comma = _norms(), (moment, timezone.make_naive(moment)), reader.delimiter == ";"
    count = 0
    rows = [(reader.first_line, first)] if first is not None else []
    for line, row in _numbered(reader, rows):
        if not any(cell.strip() for cell in row):
            continue
        checked = _raw_row(row, norms, now, comma)
        if isinstance(checked, str):
            problems.add(line, checked)
            continue
        norm_id, moment, value = checked
        days.add((norm_id, (moment.astimezone(zone) if moment.tzinfo else moment).date()))
        # The line number orders identical rows, whose occurrence the storing counts.
        out.write(f"{norm_id}\t{moment.isoformat()}\t{value}\t{line}\n")
        count += 1
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY, "lezen")
    return count


def _numbered(reader: _Reader, before: list):
    """(line number in the file, row); the reader started after the first row's line (``first_line``)."""
    for line, row in before:
        reader.last_line = line
        yield line, row
    for row in reader.rows:
        reader.last_line = reader.rows.line_num + reader.first_line
        yield reader.last_line, row


def _count(text: str) -> int | str:
    value = text.strip()
    if not (value.isascii() and value.isdigit()):  # not "²", which isdigit() calls a digit and int() refuses
        return str(BAD_COUNT % {"value": text})
    return int(value) if int(value) < MAX_COUNT else str(COUNT_TOO_LARGE % {"value": value})


def _date(text: str) -> datetime.date | str:
    try:
        day = datetime.date.fromisoformat(text.strip())
    except ValueError:
        return str(BAD_DATE % {"value": text})
    return str(TOO_EARLY % {"value": text, "year": EARLIEST_YEAR}) if day.year < EARLIEST_YEAR else day


def _total_row(row: list[str], norms: dict[str, _Norm]) -> ParsedTotal | str:
    row = _trimmed(row, len(TOTALS_HEADER))
    if len(row) != len(TOTALS_HEADER):
        return str(WRONG_COLUMNS % {"found": len(row), "expected": len(TOTALS_HEADER), "names": ",".join(TOTALS_HEADER)})
    code = row[0].strip()
    norm = norms.get(code)
    start, end, observations, within = _date(row[1]), _date(row[2]), _count(row[3]), _count(row[4])
    if isinstance(start, datetime.date) and start > timezone.localdate():
        start = str(IN_FUTURE % {"value": start})  # counts of a period that has not begun would feed the figures
    reasons = [reason for reason in (_norm_problem(norm, code, raw=False), start, end, observations, within) if isinstance(reason, str)]
    if not reasons and end < start:
        reasons.append(str(END_BEFORE_START % {"start": start, "end": end}))
    if not reasons and within > observations:
        reasons.append(str(WITHIN_EXCEEDS % {"within": within, "observations": observations}))
    return "; ".join(reasons) if reasons else ParsedTotal(norm.pk, start, end, observations, within)


def _parse_totals(reader: _Reader, first: list[str] | None, problems: _Problems) -> dict[tuple, tuple[ParsedTotal, int]]:
    norms = _norms()
    totals: dict[tuple, tuple[ParsedTotal, int]] = {}
    index = storing.PeriodIndex()
    for line, row in _numbered(reader, [(reader.first_line, first)] if first is not None else []):
        if not any(cell.strip() for cell in row):
            continue
        checked = _total_row(row, norms)
        if isinstance(checked, str):
            problems.add(line, checked)
            continue
        earlier = totals.get(checked.key)
        overlapping = next((at for total, at in index.overlapping(checked) if total.key != checked.key), None)
        if earlier is not None and earlier[0] != checked:
            problems.add(line, str(DOUBLE_PERIOD % {"line": earlier[1]}))
        elif overlapping is not None:
            problems.add(line, str(OVERLAPPING_PERIOD % {"line": overlapping}))
        elif earlier is None:
            totals[checked.key] = (checked, line)
            index.add(checked, line)
    return totals


def check_source(source: str) -> None:
    if source not in MeasurementSource.values:
        raise ValueError(UNKNOWN_SOURCE % {"source": source, "choices": ", ".join(MeasurementSource.values)})


def measurements_import(
    *, stream: BinaryIO, file_name: str, source: str = MeasurementSource.OTHER, actor=None, progress: Progress | None = None
) -> ImportResult:
    """Import one measurement file (a binary stream that can seek); all or nothing.

    Raises ``MeasurementFileRefused`` (nothing stored) when any line is bad, ``ValueError`` for an unknown source.
    """
    check_source(source)
    sha256 = _sha256(stream)
    problems = _Problems()
    try:
        reader = _Reader(stream)
    except UnicodeDecodeError:
        raise MeasurementFileRefused([_not_utf8(stream)]) from None
    try:
        kind, has_header = _format_of(reader.first)
        if not reader.first:
            raise MeasurementFileRefused([str(LINE_PROBLEM % {"line": 1, "reason": EMPTY_FILE})])
        if kind is None:
            raise MeasurementFileRefused([str(LINE_PROBLEM % {"line": reader.first_line, "reason": UNKNOWN_HEADER})])
        first = None if has_header else reader.first
        meta = storing.ImportMeta(file_name=file_name, sha256=sha256, source=source, actor=actor)
        if kind == TOTALS:
            totals = _parse_totals(reader, first, problems)
            _refuse_if_any(problems, rows=len(totals))
            try:
                return storing.store_totals([total for total, _line in totals.values()], meta=meta)
            except storing.TotalsOverlap as exc:
                logger.warning("measurement file %s refused: totals overlap earlier ones", file_name)
                raise MeasurementFileRefused(exc.problems) from None
        with tempfile.TemporaryFile("w+", encoding="ascii") as rows_file:
            days: set = set()
            count = _parse_raw(reader, first, problems, rows_file, progress, days)
            _refuse_if_any(problems, rows=count)
            if beside := storing.check_raw_days(days):
                logger.warning("measurement file %s refused: observations on days that stored totals count", file_name)
                raise MeasurementFileRefused(beside)
            rows_file.seek(0)
            return storing.store_observations(rows_file, rows_count=count, meta=meta, progress=progress)
    except UnicodeDecodeError:
        raise MeasurementFileRefused([_not_utf8(stream)]) from None
    except csv.Error as exc:
        logger.warning("measurement file %s refused: no CSV after line %s (%s)", file_name, reader.last_line, exc)
        raise MeasurementFileRefused([str(LINE_PROBLEM % {"line": reader.last_line + 1, "reason": BROKEN_CSV})]) from None
    finally:
        reader.close()


def _refuse_if_any(problems: _Problems, *, rows: int) -> None:
    if problems.listed:
        raise MeasurementFileRefused(problems.listed, problems.more)
    if rows == 0:
        raise MeasurementFileRefused([str(LINE_PROBLEM % {"line": 1, "reason": EMPTY_FILE})])


def _not_utf8(stream: BinaryIO) -> str:
    """The line of the first byte that is no UTF-8 (the text reader decodes ahead, so it cannot say)."""
    stream.seek(0)
    data = stream.read()
    try:
        data.decode("utf-8")
        line = 1
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
    return str(LINE_PROBLEM % {"line": line, "reason": NOT_UTF8})
