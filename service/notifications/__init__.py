"""E-mail notifications: texts, a transactional outbox, and delivery by SMTP.

Write a notification with :func:`enqueue` in the transaction of the change it reports; a
background task (:func:`run_sender`) delivers the outbox when ``PEERCONSULT_SMTP_URL`` is set.
Until then, or while the SMTP server is down, messages wait in the ``outbox`` table.
"""

from service.notifications.messages import (
    ACCEPTED,
    DECLINED,
    INVITED,
    Message,
    accepted,
    accepted_copy,
    declined,
    invited,
)
from service.notifications.outbox import enqueue, purge_delivered
from service.notifications.sender import SmtpSettings, deliver_due, run_sender

__all__ = [
    "ACCEPTED",
    "DECLINED",
    "INVITED",
    "Message",
    "SmtpSettings",
    "accepted",
    "accepted_copy",
    "declined",
    "deliver_due",
    "enqueue",
    "invited",
    "purge_delivered",
    "run_sender",
]
