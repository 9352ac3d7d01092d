#define _GNU_SOURCE
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_open_tree(int dfd, const char *path, unsigned flags) {
  return (int)syscall(SYS_open_tree, dfd, path, flags);
}
static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to, unsigned flags) {
  return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}
static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr) {
  return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof *attr);
}

/* Where a symlink at `path` points, as an absolute path (relative links are
 * taken from the link's directory). After pivot_root every such path stays
 * inside the container: ".." stops at its root. */
static int link_target(const char *path, char *out, size_t outlen) {
  char target[4096];
  ssize_t n = readlink(path, target, sizeof target - 1);
  if (n < 0) return -1;
  target[n] = '\0';
  if (target[0] == '/') return snprintf(out, outlen, "%s", target) < (int)outlen ? 0 : -1;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  return snprintf(out, outlen, "%s/%s", dir, target) < (int)outlen ? 0 : -1;
}

static int ensure_path(const char *path, int as_file, int depth);

int mkdir_all(const char *path, mode_t mode) {
  (void)mode;
  return ensure_path(path, 0, 0);
}

/* Create a mount point, following symlinks the image holds (even dangling ones)
 * the way the container will see them. */
static int ensure_path(const char *path, int as_file, int depth) {
  char buf[4096];
  struct stat st;
  if (depth > 16) { errno = ELOOP; return -1; }
  if (strlen(path) >= sizeof buf) { errno = ENAMETOOLONG; return -1; }
  strcpy(buf, path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (lstat(buf, &st) < 0) {
      if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -1;
    } else if (S_ISLNK(st.st_mode) && stat(buf, &st) < 0) {
      char target[4096];
      if (link_target(buf, target, sizeof target) < 0 || ensure_path(target, 0, depth + 1) < 0) return -1;
    }
    *p = '/';
  }
  if (lstat(buf, &st) == 0) {
    if (!S_ISLNK(st.st_mode) || stat(buf, &st) == 0) return 0;
    char target[4096];
    if (link_target(buf, target, sizeof target) < 0) return -1;
    return ensure_path(target, as_file, depth + 1);
  }
  if (!as_file) return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
  int fd = open(buf, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

/* Make the mount point: a directory, or an empty file for a file bind mount. */
static int make_target(const char *dest, int as_file) {
  return ensure_path(dest, as_file, 0);
}

static unsigned mount_attrs(unsigned long flags, int readonly) {
  unsigned attrs = 0;
  if (readonly || (flags & MS_RDONLY)) attrs |= MOUNT_ATTR_RDONLY;
  if (flags & MS_NOSUID) attrs |= MOUNT_ATTR_NOSUID;
  if (flags & MS_NODEV) attrs |= MOUNT_ATTR_NODEV;
  if (flags & MS_NOEXEC) attrs |= MOUNT_ATTR_NOEXEC;
  return attrs;
}

/* proc, sysfs and mqueue may only be mounted in a user namespace while a fully
 * visible instance is in sight (the kernel's mount_too_revealing check): make
 * them as detached mounts before pivot_root hides the host's, attach them after. */
static int needs_early_mount(const char *type) {
  return strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0 || strcmp(type, "mqueue") == 0;
}

static int detached_fs(const char *type, unsigned long flags, const char *data, char *err, size_t errlen) {
  int fsfd = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
  if (fsfd < 0) { snprintf(err, errlen, "cannot mount %s: %s", type, strerror(errno)); return -1; }
  if (data && data[0]) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", data);
    for (char *opt = strtok(buf, ","); opt; opt = strtok(NULL, ",")) {
      char *eq = strchr(opt, '=');
      int rc;
      if (eq) { *eq = '\0'; rc = (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0); }
      else rc = (int)syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
      if (rc < 0) { snprintf(err, errlen, "cannot mount %s with option %s: %s", type, opt, strerror(errno)); close(fsfd); return -1; }
    }
  }
  if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    snprintf(err, errlen, "cannot mount %s: %s", type, strerror(errno));
    close(fsfd);
    return -1;
  }
  int mfd = (int)syscall(SYS_fsmount, fsfd, FSMOUNT_CLOEXEC, mount_attrs(flags, 0));
  int saved = errno;
  close(fsfd);
  if (mfd < 0) {
    snprintf(err, errlen, "cannot mount %s: %s%s", type, strerror(saved),
             saved == EPERM ? " (it needs the container's own namespace for it)" : "");
    return -1;
  }
  return mfd;
}

