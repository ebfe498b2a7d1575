"""The names Celery producers and workers agree on."""

from __future__ import annotations

from typing import Final

PROCESS_ORDER: Final = "process_order"
