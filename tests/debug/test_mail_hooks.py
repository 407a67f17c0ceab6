"""``log.hooks`` of type ``mail``: a real ``pyregistry serve`` mails log lines of the
chosen levels to a real SMTP server (aiosmtpd on 127.0.0.1), as distribution's hooks do;
other levels are not mailed, and a hook that cannot be set up stops start-up (``pyregistry
serve`` exits 2 naming it: tests/config/test_unsupported.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from pyregistry.config import ConfigError, load_config
from tests.support.registry_process import RegistryProcess, free_port


class Inbox:
    """aiosmtpd's handler: every message received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 OK"

    def wait(self, count: int, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} mails came"
            time.sleep(0.05)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def _config(tmp_path: Path, port: int, smtp_port: int, levels: str) -> Path:
    config = tmp_path / "config.yml"
    config.write_text(
        f"""
version: 0.1
log:
  fields: {{environment: staging}}
  hooks:
    - type: mail
      disabled: true
      levels: [info]
      options: {{smtp: {{addr: "127.0.0.1:1"}}, to: [nobody@example.com]}}
    - type: mail
      levels: {levels}
      options:
        smtp: {{addr: "127.0.0.1:{smtp_port}"}}
        from: registry@example.com
        to: [ops@example.com, oncall@example.com]
storage:
  filesystem: {{rootdirectory: {tmp_path / "root"}}}
http:
  addr: 127.0.0.1:{port}
  secret: s
proxy:
  remoteurl: http://127.0.0.1:{free_port()}
"""
    )
    return config


def test_chosen_levels_are_mailed(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, smtp_port = smtp
    port = free_port()
    config = _config(tmp_path, port, smtp_port, "[error]")
    with RegistryProcess(["serve", str(config)], port=port):
        # an upstream that does not answer: the 503 is logged as an error
        response = httpx.get(f"http://127.0.0.1:{port}/v2/library/app/manifests/v1")
        assert response.status_code == 503
        inbox.wait(1)
    sender, recipients, mail = inbox.messages[0]
    assert sender == "registry@example.com"
    assert recipients == ["ops@example.com", "oncall@example.com"]
    subject = " ".join(str(mail["Subject"]).split())  # unfolded
    assert subject.startswith("[error] 127.0.0.1: the upstream registry is unavailable")
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert "/v2/library/app/manifests/v1" in body and "environment: staging" in body
    # only errors: the warnings and infos of start-up and of the refused pull were not
    assert all(m["Subject"].startswith("[error]") for _, _, m in inbox.messages)


def test_levels_not_chosen_are_not_mailed(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, smtp_port = smtp
    port = free_port()
    config = _config(tmp_path, port, smtp_port, "[panic, fatal]")
    with RegistryProcess(["serve", str(config)], port=port):
        httpx.get(f"http://127.0.0.1:{port}/v2/library/app/manifests/v1")
        time.sleep(1.0)
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("hook", "words"),
    [
        ("{type: slack, levels: [error]}", "hook type 'slack' is not supported"),
        (
            "{type: mail, levels: [error], options: {smtp: {addr: mail.example}, to: [a@b]}}",
            "is not host:port",
        ),
        ("{type: mail, levels: [error], options: {smtp: {addr: 'm:25'}}}", "names nobody"),
        (
            "{type: mail, levels: [loud], options: {smtp: {addr: 'm:25'}, to: [a@b]}}",
            "unknown level 'loud'",
        ),
    ],
)
def test_a_hook_that_cannot_mail_is_refused(tmp_path: Path, hook: str, words: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text(f"version: 0.1\nstorage: inmemory\nlog:\n  hooks: [{hook}]\n")
    with pytest.raises(ConfigError) as refused:
        load_config(str(path), {})
    assert refused.value.key == "log.hooks[0]"
    assert words in refused.value.message
