"""Sending mail: SMTP in production, a folder of .eml files by default (``make run``, tests).

Both backends take a fully built :class:`email.message.EmailMessage` and return its
Message-ID, so callers record what was sent the same way whichever backend ran.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from flask import current_app

from app.clock import clock


class MailError(RuntimeError):
    """The message could not be handed over; the text says why (no secrets in it)."""


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> str: ...


class OutboxMailer:
    """Writes each message to ``<folder>/<time>-<id>.eml`` atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        message_id = _stamp(message)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.eml"
        temporary = self.folder / f".{name}.tmp"
        temporary.write_bytes(bytes(message))
        temporary.replace(self.folder / name)
        return message_id

    def messages(self) -> list[Path]:
        return sorted(self.folder.glob("*.eml")) if self.folder.exists() else []


class SmtpMailer:
    """Hands messages to an SMTP server (STARTTLS on smtp://, TLS on smtps://)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.tls else 587)
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        self.timeout = timeout

    def send(self, message: EmailMessage) -> str:
        message_id = _stamp(message)
        context = ssl.create_default_context()
        try:
            if self.tls:
                server: smtplib.SMTP = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=context
                )
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with server:
                if not self.tls:
                    server.starttls(context=context)
                if self.user:
                    server.login(self.user, self.password)
                server.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            reason = type(exc).__name__
            raise MailError(f"The mail server {self.host}:{self.port} refused: {reason}") from None
        return message_id


def _stamp(message: EmailMessage) -> str:
    if not message["Message-ID"]:
        message["Message-ID"] = make_msgid(domain="cjji.example.gov.uk")
    return str(message["Message-ID"])


def get_mailer() -> Mailer:
    """The app's mailer, from MAIL_URL."""
    config = current_app.extensions["config"]
    url = config.mail_url or f"outbox://{Path(config.instance_path) / 'outbox'}"
    if url.startswith("outbox://"):
        return OutboxMailer(Path(url.removeprefix("outbox://")))
    return SmtpMailer(url)


def new_message(to: str, subject: str, text: str) -> EmailMessage:
    config = current_app.extensions["config"]
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(text)
    return message
