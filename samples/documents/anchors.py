"""Anchor files: the heads of every hash chain of the audit trail, signed, kept outside the
database (``AUDIT_ANCHOR_DIR``). What goes in them and how they are checked against the
database is ``samples.services.anchors``; this module is the file and its key.

An anchor is a text file of JSON lines, one new file each time, never rewritten:

- a header: ``{"anchor": ..., "format": 1, "made_at": "<ISO 8601 UTC>", "public_key": ...}``;
- one line per chain: ``{"chain": "history" or an event table, "id": the run or record (null
  for the token table's one chain), "last": the newest event's seq (history) or row,
  "row": its row, "hash": its hash, "events": how many the chain holds}``;
- a trailer: ``{"chains": n, "events": n, "sha256": <hex>, "signature": <base64>}``, where
  ``sha256`` is the digest of every byte before the trailer and ``signature`` is Ed25519 over
  ``labtrack-audit-anchor-v1\\n`` followed by that hex digest.

The private key (``AUDIT_ANCHOR_KEY_FILE``, PEM) never enters the database; its public key is
kept beside the anchors (``anchor-key.pub``) so that anyone can check an anchor without it.
A file is written under a temporary name, synced, then linked to its final name, which fails
rather than replace an existing file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = 1
TITLE = "LabTrack audit trail: the head of every hash chain"
SIGNED_PREFIX = b"labtrack-audit-anchor-v1\n"
PUBLIC_KEY_NAME = "anchor-key.pub"
NAME = re.compile(r"^anchor-\d{8}T\d{6}\.\d{6}Z\.jsonl$")


class AnchorKeyMissing(Exception):
    """No private key where ``AUDIT_ANCHOR_KEY_FILE`` says, and none may be made there."""


def signing_key(path: Path, *, create: bool) -> Ed25519PrivateKey:
    """The anchors' private key, read from ``path``; made there first (readable by its owner
    only) when it does not exist and ``create`` allows it (the embedded default)."""
    if not path.exists():
        if not create:
            raise AnchorKeyMissing(f"no anchor signing key at {path} (AUDIT_ANCHOR_KEY_FILE)")
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(pem)
        except FileExistsError:
            pass  # another process made it at the same moment: use theirs
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise AnchorKeyMissing(f"the key at {path} is not an Ed25519 private key")
    return key


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def public_key_keep(directory: Path, key: Ed25519PrivateKey) -> None:
    """Keep the public key beside the anchors (PEM), for anyone checking them by hand."""
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    path = directory / PUBLIC_KEY_NAME
    if not path.exists() or path.read_bytes() != pem:
        _write_new(directory, f".{PUBLIC_KEY_NAME}.{os.getpid()}.tmp", pem)
        os.replace(directory / f".{PUBLIC_KEY_NAME}.{os.getpid()}.tmp", path)


def _write_new(directory: Path, name: str, content: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with os.fdopen(os.open(directory / name, flags, 0o644), "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"


class AnchorWriter:
    """Write one anchor: ``head(...)`` per chain, then ``close()`` signs it and gives it its
    name. Nothing is left under the anchor's name unless it is complete and signed."""

    def __init__(self, directory: Path, key: Ed25519PrivateKey, made_at: datetime) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory, self.key, self.made_at = directory, key, made_at
        stamp = made_at.strftime("%Y%m%dT%H%M%S.%fZ")
        self.name = f"anchor-{stamp}.jsonl"
        self.temporary = directory / f".{self.name}.{os.getpid()}.tmp"
        self.file: IO[bytes] = open(self.temporary, "wb")  # noqa: SIM115 - closed in close()
        self.digest = hashlib.sha256()
        self.chains = self.events = 0
        self._write(
            {
                "anchor": TITLE,
                "format": FORMAT,
                "made_at": made_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "public_key": public_text(key.public_key()),
            }
        )

    def _write(self, record: dict[str, Any]) -> None:
        line = _line(record)
        self.digest.update(line)
        self.file.write(line)

    def head(self, *, chain: str, id: Any, last: int, row: int, hash: str, events: int) -> None:
        self._write(
            {"chain": chain, "id": id, "last": last, "row": row, "hash": hash, "events": events}
        )
        self.chains += 1
        self.events += events

    def close(self) -> Path:
        digest = self.digest.hexdigest()
        signature = self.key.sign(SIGNED_PREFIX + digest.encode())
        self.file.write(
            _line(
                {
                    "chains": self.chains,
                    "events": self.events,
                    "sha256": digest,
                    "signature": base64.b64encode(signature).decode(),
                }
            )
        )
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        final = self.directory / self.name
        try:
            os.link(self.temporary, final)  # refuses to replace a file of the same name
        finally:
            self.temporary.unlink()
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        public_key_keep(self.directory, self.key)
        return final

    def abandon(self) -> None:
        self.file.close()
        self.temporary.unlink(missing_ok=True)


def latest_anchor(directory: Path) -> Path | None:
    """The newest anchor in ``directory`` (names sort as their times do)."""
    if not directory.is_dir():
        return None
    names = sorted(p.name for p in directory.iterdir() if NAME.match(p.name))
    return directory / names[-1] if names else None


@dataclass
class AnchorRead:
    """An anchor read line by line (``heads()``); ``problem`` is set once the whole file is
    read when it is not as signed: only then do its heads count."""

    path: Path
    public_key: Ed25519PublicKey
    made_at: datetime | None = None
    chains: int = 0
    problem: str = ""
    _signed_by: str = field(default="", repr=False)

    def heads(self) -> Iterator[dict[str, Any]]:
        digest = hashlib.sha256()
        previous: bytes | None = None
        count = 0
        with open(self.path, "rb") as f:
            for number, line in enumerate(f, start=1):
                if previous is not None:
                    digest.update(previous)
                    record = self._parse(previous, number - 1)
                    if record is None:
                        return
                    if number - 1 == 1:
                        self._header(record)
                    else:
                        count += 1
                        yield record
                previous = line
        if previous is None:
            self.problem = "the anchor file is empty"
            return
        self._trailer(previous, digest.hexdigest(), count)

    def _parse(self, line: bytes, number: int) -> dict[str, Any] | None:
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if not isinstance(record, dict):
            self.problem = f"line {number} of the anchor is not a JSON object"
            return None
        return record

    def _header(self, record: dict[str, Any]) -> None:
        try:
            self.made_at = datetime.fromisoformat(str(record["made_at"]))
        except (KeyError, ValueError):
            self.problem = "the anchor's header has no time"
        self._signed_by = str(record.get("public_key", ""))

    def _trailer(self, line: bytes, digest: str, count: int) -> None:
        if self.problem:
            return
        record = self._parse(line, 0) or {}
        try:
            signature = base64.b64decode(str(record.get("signature", "")), validate=True)
            self.public_key.verify(signature, SIGNED_PREFIX + digest.encode())
        except (InvalidSignature, ValueError):
            if self._signed_by and self._signed_by != public_text(self.public_key):
                self.problem = "it is signed with another key than the anchors' key"
            else:
                self.problem = "its signature does not match its content"
            return
        if record.get("sha256") != digest or record.get("chains") != count:
            self.problem = "its trailer does not match its content"
            return
        self.chains = count
