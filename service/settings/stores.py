"""PostgreSQL and Redis: where they are, the pool, the cache."""

from __future__ import annotations

from typing import Self
from urllib.parse import quote

from pydantic import Field, PostgresDsn, SecretStr, model_validator
from pydantic_settings import BaseSettings


class StoreSettings(BaseSettings):
    # PostgreSQL
    database_url: PostgresDsn | None = None
    postgres_host: str = "localhost"
    postgres_port: int = Field(5432, ge=1, le=65535)
    postgres_db: str = "orders"
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
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
        password = self.postgres_password.get_secret_value()
        auth = quote(self.postgres_user, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        return f"postgresql://{auth}@{self.postgres_host}:{self.postgres_port}/{self.postgres_db}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/{self.redis_db}"
