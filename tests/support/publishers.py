"""A double of the workflow activities' EventPublisher port, for tests that run the real
workflow and activities but need no broker."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.envelope import EventEnvelope


@dataclass
class RecordingPublisher:
    """A publisher double: records what it was asked to publish, fails the first N calls."""

    fail_first: int = 0
    calls: int = 0
    published: list[tuple[str, bytes, str]] = field(default_factory=list)
    correlation_ids: dict[str, str | None] = field(default_factory=dict)  # by event id

    async def publish(self, event: EventEnvelope) -> None:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise ConnectionError(f"broker down (call {self.calls})")
        self.published.append((event.event_type, event.payload.encode(), event.event_id))
        self.correlation_ids[event.event_id] = event.correlation_id or None

    def event_ids(self) -> list[str]:
        return [event_id for _, _, event_id in self.published]
