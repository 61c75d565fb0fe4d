"""The default provider: nothing leaves the machine.

Dispatch records every outbound message in ``sms_messages`` whatever the provider; with
this provider that table *is* the outbox, which the web app shows at ``/dev/outbox`` so
a person can play the citizen.
"""

from __future__ import annotations

import logging
import uuid

from surveys.sms.base import OutgoingSms, SendResult

log = logging.getLogger(__name__)


class ConsoleSmsProvider:
    """Accepts every message and logs it (without the phone number)."""

    name = "console"

    def send(self, message: OutgoingSms) -> SendResult:
        """Accept the message and give it a local id."""
        message_id = f"console-{uuid.uuid4().hex}"
        log.info("console SMS %s %s (%d chars)", message_id, message.kind, len(message.body))
        return SendResult(provider_message_id=message_id, status="sent")
