"""HMAC-SHA256 envelope signatures with a key ring, so keys rotate by id without downtime."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from sagaline.contracts.envelope import Envelope


class SignatureError(Exception):
    """The envelope is unsigned, signed with an unknown key, or tampered with."""


class KeyRing:
    """Signs with ``active`` and verifies with any key it holds.

    Rotation: deploy the new key to every verifier first, then switch ``active``.
    Key bytes are never part of ``repr`` or logs.
    """

    def __init__(self, keys: Mapping[str, bytes], active: str) -> None:
        if active not in keys:
            raise ValueError(f"active key id {active!r} is not in the key ring")
        if any(len(k) < 16 for k in keys.values()):
            raise ValueError("signing keys must be at least 16 bytes")
        self._keys = dict(keys)
        self.active = active

    def __repr__(self) -> str:
        return f"KeyRing(ids={sorted(self._keys)}, active={self.active!r})"

    @classmethod
    def from_spec(cls, spec: str, active: str | None = None) -> KeyRing:
        """Parse ``id1:secret1,id2:secret2``; the first id is active unless ``active`` is given."""
        pairs = [item.split(":", 1) for item in spec.split(",") if item.strip()]
        if not pairs or any(len(p) != 2 for p in pairs):
            raise ValueError("key spec must look like 'id:secret[,id:secret...]'")
        keys = {k.strip(): v.strip().encode() for k, v in pairs}
        return cls(keys, active or pairs[0][0].strip())

    def _digest(self, key_id: str, envelope: Envelope) -> str:
        return hmac.new(self._keys[key_id], envelope.canonical_bytes(), hashlib.sha256).hexdigest()

    def sign(self, envelope: Envelope) -> Envelope:
        unsigned = envelope.model_copy(update={"key_id": self.active, "signature": ""})
        return unsigned.model_copy(update={"signature": self._digest(self.active, unsigned)})

    def verify(self, envelope: Envelope) -> None:
        if not envelope.signature or not envelope.key_id:
            raise SignatureError("missing signature")
        if envelope.key_id not in self._keys:
            raise SignatureError(f"unknown signing key id {envelope.key_id!r}")
        expected = self._digest(envelope.key_id, envelope)
        if not hmac.compare_digest(expected, envelope.signature):
            raise SignatureError("bad signature")
