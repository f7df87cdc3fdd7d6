"""An mq variant: /dev/mq as one shared queue, with a blocking read and poll.

Courses that simplified the original /dev/mq: a write queues one message, a
read takes the oldest whole message and sleeps while the queue is empty
(EAGAIN with O_NONBLOCK); a full queue overwrites its oldest message, as the
original. `ioctl(fd, MQ_IOC_COUNT, &n)` (`_IOR('q', 1, int)`) tells how many
messages wait.

    ptsandbox run --device examples/mq_fifo.py:MqFifo,QUEUE_LEN=4 ./client
"""

from __future__ import annotations

import errno
import struct
from collections import deque
from typing import Any, ClassVar

from ptsandbox.devices.base import (
    IOR,
    POLLIN,
    POLLOUT,
    POLLRDNORM,
    POLLWRNORM,
    Block,
    Context,
    Device,
    DeviceError,
    DeviceFile,
    Ioctl,
    Param,
    PollTable,
    WaitQueue,
)

MQ_IOC_COUNT = IOR("q", 1, "i")  # int: a struct format gives the size


class MqFile(DeviceFile):
    def __init__(self, mq: MqFifo) -> None:
        self.mq = mq

    def read(self, ctx: Context, buf: int, count: int) -> int:
        if not self.mq.queue:
            raise Block(self.mq.readers)  # sleep until a write wakes us, then run again
        message = self.mq.queue[0][:count]
        ctx.copy_to_user(buf, message)  # EFAULT: the message stays queued
        self.mq.queue.popleft()
        return len(message)

    def write(self, ctx: Context, buf: int, count: int) -> int:
        if not 0 < count <= self.mq["MSG_MAX"]:
            raise DeviceError(errno.EMSGSIZE)
        if len(self.mq.queue) == self.mq["QUEUE_LEN"]:
            self.mq.overwritten += 1
        self.mq.queue.append(ctx.copy_from_user(buf, count))
        self.mq.readers.wake()
        return count

    def ioctl(self, ctx: Context, cmd: int, arg: int) -> int:
        if cmd != MQ_IOC_COUNT:
            raise DeviceError(errno.ENOTTY)
        ctx.copy_to_user(arg, struct.pack("i", len(self.mq.queue)))
        return 0

    def poll(self, pt: PollTable) -> int:
        pt.wait(self.mq.readers)
        return POLLOUT | POLLWRNORM | (POLLIN | POLLRDNORM if self.mq.queue else 0)


class MqFifo(Device):
    name: ClassVar[str] = "mq"
    major: ClassVar[int] = 236
    params: ClassVar[tuple[Param, ...]] = (
        Param("QUEUE_LEN", 8, "messages the queue holds", int, 1, 1024),
        Param("MSG_MAX", 256, "longest message", int, 1, 4096),
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        self.queue: deque[bytes] = deque(maxlen=self["QUEUE_LEN"])
        self.readers = WaitQueue("readers")
        self.overwritten = 0

    def ioctls(self) -> dict[int, Ioctl]:
        return {MQ_IOC_COUNT: Ioctl("MQ_IOC_COUNT", "pointer")}

    def open(self, ctx: Context, minor: int, inode: int) -> DeviceFile:
        return MqFile(self)

    def holds_state(self) -> bool:
        return bool(self.queue)  # queued messages keep the namespace up

    def snapshot(self) -> dict[str, Any]:
        return {"queued": len(self.queue), "overwritten": self.overwritten}
