"""The accept-stage fixtures (``sender``, ``process_queue`` emptied before and after every test,
``stale_messages`` retired after it) for the messages tests."""

from tests.mail.conftest import process_queue, sender, stale_messages

__all__ = ["process_queue", "sender", "stale_messages"]