static int clone_tree(const char *source, int recursive, int readonly, unsigned long flags, char *err, size_t errlen) {
  int fd = sys_open_tree(AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0));
  if (fd < 0) { snprintf(err, errlen, "cannot open %s for mounting: %s", source, strerror(errno)); return -1; }
  struct mount_attr attr = {0};
  attr.attr_set = mount_attrs(flags & ~(unsigned long)MS_RDONLY, readonly);
  if (attr.attr_set && sys_mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr) < 0) {
    snprintf(err, errlen, "cannot set mount options on %s: %s", source, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

int *mounts_preopened;

int mounts_preopen_binds(const json_value *mounts, char *err, size_t errlen) {
  if (!mounts || mounts->type != JSON_ARRAY || mounts->count == 0) return 0;
  mounts_preopened = malloc(mounts->count * sizeof *mounts_preopened);
  if (!mounts_preopened) return -1;
  for (size_t i = 0; i < mounts->count; i++) {
    const json_value *m = mounts->items[i];
    const char *source = json_get_string(m, "source", NULL);
    mounts_preopened[i] = -1;
    if (strcmp(json_get_string(m, "type", ""), "bind") != 0 || !source) continue;
    mounts_preopened[i] = clone_tree(source, json_get_bool(m, "recursive", 1), json_get_bool(m, "readonly", 0),
                                     (unsigned long)json_get_number(m, "flags", 0), err, errlen);
    if (mounts_preopened[i] < 0) return -1;
  }
  return 0;
}

void mounts_preopened_close(size_t count) {
  for (size_t i = 0; mounts_preopened && i < count; i++) if (mounts_preopened[i] >= 0) close(mounts_preopened[i]);
  free(mounts_preopened);
  mounts_preopened = NULL;
}

int mounts_prepare(const json_value *mounts, prepared_mount **out, size_t *count, char *err, size_t errlen) {
  *out = NULL;
  *count = 0;
  if (!mounts) return 0;
  if (mounts->type != JSON_ARRAY) { snprintf(err, errlen, "mounts must be a list"); return -1; }
  prepared_mount *pm = calloc(mounts->count ? mounts->count : 1, sizeof *pm);
  if (!pm) return -1;
  for (size_t i = 0; i < mounts->count; i++) {
    const json_value *m = mounts->items[i];
    pm[i].spec = m;
    pm[i].tree_fd = -1;
    if (strcmp(json_get_string(m, "type", ""), "bind") == 0) {
      const char *source = json_get_string(m, "source", NULL);
      if (!source) { snprintf(err, errlen, "bind mount without a source"); free(pm); return -1; }
      if (mounts_preopened && mounts_preopened[i] >= 0) { pm[i].tree_fd = mounts_preopened[i]; continue; }
      pm[i].tree_fd = clone_tree(source, json_get_bool(m, "recursive", 1), json_get_bool(m, "readonly", 0),
                                 (unsigned long)json_get_number(m, "flags", 0), err, errlen);
      if (pm[i].tree_fd < 0) { free(pm); return -1; }
    } else if (needs_early_mount(json_get_string(m, "type", ""))) {
      pm[i].tree_fd = detached_fs(json_get_string(m, "type", ""), (unsigned long)json_get_number(m, "flags", 0),
                                  json_get_string(m, "data", NULL), err, errlen);
      if (pm[i].tree_fd < 0) { free(pm); return -1; }
    }
  }
  *out = pm;
  *count = mounts->count;
  return 0;
}

int mounts_apply(prepared_mount *mounts, size_t count, char *err, size_t errlen) {
  for (size_t i = 0; i < count; i++) {
    const json_value *m = mounts[i].spec;
    const char *dest = json_get_string(m, "destination", NULL);
    const char *type = json_get_string(m, "type", "");
    if (!dest || dest[0] != '/') { snprintf(err, errlen, "mount destination must be an absolute path"); return -1; }
    int as_file = json_get_bool(m, "file", 0);
    if (make_target(dest, as_file) < 0) {
      snprintf(err, errlen, "cannot create mount point %s: %s", dest, strerror(errno));
      return -1;
    }
    if (mounts[i].tree_fd >= 0) {
      if (sys_move_mount(mounts[i].tree_fd, "", AT_FDCWD, dest, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0) {
        snprintf(err, errlen, "cannot mount %s on %s: %s", json_get_string(m, "source", type), dest, strerror(errno));
        return -1;
      }
      close(mounts[i].tree_fd);
      mounts[i].tree_fd = -1;
      continue;
    }
    unsigned long flags = (unsigned long)json_get_number(m, "flags", 0);
    const char *data = json_get_string(m, "data", NULL);
    if (mount(json_get_string(m, "source", type), dest, type, flags, data && data[0] ? data : NULL) < 0) {
      int saved = errno;
      /* A new sysfs needs its own network namespace; mqueue its own IPC one: say which. */
      snprintf(err, errlen, "cannot mount %s on %s: %s", type, dest, strerror(saved));
      return -1;
    }
  }
  return 0;
}

int devices_prepare(const json_value *devices, int **fds_out, char *err, size_t errlen) {
  *fds_out = NULL;
  if (!devices || devices->type != JSON_ARRAY || devices->count == 0) return 0;
  int *fds = calloc(devices->count, sizeof *fds);
  if (!fds) return -1;
  for (size_t i = 0; i < devices->count; i++) {
    const char *path = devices->items[i]->string;
    fds[i] = path ? clone_tree(path, 0, 0, 0, err, errlen) : -1;
    if (fds[i] < 0) {
      for (size_t j = 0; j < i; j++) close(fds[j]);
      free(fds);
      return -1;
    }
  }
  *fds_out = fds;
  return 0;
}

/* Device nodes cannot be created in a user namespace: bind the host's. */
int devices_apply(const json_value *devices, int *fds, char *err, size_t errlen) {
  if (!fds) return 0;
  for (size_t i = 0; i < devices->count; i++) {
    const char *path = devices->items[i]->string;
    if (make_target(path, 1) < 0 || sys_move_mount(fds[i], "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0) {
      snprintf(err, errlen, "cannot bind device %s: %s", path, strerror(errno));
      return -1;
    }
    close(fds[i]);
  }
  free(fds);
  return 0;
}

int mask_paths(const json_value *masked, char *err, size_t errlen) {
  if (!masked) return 0;
  for (size_t i = 0; i < masked->count; i++) {
    const char *path = masked->items[i]->string;
    struct stat st;
    if (!path || lstat(path, &st) < 0) continue; /* several are missing on some kernels */
    int rc = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0")
                                 : mount("/dev/null", path, NULL, MS_BIND, NULL);
    if (rc < 0) { snprintf(err, errlen, "cannot mask %s: %s", path, strerror(errno)); return -1; }
  }
  return 0;
}

/* Bind a path onto itself read-only. Remounting keeps the flags that the
 * kernel locked (nosuid, nodev, noexec): clearing one would fail with EPERM. */
int readonly_paths(const json_value *paths, char *err, size_t errlen) {
  if (!paths) return 0;
  for (size_t i = 0; i < paths->count; i++) {
    const char *path = paths->items[i]->string;
    struct stat st;
    if (!path || lstat(path, &st) < 0) continue;
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    int fd = sys_open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0 || sys_mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0 ||
        sys_move_mount(fd, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_SYMLINKS) < 0) {
      snprintf(err, errlen, "cannot make %s read-only: %s", path, strerror(errno));
      if (fd >= 0) close(fd);
      return -1;
    }
    close(fd);
  }
  return 0;
}
