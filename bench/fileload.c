/*
 * fileload: the file-heavy workload behind bench/shipper.sh.
 *
 *   fileload DIR NOISE_DIR SECONDS|--iterations N [--noise K]
 *
 * One iteration, in DIR (the watched tree):
 *   open(DIR/f<pid>-<i>, O_CREAT|O_WRONLY|O_EXCL, 0644)   creates
 *   write(fd, 16 bytes)                                     writes
 *   close(fd)                                               closes_after_write
 *   rename(DIR/f<pid>-<i>, DIR/r<pid>-<i>)                  renames
 *   unlink(DIR/r<pid>-<i>)                                  unlinks
 * plus K noise operations in NOISE_DIR (outside the watched tree), each open(O_WRONLY|O_CREAT) + write + close of
 * the same file (it exists after the first one, so only the very first is a create).
 *
 * With --iterations N it does exactly N iterations and measures the elapsed time (what bench/shipper.sh uses: every
 * configuration does the same work, so the expected event counts are exact and identical across runs). With
 * SECONDS it runs until that much time has passed (checked every 64 iterations).
 *
 * Prints one JSON line at the end. Exit status 1 on any failed syscall (with the errno on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *path) {
    fprintf(stderr, "fileload: %s %s: %s\n", what, path, strerror(errno));
    exit(1);
}

static void usage(void) {
    fprintf(stderr, "usage: fileload DIR NOISE_DIR SECONDS|--iterations N [--noise K]\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 4) usage();
    const char *dir = argv[1], *noise_dir = argv[2];
    long iterations = -1, noise = 0;
    double seconds = -1;
    int i = 3;
    if (strcmp(argv[i], "--iterations") == 0) {
        if (i + 1 >= argc) usage();
        iterations = atol(argv[i + 1]);
        i += 2;
    } else {
        seconds = atof(argv[i]);
        i += 1;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--noise") == 0 && i + 1 < argc) noise = atol(argv[++i]);
        else usage();
    }
    if ((iterations < 0 && seconds <= 0) || noise < 0) usage();

    char from[4096], to[4096], noise_path[4096];
    snprintf(noise_path, sizeof noise_path, "%s/noise-%d", noise_dir, (int)getpid());
    static const char payload[16] = "holdfast-bench\n";
    long creates = 0, writes = 0, closes = 0, renames = 0, unlinks = 0, noise_ops = 0;
    int pid = (int)getpid();

    double start = now(), deadline = seconds > 0 ? start + seconds : 0;
    long n = 0;
    for (;; n++) {
        if (iterations >= 0) {
            if (n >= iterations) break;
        } else if ((n & 63) == 0 && now() >= deadline) {
            break;
        }
        snprintf(from, sizeof from, "%s/f%d-%ld", dir, pid, n);
        snprintf(to, sizeof to, "%s/r%d-%ld", dir, pid, n);
        int fd = open(from, O_CREAT | O_WRONLY | O_EXCL, 0644);
        if (fd < 0) die("open", from);
        creates++;
        if (write(fd, payload, sizeof payload) != (ssize_t)sizeof payload) die("write", from);
        writes++;
        if (close(fd) != 0) die("close", from);
        closes++;
        if (rename(from, to) != 0) die("rename", from);
        renames++;
        if (unlink(to) != 0) die("unlink", to);
        unlinks++;
        for (long k = 0; k < noise; k++) {
            int nfd = open(noise_path, O_WRONLY | O_CREAT, 0644);
            if (nfd < 0) die("open", noise_path);
            if (write(nfd, payload, sizeof payload) != (ssize_t)sizeof payload) die("write", noise_path);
            if (close(nfd) != 0) die("close", noise_path);
            noise_ops++;
        }
    }
    double elapsed = now() - start;
    /* CPU time of this process (user + system): the probe's in-kernel work lands in its system time, while the
     * wall-clock rate also pays for whatever else competes for the CPUs (the watcher's own process, the intake) */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    unlink(noise_path);
    long watched = creates + writes + closes + renames + unlinks;
    printf("{\"iterations\":%ld,\"elapsed_s\":%.6f,\"cpu_s\":%.6f,\"iterations_per_s\":%.1f,\"watched_ops\":%ld,"
           "\"watched_ops_per_s\":%.1f,\"ops_per_s\":%.1f,\"creates\":%ld,\"writes\":%ld,"
           "\"closes_after_write\":%ld,\"renames\":%ld,\"unlinks\":%ld,\"noise\":%ld,\"noise_ops\":%ld}\n",
           n, elapsed, cpu, n / elapsed, watched, watched / elapsed, (watched + 3.0 * noise_ops) / elapsed, creates,
           writes, closes, renames, unlinks, noise, noise_ops);
    return 0;
}
