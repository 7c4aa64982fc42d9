"""What a file really is, judged from its content, and whether ClamAV finds a virus in it.

Types come from the bytes, never from the name: magic numbers (``filetype``) for PDF,
images, audio and video; Office and OpenDocument files are ZIP containers told apart by
their ``[Content_Types].xml`` or ``mimetype`` entry; legacy Office files are OLE2 compound
files; text, CSV and email are decoded and checked for binary bytes. ClamAV is asked
through clamd's INSTREAM protocol (a length-prefixed stream of chunks over TCP or a Unix
socket), which needs no client library.
"""

from __future__ import annotations

import csv
import io
import re
import socket
import struct
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

import filetype

#: Bytes read from the start of a file to judge its type.
HEAD_BYTES = 8192
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

OOXML = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ODF = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
#: Extensions a person may give each kind of file (the early check on a declared name).
EXTENSIONS = {
    "pdf": {"pdf"},
    "office": {"doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "msg"},
    "csv": {"csv"},
    "text": {"txt", "text", "md", "log", "json", "xml"},
    "email": {"eml"},
    "image": {"jpg", "jpeg", "png", "gif", "webp", "tif", "tiff", "bmp", "heic", "avif"},
    "audio": {"mp3", "m4a", "wav", "ogg", "flac", "aac", "amr", "aiff"},
    "video": {"mp4", "m4v", "mov", "avi", "mkv", "webm", "wmv", "mpg", "mpeg", "3gp"},
}
_EMAIL_HEADER = re.compile(
    rb"^(From|To|Subject|Date|Received|Return-Path|Message-ID|MIME-Version):", re.I | re.M
)


@dataclass(frozen=True)
class Detected:
    """A file's real type: one of the kinds in EXTENSIONS (or "other") and its MIME type."""

    kind: str
    mime: str
    description: str


def kind_of_extension(filename: str) -> str | None:
    """The kind a file name claims, "" when it has no extension, None when unknown."""
    stem, dot, extension = filename.rpartition(".")
    if not dot or not stem:
        return ""
    extension = extension.lower()
    for kind, extensions in EXTENSIONS.items():
        if extension in extensions:
            return kind
    return None


def _zip_type(handle: BinaryIO) -> Detected:
    try:
        with zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                mime = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                if mime in ODF:
                    return Detected("office", mime, "an OpenDocument file")
            if "[Content_Types].xml" in names:
                for prefix, mime in OOXML.items():
                    if any(name.startswith(prefix) for name in names):
                        return Detected("office", mime, "an Office document")
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return Detected("other", "application/zip", "a damaged ZIP archive")
    return Detected("other", "application/zip", "a ZIP archive that is not an Office document")


def _text_type(head: bytes, complete: bool) -> Detected | None:
    if b"\x00" in head:
        return None
    sample = head if complete else head[: head.rfind(b"\n") + 1 or len(head)]
    try:
        text = sample.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = sample.decode("cp1252")
        except UnicodeDecodeError:
            return None
    if any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text):
        return None
    if _EMAIL_HEADER.search(head[:2048]) and re.match(rb"^[\x21-\x39\x3b-\x7e]+:", head):
        return Detected("email", "message/rfc822", "an email")
    lines = [line for line in text.splitlines() if line.strip()][:20]
    if len(lines) >= 2:
        try:
            dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
            widths = {len(row) for row in csv.reader(lines, dialect)}
        except csv.Error:
            widths = set()
        if len(widths) == 1 and widths.pop() > 1:
            return Detected("csv", "text/csv", "a CSV table")
    return Detected("text", "text/plain", "plain text")


def detect(handle: BinaryIO) -> Detected:
    """Judge a seekable file's type from its content (reads the head, and a ZIP's directory)."""
    handle.seek(0)
    head = handle.read(HEAD_BYTES)
    complete = len(head) < HEAD_BYTES
    if head.startswith(b"%PDF-"):
        return Detected("pdf", "application/pdf", "a PDF")
    if head.startswith(OLE2_MAGIC):
        return Detected("office", "application/x-ole-storage", "a legacy Office document")
    if head.startswith(b"{\\rtf"):
        return Detected("office", "application/rtf", "a Rich Text document")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        handle.seek(0)
        return _zip_type(handle)
    guessed = filetype.guess(head)
    if guessed is not None:
        top = guessed.mime.split("/")[0]
        if top in ("image", "audio", "video") and guessed.extension not in ("psd", "xcf", "dwg"):
            return Detected(top, guessed.mime, f"{top} ({guessed.extension})")
        return Detected("other", guessed.mime, _program_words(guessed.extension))
    text = _text_type(head, complete)
    if text is not None:
        return text
    return Detected("other", "application/octet-stream", "a file of unknown type")


def _program_words(extension: str) -> str:
    if extension in ("exe", "elf", "wasm", "crx", "swf"):
        return "a program"
    return f"a {extension} file"


def detect_head(head: bytes) -> Detected | None:
    """The type when the first bytes settle it (None for ZIP containers, which need more)."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return None
    return detect(io.BytesIO(head[:HEAD_BYTES]))


# -- ClamAV ----------------------------------------------------------------------------------


class ScannerUnavailable(RuntimeError):
    """clamd could not be reached or answered nonsense; the scan is retried later."""


INSTREAM_CHUNK = 64 * 1024


def _connect(address: str, timeout: float) -> socket.socket:
    if address.startswith("unix://"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target: object = address.removeprefix("unix://")
    else:
        host, _, port = address.removeprefix("tcp://").rpartition(":")
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        target = (host.strip("[]"), int(port))
    sock.settimeout(timeout)
    try:
        sock.connect(target)  # type: ignore[arg-type]
    except OSError:
        sock.close()
        raise
    return sock


def clamd_scan(address: str, chunks: Iterable[bytes], timeout: float = 60.0) -> str | None:
    """Stream content to clamd; return the virus name it reports, or None when clean."""
    try:
        with _connect(address, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for chunk in chunks:
                for start in range(0, len(chunk), INSTREAM_CHUNK):
                    piece = chunk[start : start + INSTREAM_CHUNK]
                    sock.sendall(struct.pack("!L", len(piece)) + piece)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0") and len(reply) < 4096:
                data = sock.recv(4096)
                if not data:
                    break
                reply += data
    except OSError as error:
        raise ScannerUnavailable(f"clamd at {address} cannot be reached: {error}") from error
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK", "stream: Eicar-Signature FOUND", or "INSTREAM size limit exceeded. ERROR"
    if answer.endswith(" OK"):
        return None
    if answer.endswith(" FOUND"):
        return answer.removeprefix("stream:").removesuffix("FOUND").strip() or "a virus"
    raise ScannerUnavailable(f"clamd at {address} answered {answer!r}")
