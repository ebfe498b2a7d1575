"""Accounts: register, and exchange credentials for a bearer token (OAuth2 password flow)."""

from __future__ import annotations

from aiohttp import web

from api.keys import ACCOUNTS, THROTTLE, TOKENS
from api.login_limits import login_attempt
from api.operations import Operation
from api.responses import json_response
from api.schemas.accounts import RegisterIn, TokenForm, TokenOut, UserOut
from api.validation import RequestValidationError, form_body, json_body
from core import audit
from core.errors import InvalidCredentials
from usecases.accounts import account_name


async def register(request: web.Request) -> web.Response:
    throttle = request.app[THROTTLE]
    await throttle.register(request)
    body = await json_body(request, RegisterIn)
    await throttle.register(request, account=body.email)
    user = await request.app[ACCOUNTS].register(email=body.email, password=body.password)
    return json_response(UserOut(id=user.id, email=user.email).model_dump(), status=201)


async def token(request: web.Request) -> web.Response:
    throttle = request.app[THROTTLE]
    try:
        form = await form_body(request, TokenForm)
    except RequestValidationError:
        audit.login_failed(
            client=throttle.client_address(request), account=None, reason="invalid_request"
        )
        raise
    account = account_name(form.username)
    async with login_attempt(throttle, request, account):
        try:
            user = await request.app[ACCOUNTS].authenticate(
                email=form.username, password=form.password
            )
        except InvalidCredentials:
            audit.login_failed(
                client=throttle.client_address(request),
                account=account,
                reason="invalid_credentials",
            )
            raise
    tokens = request.app[TOKENS]
    out = TokenOut(access_token=tokens.issue(user.id), expires_in=tokens.expires_in)
    return json_response(out.model_dump())


OPERATIONS = [
    Operation(
        "POST",
        "/register/",
        register,
        "register",
        "Register a user",
        "accounts",
        status=201,
        response=UserOut,
        body=RegisterIn,
        errors=(400, 408, 413, 422, 429, 503),
        links=(
            (
                "GetToken",
                {
                    "operationId": "token",
                    "requestBody": {
                        "username": "$response.body#/email",
                        "password": "$request.body#/password",
                    },
                },
            ),
        ),
    ),
    Operation(
        "POST",
        "/token/",
        token,
        "token",
        "Get a bearer token (OAuth2 password flow)",
        "accounts",
        response=TokenOut,
        body=TokenForm,
        form=True,
        errors=(401, 408, 413, 422, 429, 503),
    ),
]
