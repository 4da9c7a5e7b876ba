"""Imports the harness fixture modules; nothing else lives here."""

pytest_plugins = [
    "tests.harness.database",
    "tests.harness.redis",
    "tests.harness.own_redis",
    "tests.harness.app",
    "tests.harness.fixtures_app",
    "tests.harness.jwks",
    "tests.harness.identity",
    "tests.harness.oidc",
    "tests.harness.fixtures_net",
    "tests.harness.s3",
    "tests.harness.inbound",
]
