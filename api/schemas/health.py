"""Liveness and readiness."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    """The public /ready: states only (the operator listener's adds each role's details)."""

    status: Literal["ok", "degraded", "down"]
    checks: Annotated[
        dict[str, Literal["ok", "down"]],
        Field(description="each dependency's and background role's state"),
    ]
    detail: Annotated[str | None, Field(description="what is down (503 only)")] = None
