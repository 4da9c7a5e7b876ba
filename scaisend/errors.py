"""The error hierarchy. Each error carries its HTTP status and renders one of the two documented body shapes
(docs/sending.md, D3, D24): SendGrid's ``{"errors": [{message, field, help}]}`` on sending routes, ``{"detail": ...}`` elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ScaiSendError(Exception):
    """Base of every error that becomes an HTTP response."""

    status_code = 400

    def __init__(self, detail: str, status_code: int | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"detail": self.detail}


# --- authentication and authorization (docs/sending.md, D3, D24, D1) ---------------------------------------------------------------
class AuthenticationError(ScaiSendError):
    """401: no usable credential."""

    status_code = 401

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class MissingScopeError(ScaiSendError):
    """403: the credential lacks a scope."""

    status_code = 403

    def __init__(self, scope: str) -> None:
        super().__init__(f"Missing required scope: {scope}")
        self.scope = scope


class ForbiddenError(ScaiSendError):
    """403 for anything else the caller may not do."""

    status_code = 403


class TenantSuspendedError(ForbiddenError):
    def __init__(self) -> None:
        super().__init__("Tenant suspended")


# --- resources --------------------------------------------------------------------------------------------------------
class NotFoundError(ScaiSendError):
    """404: missing, or owned by another tenant (the two are indistinguishable on purpose)."""

    status_code = 404


class ConflictError(ScaiSendError):
    status_code = 409


class BadRequestError(ScaiSendError):
    status_code = 400


class PayloadTooLargeError(ScaiSendError):
    status_code = 413


class ProviderUnavailableError(ScaiSendError):
    """502: the identity provider of sign-in (``OIDC_ISSUER``) did not answer, or answered something unreadable."""

    status_code = 502

    def __init__(self) -> None:
        super().__init__("Identity provider unavailable")


class RateLimitedError(ScaiSendError):
    status_code = 429

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__("Rate limit exceeded", headers=headers)


# --- SendGrid-shaped errors (sending routes) --------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldError:
    message: str
    field: str | None = None
    help: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "field": self.field, "help": self.help}


class SendGridError(ScaiSendError):
    """An error rendered as ``{"errors": [...]}``, several at once when validation finds several."""

    def __init__(self, errors: list[FieldError], status_code: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(errors[0].message if errors else "error", status_code=status_code, headers=headers)
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return {"errors": [e.as_dict() for e in self.errors]}


class SenderDomainNotVerifiedError(SendGridError):
    def __init__(self, field: str = "from.email") -> None:
        super().__init__([FieldError("Sender domain not verified", field)], status_code=403)
