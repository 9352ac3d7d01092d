#define _GNU_SOURCE
#include "rundir.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_pause_file(uid_t uid, pid_t *pid, unsigned long long *start) {
  char dir[PATH_MAX], path[PATH_MAX + 16];
  struct stat st;
  if (tspod_runtime_dir(uid, dir, sizeof dir) < 0) return -1;
  /* Only trust a directory that is ours and not a symlink (it may live in /tmp). */
  if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid) return 0;
  snprintf(path, sizeof path, "%s/pause.pid", dir);
  char *text = read_small_file(path, NULL);
  if (!text) return errno == ENOENT ? 0 : -1;
  long p = 0;
  int ok = sscanf(text, "%ld %llu", &p, start) == 2 && p > 1;
  free(text);
  if (!ok) return 0;
  *pid = (pid_t)p;
  return 1;
}

int userns_join_if_held(uid_t uid) {
  pid_t pid;
  unsigned long long recorded, actual;
  int r = read_pause_file(uid, &pid, &recorded);
  if (r <= 0) return r;
  if (proc_start_time(pid, &actual) < 0 || actual != recorded) return 0; /* dead or reused */

  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
  int userfd = open(path, O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
  int mntfd = open(path, O_RDONLY | O_CLOEXEC);
  if (userfd < 0 || mntfd < 0) {
    if (userfd >= 0) close(userfd);
    if (mntfd >= 0) close(mntfd);
    return 0;
  }
  /* The pid could have been reused between the check and the opens: check again. */
  if (proc_start_time(pid, &actual) < 0 || actual != recorded) {
    close(userfd);
    close(mntfd);
    return 0;
  }

  /* Entering a mount namespace resets the working directory: remember it. */
  char cwd[PATH_MAX];
  int have_cwd = getcwd(cwd, sizeof cwd) != NULL;

  int rc = -1;
  if (setns(userfd, CLONE_NEWUSER) < 0) goto out;
  if (setns(mntfd, CLONE_NEWNS) < 0) goto out;
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) goto out;
  if (have_cwd && chdir(cwd) < 0) {
    if (chdir("/") < 0) goto out;
  }
  rc = 1;
out:
  close(userfd);
  close(mntfd);
  return rc;
}
