"""The scenario suites that ship with ptsandbox, one per assignment."""

from __future__ import annotations

from ..model import Assignment
from .chatroom import ASSIGNMENT as CHATROOM
from .mailbox import ASSIGNMENT as MAILBOX
from .message_slot import SEED as MESSAGE_SLOT
from .message_slot import TAU as MESSAGE_SLOT_TAU
from .mq import ASSIGNMENT as MQ

ASSIGNMENTS: dict[str, Assignment] = {
    a.name: a for a in (CHATROOM, MESSAGE_SLOT, MESSAGE_SLOT_TAU, MQ, MAILBOX)
}
