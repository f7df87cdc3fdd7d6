"""Calls that take a path: resolve it, and when it names a virtual node answer
as the kernel does for a char device node (open, mknod, link, unlink, access,
chmod/chown, utime, xattrs). Calls on other paths run natively (ALLOW)."""

from __future__ import annotations

import errno
import logging
import os
import socket
import stat
import struct
import time
from collections.abc import Callable, Generator

from .. import calltrace
from ..devices.base import Block, DeviceError, DeviceFile
from ..sysnr import NR
from ..tracer import (
    ALLOW,
    Job,
    Outcome,
    Run,
    Scratch,
    Thread,
    read_memory,
    read_string,
)
from ..vfs import O_LARGEFILE, O_PATH, Node, OpenFile, host_device_path, is_host_device_node
from .core import AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, PATH_MAX, CallContext, SyscallCore, _s32

log = logging.getLogger("ptsandbox.syscalls")


def _umask_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


# Path calls: (dirfd argument or None, path argument, flags argument or None)
PATH_ARGS: dict[str, tuple[int | None, int, int | None]] = {
    "open": (None, 0, None), "creat": (None, 0, None), "openat": (0, 1, None),
    "openat2": (0, 1, None), "stat": (None, 0, None), "lstat": (None, 0, None),
    "newfstatat": (0, 1, 3), "statx": (0, 1, 2), "access": (None, 0, None),
    "faccessat": (0, 1, None), "faccessat2": (0, 1, 3), "readlink": (None, 0, None),
    "readlinkat": (0, 1, None), "mknod": (None, 0, None), "mknodat": (0, 1, None),
    "chmod": (None, 0, None), "fchmodat": (0, 1, None), "fchmodat2": (0, 1, 3),
    "chown": (None, 0, None), "lchown": (None, 0, None), "fchownat": (0, 1, 4),
    "truncate": (None, 0, None), "unlink": (None, 0, None), "unlinkat": (0, 1, 2),
    "rmdir": (None, 0, None), "mkdir": (None, 0, None), "mkdirat": (0, 1, None),
    "utime": (None, 0, None), "utimes": (None, 0, None), "futimesat": (0, 1, None),
    "utimensat": (0, 1, 3), "getxattr": (None, 0, None), "lgetxattr": (None, 0, None),
    "setxattr": (None, 0, None), "lsetxattr": (None, 0, None), "listxattr": (None, 0, None),
    "llistxattr": (None, 0, None), "removexattr": (None, 0, None),
    "lremovexattr": (None, 0, None), "statfs": (None, 0, None), "chdir": (None, 0, None),
    "chroot": (None, 0, None), "execve": (None, 0, None),
    "rename": (None, 0, None), "renameat": (0, 1, None), "renameat2": (0, 1, None),
    "link": (None, 0, None), "linkat": (0, 1, None), "symlink": (None, 1, None),
    "symlinkat": (1, 2, None),
}  # fmt: skip
# the second path of two-path calls: (dirfd argument or None, path argument)
SECOND_PATH: dict[str, tuple[int | None, int]] = {
    "rename": (None, 1), "renameat": (2, 3), "renameat2": (2, 3),
    "link": (None, 1), "linkat": (2, 3),
}  # fmt: skip
# What the kernel answers when a path call names an existing char device node.
PATH_ERRNO: dict[str, int] = {
    "readlink": errno.EINVAL, "readlinkat": errno.EINVAL, "mknod": errno.EEXIST,
    "mknodat": errno.EEXIST, "truncate": errno.EINVAL, "rmdir": errno.ENOTDIR,
    "mkdir": errno.EEXIST, "mkdirat": errno.EEXIST, "chdir": errno.ENOTDIR,
    "chroot": errno.ENOTDIR, "execve": errno.EACCES, "symlink": errno.EEXIST,
    "symlinkat": errno.EEXIST, "getxattr": errno.ENODATA, "lgetxattr": errno.ENODATA,
    "setxattr": errno.EOPNOTSUPP, "lsetxattr": errno.EOPNOTSUPP,
    "removexattr": errno.ENODATA, "lremovexattr": errno.ENODATA,
    # a rename across the sandbox boundary: as between two filesystems
    "rename": errno.EXDEV, "renameat": errno.EXDEV, "renameat2": errno.EXDEV,
}  # fmt: skip


