"""A network brought in on an intranet, as a municipal IT department installs it: the members
imported with welcome e-mails, `peerconsult serve` behind a reverse proxy on plain http at
http://peerconsult.intern:PORT, and a member signing in with the link from the e-mail in
Chromium. The operator's commands run as processes; e-mail goes to a real SMTP server."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.app import ADMIN_TOKEN
from tests.helpers.browser import chromium, require_chromium
from tests.helpers.processes import free_port, run_cli, serve, wait_until_healthy
from tests.helpers.smtp import FROM_QUERY, Mailbox, SmtpServer

require_chromium()

from playwright.async_api import expect  # noqa: E402

HOST = "peerconsult.intern"
MEMBERS = (
    "id,name,email,municipality,state,role,expertise,tags\n"
    "w1,Wiebke Welcome,wiebke@landkreis.example,Landkreis Beispiel,Niedersachsen,"
    'Beteiligungsbeauftragte,"Ich habe ein Jugendparlament aufgebaut.",Jugendbeteiligung\n'
    "w2,Otto Ohnepost,,Ostdorf,Brandenburg,Bürgermeister,"
    '"Ich habe einen Bürgerhaushalt eingeführt.",Bürgerhaushalt\n'
)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    server = SmtpServer(free_port())
    mailbox = server.start(Mailbox())
    yield mailbox, server.port
    server.stop()


def wait_for_mail(mailbox: Mailbox, count: int) -> None:
    for _ in range(300):
        if len(mailbox.received) >= count:
            return
        time.sleep(0.1)


async def test_a_network_brought_in_on_an_intranet(
    own_database_url: str, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> None:
    inbox, smtp_port = mailbox
    port = free_port()
    public = f"http://{HOST}:{port}"
    members = tmp_path / "mitglieder.csv"
    members.write_text(MEMBERS, encoding="utf-8")
    env = {
        "DATABASE_URL": own_database_url,
        "PEERCONSULT_ADMIN_TOKEN": ADMIN_TOKEN,
        "PEERCONSULT_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}?{FROM_QUERY}",
        "PEERCONSULT_PUBLIC_URL": public,
        # The reverse proxy runs on this machine.
        "PEERCONSULT_TRUSTED_PROXIES": "127.0.0.1",
        "PEERCONSULT_OUTBOX_INTERVAL_SECONDS": "0.2",
    }

    # Welcomes need to know where their links lead: nothing is imported without it.
    refused = run_cli("import", str(members), "--welcome", env={"DATABASE_URL": own_database_url})
    assert refused.returncode == 2
    assert "PEERCONSULT_SMTP_URL and PEERCONSULT_PUBLIC_URL" in refused.stderr
    imported = run_cli("import", str(members), "--welcome", env=env)
    assert imported.returncode == 0, imported.stderr
    said = " ".join(imported.stderr.split())
    assert "2 new" in said
    assert "waiting in the outbox for 1 new member" in said
    assert "1 new member has no e-mail address" in said

    process = serve(port, {**os.environ, **env})
    try:
        wait_until_healthy(process, f"http://127.0.0.1:{port}")
        # The running service sends what the import queued.
        wait_for_mail(inbox, 1)
        [welcome] = inbox.received
        assert welcome.recipients == ["wiebke@landkreis.example"]
        link = re.search(rf"{re.escape(public)}/anmelden/link/\S+", welcome.body)
        assert link is not None, welcome.body

        # Chromium opens the link at the intranet name (plain http, not loopback): the session
        # cookie must not be Secure there, or the browser drops it and sign-in fails.
        async with chromium(f"--host-resolver-rules=MAP {HOST} 127.0.0.1") as browser:
            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(link.group(0))
            await page.get_by_role("button", name="Jetzt anmelden").click()
            await expect(page.get_by_role("heading", name="Mein Profil")).to_be_visible()
            assert page.url == f"{public}/profil"
            [cookie] = await context.cookies()
            assert cookie["secure"] is False
            await page.reload()
            await expect(page.get_by_role("heading", name="Mein Profil")).to_be_visible()
            await context.close()

        # Behind the proxy every client comes from its address; the proxy names the real one.
        # Ten failures by one client block that client only.
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as client:
            typo = {"Authorization": "Bearer pc_vertippt", "X-Forwarded-For": "203.0.113.5"}
            statuses = [
                (await client.get("/v1/members/me", headers=typo)).status_code for _ in range(11)
            ]
            assert set(statuses[:9]) == {401} and statuses[-1] == 429
            coordinator = {
                "Authorization": f"Bearer {ADMIN_TOKEN}",
                "X-Forwarded-For": "203.0.113.6",
            }
            assert (await client.get("/v1/applications", headers=coordinator)).status_code == 200
            # The client that mistyped stays blocked.
            assert (await client.get("/v1/members/me", headers=typo)).status_code == 429
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
