"""Channels that reach residents outside the app, behind one small interface: `Sender.send(phone, text)`.

The app's own channel is the notice a resident's phone polls (api/notices.py); push services are
often unreachable in mainland China, so nothing here is ever the only channel. SMS through Amazon
SNS is off unless BAOGONG_SMS is "sns" (it costs money per message, and needs the account's SMS
sandbox lifted). Phone numbers are never logged.
"""
import logging
from typing import Protocol

from api import aws, config

_log = logging.getLogger(__name__)


class Sender(Protocol):
    def send(self, phone: str, text: str) -> bool:
        """Send `text` to a mainland mobile number; True if the channel accepted it."""


class NoSender:
    """The default: no SMS."""

    def send(self, phone: str, text: str) -> bool:
        return False


class SnsSms:
    """短信 through Amazon SNS (Publish to a phone number), as transactional messages."""

    def send(self, phone: str, text: str) -> bool:
        try:
            aws.client("sns").publish(PhoneNumber=f"+86{phone}", Message=text, MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}})
            return True
        except Exception as exc:  # noqa: BLE001 - one failed SMS must not stop the notices
            _log.warning("sms not sent: %s", type(exc).__name__)
            return False


def sms() -> Sender:
    return SnsSms() if config.SMS == "sns" else NoSender()
