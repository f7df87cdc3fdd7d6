"""Virtual files: path -> node, open file descriptions, and (pid, fd) -> description.

Every virtual open file description is backed by a real host object: the
tracee holds one end of a connected AF_UNIX SOCK_SEQPACKET pair, the supervisor
the other. The kernel therefore counts references for us (dup, fork, exec with
O_CLOEXEC, SCM_RIGHTS, SIGKILL): when the last tracee reference goes, our end
sees end-of-file and the device's `release` runs, exactly once.

A tracee fd is resolved through that object: /proc/TID/fd/N reads
`socket:[INODE]`, and the inode names the description. No fd table is mirrored.

Readiness: the tracee's socket is made readable exactly when the device's
poll() reports POLLIN, by keeping one token packet queued in it. Then the
tracee's own poll/select/epoll work natively on sets that mix real and virtual
fds. POLLOUT is always reported (our end's receive queue never fills).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import itertools
import logging
import os
import secrets
import select
import socket
import stat
import struct
import termios
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .devices.base import POLLIN, Device, DeviceFile, WaitQueue
from .tracer import pidfd_getfd, pidfd_open

log = logging.getLogger("ptsandbox.vfs")

O_ACCMODE = 0o3
O_PATH = 0o10000000
O_LARGEFILE = 0o100000


def _dev_of_host_dir() -> int:
    try:
        return os.stat("/dev").st_dev
    except OSError:
        return 5


def is_host_device_node(path: str) -> bool:
    """Is there a real char or block device node at this host path?"""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISBLK(mode)


def host_device_path(kind: int, major: int, minor: int) -> str | None:
    """The host's own node for a device number (1:3 -> /dev/null), if it has one:
    sysfs names it (/sys/dev/char/1:3/uevent: DEVNAME=null); /dev is searched
    when sysfs is not mounted. Only a node of that very type and number counts."""
    want = os.makedev(major, minor)
    sys_dir = "char" if kind == stat.S_IFCHR else "block"
    candidates: list[str] = []
    try:
        with open(f"/sys/dev/{sys_dir}/{major}:{minor}/uevent") as f:
            for line in f:
                if line.startswith("DEVNAME="):
                    candidates.append("/dev/" + line.strip().partition("=")[2])
    except OSError:
        pass
    if not candidates:
        try:
            candidates = [os.path.join("/dev", n) for n in sorted(os.listdir("/dev"))]
        except OSError:
            return None
    for path in candidates:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_IFMT(st.st_mode) == kind and st.st_rdev == want:
            return path
    return None


@dataclass(eq=False)
class Node:
    """A device file (an inode): several paths may name it (hard links).

    Every device node a traced program makes is one of these, never a host
    file. `device` is the sandbox driver it was made for; None when no sandbox
    driver had its major then (the open looks again, then tries the host's
    own device with that number, else ENXIO: see sys_paths._open_unclaimed)."""

    ino: int
    device: Device | None
    minor: int
    mode: int  # permission bits
    uid: int
    gid: int
    paths: list[str] = field(default_factory=list)
    atime: float = field(default_factory=time.time)
    mtime: float = field(default_factory=time.time)
    ctime: float = field(default_factory=time.time)
    major: int = 0
    kind: int = stat.S_IFCHR  # or S_IFBLK

    @property
    def rdev(self) -> int:
        return os.makedev(self.major, self.minor)

    @property
    def st_mode(self) -> int:
        return self.kind | self.mode

    @property
    def driver_name(self) -> str:
        return self.device.name if self.device is not None else f"(no driver, {self.major})"


SIOCOUTQ = termios.TIOCOUTQ  # bytes of our packets the peer has not read (their truesize)
_INT = struct.Struct("i")
#: how much a pushed file's socket may hold: SO_SNDBUFFORCE (root) asks for this;
#: else SO_SNDBUF gets what net.core.wmem_max allows (425,984 bytes by default)
PUSHED_SNDBUF = 64 << 20
#: "emulated": no pushed reads anywhere; "pushed": even where reads are recorded
#: (the trace then lacks them; for running the suite on the pushed path)
READS_ENV = "PTSANDBOX_READS"


@functools.cache
def packet_truesize(length: int) -> int:
    """What one SOCK_SEQPACKET packet of `length` bytes charges to its sender
    until it is read (the skb's truesize: 768 for up to 192 bytes here). Asked
    of the kernel once per length, on a private pair."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        _big_send_buffer(a)  # as an inbox's: what it could send, this can
        a.send(b"\0" * length)
        return _outq(a)
    finally:
        a.close()
        b.close()


def _big_send_buffer(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, 32, PUSHED_SNDBUF)  # SO_SNDBUFFORCE
    except OSError:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, PUSHED_SNDBUF)


