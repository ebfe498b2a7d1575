"""Accounts: registering, and the OAuth2 password flow's form and token."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.fields import Email
from core.emails import MAX_LENGTH as MAX_EMAIL_LENGTH

MAX_PASSWORD_LENGTH = 256


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "ada@example.com", "password": "correct horse"}]},
    )

    email: Email
    password: Annotated[str, Field(min_length=8, max_length=MAX_PASSWORD_LENGTH)]


class UserOut(BaseModel):
    id: int
    email: str


class TokenForm(BaseModel):
    """OAuth2 password flow: `application/x-www-form-urlencoded` fields, each bounded
    before anything is done with it (no account has a longer email or password)."""

    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, Field(max_length=MAX_EMAIL_LENGTH, description="the account's email")]
    password: Annotated[str, Field(max_length=MAX_PASSWORD_LENGTH)]
    grant_type: Literal["password"] | None = None
    scope: Annotated[str, Field(max_length=1024)] = ""


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: Annotated[int, Field(description="seconds until the token expires")]
