"""Self-test of the loopback webhook receiver harness: recording, scripts, redirects, the token endpoint."""

from __future__ import annotations

import httpx

from tests.harness.webhook_receiver import Reply, WebhookReceiver, redirect


class TestWebhookReceiver:
    async def test_records_and_follows_its_script(self, receiver: WebhookReceiver) -> None:
        receiver.respond(500, Reply(201, b"made"))
        receiver.respond(redirect("http://elsewhere.test/"), path="/moved")
        async with httpx.AsyncClient() as http:
            first = await http.post(receiver.url(), content=b"one", headers={"X-Test": "1"})
            second = await http.post(receiver.url(), content=b"two")
            third = await http.post(receiver.url(), content=b"three")
            moved = await http.post(receiver.url("/moved"), content=b"{}")
        assert [first.status_code, second.status_code, third.status_code] == [500, 201, 201]
        assert second.content == b"made"
        assert (moved.status_code, moved.headers["location"]) == (302, "http://elsewhere.test/")
        assert [p.body for p in receiver.posts("/hook")] == [b"one", b"two", b"three"]
        assert receiver.posts("/hook")[0].headers["X-Test"] == "1"
        assert len(await receiver.wait_for(4)) == 4

    async def test_serves_oauth_tokens(self, receiver: WebhookReceiver) -> None:
        url = receiver.serve_token("/token", prefix="abc", expires_in=60)
        async with httpx.AsyncClient() as http:
            first = (await http.post(url, data={"grant_type": "client_credentials"})).json()
            second = (await http.post(url, data={})).json()
        assert first == {"access_token": "abc-1", "token_type": "Bearer", "expires_in": 60}
        assert second["access_token"] == "abc-2"
        assert receiver.token_requests()[0].form() == {"grant_type": "client_credentials"}
        assert receiver.posts() == []
