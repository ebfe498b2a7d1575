"""The activities' names, as Temporal knows them (histories record these)."""

from __future__ import annotations

from typing import Final

ACTIVITY_PUBLISH_EVENT: Final = "publish_event"
ACTIVITY_EXPIRE_ORDER: Final = "expire_order"
ACTIVITY_CHECK_PROCESSING: Final = "check_processing"
