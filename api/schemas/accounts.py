"""Accounts: registering, and the OAuth2 password flow's form and token."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.fields import Email


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "ada@example.com", "password": "correct horse"}]},
    )

    email: Email
    password: Annotated[str, Field(min_length=8, max_length=256)]


class UserOut(BaseModel):
    id: int
    email: str


class TokenForm(BaseModel):
    """OAuth2 password flow: `application/x-www-form-urlencoded` fields."""

    model_config = ConfigDict(extra="ignore")

    username: Annotated[str, Field(description="the account's email")]
    password: str
    grant_type: Literal["password"] | None = None
    scope: str = ""


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: Annotated[int, Field(description="seconds until the token expires")]
