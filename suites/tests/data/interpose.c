/* An interposer on the C library's I/O functions, for
 * suites/tests/c_library.rs: loaded with LD_PRELOAD, it notes each call
 * that an actor process makes on a descriptor under test (5 and up: 3 is
 * the lifeline, 4 the control channel) in the file IPC_CONFORM_INTERPOSE_LOG,
 * one line per call, and then calls the real function (whether a process
 * is an actor is read from its environment once per process). Its own notes are
 * written with raw system calls, so they are not noted themselves. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static int log_fd = -1;
static long log_pid = 0;

/* Decided once per process: actors forked by the fork server inherit the
 * server's memory, this decision (not to note: it is no actor) included. */
static void note(const char *what, int fd) {
    long pid = syscall(SYS_getpid);
    if (log_pid != pid) {
        log_pid = pid;
        const char *path = getenv("IPC_CONFORM_INTERPOSE_LOG");
        const char *role = getenv("IPC_CONFORM_ROLE");
        log_fd = (path && role && strcmp(role, "actor") == 0)
            ? (int)syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)
            : -1;
    }
    if (log_fd >= 0 && fd >= 5) {
        syscall(SYS_write, log_fd, what, strlen(what));
    }
}

#define REAL(name) static __typeof__(name) *real; if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t read(int fd, void *buf, size_t n) { REAL(read); note("read\n", fd); return real(fd, buf, n); }
ssize_t write(int fd, const void *buf, size_t n) { REAL(write); note("write\n", fd); return real(fd, buf, n); }
ssize_t readv(int fd, const struct iovec *iov, int n) { REAL(readv); note("readv\n", fd); return real(fd, iov, n); }
ssize_t writev(int fd, const struct iovec *iov, int n) { REAL(writev); note("writev\n", fd); return real(fd, iov, n); }
ssize_t send(int fd, const void *buf, size_t n, int flags) { REAL(send); note("send\n", fd); return real(fd, buf, n, flags); }
ssize_t recv(int fd, void *buf, size_t n, int flags) { REAL(recv); note("recv\n", fd); return real(fd, buf, n, flags); }
ssize_t sendmsg(int fd, const struct msghdr *m, int flags) { REAL(sendmsg); note("sendmsg\n", fd); return real(fd, m, flags); }
ssize_t recvmsg(int fd, struct msghdr *m, int flags) { REAL(recvmsg); note("recvmsg\n", fd); return real(fd, m, flags); }
ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *to, socklen_t len) {
    REAL(sendto); note("sendto\n", fd); return real(fd, buf, n, flags, to, len);
}
ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *from, socklen_t *len) {
    REAL(recvfrom); note("recvfrom\n", fd); return real(fd, buf, n, flags, from, len);
}
