"""The deploy bundle as code (docs/architecture.md, D27; docs/observability.md; docs/deploy.md, D2, D16-D18).

``python -m deploy.generate`` (``make bundle``) writes every committed artifact: Kubernetes base and overlays
(:mod:`deploy.kubernetes`, :mod:`deploy.kubernetes_overlays`), docker compose (:mod:`deploy.compose`), systemd units
(:mod:`deploy.systemd`), their Prometheus/Alertmanager/Grafana files (:mod:`deploy.prometheus`, :mod:`deploy.grafana`)
and, through their own generators, ``alerts/out``, ``dashboards/out`` and ``.env.example``. Ports, scrape jobs and
metrics paths come from :data:`scaisend.processes.PROCESSES`; settings from :class:`scaisend.settings.Settings`.
"""
