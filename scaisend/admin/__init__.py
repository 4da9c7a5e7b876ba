"""ScaiSend-native admin routes under ``/api/admin`` (spec §3.13), responses wrapped in ``{"data": …}``."""
