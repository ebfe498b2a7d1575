"""Every figure of a run, each with its baseline from the same run, summed up at the end.

A part records `Figure`s as it measures (one per figure and repetition), each paired with
its baseline's value at that moment: the newest one of the same repetition, else the
newest one (measured before, in the same run: the machine drifts). The summary prints,
for each figure, the median over the repetitions, the median of its ratios to its
baseline, and the issue's target when it has one. Targets are printed, never asserted:
timings on a shared 2-core machine are not a pass/fail signal.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Target:
    """The issue's target: on the ratio to the baseline, or on the value itself."""

    text: str
    ratio_at_least: float | None = None
    at_most: float | None = None
    ratio_at_most: float | None = None

    def met(self, value: float, ratio: float | None) -> bool | None:
        if self.ratio_at_least is not None:
            return None if ratio is None else ratio >= self.ratio_at_least
        if self.ratio_at_most is not None:
            return None if ratio is None else ratio <= self.ratio_at_most
        if self.at_most is not None:
            return value <= self.at_most
        return None


@dataclass(frozen=True, slots=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: str = ""  # the name of the figure it is compared with
    baseline_value: float | None = None  # that figure's newest value when this one was taken
    target: Target | None = None
    repetition: int = 0

    @property
    def ratio(self) -> float | None:
        return self.value / self.baseline_value if self.baseline_value else None


@dataclass(frozen=True, slots=True)
class Summary:
    name: str
    median: float
    unit: str
    values: tuple[float, ...]
    baseline: str
    ratio: float | None
    target: Target | None

    @property
    def met(self) -> bool | None:
        return self.target.met(self.median, self.ratio) if self.target else None


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    repetition: int = 0

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        baseline: str = "",
        target: Target | None = None,
    ) -> None:
        base = self.latest(baseline, self.repetition) if baseline else None
        self.figures.append(Figure(name, value, unit, baseline, base, target, self.repetition))

    def measured(self, name: str) -> bool:
        """Whether `name` has a value in the current repetition."""
        return any(f.name == name and f.repetition == self.repetition for f in self.figures)

    def latest(self, name: str, repetition: int | None = None) -> float | None:
        """The newest value of `name`, of `repetition` if it has one."""
        found = [f for f in self.figures if f.name == name]
        same = [f for f in found if f.repetition == repetition]
        return (same or found)[-1].value if found else None

    def summary(self) -> list[Summary]:
        names = list(dict.fromkeys(f.name for f in self.figures))
        rows = []
        for name in names:
            figures = [f for f in self.figures if f.name == name]
            first = figures[0]
            ratios = [f.ratio for f in figures if f.ratio is not None]
            rows.append(
                Summary(
                    name,
                    statistics.median(f.value for f in figures),
                    first.unit,
                    tuple(f.value for f in figures),
                    first.baseline,
                    statistics.median(ratios) if ratios else None,
                    first.target,
                )
            )
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "figures": [asdict(f) for f in self.figures],
            "summary": [asdict(s) | {"met": s.met} for s in self.summary()],
        }


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e6:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cells(row: Summary) -> list[str]:
    ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
    met = {True: "yes", False: "NO", None: ""}[row.met]
    spread = ""
    if len(row.values) > 1:
        spread = f"{_number(min(row.values))}..{_number(max(row.values))}"
    return [
        row.name,
        f"{_number(row.median)} {row.unit}",
        spread,
        row.baseline,
        ratio,
        row.target.text if row.target else "",
        met,
    ]


HEADER = ["figure", "median", "range", "baseline (same run)", "ratio", "target", "met"]


def text_table(rows: list[Summary]) -> str:
    cells = [HEADER, *(_cells(r) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(len(HEADER))).rstrip() for c in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Summary]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_cells(r)) + " |" for r in rows]
    return "\n".join(lines)
