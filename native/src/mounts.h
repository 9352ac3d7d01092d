#ifndef TSPOD_MOUNTS_H
#define TSPOD_MOUNTS_H
#include <sys/types.h>
#include "json.h"

/* Mount sources on the host are opened as detached mount trees (open_tree)
 * before pivot_root, and attached inside the new root afterwards, so no
 * destination path is ever resolved against the host's tree. */
typedef struct {
  int tree_fd;          /* open_tree() clone for binds and devices, else -1 */
  const json_value *spec;
} prepared_mount;

/* A container with its own user namespace resolves no host path itself (the
 * store's directories may belong to ids it does not map): the parent clones the
 * bind mounts' trees before clone(), the child attaches them. */
extern int *mounts_preopened;
int mounts_preopen_binds(const json_value *mounts, char *err, size_t errlen);
void mounts_preopened_close(size_t count);
int mounts_prepare(const json_value *mounts, prepared_mount **out, size_t *count, char *err, size_t errlen);
int mounts_apply(prepared_mount *mounts, size_t count, char *err, size_t errlen);
int devices_apply(const json_value *devices, int *fds, char *err, size_t errlen);
int devices_prepare(const json_value *devices, int **fds_out, char *err, size_t errlen);
int mask_paths(const json_value *masked, char *err, size_t errlen);
int readonly_paths(const json_value *paths, char *err, size_t errlen);
/* mkdir -p inside the current root (after pivot_root: cannot leave it). */
int mkdir_all(const char *path, mode_t mode);

#endif
