"""ScaiSend: a self-hosted, multi-tenant email platform that speaks SendGrid's v3 API."""

__version__ = "0.1.0"
