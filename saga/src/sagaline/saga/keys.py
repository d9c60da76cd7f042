"""Redis key names. Every key of one saga, and the outbox and timers it writes to, share a hash tag.

The tag is a *bucket* of sagas (``{sgNN}``, crc32 of the saga id), not the saga id itself: that keeps
a saga's state, its outbox entries and its timer in one Redis Cluster slot, so a transition stays
one atomic Lua call on a cluster too, while relays and timer pollers find pending work by walking a
fixed number of buckets instead of scanning the keyspace.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

DEFAULT_BUCKETS = 16


@dataclass(frozen=True)
class BucketKeys:
    prefix: str
    bucket: int

    @property
    def tag(self) -> str:
        return f"{self.prefix}{{sg{self.bucket:02d}}}"

    def saga(self, saga_id: str) -> str:
        return f"{self.tag}:saga:{saga_id}"

    @property
    def outbox(self) -> str:
        return f"{self.tag}:outbox"

    @property
    def outbox_leases(self) -> str:
        return f"{self.tag}:outbox:leases"

    @property
    def timers(self) -> str:
        return f"{self.tag}:timers"

    @property
    def timer_tokens(self) -> str:
        return f"{self.tag}:timer:tokens"

    def status_index(self, status: str) -> str:
        return f"{self.tag}:status:{status}"

    @property
    def all_sagas(self) -> str:
        return f"{self.tag}:sagas"


@dataclass(frozen=True)
class KeySpace:
    prefix: str = "sagaline:"
    buckets: int = DEFAULT_BUCKETS

    def bucket_of(self, saga_id: str) -> BucketKeys:
        return BucketKeys(self.prefix, zlib.crc32(saga_id.encode()) % self.buckets)

    def all_buckets(self) -> list[BucketKeys]:
        return [BucketKeys(self.prefix, b) for b in range(self.buckets)]
