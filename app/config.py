"""Configuration: the one place that reads the environment.

Everything else receives a ``Config`` (or reads ``app.config``). Production refuses
unsafe settings with a one-line reason, so a misconfigured deploy fails at start-up
rather than serving with an insecure default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production by validate()


#: Kinds of evidence file that can be allowed (EVIDENCE_ALLOWED_TYPES lists some of them).
EVIDENCE_TYPE_KINDS = ("pdf", "office", "csv", "text", "email", "image", "audio", "video")
#: S3 stores objects of up to 5 TiB.
MAX_EVIDENCE_BYTES = 5 * 1024**4


class ConfigError(RuntimeError):
    """A setting is missing or unsafe; the message is one line a person can act on."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"expected a boolean (true/false) but got {value!r}")


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


@dataclass(frozen=True)
class Config:
    """Settings for one process. Build it with ``Config.from_env()``."""

    app_env: str = "development"
    secret_key: str = DEV_SECRET_KEY
    instance_path: Path = DEFAULT_INSTANCE
    #: SQLAlchemy URL the app connects with (on PostgreSQL: a role that owns nothing).
    database_url: str = ""
    #: URL migrations run with (the schema owner); defaults to ``database_url``.
    database_owner_url: str = ""
    #: Redis URL; empty means jobs run in-process.
    redis_url: str = ""
    #: ``s3://bucket/prefix`` or ``file:///path``; empty means a folder under instance/.
    storage_url: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "eu-west-2"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    #: Public base URL, used in links that leave the request (emails, presigned folder URLs).
    base_url: str = "http://127.0.0.1:5000"
    #: Where mail goes: ``smtp://user:password@host:587`` (STARTTLS; ``smtps://`` for TLS) or
    #: ``outbox:///path``, a folder of .eml files (the default, under instance/outbox).
    mail_url: str = ""
    #: The From address of letters and notices.
    mail_from: str = "cjji@example.gov.uk"
    debug: bool = False
    log_level: str = "INFO"
    #: Run in-process jobs at once in the calling thread (tests, CLI one-shots).
    jobs_eager: bool = False
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    db_pool_size: int = 5
    #: Reverse proxies in front of the app whose X-Forwarded-For/-Proto headers are trusted.
    trusted_proxies: int = 0
    #: Largest evidence file accepted, in bytes.
    evidence_max_bytes: int = 5 * 1024**3
    #: Kinds of evidence file accepted, judged from the content (see EVIDENCE_TYPE_KINDS).
    evidence_allowed_types: tuple[str, ...] = EVIDENCE_TYPE_KINDS
    #: Size of the parts browsers upload (grown for files that would need over 10,000).
    evidence_part_bytes: int = 8 * 1024**2
    #: clamd to scan uploads with: ``tcp://host:port`` or ``unix:///path``; empty: no scan.
    clamd_address: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        instance = Path(env.get("INSTANCE_PATH") or DEFAULT_INSTANCE)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'app.db'}"
        return cls(
            app_env=(env.get("APP_ENV") or "development").strip().lower(),
            secret_key=env.get("SECRET_KEY") or "",
            instance_path=instance,
            database_url=database_url,
            database_owner_url=env.get("DATABASE_OWNER_URL") or database_url,
            redis_url=env.get("REDIS_URL") or "",
            storage_url=env.get("STORAGE_URL") or f"file://{instance / 'objects'}",
            s3_endpoint_url=env.get("S3_ENDPOINT_URL") or "",
            s3_region=env.get("S3_REGION") or "eu-west-2",
            s3_access_key_id=env.get("S3_ACCESS_KEY_ID") or "",
            s3_secret_access_key=env.get("S3_SECRET_ACCESS_KEY") or "",
            base_url=(env.get("BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
            mail_url=env.get("MAIL_URL") or f"outbox://{instance / 'outbox'}",
            mail_from=env.get("MAIL_FROM") or "cjji@example.gov.uk",
            debug=_bool(env.get("FLASK_DEBUG")),
            log_level=(env.get("LOG_LEVEL") or "INFO").upper(),
            jobs_eager=_bool(env.get("JOBS_EAGER")),
            session_idle_minutes=_int("SESSION_IDLE_MINUTES", env.get("SESSION_IDLE_MINUTES"), 30),
            session_absolute_hours=_int(
                "SESSION_ABSOLUTE_HOURS", env.get("SESSION_ABSOLUTE_HOURS"), 12
            ),
            db_pool_size=_int("DB_POOL_SIZE", env.get("DB_POOL_SIZE"), 5),
            trusted_proxies=_int("TRUSTED_PROXIES", env.get("TRUSTED_PROXIES"), 0),
            evidence_max_bytes=_int(
                "EVIDENCE_MAX_BYTES", env.get("EVIDENCE_MAX_BYTES"), 5 * 1024**3
            ),
            evidence_allowed_types=tuple(
                kind.strip().lower()
                for kind in (
                    env.get("EVIDENCE_ALLOWED_TYPES") or ",".join(EVIDENCE_TYPE_KINDS)
                ).split(",")
                if kind.strip()
            ),
            evidence_part_bytes=_int(
                "EVIDENCE_PART_BYTES", env.get("EVIDENCE_PART_BYTES"), 8 * 1024**2
            ),
            clamd_address=(env.get("CLAMD_ADDRESS") or "").strip(),
        )

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def effective_secret_key(self) -> str:
        return self.secret_key or DEV_SECRET_KEY

    def _validate_evidence(self) -> None:
        if not 1 <= self.evidence_max_bytes <= MAX_EVIDENCE_BYTES:
            raise ConfigError(
                f"EVIDENCE_MAX_BYTES must be between 1 and {MAX_EVIDENCE_BYTES} (5 TiB)"
            )
        unknown = sorted(set(self.evidence_allowed_types) - set(EVIDENCE_TYPE_KINDS))
        if unknown or not self.evidence_allowed_types:
            raise ConfigError(
                "EVIDENCE_ALLOWED_TYPES must list some of "
                f"{', '.join(EVIDENCE_TYPE_KINDS)}; unknown: {', '.join(unknown) or 'none given'}"
            )
        if not 5 * 1024**2 <= self.evidence_part_bytes <= 5 * 1024**3:
            raise ConfigError("EVIDENCE_PART_BYTES must be between 5 MiB and 5 GiB (S3's limits)")
        address = self.clamd_address
        if address and not (
            address.startswith("unix:///")
            or (address.startswith("tcp://") and address.rpartition(":")[2].isdecimal())
        ):
            raise ConfigError("CLAMD_ADDRESS must be tcp://host:port or unix:///path/to/socket")

    def validate(self) -> None:
        """Raise ConfigError with one readable line if a setting is unsafe or malformed."""
        if self.app_env not in {"development", "test", "production"}:
            raise ConfigError(
                f"APP_ENV must be development, test or production, got {self.app_env!r}"
            )
        if self.log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ConfigError(
                f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {self.log_level!r}"
            )
        if not (self.storage_url.startswith("s3://") or self.storage_url.startswith("file://")):
            raise ConfigError("STORAGE_URL must start with s3:// or file://")
        if self.mail_url and not self.mail_url.startswith(("smtp://", "smtps://", "outbox://")):
            raise ConfigError("MAIL_URL must start with smtp://, smtps:// or outbox://")
        self._validate_evidence()
        if not self.is_production:
            return
        if not self.secret_key or self.secret_key == DEV_SECRET_KEY:
            raise ConfigError("SECRET_KEY must be set in production (a long random value)")
        if len(self.secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        if self.is_sqlite:
            raise ConfigError("DATABASE_URL must point at PostgreSQL in production, not SQLite")
        if self.debug:
            raise ConfigError("FLASK_DEBUG must be off in production")
        if not self.redis_url:
            raise ConfigError("REDIS_URL must be set in production so jobs survive a restart")
        if not self.storage_url.startswith("s3://"):
            raise ConfigError("STORAGE_URL must be an s3:// bucket in production")
        if not self.base_url.startswith("https://"):
            raise ConfigError("BASE_URL must be an https:// address in production")
        if not self.mail_url.startswith(("smtp://", "smtps://")):
            raise ConfigError("MAIL_URL must be an smtp:// or smtps:// server in production")
