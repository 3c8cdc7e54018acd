"""Checks the ops_audit chain in the database against the signed checkpoints kept outside it.

The checkpoint job (infra/lambdas/audit_checkpoint.py) signs, every interval, the
chain head (`chain_seq`, `row_hash`) that `ops_audit.checkpoint_state()` returned,
and stores it in the Object Lock archive. Someone who can rewrite the trail, even
consistently (re-sealing every later row and the head, as the admin `postgres` can
on Supabase), cannot rewrite those checkpoints. So, for every checkpoint:

1. its signature must verify over the canonical JSON of its `signed` part, with
   the public key given as a file, or else the KMS public key of the key it names;
2. its `(chain_seq, row_hash)` must still be in the chain: the seal with that
   chain_seq has that row_hash (seals are append-only and outlive a month detached
   after its export, so every checkpoint stays checkable).

The first checkpoint (oldest first) that fails is named. Rows appended after the
newest checkpoint are not anchored yet: a rewrite of those is caught only once a
later checkpoint has signed them, which is why checkpoints run every interval.
"""

from __future__ import annotations

import base64
import binascii
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infra.errors import UsageError
from infra.lambdas.audit_checkpoint import FORMAT, canonical_json

GENESIS_HASH = "00" * 32
HASHES = {"ECDSA_SHA_256": hashes.SHA256, "ECDSA_SHA_384": hashes.SHA384, "ECDSA_SHA_512": hashes.SHA512}
DOWNLOAD_THREADS = 16

# Each checkpointed chain_seq and its seal's row_hash.
ANCHOR_SQL = """
select s.seq, (select encode(x.row_hash, 'hex') from ops_audit.seals as x where x.chain_seq = s.seq)
from unnest(%s::bigint[]) as s(seq)
"""


class AnchorError(UsageError):
    """The checkpoints or the public key cannot be read; nothing was verified."""


@dataclass(frozen=True)
class Checkpoint:
    location: str  # the S3 URI or file it was read from
    signed: dict
    signature: bytes
    key_id: str
    algorithm: str
    deviation_count: int

    @property
    def chain_seq(self) -> int:
        return self.signed["state"]["chain_seq"]

    @property
    def row_hash(self) -> str:
        return self.signed["state"]["row_hash"]

    @property
    def taken_at(self) -> str:
        return self.signed["taken_at"]

    def describe(self) -> str:
        return f"checkpoint {self.location} (taken {self.taken_at}, chain_seq {self.chain_seq})"


@dataclass(frozen=True)
class AnchorCheck:
    checkpoints: list[Checkpoint]
    keys: tuple[str, ...]  # where the public keys came from
    first_failed: Checkpoint | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return self.first_failed is None

    @property
    def latest(self) -> Checkpoint:
        return self.checkpoints[-1]


def parse_checkpoint(text: str | bytes, location: str) -> Checkpoint:
    """One checkpoint file; AnchorError naming the location and what is wrong."""
    try:
        document = json.loads(text)
        signed, signature = document["signed"], document["signature"]
        state = signed["state"]
        checkpoint = Checkpoint(
            location=location,
            signed=signed,
            signature=base64.b64decode(signature["value"], validate=True),
            key_id=signature["key_id"],
            algorithm=signature["algorithm"],
            deviation_count=int(document.get("deviation_count", 0)),
        )
        problems = [] if document.get("format") == signed.get("format") == FORMAT else [f"format is not {FORMAT}"]
        if not (isinstance(state["chain_seq"], int) and isinstance(state["row_hash"], str) and isinstance(signed["taken_at"], str)):
            problems.append("signed.state needs an integer chain_seq and a row_hash, and signed a taken_at")
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        problems = [f"not a checkpoint ({type(exc).__name__}: {exc})"]
    if problems:
        raise AnchorError(location, problems)
    return checkpoint


def _s3_checkpoints(uri: str) -> list[tuple[str, bytes]]:
    parts = urlsplit(uri)
    bucket, prefix = parts.netloc, parts.path.lstrip("/")
    s3 = boto3.client("s3")
    try:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(".json")]
        with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
            bodies = list(pool.map(lambda k: s3.get_object(Bucket=bucket, Key=k)["Body"].read(), keys))
    except (BotoCoreError, ClientError) as exc:
        raise AnchorError(uri, [f"cannot read the checkpoints: {exc}"]) from None
    return [(f"s3://{bucket}/{key}", body) for key, body in zip(keys, bodies, strict=True)]


def _folder_checkpoints(folder: Path) -> list[tuple[str, bytes]]:
    if not folder.is_dir():
        raise AnchorError(str(folder), ["not a folder of checkpoints, nor an s3://bucket/prefix URI"])
    try:
        return [(str(path), path.read_bytes()) for path in sorted(folder.rglob("*.json"))]
    except OSError as exc:
        raise AnchorError(str(folder), [f"cannot read: {exc}"]) from None


