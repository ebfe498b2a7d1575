"""The relay's window (relay.window): slow start, additive increase, multiplicative decrease."""

from __future__ import annotations

import pytest

from relay.window import HandoffWindow, WindowPolicy

POLICY = WindowPolicy(minimum=4, maximum=100, tolerance=2.0, latency_target_seconds=0.05)


def full(window: HandoffWindow, latency: float = 0.01) -> None:
    """A batch as large as the window, every hand-off taking `latency`."""
    window.observe(claimed=window.size, latencies=[latency] * window.size, failed=0)


def test_it_starts_at_the_minimum_and_doubles_while_batches_are_full_and_fast() -> None:
    window = HandoffWindow(POLICY)
    sizes = [window.size]
    for _ in range(6):
        full(window)
        sizes.append(window.size)
    assert sizes == [4, 8, 16, 32, 64, 100, 100]  # capped at the maximum


def test_a_batch_smaller_than_the_window_does_not_grow_it() -> None:
    window = HandoffWindow(POLICY)
    window.observe(claimed=3, latencies=[0.01] * 3, failed=0)
    assert window.size == 4


def test_a_slow_batch_halves_the_window_and_ends_the_slow_start() -> None:
    window = HandoffWindow(POLICY)
    for _ in range(4):
        full(window)  # 64, baseline 10 ms
    assert window.size == 64
    full(window, latency=0.5)  # 50 times the baseline: the engine queues our calls
    assert window.size == 32
    full(window)
    assert window.size == 33  # additive from now on
    full(window)
    assert window.size == 34


def test_latency_within_the_tolerance_is_not_congestion() -> None:
    window = HandoffWindow(POLICY)
    full(window, latency=0.02)
    full(window, latency=0.039)  # under 2 x 20 ms
    assert window.size == 16


def test_medians_under_the_target_never_count_as_congestion() -> None:
    window = HandoffWindow(POLICY)
    full(window, latency=0.001)
    full(window, latency=0.04)  # 40 times the baseline, but under 50 ms
    assert window.size == 16


def test_the_median_decides_not_one_slow_row() -> None:
    window = HandoffWindow(POLICY)
    full(window)
    window.observe(claimed=8, latencies=[0.01] * 7 + [5.0], failed=0)
    assert window.size == 16


def test_halving_stops_at_the_minimum() -> None:
    window = HandoffWindow(POLICY)
    full(window)
    for _ in range(5):
        full(window, latency=2.0)
    assert window.size == 4


def test_a_failure_starts_over_from_the_minimum_in_slow_start() -> None:
    window = HandoffWindow(POLICY)
    for _ in range(5):
        full(window)
    full(window, latency=1.0)  # congestion: additive from here
    window.observe(claimed=window.size, latencies=[], failed=window.size)  # Temporal away
    assert window.size == 4
    full(window)
    assert window.size == 8  # doubling again


def test_the_baseline_drifts_up_so_a_slower_machine_is_not_congestion_forever() -> None:
    window = HandoffWindow(POLICY)
    full(window, latency=0.1)
    for _ in range(200):  # every batch at 0.3 s: 3 times the first baseline
        window.observe(claimed=window.size, latencies=[0.3] * window.size, failed=0)
    baseline = window.baseline
    assert baseline is not None
    assert baseline > 0.15  # 0.5 % a batch
    assert window.size > POLICY.minimum  # growing again: without the drift it stays at 4


def test_bad_bounds_fail_at_once() -> None:
    with pytest.raises(ValueError, match="window bounds"):
        WindowPolicy(minimum=10, maximum=5, tolerance=2.0, latency_target_seconds=0.05)
    with pytest.raises(ValueError, match="tolerance"):
        WindowPolicy(minimum=4, maximum=100, tolerance=1.0, latency_target_seconds=0.05)


def test_a_batch_that_fills_the_room_left_grows_it_by_its_rows() -> None:
    """Batches claimed while others are in flight: the window grows per row acknowledged,
    so two half-window batches grow it as much as one full one."""
    window = HandoffWindow(POLICY)
    full(window)
    assert window.size == 8
    for _ in range(2):  # slow start: 8 more rows for 8 rows acknowledged
        window.observe(claimed=4, latencies=[0.01] * 4, failed=0, room=4)
    assert window.size == 16
    full(window, latency=1.0)  # congestion: 8, additive from here
    for _ in range(2):
        window.observe(claimed=4, latencies=[0.01] * 4, failed=0, room=4)
    assert window.size == 9  # one row per window of rows
    window.observe(claimed=3, latencies=[0.01] * 3, failed=0, room=4)
    assert window.size == 9  # less than its room: nothing learned about a larger window


def test_one_sign_of_trouble_shrinks_the_window_once() -> None:
    """Batches in flight together all see the same slowdown; only the first report halves
    the window, the others were claimed under the window it replaced."""
    window = HandoffWindow(POLICY)
    for _ in range(4):
        full(window)
    assert window.size == 64
    epoch = window.epoch
    for _ in range(2):  # two half-window batches, claimed before the slowdown
        window.observe(claimed=32, latencies=[0.5] * 32, failed=0, room=32, epoch=epoch)
    assert window.size == 32
    window.observe(claimed=32, latencies=[], failed=32, room=32, epoch=epoch)
    assert window.size == 32  # a failure of the old window's batch: old news too
    window.observe(claimed=32, latencies=[], failed=32, room=32, epoch=window.epoch)
    assert window.size == 4
