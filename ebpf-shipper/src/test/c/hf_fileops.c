/* Test helper for EbpfProbeKernelTest: performs exactly one file operation with the exact syscall named
 * (raw syscall(2), so glibc cannot substitute an *at variant). Exit 0 on success, 1 with a message. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int dir_fd(const char *d)
{
	int fd = open(d, O_PATH | O_DIRECTORY);
	if (fd < 0) { perror(d); exit(1); }
	return fd;
}

static long chk(long r, const char *what)
{
	if (r < 0) { fprintf(stderr, "%s: %s\n", what, strerror(errno)); exit(1); }
	return r;
}

int main(int argc, char **argv)
{
	const char *op = argc > 1 ? argv[1] : "";
	char **a = argv + 2;
	int n = argc - 2;

#define NEED(k) do { if (n < (k)) { fprintf(stderr, "%s needs %d args\n", op, k); return 2; } } while (0)
	if (!strcmp(op, "openat-creat")) {        /* DIR NAME: dirfd-relative create, one write, close */
		NEED(2);
		int fd = chk(syscall(SYS_openat, dir_fd(a[0]), a[1], O_CREAT | O_EXCL | O_WRONLY, 0644), op);
		chk(write(fd, "x\n", 2), "write");
		chk(close(fd), "close");
	} else if (!strcmp(op, "openat2")) {      /* DIR NAME: openat2 create */
		NEED(2);
		struct open_how how = { .flags = O_CREAT | O_WRONLY, .mode = 0644 };
		int fd = chk(syscall(SYS_openat2, dir_fd(a[0]), a[1], &how, sizeof(how)), op);
		chk(close(fd), "close");
	} else if (!strcmp(op, "open-creat")) {   /* PATH: legacy open(2) with O_CREAT */
		NEED(1);
		chk(close(chk(syscall(SYS_open, a[0], O_CREAT | O_WRONLY, 0644), op)), "close");
	} else if (!strcmp(op, "creat")) {
		NEED(1);
		chk(close(chk(syscall(SYS_creat, a[0], 0644), op)), "close");
	} else if (!strcmp(op, "writes")) {       /* PATH N: open existing for write, N writes, close */
		NEED(2);
		int fd = chk(open(a[0], O_WRONLY | O_APPEND), op), k = atoi(a[1]);
		for (int i = 0; i < k; i++)
			chk(write(fd, "y", 1), "write");
		chk(close(fd), "close");
	} else if (!strcmp(op, "renames-around-write")) { /* PATH A B C D: create PATH, rename A->B, write, rename C->D, close */
		NEED(5);
		int fd = chk(open(a[0], O_CREAT | O_EXCL | O_WRONLY, 0644), op);
		chk(syscall(SYS_rename, a[1], a[2]), "rename");
		chk(write(fd, "x\n", 2), "write");
		chk(syscall(SYS_rename, a[3], a[4]), "rename");
		chk(close(fd), "close");
	} else if (!strcmp(op, "read")) {         /* PATH: open read-only, read, close */
		NEED(1);
		char b[64];
		int fd = chk(open(a[0], O_RDONLY), op);
		chk(read(fd, b, sizeof(b)), "read");
		chk(close(fd), "close");
	} else if (!strcmp(op, "mkdirat")) {
		NEED(2); chk(syscall(SYS_mkdirat, dir_fd(a[0]), a[1], 0755), op);
	} else if (!strcmp(op, "renameat2")) {    /* DIR OLD NEW */
		NEED(3); int d = dir_fd(a[0]); chk(syscall(SYS_renameat2, d, a[1], d, a[2], 0), op);
	} else if (!strcmp(op, "renameat")) {
		NEED(3); int d = dir_fd(a[0]); chk(syscall(SYS_renameat, d, a[1], d, a[2]), op);
	} else if (!strcmp(op, "unlinkat")) {
		NEED(2); chk(syscall(SYS_unlinkat, dir_fd(a[0]), a[1], 0), op);
	} else if (!strcmp(op, "rmdirat")) {
		NEED(2); chk(syscall(SYS_unlinkat, dir_fd(a[0]), a[1], AT_REMOVEDIR), op);
	} else if (!strcmp(op, "fchmodat")) {     /* DIR NAME MODE(octal) */
		NEED(3); chk(syscall(SYS_fchmodat, dir_fd(a[0]), a[1], strtol(a[2], 0, 8)), op);
	} else if (!strcmp(op, "fchownat")) {     /* DIR NAME UID GID */
		NEED(4); chk(syscall(SYS_fchownat, dir_fd(a[0]), a[1], atoi(a[2]), atoi(a[3]), 0), op);
	} else if (!strcmp(op, "linkat")) {
		NEED(3); int d = dir_fd(a[0]); chk(syscall(SYS_linkat, d, a[1], d, a[2], 0), op);
	} else if (!strcmp(op, "symlinkat")) {    /* TARGET DIR NAME */
		NEED(3); chk(syscall(SYS_symlinkat, a[0], dir_fd(a[1]), a[2]), op);
	} else if (!strcmp(op, "rename")) {
		NEED(2); chk(syscall(SYS_rename, a[0], a[1]), op);
	} else if (!strcmp(op, "link")) {
		NEED(2); chk(syscall(SYS_link, a[0], a[1]), op);
	} else if (!strcmp(op, "symlink")) {
		NEED(2); chk(syscall(SYS_symlink, a[0], a[1]), op);
	} else if (!strcmp(op, "unlink")) {
		NEED(1); chk(syscall(SYS_unlink, a[0]), op);
	} else if (!strcmp(op, "mkdir")) {
		NEED(1); chk(syscall(SYS_mkdir, a[0], 0755), op);
	} else if (!strcmp(op, "rmdir")) {
		NEED(1); chk(syscall(SYS_rmdir, a[0]), op);
	} else if (!strcmp(op, "chmod")) {
		NEED(2); chk(syscall(SYS_chmod, a[0], strtol(a[1], 0, 8)), op);
	} else if (!strcmp(op, "chown")) {
		NEED(3); chk(syscall(SYS_chown, a[0], atoi(a[1]), atoi(a[2])), op);
	} else if (!strcmp(op, "lchown")) {
		NEED(3); chk(syscall(SYS_lchown, a[0], atoi(a[1]), atoi(a[2])), op);
	} else if (!strcmp(op, "truncate")) {
		NEED(2); chk(syscall(SYS_truncate, a[0], atol(a[1])), op);
	} else if (!strcmp(op, "fchmod")) {       /* PATH MODE: via an O_RDONLY fd */
		NEED(2); int fd = chk(open(a[0], O_RDONLY), op); chk(syscall(SYS_fchmod, fd, strtol(a[1], 0, 8)), op); close(fd);
	} else if (!strcmp(op, "fchown")) {
		NEED(3); int fd = chk(open(a[0], O_RDONLY), op); chk(syscall(SYS_fchown, fd, atoi(a[1]), atoi(a[2])), op); close(fd);
	} else if (!strcmp(op, "ftruncate")) {    /* PATH LEN: via an O_WRONLY fd (an OPEN event too) */
		NEED(2); int fd = chk(open(a[0], O_WRONLY), op); chk(syscall(SYS_ftruncate, fd, atol(a[1])), op); close(fd);
	} else if (!strcmp(op, "failing-unlink")) { /* PATH: must fail (ENOENT): no event */
		NEED(1); if (syscall(SYS_unlink, a[0]) == 0) return 1;
	} else if (!strcmp(op, "burst")) {        /* DIR N: N creates + closes, as fast as possible */
		NEED(2);
		int d = dir_fd(a[0]), k = atoi(a[1]);
		char name[64];
		for (int i = 0; i < k; i++) {
			snprintf(name, sizeof(name), "burst-%06d", i);
			chk(close(chk(openat(d, name, O_CREAT | O_WRONLY, 0644), "openat")), "close");
		}
	} else {
		fprintf(stderr, "unknown op '%s'\n", op);
		return 2;
	}
	return 0;
}