def _outq(sock: socket.socket) -> int:
    value: int = _INT.unpack(fcntl.ioctl(sock, SIOCOUTQ, bytes(4)))[0]
    return value


class SocketInbox:
    """An Inbox over a pushed file's backing pair: each message is one packet
    sent into the tracee's end, which its read() takes natively.

    What has been read is found without seeing the read: our end's SIOCOUTQ is
    the truesize of our packets still unread, and packets are read in order, so
    the oldest pushed ones are dropped from `pending` until the sizes match."""

    def __init__(self, end: socket.socket) -> None:
        self.end = end
        self.pending: deque[tuple[int, int]] = deque()  # (truesize, length), oldest first
        self.pending_truesize = 0
        self.pending_bytes = 0
        self.taken = 0
        self.taken_bytes = 0
        _big_send_buffer(end)

    def push(self, message: bytes) -> bool:
        try:
            self.end.send(message, socket.MSG_DONTWAIT)
        except OSError:  # the buffer is full, or the reader is gone (release follows)
            return False
        size = packet_truesize(len(message))
        self.pending.append((size, len(message)))
        self.pending_truesize += size
        self.pending_bytes += len(message)
        return True

    def unread(self) -> int:
        try:
            outq = _outq(self.end)
        except OSError:
            outq = 0  # closed: nothing is left to read
        while self.pending_truesize > outq and self.pending:
            size, length = self.pending.popleft()
            self.pending_truesize -= size
            self.pending_bytes -= length
            self.taken += 1
            self.taken_bytes += length
        return len(self.pending)

    def unread_at_most(self) -> int:
        return len(self.pending)

    def unread_bytes(self) -> int:
        return self.pending_bytes


@dataclass(eq=False)
class OpenFile:
    """An open file description of a virtual node."""

    node: Node
    dfile: DeviceFile
    flags: int  # f_flags: access mode, O_NONBLOCK, O_APPEND, ...
    end: socket.socket  # the supervisor's end of the backing pair
    inode: int  # the tracee end's socket inode
    opener: int  # tgid that opened it
    path: str = ""  # the path it was opened by (for traces and status)
    pos: int = 0
    token: bool = False  # a readiness token is queued in the tracee's end
    token_stuck: bool = False  # it should go but no copy of a holder's fd could be had
    released: bool = False
    poll_queues: set[WaitQueue] = field(default_factory=set)
    opened_at: float = field(default_factory=time.time)
    inbox: SocketInbox | None = None  # pushed reads: the kernel serves them from here

    @property
    def readable(self) -> bool:
        return not self.flags & O_PATH and (self.flags & O_ACCMODE) in (os.O_RDONLY, os.O_RDWR)

    @property
    def writable(self) -> bool:
        return not self.flags & O_PATH and (self.flags & O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)

    @property
    def nonblocking(self) -> bool:
        return bool(self.flags & os.O_NONBLOCK)


