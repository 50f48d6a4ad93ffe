"""The tagger's label set: active norm codes with their keywords, passed in as data.

The core never reads the database. ``load_charter_labels`` reads a charter file
(``cms/charters/<municipality>-<year>.yaml``, format in ``cms/charters/README.md``); the Django
layer passes the active ``ServiceNorm`` codes and keywords instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

Labels = dict[str, list[str]]


def load_charter_labels(path: str | Path) -> Labels:
    """``{norm code: [keywords]}`` for the norms of a charter file, in the charter's order.

    Every norm a charter file lists is active; a retired norm is one the file no longer lists
    (``load_charter --retire-missing``), so it is not a label.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    labels: Labels = {}
    for norm in data.get("norms") or []:
        code = str(norm["code"])
        labels[code] = [str(keyword) for keyword in norm.get("keywords") or []]
    return labels


def canonical_labels(labels: Mapping[str, Sequence[str]] | Sequence[str]) -> Labels:
    """Labels sorted by code with deduplicated, sorted keywords, so the model and its version
    do not depend on the order in which a caller lists them (charter file or database)."""
    if not isinstance(labels, Mapping):
        labels = {code: [] for code in labels}
    return {code: sorted({str(keyword).strip() for keyword in labels[code] if str(keyword).strip()}) for code in sorted(labels)}
