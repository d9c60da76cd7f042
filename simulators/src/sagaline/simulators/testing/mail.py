"""Reading what an SMTP sink delivered into a Maildir (the local stack's aiosmtpd sink)."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from sagaline.contracts.testing import wait_until


class MaildirReader:
    """Finds delivered messages by a header value. Each file's headers are read once however many
    polls; only the messages found are read whole.

    The Maildir is shared by everyone using the stack, so look messages up by a value unique to the
    test (an order id), never by counting the whole folder.
    """

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self._headers: dict[Path, EmailMessage] = {}
        self._parser = BytesParser(policy=policy.default)

    def find(self, header: str, value: str) -> list[EmailMessage]:
        self._scan()
        found = []
        for path, headers in list(self._headers.items()):
            if headers.get(header) == value:
                try:
                    with path.open("rb") as raw:
                        found.append(self._parser.parse(raw))
                except FileNotFoundError:
                    del self._headers[path]  # moved from new/ to cur/: found again under its new name
        return found

    async def wait_for(
        self, header: str, value: str, count: int = 1, within: float = 10.0
    ) -> list[EmailMessage]:
        """The first ``count`` messages with ``header: value`` (AssertionError after ``within`` seconds)."""
        await wait_until(
            lambda: len(self.find(header, value)) >= count,
            within,
            f"{count} message(s) with {header}: {value}",
        )
        return self.find(header, value)

    def _scan(self) -> None:
        for folder in ("new", "cur"):
            directory = self.maildir / folder
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                if path not in self._headers:
                    try:
                        with path.open("rb") as raw:
                            self._headers[path] = self._parser.parse(raw, headersonly=True)
                    except FileNotFoundError:
                        continue
