"""Liveness and readiness."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ok", "degraded", "down"]
    checks: dict[str, Literal["ok", "down"]]
    details: Annotated[
        dict[str, Any] | None,
        Field(description="background roles' state and parked outbox rows (when it runs roles)"),
    ] = None
    detail: Annotated[str | None, Field(description="why not ready (503 only)")] = None