class Vfs:
    """The supervisor's table of virtual nodes and open files."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.files: dict[int, OpenFile] = {}  # tracee socket inode -> description
        self._ino = itertools.count(0x50000)
        self.dev = _dev_of_host_dir()
        self._basenames: set[str] = set()
        self.dirty: set[OpenFile] = set()
        self.nodes_changed = False  # nodes made, linked or removed by programs (state)
        self.on_release: Callable[[OpenFile], None] = lambda f: None
        self.on_adopt: Callable[[OpenFile], None] = lambda f: None
        self.tracked_pids: Callable[[], Iterable[int]] = lambda: ()
        # pushed reads for devices that want them, unless the opener's reads must
        # be recorded (a trace): a pushed read is the kernel's, never seen here
        self.pushed_reads = True
        self.records_reads: Callable[[int], bool] = lambda tgid: False
        # a copy of a tracee's fd (tid, fd), for pulling a token back; OSError if none
        self.copy_fd: Callable[[int, int], int] = _copy_fd_of_process
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        self.address = f"\0ptsandbox-{os.getpid()}-{secrets.token_hex(8)}"
        self.listener.bind(self.address)
        self.listener.listen(64)

    def close(self) -> None:
        for f in list(self.files.values()):
            self.release(f)
        self.listener.close()

    # -- nodes -------------------------------------------------------------------

    def add_node(
        self,
        path: str,
        device: Device | None,
        minor: int,
        mode: int = 0o666,
        major: int | None = None,
        kind: int = stat.S_IFCHR,
    ) -> Node:
        """A node at `path`. A host file there is shadowed for traced programs
        (the caller decides whether one may be: mknod(2) shadows only a host
        device node, as a driver's own node would replace a stale one)."""
        path = os.path.normpath(path)
        if path.startswith("//"):  # kept by normpath (POSIX lets it mean something); not by Linux
            path = "/" + path.lstrip("/")
        if path in self.nodes:
            raise FileExistsError(errno.EEXIST, f"{path} already exists")
        if major is None:
            major = device.major_number if device is not None else 0
        node = Node(
            next(self._ino), device, minor, mode, os.getuid(), os.getgid(), [path],
            major=major, kind=kind,
        )  # fmt: skip
        self.nodes[path] = node
        self._basenames.add(os.path.basename(path))
        return node

    def link(self, node: Node, path: str) -> None:
        self.nodes_changed = True
        self.nodes[path] = node
        node.paths.append(path)
        node.ctime = time.time()
        self._basenames.add(os.path.basename(path))

    def unlink(self, path: str) -> None:
        self.nodes_changed = True
        node = self.nodes.pop(path)
        node.paths.remove(path)
        self._basenames = {os.path.basename(p) for p in self.nodes}

    def remove_device(self, device: Device) -> None:
        for path in [p for p, n in self.nodes.items() if n.device is device]:
            node = self.nodes.pop(path)
            node.paths.remove(path)
        self._basenames = {os.path.basename(p) for p in self.nodes}

    def may_name_node(self, path: str) -> bool:
        """Cheap pre-check: can this path (relative or not) name a node or lie below one?"""
        return any(b in path for b in self._basenames)

    def lookup(self, abspath: str) -> Node | None:
        return self.nodes.get(abspath)

    def node_below(self, abspath: str) -> bool:
        """Is some prefix of the path a node (so that the kernel would say ENOTDIR)?"""
        parts = abspath.split("/")
        return any("/".join(parts[:i]) in self.nodes for i in range(2, len(parts)))

    # -- open files --------------------------------------------------------------

    def adopt(
        self,
        copy: int,
        node: Node,
        dfile: DeviceFile,
        flags: int,
        opener: int,
        path: str = "",
    ) -> OpenFile:
        """Connect the tracee's fresh socket (`copy`: our pidfd_getfd copy of it,
        which this closes) to us and make it a description."""
        try:
            inode = os.fstat(copy).st_ino
            client = socket.socket(fileno=copy)
            try:
                client.connect(self.address)
                end = self._accept_own(self.listener, os.getpid())
            finally:
                client.detach()
        finally:
            os.close(copy)  # never keep a copy: it would hide the last close
        return self._describe(end, inode, node, dfile, flags, opener, path)

    def one_shot_listener(self) -> tuple[socket.socket, bytes]:
        """A listener for one tracee that must connect its socket itself (no pidfd
        reaches its fd table), and the sockaddr_un for its connect()."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        name = f"\0ptsandbox-{os.getpid()}-{secrets.token_hex(8)}"
        listener.bind(name)
        listener.listen(1)
        listener.setblocking(False)
        raw = name.encode()
        return listener, struct.pack("<H", socket.AF_UNIX) + raw

    def adopt_connected(
        self,
        listener: socket.socket,
        inode: int,
        node: Node,
        dfile: DeviceFile,
        flags: int,
        opener: int,
        path: str = "",
    ) -> OpenFile:
        """Take the connection the tracee `opener` made to a one-shot listener
        (its socket is `inode`) and make it a description. Closes the listener."""
        try:
            end = self._accept_own(listener, opener)
        finally:
            listener.close()
        return self._describe(end, inode, node, dfile, flags, opener, path)

    def _describe(
        self,
        end: socket.socket,
        inode: int,
        node: Node,
        dfile: DeviceFile,
        flags: int,
        opener: int,
        path: str,
    ) -> OpenFile:
        f = OpenFile(node, dfile, flags, end, inode, opener, path or node.paths[0])
        if self.will_push(dfile, flags, opener):
            f.inbox = SocketInbox(end)
            dfile.attach_inbox(f.inbox)
        self.files[inode] = f
        self.on_adopt(f)
        node.atime = time.time()
        return f

    def will_push(self, dfile: DeviceFile, flags: int, opener: int) -> bool:
        """Will a file of `dfile` opened by `opener` with `flags` have pushed reads?"""
        readable = not flags & O_PATH and (flags & O_ACCMODE) in (os.O_RDONLY, os.O_RDWR)
        forced = os.environ.get(READS_ENV, "")
        if forced == "emulated" or not readable or not dfile.wants_inbox():
            return False
        return forced == "pushed" or (self.pushed_reads and not self.records_reads(opener))

    def _accept_own(self, listener: socket.socket, pid: int) -> socket.socket:
        # the listener's name is guessable by tracees: take only the expected peer
        while True:
            end, _ = listener.accept()
            creds = end.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            if int.from_bytes(creds[:4], "little") == pid:
                end.setblocking(False)
                return end
            end.close()

    def file_of(self, tid: int, fd: int) -> OpenFile | None:
        """The description behind a tracee's fd, or None when it is not virtual."""
        if fd < 0 or fd > 0x7FFFFFFF:
            return None
        try:
            target = os.readlink(f"/proc/{tid}/fd/{fd}")
        except OSError:
            return None
        if not target.startswith("socket:["):
            return None
        return self.files.get(int(target[8:-1]))

    def release(self, f: OpenFile) -> None:
        """The last reference is gone: run the device's release, once."""
        if f.released:
            return
        f.released = True
        self.files.pop(f.inode, None)
        for q in f.poll_queues:
            q.remove(f)
        f.poll_queues.clear()
        self.dirty.discard(f)
        try:
            self.on_release(f)
        finally:
            f.end.close()
            f.dfile.release()

    def hung_up(self, f: OpenFile) -> bool:
        """True if the tracee side is gone (the peer closed: POLLHUP on our end).

        Not end-of-file as recv() sees it: an empty packet reads the same, and a
        racing program can send one (a write of 0 bytes let through natively
        because, when it was checked, its fd number was not open)."""
        p = select.poll()
        p.register(f.end, select.POLLIN | select.POLLRDHUP)
        events = p.poll(0)
        if events and events[0][1] & (select.POLLHUP | select.POLLRDHUP | select.POLLERR):
            return True
        with contextlib.suppress(OSError):  # nothing should come from the tracee side: drop it
            for _ in range(64):  # bounded: an empty packet reads as b"" too
                f.end.recv(65536, socket.MSG_DONTWAIT)
        return False

    # -- readiness ---------------------------------------------------------------

    def poll_mask(self, f: OpenFile) -> int:
        table = _PollTable(self, f)
        return f.dfile.poll(table)

    def mark_dirty(self, f: OpenFile) -> None:
        if not f.released and f.inbox is None:  # a pushed file's readiness is its packets
            self.dirty.add(f)

    def sync_readiness(self, holders: Iterable[tuple[int, int, OpenFile]] = ()) -> None:
        """Make each changed file's token match its device's POLLIN.

        `holders` are (tid, fd, file) known to hold a file, used to pull a
        token back out of the tracee's end; other files are found in /proc.
        """
        if not self.dirty:
            return
        known = {f: (tid, fd) for tid, fd, f in holders}
        dirty, self.dirty = self.dirty, set()
        for f in dirty:
            if f.released:
                continue
            want = bool(self.poll_mask(f) & POLLIN)
            if want:
                f.token_stuck = False
            if want and not f.token:
                try:
                    f.end.send(b"\0", socket.MSG_DONTWAIT)
                    f.token = True
                except OSError as e:  # the tracee side is closing: release will follow
                    log.debug("token send failed: %s", e)
            elif not want and f.token:
                self._pull_token(f, known.get(f))

    def _pull_token(self, f: OpenFile, holder: tuple[int, int] | None) -> None:
        """Take the token back out of the tracee's end, through a copy of a holder's
        fd. When no copy can be had (Linux < 6.9 and a thread whose fd table no
        pidfd reaches) the token stays and `f.token_stuck` says so: the syscall
        layer then has the holder pull it itself."""
        for tid, fd in [holder] if holder else self._find_holders(f):
            try:
                copy = self.copy_fd(tid, fd)
            except OSError:
                continue
            try:
                while True:
                    _recv(copy)
            except BlockingIOError:
                f.token = False
                f.token_stuck = False
                return
            except OSError:
                return
            finally:
                os.close(copy)
        f.token_stuck = True

    def _find_holders(self, f: OpenFile) -> Iterable[tuple[int, int]]:
        want = f"socket:[{f.inode}]"
        for pid in self.tracked_pids():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for name in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{name}") == want:
                        yield pid, int(name)
                        return
                except OSError:
                    continue

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "path": f.path,
                "device": f.node.driver_name,
                "inode": f.inode,
                "flags": f.flags,
                "opener": f.opener,
                **f.dfile.describe(),
            }
            for f in self.files.values()
        ]


class _PollTable:
    def __init__(self, vfs: Vfs, f: OpenFile) -> None:
        self.vfs = vfs
        self.f = f

    def wait(self, queue: WaitQueue) -> None:
        if queue not in self.f.poll_queues:
            self.f.poll_queues.add(queue)
            f, vfs = self.f, self.vfs
            queue.add(f, lambda: vfs.mark_dirty(f))


def _copy_fd_of_process(pid: int, fd: int) -> int:
    pidfd = pidfd_open(pid)
    try:
        return pidfd_getfd(pidfd, fd)
    finally:
        os.close(pidfd)


def _recv(fd: int) -> bytes:
    s = socket.socket(fileno=fd)
    try:
        return s.recv(16, socket.MSG_DONTWAIT)
    finally:
        s.detach()
