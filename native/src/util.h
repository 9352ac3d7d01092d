/* Small helpers shared by the launcher's modes. Every fallible call returns
 * an error the caller must look at: 0 on success, -1 with errno set. */
#ifndef TSPOD_UTIL_H
#define TSPOD_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Read a whole (small) file into a NUL-terminated malloc'd buffer. */
char *read_small_file(const char *path, size_t *len_out);
/* Read everything from fd until EOF into a NUL-terminated malloc'd buffer. */
char *read_fd_all(int fd, size_t *len_out);
int write_all(int fd, const void *buf, size_t len);
/* Field 22 of /proc/PID/stat: the process's start time in clock ticks since
 * boot; together with the pid it names one process for good. */
int proc_start_time(pid_t pid, unsigned long long *out);
/* Write a string as a JSON string literal (with quotes) to a buffer. */
void json_escape_to(char *dst, size_t dstlen, const char *src);

/* Read a child's "EXITCODE message" failure report from the close-on-exec pipe
 * it writes before exec; closes the fd. Returns 0 when the pipe closed empty
 * (the exec happened), else the exit code (125 when none was given), with the
 * message in msg. */
int read_failure_report(int fd, char *msg, size_t msglen);

/* Delegated cgroup v2: move process pid (0: the caller) into the cgroup
 * directory dir by writing its cgroup.procs; on failure, a message in err. */
int cgroup_enter(const char *dir, pid_t pid, char *err, size_t errlen);
/* Remove a container's (empty) cgroup directory, waiting briefly for the
 * kernel to let go of processes that were just reaped. */
void cgroup_remove(const char *dir);

#endif
