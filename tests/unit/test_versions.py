"""The rules of worker versions that need no server: when a worker promotes its own
version, what a deployment is called, and the durations `orders workflows` takes."""

from __future__ import annotations

import argparse
import re
from datetime import timedelta

import pytest

from service.commands.workflows import duration
from service.settings.durations import FORMS
from workflows.names import WORKFLOW_VERSION
from workflows.versions import Deployment, default_build_id, should_promote


def test_a_worker_promotes_its_version_only_forwards() -> None:
    assert should_promote("v5", None)  # nothing current: unversioned workers had the tasks
    assert should_promote("v6", "v5")
    assert not should_promote("v5", "v5")  # already current
    assert not should_promote("v5", "v6")  # an old worker restarting mid-deploy
    assert not should_promote("v10", "2026-12-01")  # another form: promoted by hand
    assert not should_promote("ab12cd", "v5")


def test_the_build_id_is_the_workflows_version_and_the_deployment_its_task_queue() -> None:
    assert default_build_id() == f"v{WORKFLOW_VERSION}"
    deployment = Deployment("orders.eu", "v5")
    assert deployment.name == "orders-eu"  # '.' separates deployment and build id
    assert deployment.attribute() == "orders-eu:v5"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("PT15M", 900)],
)
def test_durations_are_seconds_a_number_with_a_unit_or_iso(text: str, seconds: int) -> None:
    assert duration(text) == timedelta(seconds=seconds)


def test_another_duration_is_refused_with_the_forms_it_takes() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(FORMS)):
        duration("five minutes")
