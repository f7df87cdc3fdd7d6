/* fdops.c - generic file operations on the device fd/path (stat, seek, mmap, splice, ...) behave like a real chardev. */
#include "util.h"
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

static void print_chr(const char *what, int ret, mode_t mode, unsigned maj, unsigned min)
{
    if (ret < 0)
        report(what, -1);
    else if (S_ISCHR(mode))
        printf("%s: chr %u:%u\n", what, maj, min);
    else
        printf("%s: notchr\n", what);
}

int main(void)
{
    const char *path = devpath();
    char below[4096];
    char buf[MSGBUF_SIZE];
    struct stat st;
    struct statx stx;
    void *map;
    int fd, fd_wr, fd_rd, devnull, pfd[2], r;

    setvbuf(stdout, NULL, _IOLBF, 0);
    /* O_NONBLOCK so that a wrongly "successful" read-like call cannot hang */
    fd = open_dev(O_RDWR | O_NONBLOCK, NULL);
    devnull = open("/dev/null", O_WRONLY);
    if (devnull < 0 || pipe(pfd) < 0) {
        report("setup", -1);
        return 1;
    }

    r = fstat(fd, &st);
    print_chr("fstat", r, st.st_mode, major(st.st_rdev), minor(st.st_rdev));
    r = stat(path, &st);
    print_chr("stat", r, st.st_mode, major(st.st_rdev), minor(st.st_rdev));
    r = statx(AT_FDCWD, path, 0, STATX_TYPE | STATX_MODE, &stx);
    print_chr("statx", r, stx.stx_mode, stx.stx_rdev_major, stx.stx_rdev_minor);

    report("access", access(path, R_OK | W_OK));
    report("faccessat2", syscall(SYS_faccessat2, AT_FDCWD, path, R_OK, 0));
    report("lseek", lseek(fd, 0, SEEK_CUR));
    report("pread", pread(fd, buf, 1, 0));

    map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        report("mmap", -1);
    } else {
        report("mmap", 0);
        munmap(map, 4096);
    }

    report("sendfile_from", sendfile(devnull, fd, NULL, 10));
    report("splice", splice(fd, NULL, pfd[1], NULL, 10, SPLICE_F_NONBLOCK));
    report("copy_file_range", copy_file_range(fd, NULL, devnull, NULL, 10, 0));
    report("recv", recv(fd, buf, 1, MSG_DONTWAIT));
    report("fsync", fsync(fd));
    report("ftruncate", ftruncate(fd, 0));
    report("getdents64", syscall(SYS_getdents64, fd, buf, sizeof buf));

    fd_wr = open(path, O_WRONLY | O_NONBLOCK);
    if (fd_wr < 0)
        report("open_wronly", -1);
    else
        report("read_wronly", read(fd_wr, buf, sizeof buf));

    fd_rd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd_rd < 0)
        report("open_rdonly", -1);
    else
        report("write_rdonly", write(fd_rd, "x", 1));

    r = open(path, O_RDWR | O_DIRECTORY);
    report("open_directory", r);
    if (r >= 0)
        close(r);
    r = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
    report("open_excl", r);
    if (r >= 0)
        close(r);
    snprintf(below, sizeof below, "%s/x", path);
    r = open(below, O_RDONLY);
    report("open_below", r);
    if (r >= 0)
        close(r);

    report("close_range", syscall(SYS_close_range, fd, ~0U, 0));
    report("write_after_close_range", write(fd, "x", 1));

    printf("done\n");
    return 0;
}
