#define _GNU_SOURCE
#include "userns_nested.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>

int nested_userns_requested(const json_value *spec) {
  const json_value *u = json_get(spec, "userns");
  return u && u->type == JSON_OBJECT;
}

static int write_map(pid_t pid, const char *file, const json_value *ranges, char *err, size_t errlen) {
  char text[4096] = "";
  size_t len = 0;
  for (size_t i = 0; ranges && ranges->type == JSON_ARRAY && i < ranges->count; i++) {
    const json_value *r = ranges->items[i];
    int n = snprintf(text + len, sizeof text - len, "%lu %lu %lu\n", (unsigned long)json_get_number(r, "container", 0),
                     (unsigned long)json_get_number(r, "host", 0), (unsigned long)json_get_number(r, "size", 0));
    if (n < 0 || (size_t)n >= sizeof text - len) { snprintf(err, errlen, "the container's %s is too long", file); return -1; }
    len += (size_t)n;
  }
  if (len == 0) { snprintf(err, errlen, "the container's %s is empty", file); return -1; }
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
    snprintf(err, errlen, "cannot write the container's %s (%s): %s; the host ids must be ids of the rootless user namespace",
             file, strtok(text, "\n"), strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

int nested_userns_write_maps(const json_value *spec, pid_t pid, char *err, size_t errlen) {
  const json_value *u = json_get(spec, "userns");
  if (write_map(pid, "uid_map", json_get(u, "uidMap"), err, errlen) < 0) return -1;
  return write_map(pid, "gid_map", json_get(u, "gidMap"), err, errlen);
}

int nested_userns_enter_rootfs(char *err, size_t errlen) {
  /* We keep the launcher's id, which the container may not map (then nothing could
   * be created: EOVERFLOW): set up as the container's root, as runtimes do. */
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) {
    snprintf(err, errlen, "cannot become root in the container's user namespace: %s; the mapping must include container id 0", strerror(errno));
    return -1;
  }
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, ".", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0 || syscall(SYS_move_mount, tree, "", AT_FDCWD, ".", MOVE_MOUNT_F_EMPTY_PATH) < 0 || fchdir(tree) < 0) {
    snprintf(err, errlen, "cannot bind the root filesystem: %s", strerror(errno));
    return -1;
  }
  close(tree);
  return 0;
}
