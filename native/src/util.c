#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *read_fd_all(int fd, size_t *len_out) {
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap + 1);
  if (!buf) return NULL;
  for (;;) {
    if (len == cap) {
      cap *= 2;
      char *bigger = realloc(buf, cap + 1);
      if (!bigger) { free(buf); errno = ENOMEM; return NULL; }
      buf = bigger;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno; free(buf); errno = saved; return NULL;
    }
    if (n == 0) break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  if (len_out) *len_out = len;
  return buf;
}

char *read_small_file(const char *path, size_t *len_out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char *buf = read_fd_all(fd, len_out);
  int saved = errno;
  close(fd);
  errno = saved;
  return buf;
}

int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int proc_start_time(pid_t pid, unsigned long long *out) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  char *stat = read_small_file(path, NULL);
  if (!stat) return -1;
  /* The command name (field 2) may hold spaces and parentheses: count from the last ')'. */
  char *p = strrchr(stat, ')');
  if (!p) { free(stat); errno = EINVAL; return -1; }
  p++;
  /* After ')' come fields 3..; start time is field 22, i.e. the 20th from here. */
  for (int field = 3; field < 22; field++) {
    p = strchr(p + 1, ' ');
    if (!p) { free(stat); errno = EINVAL; return -1; }
  }
  *out = strtoull(p + 1, NULL, 10);
  free(stat);
  return 0;
}

void json_escape_to(char *dst, size_t dstlen, const char *src) {
  size_t o = 0;
  if (dstlen < 3) { if (dstlen) dst[0] = '\0'; return; }
  dst[o++] = '"';
  for (; *src && o + 8 < dstlen; src++) {
    unsigned char c = (unsigned char)*src;
    if (c == '"' || c == '\\') { dst[o++] = '\\'; dst[o++] = (char)c; }
    else if (c == '\n') { dst[o++] = '\\'; dst[o++] = 'n'; }
    else if (c < 0x20) o += (size_t)snprintf(dst + o, dstlen - o, "\\u%04x", c);
    else dst[o++] = (char)c;
  }
  dst[o++] = '"';
  dst[o] = '\0';
}

int read_failure_report(int fd, char *msg, size_t msglen) {
  char report[1100];
  size_t got = 0;
  ssize_t n;
  while ((n = read(fd, report + got, sizeof report - 1 - got)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) got += (size_t)n;
  report[got] = '\0';
  close(fd);
  if (got == 0) return 0;
  char *space = strchr(report, ' ');
  int code = atoi(report);
  snprintf(msg, msglen, "%s", space ? space + 1 : report);
  return code ? code : 125;
}

int cgroup_enter(const char *dir, pid_t pid, char *err, size_t errlen) {
  char path[4200], num[32];
  snprintf(path, sizeof path, "%s/cgroup.procs", dir);
  int n = snprintf(num, sizeof num, "%d\n", (int)(pid ? pid : getpid()));
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write_all(fd, num, (size_t)n) < 0) {
    snprintf(err, errlen, "cannot move the container into its cgroup %s: %s", dir, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

void cgroup_remove(const char *dir) {
  if (!dir || !dir[0]) return;
  for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++) usleep(10000);
}
