#define _GNU_SOURCE
#include "rundir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int tspod_runtime_dir(uid_t uid, char *buf, size_t buflen) {
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  int n;
  if (xdg && xdg[0]) {
    n = snprintf(buf, buflen, "%s/tspod", xdg);
  } else {
    char user_run[64];
    struct stat st;
    snprintf(user_run, sizeof user_run, "/run/user/%u", (unsigned)uid);
    if (lstat(user_run, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid &&
        (st.st_mode & 0777) == 0700) {
      n = snprintf(buf, buflen, "%s/tspod", user_run);
    } else {
      const char *tmp = getenv("TMPDIR");
      if (!tmp || !tmp[0]) tmp = "/tmp";
      n = snprintf(buf, buflen, "%s/tspod-run-%u", tmp, (unsigned)uid);
    }
  }
  if (n < 0 || (size_t)n >= buflen) { errno = ENAMETOOLONG; return -1; }
  return 0;
}
