"""The order timeline people read, built from recorded workflow histories (no server)."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import WorkflowHistory

from core.timeline import TimelineEntry
from workflows.timeline import timeline

HISTORIES = Path(__file__).parents[1] / "histories"


def entries(name: str, version: int = 1) -> list[TimelineEntry]:
    path = HISTORIES / f"v{version}" / f"{name}.json"
    return timeline(WorkflowHistory.from_json(name, path.read_text()).events)


def test_a_shipped_and_processed_order() -> None:
    found = entries("shipped_and_processed")
    kinds = [e.kind.value for e in found]
    assert kinds[0] == "created"
    assert kinds[-1] == "completed"
    assert kinds.count("processed") == 1
    # The duplicate SHIPPED signal in this history shows once.
    changes = [
        (e.details["old_status"], e.details["new_status"])
        for e in found
        if e.kind == "status_changed"
    ]
    assert changes == [("PENDING", "PAID"), ("PAID", "SHIPPED")]
    published = [e.details["event_type"] for e in found if e.kind == "published"]
    assert published == ["new_order", "order_status_changed", "order_status_changed"]
    times = [e.time for e in found]
    assert times == sorted(times)


def test_an_expired_order_shows_its_expiry() -> None:
    kinds = [e.kind.value for e in entries("expired_unpaid")]
    assert kinds.count("expired") == 1
    assert kinds.index("expired") < kinds.index("status_changed")


def test_an_order_paid_before_expiry_was_not_expired() -> None:
    assert "expired" not in [e.kind for e in entries("paid_before_expiry")]


def test_entries_serialise_for_the_api() -> None:
    first = entries("publish_retried")[0].to_dict()
    assert set(first) == {"time", "kind", "details"}
    assert first["kind"] == "created"
    assert first["details"]["user_id"] == 7
    assert "T" in first["time"]


def test_a_republished_new_order_shows_each_attempt_with_its_reason() -> None:
    found = entries("republished_until_processed", version=2)
    published = [e.details for e in found if e.kind == "published"]
    new_order = [d for d in published if d["event_type"] == "new_order"]
    assert len({d["event_id"] for d in new_order}) == 1  # the same event each time
    assert [d.get("reason") for d in new_order] == [
        None,
        "not processed after 60 s, republish 1",
        "not processed after 120 s, republish 2",
    ]
    assert [e.kind.value for e in found].count("processed") == 1


def test_a_parked_order_ends_with_the_reason() -> None:
    last = entries("parked_on_poison_input", version=2)[-1]
    assert last.kind == "parked"
    assert last.details == {"reason": "order parked: publish_event: event_id is not a UUID: 'x'"}


def test_a_local_first_publish_shows_in_the_timeline() -> None:
    """v3: new_order's first publish is a local activity, a marker in the history that
    holds the result (event id and type), not the input."""
    found = entries("shipped_and_processed", version=3)
    published = [e.details for e in found if e.kind == "published"]
    assert [d["event_type"] for d in published] == [
        "new_order",
        "order_status_changed",
        "order_status_changed",
    ]
    assert (
        published[0]["event_id"]
        == entries("shipped_and_processed", version=3)[0].details["event_id"]
    )
    assert [e.kind.value for e in found][:2] == ["created", "published"]


def test_a_failed_local_publish_shows_only_the_regular_activity_that_took_over() -> None:
    found = entries("publish_retried", version=3)
    new_order = [
        e for e in found if e.kind == "published" and e.details["event_type"] == "new_order"
    ]
    assert len(new_order) == 1


def test_v5_republishes_are_local_activities_and_keep_their_reason() -> None:
    """v5 publishes again as it publishes first: a local activity, whose marker holds the
    result, so the result repeats the reason."""
    found = entries("republished_until_processed", version=5)
    new_order = [e.details for e in found if e.details.get("event_type") == "new_order"]
    assert [d.get("reason") for d in new_order] == [
        None,
        "not processed after 60 s, republish 1",
        "not processed after 120 s, republish 2",
    ]


def test_v5_a_check_that_finds_the_order_processed_is_its_processed_entry() -> None:
    found = entries("found_processed_in_postgres", version=5)
    processed = [e.details for e in found if e.kind == "processed"]
    assert len(processed) == 1
    assert processed[0]["found"] == "postgresql"
    assert [e.kind.value for e in found].count("published") == 2  # new_order, the cancel


def test_v5_a_local_expiry_shows_in_the_timeline() -> None:
    kinds = [e.kind.value for e in entries("expired_unpaid", version=5)]
    assert kinds.count("expired") == 1
    assert kinds.index("expired") < kinds.index("status_changed")
