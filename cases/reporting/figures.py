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


@dataclass(slots=True)
class Figure:
    """A count as shown to people: 1 to threshold-1 is shown as ``<threshold``; zero is shown as 0.

    Zero is shown because it says nothing about anyone, and hiding it would make every quiet
    norm look like a small one. Templates print the figure itself (``{{ figure }}``); code that
    exports numbers uses :attr:`value`.
    """

    count: int
    threshold: int

    @property
    def suppressed(self) -> bool:
        return 0 < self.count < self.threshold

    @property
    def shown(self) -> int | None:
        """The count when it may be shown, else None."""
        return None if self.suppressed else self.count

    @property
    def value(self) -> int | str:
        """What exports carry: the count, or the string ``<N``."""
        return f"<{self.threshold}" if self.suppressed else self.count

    def __str__(self) -> str:
        return str(self.value)

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.count + other.count, self.threshold)


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