def read_checkpoints(source: str) -> list[Checkpoint]:
    """Every checkpoint under an S3 prefix or a folder, oldest first; AnchorError when there is none."""
    found = _s3_checkpoints(source) if source.startswith("s3://") else _folder_checkpoints(Path(source))
    if not found:
        raise AnchorError(source, ["holds no checkpoint (*.json)"])
    checkpoints, problems = [], []
    for location, body in found:
        try:
            checkpoints.append(parse_checkpoint(body, location))
        except AnchorError as exc:
            problems += [f"{location}: {p}" for p in exc.problems]
    if problems:
        raise AnchorError(source, problems)
    return sorted(checkpoints, key=lambda c: (c.taken_at, c.chain_seq, c.location))


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """A public key file, PEM or DER (SubjectPublicKeyInfo, as kms:GetPublicKey returns it)."""
    try:
        data = path.read_bytes()
        key = (serialization.load_pem_public_key if data.lstrip().startswith(b"-----") else serialization.load_der_public_key)(data)
    except (OSError, ValueError, UnsupportedAlgorithm) as exc:
        raise AnchorError(str(path), [f"not a readable public key: {exc}"]) from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise AnchorError(str(path), ["not an elliptic-curve public key (the checkpoints are ECDSA signatures)"])
    return key


def kms_public_key(key_id: str) -> ec.EllipticCurvePublicKey:
    try:
        der = boto3.client("kms").get_public_key(KeyId=key_id)["PublicKey"]
    except (BotoCoreError, ClientError) as exc:
        raise AnchorError(key_id, [f"cannot fetch the public key from KMS ({exc}); pass --public-key FILE"]) from None
    return serialization.load_der_public_key(der)


def bad_signature(checkpoint: Checkpoint, key: ec.EllipticCurvePublicKey) -> str | None:
    """Why the checkpoint's signature does not verify, or None when it does."""
    if checkpoint.algorithm not in HASHES:
        return f"signing algorithm {checkpoint.algorithm!r} is not one of {', '.join(HASHES)}"
    try:
        key.verify(checkpoint.signature, canonical_json(checkpoint.signed), ec.ECDSA(HASHES[checkpoint.algorithm]()))
    except InvalidSignature:
        return "its signature does not verify: the checkpoint was altered or not signed by the checkpoint key"
    return None


HELD = "held"


def head_statuses(conn: psycopg.Connection, checkpoints: list[Checkpoint]) -> list[str]:
    """Per checkpoint: HELD, or why the database no longer holds the checkpointed head."""
    seqs = sorted({c.chain_seq for c in checkpoints})
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        found = dict(conn.execute(ANCHOR_SQL, (seqs,)).fetchall())
    return [_status(c, found[c.chain_seq]) for c in checkpoints]


def _status(checkpoint: Checkpoint, sealed: str | None) -> str:
    seq = checkpoint.chain_seq
    held = GENESIS_HASH if seq == 0 else sealed
    if held is None:
        return f"chain_seq {seq} is no longer in the chain (rows removed)"
    if held != checkpoint.row_hash:
        return (f"the database has row_hash {held} at chain_seq {seq}, the checkpoint signed {checkpoint.row_hash}: "
                f"the chain was rewritten at or before chain_seq {seq}")
    return HELD


def check_anchors(conn: psycopg.Connection, checkpoints: list[Checkpoint], keys: dict[str, ec.EllipticCurvePublicKey],
                  key_sources: tuple[str, ...]) -> AnchorCheck:
    """Signatures first (a forged checkpoint proves nothing), then each head against the database."""
    for checkpoint in checkpoints:
        reason = bad_signature(checkpoint, keys[checkpoint.key_id])
        if reason:
            return AnchorCheck(checkpoints, key_sources, first_failed=checkpoint, reason=reason)
    statuses = head_statuses(conn, checkpoints)
    for checkpoint, status in zip(checkpoints, statuses, strict=True):
        if status != HELD:
            return AnchorCheck(checkpoints, key_sources, first_failed=checkpoint, reason=status)
    return AnchorCheck(checkpoints, key_sources)


def public_keys(checkpoints: list[Checkpoint], key_file: Path | None) -> tuple[dict[str, ec.EllipticCurvePublicKey], tuple[str, ...]]:
    """The key each checkpoint is checked with: the given file for all, else the KMS key each names."""
    key_ids = sorted({c.key_id for c in checkpoints})
    if key_file is not None:
        key = load_public_key(key_file)
        return dict.fromkeys(key_ids, key), (str(key_file),)
    return {key_id: kms_public_key(key_id) for key_id in key_ids}, tuple(f"KMS {k}" for k in key_ids)