class PathCalls(SyscallCore):
    # -- paths -------------------------------------------------------------------

    def _resolve(self, t: Thread, dirfd: int | None, path: bytes) -> tuple[str | None, int]:
        """(absolute path, 0); (None, -errno) for a virtual dirfd or a walk through a
        node; (None, 0) when the path is the host's business."""
        text = os.fsdecode(path)
        if text.startswith("/"):
            return self._walk(text)
        if dirfd is None or dirfd == AT_FDCWD:
            try:
                base = os.readlink(f"/proc/{t.tid}/cwd")
            except OSError:
                return None, 0
        else:
            if self.vfs.file_of(t.tid, dirfd) is not None:
                return None, -errno.ENOTDIR
            try:
                base = os.readlink(f"/proc/{t.tid}/fd/{dirfd}")
            except OSError:
                return None, 0
        return self._walk(base + "/" + text)

    def _walk(self, path: str) -> tuple[str | None, int]:
        """The kernel's path walk, done lexically where it can be: empty components
        ('//', a leading '//' too, which os.path.normpath keeps) and '.' vanish; '..'
        leaves the directory the prefix really is (symlinks followed), and the host
        answers for a prefix that is not a directory. Anything after a node needs the
        node to be a directory: ENOTDIR, as for '/dev/null/.' (a trailing '/' is
        checked by the caller)."""
        parts: list[str] = []
        for comp in path.split("/"):
            if not comp:
                continue
            here = "/" + "/".join(parts)
            if parts and self.vfs.lookup(here) is not None:
                return None, -errno.ENOTDIR
            if comp == ".":
                continue
            if comp == "..":
                if not os.path.isdir(here):
                    return None, 0  # the kernel's own walk fails (ENOENT, ENOTDIR, ELOOP)
                parts = [p for p in os.path.realpath(here).split("/") if p][:-1]
                continue
            parts.append(comp)
        return "/" + "/".join(parts), 0

    def _path_node(
        self,
        t: Thread,
        args: tuple[int, ...],
        dirfd_arg: int | None,
        path_arg: int,
        always_resolve: bool = False,
    ) -> tuple[Node | None, str | None, int]:
        """(node, abspath, 0); (None, path, 0) if not virtual; (None, None, -errno) if refused.

        The path is only resolved when it may name a node, unless `always_resolve`
        (mknod, which creates nodes)."""
        try:
            raw = read_string(t.tid, args[path_arg], PATH_MAX)
        except OSError:
            return None, None, 0  # let the kernel give EFAULT / ENAMETOOLONG
        if not raw or not (always_resolve or self.vfs.may_name_node(os.fsdecode(raw))):
            return None, None, 0
        dirfd = _s32(args[dirfd_arg]) if dirfd_arg is not None else None
        path, err = self._resolve(t, dirfd, raw)
        if err:
            return None, None, err
        if path is None:
            return None, None, 0
        node = self.vfs.lookup(path)
        if node is not None and raw.endswith(b"/"):
            return None, None, -errno.ENOTDIR
        if node is None and self.vfs.node_below(path):
            return None, None, -errno.ENOTDIR
        return node, path, 0

    def _path_call(self, name: str) -> Callable[[Thread, tuple[int, ...]], Outcome]:
        dirfd_arg, path_arg, flags_arg = PATH_ARGS[name]
        special = getattr(self, f"path_{name}", None)
        second = SECOND_PATH.get(name)
        # AT_EMPTY_PATH on a virtual fd: the call is about the fd itself
        empty: Callable[[Thread, tuple[int, ...], Node], Outcome] | None = getattr(
            self, f"empty_{name}", None
        )

        def handler(t: Thread, args: tuple[int, ...]) -> Outcome:
            flags = args[flags_arg] if flags_arg is not None else 0
            if flags & AT_EMPTY_PATH and empty is not None:
                f = self._empty_path_file(t, args, dirfd_arg, path_arg)
                if f is not None:
                    return empty(t, args, f.node)
            creates = name in ("mknod", "mknodat") and self._makes_device(args, name)
            node, path, err = self._path_node(t, args, dirfd_arg, path_arg, creates)
            if err:
                return err
            if second is not None and node is None:
                other, _, err2 = self._path_node(t, args, *second)
                if err2:
                    return err2
                if other is not None:
                    return -errno.EEXIST if name.startswith("link") else -errno.EXDEV
            if node is None:
                if creates and path is not None:
                    return self._mknod(t, args, path, name)
                return ALLOW
            assert path is not None
            result: Outcome = (
                special(t, args, node, path)
                if special is not None
                else -PATH_ERRNO.get(name, errno.EPERM)
            )
            if isinstance(result, int):
                self._emit(t, f"{name}({calltrace.quote(path.encode())}, ...)", result)
            return result

        return handler

    def _empty_path_file(
        self, t: Thread, args: tuple[int, ...], dirfd_arg: int | None, path_arg: int
    ) -> OpenFile | None:
        try:
            if read_string(t.tid, args[path_arg], 1):
                return None
        except OSError:
            return None
        assert dirfd_arg is not None
        return self.vfs.file_of(t.tid, _s32(args[dirfd_arg]))

    def _makes_device(self, a: tuple[int, ...], name: str) -> bool:
        """Does this mknod make a char or block device node (of any major)?"""
        mode = a[1] if name == "mknod" else a[2]
        return stat.S_IFMT(mode) in (stat.S_IFCHR, stat.S_IFBLK)

    def _mknod(self, t: Thread, a: tuple[int, ...], path: str, name: str) -> Outcome:
        """mknod(2) of a char or block device: always a virtual node, never a host
        file (the sandbox grants CAP_MKNOD for its own nodes only). A node for a
        major no sandbox driver claims opens the host's own device of that
        number if there is one, else gives ENXIO (see _open_unclaimed). A host
        device node already at the path (left by a real module) is shadowed for
        traced programs, as a fresh node of the loaded driver would replace it."""
        mode, dev = (a[1], a[2]) if name == "mknod" else (a[2], a[3])
        kind = stat.S_IFMT(mode)
        major, minor = os.major(dev & 0xFFFFFFFF), os.minor(dev & 0xFFFFFFFF)
        driver = self.drivers_by_major.get(major) if kind == stat.S_IFCHR else None
        if os.path.lexists(path) and not is_host_device_node(path):
            result = -errno.EEXIST
        elif not os.path.isdir(os.path.dirname(path) or "/"):
            result = -errno.ENOENT
        else:
            umask = _umask_of(t.tgid)
            perms = (mode & 0o7777) & ~umask
            self.vfs.add_node(path, driver, minor, perms, major=major, kind=kind)
            self.vfs.nodes_changed = True
            result = 0
        what = "S_IFCHR" if kind == stat.S_IFCHR else "S_IFBLK"
        self._emit(t, f"{name}({calltrace.quote(path.encode())}, {what}|{mode & 0o7777:#o}, "
                      f"makedev({major}, {minor}))", result)  # fmt: skip
        return result

    # open family -----------------------------------------------------------------

    def path_open(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._open(t, node, a[1], path, "open")

    def path_creat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._open(t, node, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, path, "creat")

    def path_openat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._open(t, node, a[2], path, "openat")

    def path_openat2(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        if a[3] < 24:
            return -errno.EINVAL
        try:
            how_flags, _mode, _resolve = struct.unpack("<QQQ", read_memory(t.tid, a[2], 24))
        except OSError:
            return -errno.EFAULT
        return self._open(t, node, how_flags, path, "openat2")

    def _open(self, t: Thread, node: Node, flags: int, path: str, name: str) -> Outcome:
        outcome = self._open_inner(t, node, flags & 0xFFFFFFFF, path)
        if self.tracing:
            driver = node.device.name if node.device else ""  # none: a node of no driver
            shown = calltrace.Sym(calltrace.open_flags(flags), flags)
            call = calltrace.Call(name, (calltrace.Str(path.encode()), shown))
            if t in self.parked:  # asleep in the driver's open: shown as unfinished
                self._emit(t, call, None, driver, (flags,))
            elif isinstance(outcome, int):
                self._emit(t, call, outcome, driver, (flags,))
            elif isinstance(outcome, Generator):
                return self._traced_job(t, call, outcome, driver, flags)
        return outcome

    def _traced_job(
        self, t: Thread, call: calltrace.Call, job: Job, device: str, flags: int
    ) -> Job:
        result = yield from job
        self._emit(t, call, result, device, (flags,))
        return result

    def _open_inner(self, t: Thread, node: Node, flags: int, path: str) -> Outcome:
        if flags & os.O_CREAT and flags & os.O_EXCL:
            return -errno.EEXIST
        if flags & os.O_DIRECTORY:
            return -errno.ENOTDIR
        # access mode 3 is an fd for ioctl only: neither `readable` nor `writable`
        # (the kernel's f_mode has neither FMODE_READ nor FMODE_WRITE)
        f_flags = (flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC)) | O_LARGEFILE
        f_flags &= ~os.O_CLOEXEC
        self.before_device_op()
        ctx = CallContext(t, None)
        ctx.flags = f_flags
        dfile: DeviceFile
        device = node.device
        if device is None and node.kind == stat.S_IFCHR:
            device = node.device = self.drivers_by_major.get(node.major)  # loaded since
        if flags & O_PATH:
            dfile = DeviceFile()  # an O_PATH file never reaches the driver
        elif device is None:
            return self._open_unclaimed(node, flags)
        else:
            try:
                dfile = device.open(ctx, node.minor, node.ino)
            except DeviceError as e:
                return -e.errno
            except Block as b:  # the driver's open sleeps: the whole call runs again on wake
                return self.park(t, b.queue, "open", None, None, b.interrupted)
        return self._open_job(t, node, dfile, f_flags, flags, path)

    def _open_unclaimed(self, node: Node, flags: int) -> Outcome:
        """A node whose major no sandbox driver has: the host's own device with
        that number, opened by the caller itself (so the host's permission
        checks apply: a node grants nothing its real path would not), or ENXIO,
        as Linux gives for a node whose driver is not loaded."""
        host = host_device_path(node.kind, node.major, node.minor)
        if host is None:
            return -errno.ENXIO
        return self._open_host(host, flags)

    @staticmethod
    def _open_host(host: str, flags: int) -> Job:
        fd = yield Run(NR["openat"], (AT_FDCWD, Scratch(0), flags, 0), os.fsencode(host) + b"\0")
        return fd

    def _open_job(
        self, t: Thread, node: Node, dfile: DeviceFile, f_flags: int, flags: int, path: str
    ) -> Job:
        adopted = False
        try:
            sock_type = socket.SOCK_SEQPACKET | (socket.SOCK_CLOEXEC if flags & os.O_CLOEXEC else 0)
            if flags & os.O_NONBLOCK and self.vfs.will_push(dfile, f_flags, t.tgid):
                sock_type |= socket.SOCK_NONBLOCK  # its reads are the kernel's own
            fd = yield Run(NR["socket"], (socket.AF_UNIX, sock_type, 0))
            if fd < 0:
                return fd  # EMFILE, ENFILE: as open would
            try:
                try:
                    copy = self.tracer.copy_fd(t, fd)
                except OSError as e:
                    if e.errno != errno.EXDEV:
                        raise
                    f = yield from self._adopt_by_connect(t, fd, node, dfile, f_flags, path)
                else:
                    f = self.vfs.adopt(copy, node, dfile, f_flags, t.tgid, path)
            except OSError as e:
                log.error("cannot back fd %d of %d: %s", fd, t.tgid, e)
                yield Run(NR["close"], (fd,))
                return -errno.ENFILE
            adopted = True
            self.vfs.mark_dirty(f)
            self.vfs.sync_readiness([(t.tid, fd, f)])
            yield from self.watch(t, fd)
            return fd
        finally:
            if not adopted:
                dfile.release()

    def _adopt_by_connect(
        self, t: Thread, fd: int, node: Node, dfile: DeviceFile, f_flags: int, path: str
    ) -> Generator[Run, int, OpenFile]:
        """No pidfd reaches this thread's fd table (Linux < 6.9, and a thread with
        a table of its own or whose leader has exited): it connects its new socket
        to a one-shot listener of ours itself."""
        listener, addr = self.vfs.one_shot_listener()
        try:
            res = yield Run(NR["connect"], (fd, Scratch(0), len(addr)), addr)
            if res < 0:
                raise OSError(-res, f"connect: {os.strerror(-res)}")
            inode = os.stat(f"/proc/{t.tid}/fd/{fd}").st_ino
            return self.vfs.adopt_connected(listener, inode, node, dfile, f_flags, t.tgid, path)
        finally:
            listener.close()

    def _access(self, mode: int, node: Node) -> int:
        if mode & ~7:
            return -errno.EINVAL
        if mode & os.X_OK and not node.mode & 0o111:
            return -errno.EACCES
        return 0

    def path_access(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._access(a[1], node)

    def path_faccessat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._access(a[2], node)

    path_faccessat2 = path_faccessat

    # changes to the node -----------------------------------------------------------

    def _chmod(self, mode: int, node: Node) -> int:
        node.mode = mode & 0o7777
        node.ctime = time.time()
        return 0

    def _chown(self, uid: int, gid: int, node: Node) -> int:
        uid, gid = _s32(uid), _s32(gid)
        if os.geteuid() != 0 and (uid not in (-1, node.uid) or gid not in (-1, node.gid)):
            return -errno.EPERM
        node.uid = node.uid if uid == -1 else uid
        node.gid = node.gid if gid == -1 else gid
        node.ctime = time.time()
        return 0

    def path_chmod(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._chmod(a[1], node)

    def path_fchmodat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._chmod(a[2], node)

    path_fchmodat2 = path_fchmodat

    def path_chown(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._chown(a[1], a[2], node)

    path_lchown = path_chown

    def path_fchownat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._chown(a[2], a[3], node)

    def _touch(self, node: Node) -> int:
        node.atime = node.mtime = node.ctime = time.time()
        return 0

    def path_utime(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._touch(node)

    path_utimes = path_futimesat = path_utimensat = path_utime

    def path_listxattr(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return 0

    path_llistxattr = path_listxattr

    def path_unlink(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        self.vfs.unlink(path)
        return 0

    def path_unlinkat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        if a[2] & AT_REMOVEDIR:
            return -errno.ENOTDIR
        return self.path_unlink(t, a, node, path)

    def path_link(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._link(t, a, node, SECOND_PATH["link"])

    def path_linkat(self, t: Thread, a: tuple[int, ...], node: Node, path: str) -> Outcome:
        return self._link(t, a, node, SECOND_PATH["linkat"])

    def _link(
        self, t: Thread, a: tuple[int, ...], node: Node, second: tuple[int | None, int]
    ) -> Outcome:
        try:
            raw = read_string(t.tid, a[second[1]], PATH_MAX)
        except OSError:
            return -errno.EFAULT
        dirfd = _s32(a[second[0]]) if second[0] is not None else None
        new, err = self._resolve(t, dirfd, raw)
        if err or new is None:
            return err or -errno.ENOENT
        if self.vfs.lookup(new) is not None or os.path.lexists(new):
            return -errno.EEXIST
        if not os.path.isdir(os.path.dirname(new)):
            return -errno.ENOENT
        self.vfs.link(node, new)
        return 0

    # -- fd calls --------------------------------------------------------------------
    def sys_fchmod(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        f = self._file(t, a[0])
        return ALLOW if f is None else self._chmod(a[1], f.node)

    def sys_fchown(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        f = self._file(t, a[0])
        return ALLOW if f is None else self._chown(a[1], a[2], f.node)

    def empty_fchownat(self, t: Thread, a: tuple[int, ...], node: Node) -> Outcome:
        return self._chown(a[2], a[3], node)

    def sys_flistxattr(self, t: Thread, a: tuple[int, ...]) -> Outcome:
        return ALLOW if self._file(t, a[0]) is None else 0
