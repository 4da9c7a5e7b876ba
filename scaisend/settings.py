"""The one Settings object (D22, D23): every environment variable ScaiSend reads.

Only this module reads ``os.environ``. Field names equal their environment names; each field's description is also
its line in the generated ``.env.example``. A bad value fails at start-up with a message naming the variable.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from datetime import timedelta
from typing import Literal

import limits
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

HANDBACK_SECONDS = 5  # of SHUTDOWN_GRACE_SECONDS, kept for handing unfinished jobs back and closing connections


class SettingsError(RuntimeError):
    """A setting has a bad value; the message names the variable."""


def parse_duration(value: str) -> timedelta:
    """Parse ``30s``, ``5m``, ``2h``, ``3d`` or a bare number of seconds."""
    text = value.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text and text[-1] in units:
        number, unit = text[:-1], units[text[-1]]
    else:
        number, unit = text, 1
    try:
        seconds = float(number) * unit
    except ValueError as exc:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 2h)") from exc
    if seconds <= 0:
        raise ValueError(f"duration must be positive: {value!r}")
    return timedelta(seconds=seconds)


class Settings(BaseSettings):
    """ScaiSend's configuration, read from the environment (and an optional ``.env`` file)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True)

    # --- storage -------------------------------------------------------------------------------------------------
    DATABASE_URL: str = Field(
        "sqlite+aiosqlite:///.scaisend/scaisend.db",
        description="SQLAlchemy async URL: mysql+aiomysql://user:pass@host/db in production, sqlite+aiosqlite for dev",
    )
    DATABASE_POOL_SIZE: int = Field(10, ge=1, le=500, description="Connections kept open per process (MySQL only)")
    DATABASE_STATEMENT_TIMEOUT_MS: int = Field(
        2000, ge=100, description="Exporter's per-statement timeout on MySQL, so a slow database never hangs a scrape"
    )
    DATABASE_CONNECT_TIMEOUT: int = Field(
        5, ge=1, le=300, description="Seconds a new database connection may take before the attempt fails (MySQL)"
    )
    DATABASE_POOL_TIMEOUT: int = Field(
        5,
        ge=1,
        le=300,
        description="Seconds a request or job waits for a free pooled connection before failing (the API: 503)",
    )
    REDIS_URL: str = Field("redis://127.0.0.1:6379/0", description="Redis for queues, caches and rate-limit counters")
    REDIS_QUEUE_PREFIX: str = Field("", description="Prefix put before every queue key (email:process, ...)")

    # --- identity and secrets ------------------------------------------------------------------------------------
    SECRET_KEY: str = Field(
        "change-me-in-production-please-32+chars",
        min_length=16,
        description="Encrypts DKIM private keys and webhook secrets at rest and signs tracking tokens; outside "
        "development at least 32 characters and no placeholder (openssl rand -hex 32)",
    )
    SECRET_KEY_PREVIOUS: str = Field(
        "",
        description="Comma-separated earlier SECRET_KEYs kept during a rotation: they still verify tokens and decrypt, "
        "never sign or encrypt",
    )
    SCAIKEY_JWKS_URL: str = Field("", description="JWKS URL for RS256/ES256 JWTs; empty disables JWT auth (D1)")
    JWT_AUDIENCE: str = Field(
        "", description="Expected JWT 'aud' claim; required with SCAIKEY_JWKS_URL outside development"
    )
    JWT_ISSUER: str = Field(
        "", description="Expected JWT 'iss' claim; required with SCAIKEY_JWKS_URL outside development"
    )
    OIDC_ISSUER: str = Field(
        "", description="Sign-in (/v3/auth/*): your OIDC provider's issuer URL (discovery document); empty disables it"
    )
    OIDC_CLIENT_ID: str = Field("", description="Sign-in: ScaiSend's client id at the OIDC provider")
    OIDC_CLIENT_SECRET: str = Field("", description="Sign-in: the client secret (empty for a public client: PKCE only)")
    OIDC_REDIRECT_URI: str = Field("", description="Sign-in: your app's callback URL, registered at the provider")
    OIDC_SCOPES: str = Field("openid email profile offline_access", description="Sign-in: scopes asked of the provider")
    OIDC_TENANT_CLAIM: str = Field("tenant_id", description="Sign-in: the ID token claim naming the user's tenant")
    REFRESH_TOKEN_TTL: str = Field("30d", description="Sign-in: lifetime of an rtk_ refresh token (30s, 5m, 2h, 30d)")
    SCAIKEY_WEBHOOK_SECRET: str = Field(
        "", description="HMAC secret of identity events at POST /webhooks/scaikey; empty disables the route (D54)"
    )

    # --- HTTP API ------------------------------------------------------------------------------------------------
    API_HOST: str = Field("127.0.0.1", description="Address the API binds to")
    API_PORT: int = Field(8000, ge=1, le=65535, description="API port; /metrics is served on the same port (D17)")
    API_WORKERS: int = Field(1, ge=1, le=64, description="uvicorn worker processes for the API")
    PUBLIC_BASE_URL: str = Field(
        "http://127.0.0.1:8000", description="Public URL of the API, used in tracking links and image URLs"
    )
    MAX_BODY_BYTES: int = Field(20 * 1024 * 1024, ge=1024, description="Largest request body accepted (413 above)")
    PROMETHEUS_MULTIPROC_DIR: str = Field(
        "", description="Directory for prometheus-client multiprocess files when API_WORKERS > 1"
    )

    # --- abuse limits (docs/security.md, D46; issue 9 finding 3, D47) ------------------------------------------------------
    RATE_LIMITS_ENABLED: bool = Field(True, description="Enforce the RATE_LIMIT_* limits (429 above them)")
    RATE_LIMIT_MAIL_SEND: str = Field("10000/second", description="POST /v3/mail/send, per tenant")
    RATE_LIMIT_WEBHOOKS_CREATE: str = Field("10/minute", description="POST /v3/user/webhooks, per tenant")
    RATE_LIMIT_API_KEYS_CREATE: str = Field("10/minute", description="POST /v3/api_keys, per tenant")
    RATE_LIMIT_MESSAGES_LIST: str = Field("100/second", description="GET /v3/messages, per credential")
    RATE_LIMIT_DEFAULT: str = Field("1000/second", description="Every other authenticated route, per credential")
    RATE_LIMIT_TRACKING: str = Field(
        "60/minute",
        description="Public /t/* hits per client address and message; above it opens and clicks are not recorded "
        "and the unsubscribe page answers 429",
    )
    RATE_LIMIT_SIGNIN: str = Field(
        "120/minute", description="Unauthenticated /v3/auth/login, callback, refresh and logout, per client address"
    )
    MAX_API_KEYS_PER_TENANT: int = Field(100, ge=1, description="Unrevoked API keys a tenant may hold (403 above)")
    MAX_WEBHOOKS_PER_TENANT: int = Field(20, ge=1, description="Webhook endpoints a tenant may hold (403 above)")
    MAX_SENDER_DOMAINS_PER_TENANT: int = Field(
        100, ge=1, description="Sender domains a tenant may add through the API (403 above)"
    )

    # --- processes and ports (D17) -------------------------------------------------------------------------------
    WORKER_METRICS_PORT: int = Field(9101, ge=1, le=65535, description="Worker's /metrics port")
    SMTP_METRICS_PORT: int = Field(9102, ge=1, le=65535, description="SMTP service's /metrics port")
    EXPORTER_PORT: int = Field(9103, ge=1, le=65535, description="Exporter's /metrics port")
    METRICS_HOST: str = Field("127.0.0.1", description="Address the worker, SMTP and exporter metrics ports bind to")

    SHUTDOWN_GRACE_SECONDS: int = Field(
        60,
        ge=5,
        le=3600,
        description=(
            "Seconds a process has after SIGTERM: running jobs and requests may finish until 5 s before, then are "
            "handed back; the bundle's terminationGracePeriodSeconds and TimeoutStopSec equal it"
        ),
    )

    # --- outbound SMTP (D10-D14) ---------------------------------------------------------------------------------
    SMTP_HOSTNAME: str = Field("localhost", description="Name sent in EHLO and used in Message-ID")
    BOUNCE_DOMAIN: str = Field("bounces.localhost", description="Domain of the VERP envelope sender (D12)")
    FBL_ADDRESS: str = Field("", description="Address that receives ARF complaint reports; empty = fbl@BOUNCE_DOMAIN")
    MX_CACHE_TTL: int = Field(300, ge=0, description="Seconds an MX lookup is cached")
    SMTP_POOL_SIZE_PER_DOMAIN: int = Field(5, ge=1, le=100, description="Outbound connections kept per destination")
    SMTP_RETRY_SCHEDULE: str = Field(
        "5m,10m,20m,40m,1h,2h", description="Delays between delivery attempts; the last repeats until SMTP_MAX_AGE"
    )
    SMTP_MAX_AGE: str = Field("72h", description="Age after which a deferred message bounces soft")
    SMTP_TIMEOUT: str = Field("60s", description="Timeout of one SMTP command")
    SMTP_TLS_POLICY: Literal["opportunistic", "required"] = Field(
        "opportunistic", description="opportunistic: STARTTLS when offered; required: verified STARTTLS or defer"
    )
    SMTP_RELAY_HOST: str = Field("", description="host[:port] of a smarthost that receives all outbound mail")
    SMTP_PORT: int = Field(
        25,
        ge=1,
        le=65535,
        description="TCP port used when connecting to recipient MX hosts; tests point it at a loopback MX",
    )
    SMTP_ALLOW_PRIVATE_TARGETS: bool = Field(
        False,
        description="Deliver to MX hosts on loopback/private/link-local addresses (dev and tests only; D42); "
        "SMTP_RELAY_HOST is never checked",
    )
    SMTP_INBOUND_HOST: str = Field("0.0.0.0", description="Address the inbound DSN/FBL listener binds to")
    SMTP_INBOUND_PORT: int = Field(25, ge=1, le=65535, description="Inbound DSN/FBL listener port (dev: 2525)")
    INBOUND_QUARANTINE_PATH: str = Field(
        ".scaisend/inbound", description="Folder where inbound mail that could not be parsed or matched is kept"
    )
    INBOUND_MAX_MESSAGE_BYTES: int = Field(
        5 * 1024 * 1024, ge=64 * 1024, description="Largest message the inbound listener accepts (bigger: 552)"
    )
    INBOUND_MAX_SESSIONS: int = Field(
        20, ge=1, le=10_000, description="Concurrent inbound SMTP sessions; more are answered 421 and closed"
    )
    INBOUND_MAX_RECIPIENTS: int = Field(
        50, ge=1, le=10_000, description="Recipients accepted in one inbound SMTP session (more: 452)"
    )
    INBOUND_QUARANTINE_MAX_FILES: int = Field(
        1000, ge=1, description="Files kept under INBOUND_QUARANTINE_PATH; the oldest go first"
    )
    INBOUND_QUARANTINE_MAX_BYTES: int = Field(
        100 * 1024 * 1024, ge=1024 * 1024, description="Bytes kept under INBOUND_QUARANTINE_PATH; the oldest go first"
    )
    DNS_NAMESERVERS: str = Field("", description="Comma-separated host[:port] resolvers; empty = /etc/resolv.conf")

    # --- webhooks (D6-D8) ----------------------------------------------------------------------------------------
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool = Field(
        False, description="Allow webhook URLs on loopback/private/link-local addresses (dev and tests only)"
    )
    WEBHOOK_TIMEOUT: str = Field("30s", description="Timeout of one webhook POST")

    # --- reputation (exporter) ---------------------------------------------------------------------------------------
    REPUTATION_CHECKS_ENABLED: bool = Field(
        True, description="Look up sending IPs and domains on DNS blocklists and check domains' DNS (exporter)"
    )
    REPUTATION_CHECK_INTERVAL: str = Field(
        "15m", description="How often each blocklist and DNS check runs (never more often than an answer's TTL)"
    )
    REPUTATION_IP_BLOCKLISTS: str = Field(
        "zen.spamhaus.org,bl.spamcop.net,b.barracudacentral.org",
        description="DNS blocklist zones asked about the sending IPs (comma-separated)",
    )
    REPUTATION_DOMAIN_BLOCKLISTS: str = Field(
        "dbl.spamhaus.org,multi.surbl.org", description="DNS blocklist zones asked about sender domains"
    )
    REPUTATION_SENDING_IPS: str = Field(
        "", description="Addresses receivers see our mail from (comma-separated); empty = SMTP_HOSTNAME's A/AAAA"
    )

    # --- retention -----------------------------------------------------------------------------------------------
    EVENT_RETENTION_MONTHS: int = Field(
        0,
        ge=0,
        le=1200,
        description="Whole months of email_events kept on MySQL (older monthly partitions dropped daily); 0 = all",
    )
    WEBHOOK_DELIVERY_RETENTION_DAYS: int = Field(
        30,
        ge=0,
        le=36500,
        description="Days finished webhook deliveries (succeeded/failed) are kept before the daily prune; 0 = all",
    )

    # --- misc ----------------------------------------------------------------------------------------------------
    IMAGE_STORE: Literal["filesystem", "s3"] = Field(
        "filesystem", description="Where image bytes live: filesystem (IMAGE_STORE_PATH) or s3 (IMAGE_S3_*) (D20)"
    )
    IMAGE_STORE_PATH: str = Field(".scaisend/images", description="Folder of the local image store (D20)")
    IMAGE_S3_BUCKET: str = Field("", description="Bucket of the S3-compatible image store (IMAGE_STORE=s3)")
    IMAGE_S3_ENDPOINT_URL: str = Field(
        "", description="Endpoint of the S3-compatible store (MinIO, Garage); empty = AWS S3"
    )
    IMAGE_S3_REGION: str = Field("us-east-1", description="Region of the S3 image bucket")
    IMAGE_S3_ACCESS_KEY_ID: str = Field("", description="Access key of the S3 image store; empty = boto3's defaults")
    IMAGE_S3_SECRET_ACCESS_KEY: str = Field("", description="Secret key of the S3 image store")
    IMAGE_S3_PREFIX: str = Field("images/", description="Key prefix of every image object in the bucket")
    IMAGE_MAX_BYTES: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest image upload accepted (413 above; spec: 10 MB)"
    )
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level of every process")
    ENVIRONMENT: Literal["development", "production", "test"] = Field(
        "production", description="production refuses plain-HTTP webhook URLs"
    )

    @field_validator("SMTP_RETRY_SCHEDULE")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        parts = [p for p in value.split(",") if p.strip()]
        if not parts:
            raise ValueError("needs at least one duration")
        for part in parts:
            parse_duration(part)
        return value

    @field_validator(
        "SMTP_MAX_AGE", "SMTP_TIMEOUT", "WEBHOOK_TIMEOUT", "REPUTATION_CHECK_INTERVAL", "REFRESH_TOKEN_TTL"
    )
    @classmethod
    def _check_duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @model_validator(mode="after")
    def _check_jwt_claims(self) -> Settings:
        """With JWTs accepted, a token minted for another application (audience) or by another issuer must not pass
        (issue 9 finding 5); development may leave them empty."""
        if self.SCAIKEY_JWKS_URL and self.ENVIRONMENT != "development":
            missing = [name for name in ("JWT_AUDIENCE", "JWT_ISSUER") if not getattr(self, name)]
            if missing:
                raise ValueError(f"{' and '.join(missing)} must be set when SCAIKEY_JWKS_URL is set")
        return self

    @model_validator(mode="after")
    def _check_image_store(self) -> Settings:
        if self.IMAGE_STORE == "s3" and not self.IMAGE_S3_BUCKET:
            raise ValueError("IMAGE_S3_BUCKET is required when IMAGE_STORE=s3")
        return self

    @field_validator(
        "RATE_LIMIT_MAIL_SEND",
        "RATE_LIMIT_WEBHOOKS_CREATE",
        "RATE_LIMIT_API_KEYS_CREATE",
        "RATE_LIMIT_MESSAGES_LIST",
        "RATE_LIMIT_DEFAULT",
        "RATE_LIMIT_TRACKING",
        "RATE_LIMIT_SIGNIN",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        limits.parse(value)  # ValueError: "couldn't parse rate limit string ..."
        return value

    @field_validator("REPUTATION_SENDING_IPS")
    @classmethod
    def _check_ips(cls, value: str) -> str:
        for part in (p.strip() for p in value.split(",")):
            if part:
                ipaddress.ip_address(part)  # ValueError names the bad address
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        if not value.startswith(("mysql+aiomysql://", "sqlite+aiosqlite://", "mysql+asyncmy://")):
            raise ValueError("must start with mysql+aiomysql:// or sqlite+aiosqlite://")
        if value.startswith("sqlite") and importlib.util.find_spec("aiosqlite") is None:
            # Production installs leave out the dev extra, so a forgotten DATABASE_URL is named, not a traceback.
            raise ValueError(
                "SQLite needs the dev extra (pip install 'scaisend[dev]'); production uses mysql+aiomysql://"
            )
        return value

    @field_validator("REDIS_URL")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    # --- derived values ------------------------------------------------------------------------------------------
    @property
    def retry_schedule(self) -> list[timedelta]:
        return [parse_duration(p) for p in self.SMTP_RETRY_SCHEDULE.split(",") if p.strip()]

    @property
    def smtp_max_age(self) -> timedelta:
        return parse_duration(self.SMTP_MAX_AGE)

    @property
    def smtp_timeout(self) -> float:
        return parse_duration(self.SMTP_TIMEOUT).total_seconds()

    @property
    def reputation_check_interval(self) -> timedelta:
        return parse_duration(self.REPUTATION_CHECK_INTERVAL)

    @property
    def webhook_timeout(self) -> float:
        return parse_duration(self.WEBHOOK_TIMEOUT).total_seconds()

    @property
    def shutdown_drain_seconds(self) -> float:
        """How long after SIGTERM running jobs and requests may finish: the grace less :data:`HANDBACK_SECONDS` to
        hand the rest back and close."""
        return float(max(1, self.SHUTDOWN_GRACE_SECONDS - HANDBACK_SECONDS))

    @property
    def fbl_address(self) -> str:
        return self.FBL_ADDRESS or f"fbl@{self.BOUNCE_DOMAIN}"

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        result = []
        for item in self.DNS_NAMESERVERS.split(","):
            item = item.strip()
            if not item:
                continue
            host, port = item.split(":") if item.count(":") == 1 else (item, "53")
            result.append((host, int(port)))
        return result

    @property
    def refresh_token_ttl(self) -> timedelta:
        return parse_duration(self.REFRESH_TOKEN_TTL)

    @property
    def is_sqlite(self) -> bool:
        return self.DATABASE_URL.startswith("sqlite")

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """``SECRET_KEY`` first (it signs and encrypts), then the ``SECRET_KEY_PREVIOUS`` keys (verify/decrypt)."""
        previous = (key.strip() for key in self.SECRET_KEY_PREVIOUS.split(","))
        return (self.SECRET_KEY, *(key for key in previous if key))


# Outside development a secret must not be guessable (issue 9 finding 4): anyone knowing it forges tracking and
# unsubscribe tokens and decrypts DKIM keys and webhook secrets.
MIN_SECRET_KEY_LENGTH = 32
MIN_SECRET_KEY_DISTINCT_CHARACTERS = 8
_PLACEHOLDER_WORDS = ("change-me", "changeme", "change_me", "placeholder", "replace-me", "replace_me", "your-secret")


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is not a production secret (a default, a placeholder, short or repetitive), or ``None``."""
    if key == Settings.model_fields["SECRET_KEY"].default or any(w in key.lower() for w in _PLACEHOLDER_WORDS):
        return "is a default or placeholder value"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT_CHARACTERS:
        return f"has fewer than {MIN_SECRET_KEY_DISTINCT_CHARACTERS} distinct characters"
    return None


def require_secret_keys(settings: Settings) -> None:
    """Refuse to start outside development on a guessable ``SECRET_KEY`` or ``SECRET_KEY_PREVIOUS`` entry: raise
    :class:`SettingsError` naming the setting. Development (``scaisend dev``) makes its own random key."""
    if settings.ENVIRONMENT == "development":
        return
    for index, key in enumerate(settings.secret_keys):
        problem = secret_key_problem(key)
        if problem is not None:
            name = "SECRET_KEY" if index == 0 else f"SECRET_KEY_PREVIOUS (entry {index})"
            raise SettingsError(
                f"{name} {problem}; refusing to start with ENVIRONMENT={settings.ENVIRONMENT}. "
                "Set it to a random value, e.g. `openssl rand -hex 32` (ENVIRONMENT=development allows any key)"
            )


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment; raise :class:`SettingsError` naming each bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "?"
            lines.append(f"{name}: {err['msg']}")
        raise SettingsError("invalid setting(s): " + "; ".join(lines)) from None


def as_environment(settings: Settings) -> tuple[dict[str, str], list[str]]:
    """What a child process's environment must say for its :func:`load_settings` to give ``settings``: every
    non-empty setting as text (bools as ``true``/``false``), and the names of the empty ones, which must be absent
    (an empty ``PROMETHEUS_MULTIPROC_DIR`` would still switch prometheus-client to multiprocess mode)."""
    values: dict[str, str] = {}
    unset: list[str] = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value == "":
            unset.append(name)
        else:
            values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return values, unset


def render_env_example() -> str:
    """The text of ``.env.example``: every setting with its default and one line of meaning."""
    out = ["# ScaiSend settings. Generated from scaisend/settings.py by `make bundle`; do not edit by hand.", ""]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, bool):
            default = str(default).lower()
        out.append(f"# {field.description}")
        # An empty default stays commented out: some libraries (prometheus-client) react to a variable's presence.
        out.append(f"{name}={default}" if default != "" else f"# {name}=")
        out.append("")
    return "\n".join(out)
