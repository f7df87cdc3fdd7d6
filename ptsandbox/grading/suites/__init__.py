"""The scenario suites that ship with ptsandbox, one per assignment."""

from __future__ import annotations

from ..course import SuiteInfo
from ..model import Assignment
from .chatroom import ASSIGNMENT as CHATROOM
from .mailbox import ASSIGNMENT as MAILBOX
from .message_slot import SEED as MESSAGE_SLOT
from .message_slot import SEED_INFO as MESSAGE_SLOT_INFO
from .message_slot import TAU as MESSAGE_SLOT_TAU
from .message_slot import TAU_INFO as MESSAGE_SLOT_TAU_INFO
from .mq import ASSIGNMENT as MQ
from .mq import INFO as MQ_INFO

ASSIGNMENTS: dict[str, Assignment] = {
    a.name: a for a in (CHATROOM, MESSAGE_SLOT, MESSAGE_SLOT_TAU, MQ, MAILBOX)
}

# what each suite offers a course file (grading/course.py)
SUITE_INFO: dict[str, SuiteInfo] = {
    MESSAGE_SLOT.name: MESSAGE_SLOT_INFO,
    MESSAGE_SLOT_TAU.name: MESSAGE_SLOT_TAU_INFO,
    MQ.name: MQ_INFO,
}
