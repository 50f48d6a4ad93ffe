"""How a count is shown to people: small counts suppressed (``<3``), trends only between shown counts.

A count from 1 up to ``settings.HANDVEST_SMALL_CELL`` − 1 is shown as ``<N`` (:class:`Figure`), so
nobody can be recognised from a small number; a trend (:class:`Trend`) is only shown between two
counts that are both shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


def small_cell_threshold() -> int:
    """Counts from 1 up to this number minus one are shown as ``<N``."""
    return int(settings.HANDVEST_SMALL_CELL)


# --- figures -------------------------------------------------------------------------------
HIDDEN = "×"  # as Statistics Netherlands marks a cell kept secret


@dataclass(slots=True)
class Figure:
    """A count as shown to people: 1 to threshold-1 is shown as ``<threshold``; zero is shown as 0.

    Zero is shown because it says nothing about anyone, and hiding it would make every quiet
    norm look like a small one. Templates print the figure itself (``{{ figure }}``); code that
    exports numbers uses :attr:`value`.
    """

    count: int
    threshold: int
    # Hidden though not small (secondary suppression, ``protect_groups``): shown as ``×``, so that a
    # small count beside it cannot be worked out from a total on the same page.
    hidden: bool = False

    @property
    def suppressed(self) -> bool:
        return self.hidden or 0 < self.count < self.threshold

    @property
    def small(self) -> bool:
        """Suppressed because it is small (primary suppression)."""
        return 0 < self.count < self.threshold and not self.hidden

    @property
    def shown(self) -> int | None:
        """The count when it may be shown, else None."""
        return None if self.suppressed else self.count

    @property
    def value(self) -> int | str:
        """What exports carry: the count, the string ``<N``, or ``×`` when hidden beside a small count."""
        if self.hidden:
            return HIDDEN
        return f"<{self.threshold}" if self.suppressed else self.count

    def __str__(self) -> str:
        return str(self.value)

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.count + other.count, self.threshold)


def _pinned(whole: Figure, parts: list[Figure]) -> bool:
    """Whether a suppressed part could be worked out from the exact whole and the parts shown.

    The whole minus the shown parts leaves the sum of the suppressed ones; a small part lies between
    1 and threshold − 1, a hidden one at threshold or more. A part whose bounds, given the others',
    meet in one value is pinned (one suppressed part alone always is). A hidden part counts too: once
    known, it would give away a small one in another group it belongs to."""
    if whole.hidden:
        # A hidden total is given away by its parts when they are all shown (and it then gives away others).
        return not any(part.suppressed for part in parts) and any(part.count > 0 for part in parts)
    if whole.suppressed:
        return False
    kept_back = [part for part in parts if part.suppressed]
    rest = whole.count - sum(part.count for part in parts if not part.suppressed)
    threshold = whole.threshold
    for index, part in enumerate(kept_back):
        others = kept_back[:index] + kept_back[index + 1 :]
        least = sum(threshold if other.hidden else 1 for other in others)
        most = None if any(other.hidden for other in others) else (threshold - 1) * len(others)
        own_low, own_high = (threshold, None) if part.hidden else (1, threshold - 1)
        low = own_low if most is None else max(own_low, rest - most)
        high = rest - least if own_high is None else min(own_high, rest - least)
        if low >= high:
            return True
    return False


def protect_groups(groups: list[tuple[Figure, list[Figure]]]) -> None:
    """Secondary suppression: in every (whole, parts) on one page (a year and its months, a quarter and
    its months), hide the smallest shown part, and if none is left the whole, until no small part can
    be worked out by subtraction. Hiding in one group can expose another, so it goes round until stable."""
    changed = True
    while changed:
        changed = False
        for whole, parts in groups:
            while _pinned(whole, parts):
                shown = [part for part in parts if not part.suppressed and part.count > 0]
                target = min(shown, key=lambda part: part.count) if shown else whole
                target.hidden = changed = True
                if target is whole:
                    break


def figure(count: int | None, threshold: int | None = None) -> Figure:
    return Figure(int(count or 0), small_cell_threshold() if threshold is None else threshold)


@dataclass(frozen=True)
class Trend:
    """The change from the previous period; unknown when either count is suppressed."""

    current: Figure
    previous: Figure

    @property
    def known(self) -> bool:
        return not (self.current.suppressed or self.previous.suppressed)

    @property
    def delta(self) -> int | None:
        return self.current.count - self.previous.count if self.known else None

    @property
    def percent(self) -> float | None:
        if not self.known or self.previous.count == 0:
            return None
        return round(100 * (self.current.count - self.previous.count) / self.previous.count, 1)

    @property
    def direction(self) -> str | None:
        """'up', 'down', 'same', or None when unknown."""
        if self.delta is None:
            return None
        return "up" if self.delta > 0 else "down" if self.delta < 0 else "same"

    def __str__(self) -> str:
        if self.delta is None:
            return "—"
        return f"{self.delta:+d}" if self.delta else "0"
