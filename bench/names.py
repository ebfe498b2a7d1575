"""The names of the figures other figures are compared with (their baselines)."""

from __future__ import annotations

from typing import Final

API_ALONE: Final = "POST, API role alone"
TRIVIAL_E2E: Final = "end to end, trivial workflow"
TRIVIAL_CPU: Final = "CPU per workflow, trivial"
TRIVIAL_LIGHT: Final = "start -> result p50, light load, trivial workflow"
FLOOR_E2E: Final = "end to end, floor (local activity, eager start)"
FLOOR_CPU: Final = "CPU per workflow, floor"
