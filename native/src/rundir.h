#ifndef TSPOD_RUNDIR_H
#define TSPOD_RUNDIR_H
#include <stddef.h>
#include <sys/types.h>

/* The per-user runtime directory, by the same rules as src/util/paths.ts:
 * $XDG_RUNTIME_DIR/tspod, else /run/user/UID/tspod when that directory is the
 * user's own with mode 0700, else ${TMPDIR:-/tmp}/tspod-run-UID.
 * Returns 0 and fills buf, or -1 when no safe directory can be named. */
int tspod_runtime_dir(uid_t uid, char *buf, size_t buflen);

#endif
