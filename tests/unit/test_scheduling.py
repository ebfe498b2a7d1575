"""`make test`'s units of work (tests/support/scheduling.py): a module each, and the modules
marked `slow` one unit together, so no two slow tests run at once."""

from __future__ import annotations

from tests.support.scheduling import SLOW, unit_of


def test_a_module_is_a_unit() -> None:
    nodeid = "tests/unit/test_money.py::test_cents[1::2]"
    assert unit_of(nodeid) == "tests/unit/test_money.py"


def test_the_slow_modules_are_one_unit() -> None:
    assert unit_of("tests/e2e/test_faults.py::test_service_killed") == SLOW
    assert unit_of("tests/e2e/test_run_supervision.py::test_each") == SLOW
    assert unit_of("tests/e2e/test_order_flow.py::test_order") == "tests/e2e/test_order_flow.py"
