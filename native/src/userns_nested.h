#ifndef TSPOD_USERNS_NESTED_H
#define TSPOD_USERNS_NESTED_H
#include <sys/types.h>
#include "json.h"

/* A container with a user namespace of its own (--userns=keep-id, --uidmap):
 * spec "userns": {"uidMap": [{"container","host","size"}...], "gidMap": [...]},
 * host ids being ids of the rootless namespace the launcher runs in. */
int nested_userns_requested(const json_value *spec);

/* Write the child's uid_map and gid_map. The launcher has CAP_SETUID/CAP_SETGID
 * in the rootless namespace, so it may map any id of it (setgroups stays allowed). */
int nested_userns_write_maps(const json_value *spec, pid_t pid, char *err, size_t errlen);

/* In the child: become the container's root (uid/gid 0 inside), then bind the current directory (the root filesystem, made the cwd by
 * the parent before clone) onto itself and step onto that mount, without ever
 * resolving the store's path: its directories may belong to ids the container
 * does not map. */
int nested_userns_enter_rootfs(char *err, size_t errlen);

#endif
