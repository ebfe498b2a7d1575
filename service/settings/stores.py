"""PostgreSQL and Redis: where they are, how to authenticate and encrypt, the pool, the cache.

TLS and credentials: PostgreSQL's through DATABASE_URL's libpq parameters (`sslmode`,
`sslrootcert`, ...; asyncpg and psycopg both read them) or POSTGRES_SSLMODE with the
POSTGRES_* parts; Redis's through REDIS_USERNAME / REDIS_PASSWORD (AUTH, ACL users) and
REDIS_TLS (`rediss://`, the server's certificate always verified, against
REDIS_TLS_CA_FILE or the system's store).
"""

from __future__ import annotations

from typing import Any, Literal, Self
from urllib.parse import quote, urlencode

from pydantic import Field, FilePath, PostgresDsn, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]


def empty_is_unset(value: Any) -> Any:
    """`VAR=` (as .env.example leaves the optional ones) means unset."""
    return None if value == "" else value


def userinfo(user: str | None, password: SecretStr | None) -> str:
    """`user:password@` for a URL, each quoted; empty without either."""
    secret = password.get_secret_value() if password is not None else ""
    if not user and not secret:
        return ""
    auth = quote(user or "", safe="")
    return f"{auth}:{quote(secret, safe='')}@" if secret else f"{auth}@"


class StoreSettings(BaseSettings):
    # PostgreSQL
    database_url: PostgresDsn | None = None
    postgres_host: str = "localhost"
    postgres_port: int = Field(5432, ge=1, le=65535)
    postgres_db: str = "orders"
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
    postgres_sslmode: SslMode | None = None  # with the POSTGRES_* parts; else in DATABASE_URL
    db_pool_min_size: int = Field(2, ge=1)
    db_pool_max_size: int = Field(10, ge=1)
    db_command_timeout_seconds: float = Field(10.0, gt=0)
    db_statement_timeout_seconds: float = Field(5.0, gt=0)
    db_acquire_timeout_seconds: float = Field(2.0, gt=0)
    run_migrations_on_startup: bool = False

    # Redis (the cache and the rate limits, and Celery's broker by default)
    redis_host: str = "localhost"
    redis_port: int = Field(6379, ge=1, le=65535)
    redis_db: int = Field(0, ge=0)
    redis_orders_ttl_seconds: int = Field(300, ge=1)
    redis_timeout_seconds: float = Field(0.25, gt=0)
    redis_username: str | None = None  # an ACL user; AUTH with the password alone if unset
    redis_password: SecretStr | None = None
    redis_tls: bool = False  # rediss://, the certificate verified
    redis_tls_ca_file: FilePath | None = None  # else the system's CA store

    _stores_unset_when_empty = field_validator(
        "postgres_sslmode", "redis_username", "redis_password", "redis_tls_ca_file", mode="before"
    )(empty_is_unset)

    @model_validator(mode="after")
    def _pool_bounds(self) -> Self:
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError("DB_POOL_MIN_SIZE must not exceed DB_POOL_MAX_SIZE")
        if self.db_statement_timeout_seconds > self.db_command_timeout_seconds:
            raise ValueError(
                "DB_STATEMENT_TIMEOUT_SECONDS must not exceed DB_COMMAND_TIMEOUT_SECONDS"
            )
        return self

    @property
    def dsn(self) -> str:
        """The PostgreSQL URL, from DATABASE_URL or the POSTGRES_* parts."""
        if self.database_url is not None:
            return str(self.database_url)
        auth = userinfo(self.postgres_user, self.postgres_password)
        url = f"postgresql://{auth}{self.postgres_host}:{self.postgres_port}/{self.postgres_db}"
        return f"{url}?sslmode={self.postgres_sslmode}" if self.postgres_sslmode else url

    def _redis_tls_options(self) -> dict[str, str]:
        if not self.redis_tls:
            return {}
        options = {"ssl_cert_reqs": "required"}
        if self.redis_tls_ca_file is not None:
            options["ssl_ca_certs"] = str(self.redis_tls_ca_file)
        return options

    @property
    def redis_url(self) -> str:
        """The Redis of the cache as a URL (Celery's broker by default), auth and TLS in it."""
        scheme = "rediss" if self.redis_tls else "redis"
        auth = userinfo(self.redis_username, self.redis_password)
        url = f"{scheme}://{auth}{self.redis_host}:{self.redis_port}/{self.redis_db}"
        query = self._redis_tls_options()
        return f"{url}?{urlencode(query)}" if query else url

    @property
    def redis_client_options(self) -> dict[str, Any]:
        """The same, as keyword arguments of `redis.asyncio.Redis`."""
        options: dict[str, Any] = {
            "host": self.redis_host,
            "port": self.redis_port,
            "db": self.redis_db,
        }
        if self.redis_username:
            options["username"] = self.redis_username
        if self.redis_password is not None:
            options["password"] = self.redis_password.get_secret_value()
        if self.redis_tls:
            options["ssl"] = True
            options.update(self._redis_tls_options())
        return options
