"""CSV imports (docs/suppressions.md ``POST /v3/suppression/bounces/import``): parsing, per-row errors, duplicates skipped."""

from __future__ import annotations

import httpx
import pytest

from scaisend.errors import BadRequestError
from scaisend.suppressions.csv_import import ImportRow, decode, parse_csv
from tests.factories.suppressions import make_bounce
from tests.factories.tenants import TenantKey

IMPORT = "/v3/suppression/bounces/import"
CSV_HEADERS = {"Content-Type": "text/csv"}


class TestParseCsv:
    def test_columns_in_any_order_and_case_blank_rows_ignored(self) -> None:
        parsed = parse_csv("Reason,EMAIL,extra\nmoved,A@example.test,x\n\n,b@example.test,y\n")
        assert parsed.rows == [ImportRow(2, "A@example.test", "moved"), ImportRow(4, "b@example.test", None)]
        assert parsed.errors == []

    def test_reason_column_is_optional(self) -> None:
        assert parse_csv("email\nc@example.test\n").rows == [ImportRow(2, "c@example.test", None)]

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "The CSV is empty"),
            ("address,reason\na@example.test,x\n", "The CSV header row must name an 'email' column"),
        ],
    )
    def test_unusable_header_is_400(self, text: str, message: str) -> None:
        with pytest.raises(BadRequestError) as caught:
            parse_csv(text)
        assert caught.value.detail == message

    def test_short_rows_have_no_reason(self) -> None:
        assert parse_csv("email,reason\nd@example.test\n").rows == [ImportRow(2, "d@example.test", None)]

    def test_decode_strips_a_byte_order_mark_and_refuses_non_utf8(self) -> None:
        assert decode("\ufeffemail\n".encode()) == "email\n"
        with pytest.raises(BadRequestError):
            decode(b"email\n\xff\xfe\n")


class TestImportEndpoint:
    async def test_imports_valid_rows_reports_invalid_and_skips_duplicates(
        self, client: httpx.AsyncClient, tenant: TenantKey
    ) -> None:
        await make_bounce(client, tenant, "known@example.test")
        text = (
            "email,reason\n"
            "new1@example.test,migrated from sendgrid\n"
            "not an address,oops\n"
            "NEW1@example.test,repeated in the file\n"
            "known@example.test,already on the list\n"
            "new2@example.test,\n"
            ",missing\n"
        )
        response = await client.post(IMPORT, headers={**tenant.headers, **CSV_HEADERS}, content=text.encode())
        assert response.status_code == 200, response.text
        assert response.json() == {
            "imported": 2,
            "skipped": 2,
            "errors": [
                {"row": 3, "message": "Invalid email address: 'not an address'"},
                {"row": 7, "message": "Invalid email address: ''"},
            ],
        }
        listed = await client.get("/v3/suppression/bounces", headers=tenant.headers)
        rows = {b["email"]: b for b in listed.json()["bounces"]}
        assert set(rows) == {"known@example.test", "new1@example.test", "new2@example.test"}
        assert rows["new1@example.test"]["reason"] == "migrated from sendgrid"
        assert rows["new1@example.test"]["bounce_type"] == "hard"
        assert rows["new2@example.test"]["reason"] is None

    async def test_other_content_type_is_415(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(IMPORT, headers=tenant.headers, json={"email": "a@example.test"})
        assert response.status_code == 415
        assert response.json() == {"detail": "Content-Type must be text/csv"}

    async def test_missing_email_column_is_400(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(IMPORT, headers={**tenant.headers, **CSV_HEADERS}, content=b"mail\nx\n")
        assert response.status_code == 400
        assert response.json() == {"detail": "The CSV header row must name an 'email' column"}

    async def test_spam_reports_import_the_same_way(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        response = await client.post(
            "/v3/suppression/spam_reports/import",
            headers={**tenant.headers, **CSV_HEADERS},
            content=b"email\nfbl@example.test\nfbl@example.test\n",
        )
        assert response.json() == {"imported": 1, "skipped": 1, "errors": []}
        listed = await client.get("/v3/suppression/spam_reports", headers=tenant.headers)
        assert [r["email"] for r in listed.json()["spam_reports"]] == ["fbl@example.test"]

    async def test_large_import_is_written_in_chunks(self, client: httpx.AsyncClient, tenant: TenantKey) -> None:
        text = "email\n" + "".join(f"bulk{i}@example.test\n" for i in range(1200))
        response = await client.post(IMPORT, headers={**tenant.headers, **CSV_HEADERS}, content=text.encode())
        assert response.json() == {"imported": 1200, "skipped": 0, "errors": []}
        again = await client.post(IMPORT, headers={**tenant.headers, **CSV_HEADERS}, content=text.encode())
        assert again.json() == {"imported": 0, "skipped": 1200, "errors": []}
        listed = await client.get("/v3/suppression/bounces", headers=tenant.headers, params={"limit": 1})
        assert listed.json()["total"] == 1200
