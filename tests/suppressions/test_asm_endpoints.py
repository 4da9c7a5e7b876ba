"""/v3/asm/* through the API (docs/suppressions.md [INFERRED] SendGrid routes): suppression groups, per-group unsubscribes and
global unsubscribes, with their documented codes."""

from __future__ import annotations

import httpx

from tests.factories.suppressions import make_group, new_email, unsubscribe_from_group, unsubscribe_globally
from tests.factories.tenants import TenantKey

GROUPS = "/v3/asm/groups"
GLOBAL = "/v3/asm/suppressions/global"


class TestGroups:
    async def test_create_returns_an_integer_id(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(
            GROUPS,
            headers=tenant.headers,
            json={"name": "Newsletter", "description": "Monthly news", "is_default": True},
        )
        assert response.status_code == 201
        body = response.json()
        assert isinstance(body["id"], int)
        assert body == {
            "id": body["id"],
            "name": "Newsletter",
            "description": "Monthly news",
            "is_default": True,
            "unsubscribes": 0,
        }

    async def test_name_and_description_lengths(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        too_long_name = await client.post(GROUPS, headers=tenant.headers, json={"name": "n" * 31})
        assert too_long_name.status_code == 422
        assert too_long_name.json()["detail"][0]["loc"] == ["body", "name"]
        too_long_description = await client.post(
            GROUPS, headers=tenant.headers, json={"name": "ok", "description": "d" * 101}
        )
        assert too_long_description.status_code == 422
        assert (
            await client.post(GROUPS, headers=tenant.headers, json={"name": "n" * 30, "description": "d" * 100})
        ).status_code == 201

    async def test_duplicate_name_is_409(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        await make_group(client, tenant, "Promotions")
        response = await client.post(GROUPS, headers=tenant.headers, json={"name": "Promotions"})
        assert response.status_code == 409
        assert response.json() == {"detail": "A suppression group named 'Promotions' already exists"}
        await make_group(client, other_tenant, "Promotions")  # names are per tenant

    async def test_list_get_with_unsubscribe_counts(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        first = await make_group(client, tenant)
        second = await make_group(client, tenant)
        await make_group(client, other_tenant)
        await unsubscribe_from_group(client, tenant, first["id"], new_email(), new_email())
        listed = await client.get(GROUPS, headers=tenant.headers)
        assert [(g["id"], g["unsubscribes"]) for g in listed.json()] == [(first["id"], 2), (second["id"], 0)]
        only = await client.get(GROUPS, headers=tenant.headers, params={"id": second["id"]})
        assert [g["id"] for g in only.json()] == [second["id"]]
        one = await client.get(f"{GROUPS}/{first['id']}", headers=tenant.headers)
        assert one.status_code == 200
        assert one.json()["unsubscribes"] == 2

    async def test_one_default_at_a_time(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        first = await make_group(client, tenant, is_default=True)
        second = await make_group(client, tenant, is_default=True)
        defaults = [g["id"] for g in (await client.get(GROUPS, headers=tenant.headers)).json() if g["is_default"]]
        assert defaults == [second["id"]]
        response = await client.patch(f"{GROUPS}/{first['id']}", headers=tenant.headers, json={"is_default": True})
        assert response.status_code == 200
        defaults = [g["id"] for g in (await client.get(GROUPS, headers=tenant.headers)).json() if g["is_default"]]
        assert defaults == [first["id"]]

    async def test_patch_changes_only_what_is_sent(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        group = await make_group(client, tenant, "Old name")
        response = await client.patch(
            f"{GROUPS}/{group['id']}", headers=tenant.headers, json={"id": group["id"], "name": "New name"}
        )
        assert response.status_code == 200
        assert response.json() == {**group, "name": "New name"}

    async def test_patch_to_a_taken_name_is_409(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await make_group(client, tenant, "Taken")
        group = await make_group(client, tenant)
        response = await client.patch(f"{GROUPS}/{group['id']}", headers=tenant.headers, json={"name": "Taken"})
        assert response.status_code == 409

    async def test_delete_removes_the_group_and_its_unsubscribes(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        group = await make_group(client, tenant)
        await unsubscribe_from_group(client, tenant, group["id"], new_email())
        response = await client.delete(f"{GROUPS}/{group['id']}", headers=tenant.headers)
        assert response.status_code == 204
        assert (await client.get(f"{GROUPS}/{group['id']}", headers=tenant.headers)).status_code == 404
        assert (await client.get("/v3/asm/suppressions", headers=tenant.headers)).json() == []

    async def test_unknown_group_is_404(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.get(f"{GROUPS}/999999999", headers=tenant.headers)
        assert response.status_code == 404
        assert response.json() == {"detail": "Suppression group not found: 999999999"}


class TestGroupSuppressions:
    async def test_add_list_search_delete(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        group = await make_group(client, tenant)
        path = f"{GROUPS}/{group['id']}/suppressions"
        emails = ["One@Example.test", "two@example.test", "one@example.test"]
        added = await client.post(path, headers=tenant.headers, json={"recipient_emails": emails})
        assert added.status_code == 201
        assert added.json() == {"recipient_emails": ["one@example.test", "two@example.test"]}
        again = await client.post(path, headers=tenant.headers, json={"recipient_emails": ["two@example.test"]})
        assert again.status_code == 201
        assert sorted((await client.get(path, headers=tenant.headers)).json()) == [
            "one@example.test",
            "two@example.test",
        ]
        found = await client.post(
            f"{path}/search",
            headers=tenant.headers,
            json={"recipient_emails": ["TWO@example.test", "three@example.test"]},
        )
        assert found.status_code == 200
        assert found.json() == ["two@example.test"]
        deleted = await client.delete(f"{path}/one@example.test", headers=tenant.headers)
        assert deleted.status_code == 204
        assert (await client.get(path, headers=tenant.headers)).json() == ["two@example.test"]
        assert (await client.delete(f"{path}/one@example.test", headers=tenant.headers)).status_code == 404

    async def test_invalid_address_is_400_and_nothing_is_added(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        group = await make_group(client, tenant)
        path = f"{GROUPS}/{group['id']}/suppressions"
        response = await client.post(
            path, headers=tenant.headers, json={"recipient_emails": ["fine@example.test", "broken"]}
        )
        assert response.status_code == 400
        assert response.json() == {"detail": "Invalid email address: 'broken'"}
        assert (await client.get(path, headers=tenant.headers)).json() == []

    async def test_empty_list_is_422(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        group = await make_group(client, tenant)
        response = await client.post(
            f"{GROUPS}/{group['id']}/suppressions", headers=tenant.headers, json={"recipient_emails": []}
        )
        assert response.status_code == 422

    async def test_all_group_suppressions_of_the_tenant(
        self, client: httpx.AsyncClient, tenant: TenantKey, other_tenant: TenantKey
    ) -> None:
        group = await make_group(client, tenant, "Weekly News")
        theirs = await make_group(client, other_tenant)
        await unsubscribe_from_group(client, tenant, group["id"], "reader@example.test")
        await unsubscribe_from_group(client, other_tenant, theirs["id"], "reader@example.test")
        response = await client.get("/v3/asm/suppressions", headers=tenant.headers)
        assert response.status_code == 200
        [item] = response.json()
        assert item["email"] == "reader@example.test"
        assert (item["group_id"], item["group_name"]) == (group["id"], "Weekly News")
        assert isinstance(item["created_at"], int)


class TestGlobalUnsubscribes:
    async def test_add_get_delete(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(
            GLOBAL, headers=tenant.headers, json={"recipient_emails": ["Quit@Example.test", "also@example.test"]}
        )
        assert response.status_code == 201
        assert response.json() == {"recipient_emails": ["quit@example.test", "also@example.test"]}
        found = await client.get(f"{GLOBAL}/QUIT@example.test", headers=tenant.headers)
        assert found.status_code == 200
        assert found.json() == {"recipient_email": "quit@example.test"}
        assert (await client.delete(f"{GLOBAL}/quit@example.test", headers=tenant.headers)).status_code == 204
        assert (await client.get(f"{GLOBAL}/quit@example.test", headers=tenant.headers)).status_code == 404
        assert (await client.delete(f"{GLOBAL}/quit@example.test", headers=tenant.headers)).status_code == 404

    async def test_adding_twice_keeps_one_entry(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        await unsubscribe_globally(client, tenant, "twice@example.test")
        await unsubscribe_globally(client, tenant, "twice@example.test")
        listed = await client.get(GLOBAL, headers=tenant.headers)
        assert listed.status_code == 200
        assert [u["email"] for u in listed.json()["unsubscribes"]] == ["twice@example.test"]
