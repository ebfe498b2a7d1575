"""Every error body: `detail`, a text or the validation errors."""

from __future__ import annotations

from pydantic import BaseModel


class HTTPError(BaseModel):
    detail: str


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class HTTPValidationError(BaseModel):
    detail: list[ValidationErrorItem]
