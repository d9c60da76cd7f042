"""The two errors a provider hook may raise; anything else is a bug and ends in the DLQ."""

from __future__ import annotations

from sagaline.contracts.messages import FailureReply


class Declined(Exception):
    """A business outcome: the provider said no. The typed failure reply goes back as an event.

    ``reply`` must be one of the operation's declared failure replies (``PaymentDeclined`` for
    ``charge``); the runtime refuses any other type.
    """

    def __init__(self, reply: FailureReply) -> None:
        super().__init__(f"{reply.message_type}: {reply.reason}")
        self.reply = reply


class TransientError(Exception):
    """The provider may succeed if asked again (timeout, 5xx, outage).

    The runtime retries with backoff per the operation's retry policy, then answers with the
    template's generic failure marked ``retryable=True`` so the coordinator can fail over. The
    message becomes that reply's ``reason``: keep secrets and personal data out of it.
    """
