#ifndef TSPOD_USERNS_H
#define TSPOD_USERNS_H
#include <sys/types.h>

/* Join the rootless user and mount namespaces held by the pause process named
 * in RUNDIR/pause.pid, if it is alive and really the process recorded there.
 * Returns 1 when joined, 0 when there is nothing valid to join, -1 on error
 * (errno set; the caller goes on unjoined and TypeScript decides what to do). */
int userns_join_if_held(uid_t uid);

/* `tspod-launch --create-userns`: read the mapping as JSON on stdin, start a
 * pause process in a new user + mount namespace mapped that way, and print
 * {"pid":N,"startTime":T} (or {"error":"..."} and exit 1) on stdout. */
int userns_create_main(void);

#endif
