"""ScaiSend-native admin routes under ``/api/admin`` (docs/identity.md, docs/domains.md, docs/compose.md), responses wrapped in ``{"data": …}``."""
