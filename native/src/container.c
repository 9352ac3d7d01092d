#define _GNU_SOURCE
#include "container.h"
#include "json.h"
#include "mounts.h"
#include "userns_nested.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

/* The child reports a failure before exec as "EXITCODE message" on a
 * close-on-exec pipe: an empty read in the parent means exec succeeded. */
int error_pipe[2];


struct child_args {
  const json_value *spec;
  int stdio[3];
  int console_socket;
  prepared_mount *mounts;
  size_t mount_count;
  int *device_fds;
  int go_pipe[2];
};

static _Noreturn void child_fail(int exit_code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = snprintf(msg, sizeof msg, "%d ", exit_code);
  vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
  va_end(ap);
  write_all(error_pipe[1], msg, strlen(msg));
  _exit(exit_code);
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  close(s);
}

static int last_cap(void) {
  char *text = read_small_file("/proc/sys/kernel/cap_last_cap", NULL);
  int n = text ? atoi(text) : CAP_LAST_CAP;
  free(text);
  return n;
}

static void apply_identity_and_caps(const json_value *spec) {
  const json_value *user = json_get(spec, "user");
  uid_t uid = (uid_t)json_get_number(user, "uid", 0);
  gid_t gid = (gid_t)json_get_number(user, "gid", 0);
  const json_value *extra = json_get(user, "additionalGids");
  const json_value *caps = json_get(spec, "capabilities");
  unsigned long long keep = 0;
  for (size_t i = 0; caps && i < caps->count; i++) keep |= 1ULL << (int)caps->items[i]->number;

  /* Bounding set first: dropping needs CAP_SETPCAP, which we still have. */
  int top = last_cap();
  for (int c = 0; c <= top; c++) {
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      child_fail(125, "cannot drop capability %d from the bounding set: %s", c, strerror(errno));
  }
  gid_t groups[64];
  size_t ngroups = 0;
  for (size_t i = 0; extra && i < extra->count && ngroups < 64; i++) groups[ngroups++] = (gid_t)extra->items[i]->number;
  /* setgroups is denied when the namespace maps a single id: that is fine with no extra groups. */
  if (setgroups(ngroups, groups) < 0 && (ngroups > 0 || errno != EPERM))
    child_fail(125, "cannot set supplementary groups: %s", strerror(errno));
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) child_fail(125, "prctl(PR_SET_KEEPCAPS): %s", strerror(errno));
  if (setresgid(gid, gid, gid) < 0) child_fail(125, "cannot set gid %u: %s", (unsigned)gid, strerror(errno));
  if (setresuid(uid, uid, uid) < 0) child_fail(125, "cannot set uid %u: %s", (unsigned)uid, strerror(errno));
  prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);

  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  /* Like Podman: root in the container gets the set; another user only keeps the bounding set. */
  unsigned long long effective = uid == 0 ? keep : 0;
  data[0].permitted = data[0].effective = data[0].inheritable = (unsigned)(effective & 0xffffffffu);
  data[1].permitted = data[1].effective = data[1].inheritable = (unsigned)(effective >> 32);
  if (syscall(SYS_capset, &hdr, data) < 0) child_fail(125, "cannot set capabilities: %s", strerror(errno));
  if (json_get_bool(spec, "noNewPrivileges", 1) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    child_fail(125, "cannot set no_new_privs: %s", strerror(errno));
}

/* The last steps of every container process, init or exec'd: identity,
 * capabilities, environment, exec. Failures go to the error pipe. */
/* A terminal from the container's own devpts (so `tty` names /dev/pts/0 inside):
 * its master goes to the monitor over the console socket, the slave becomes
 * stdio and init's controlling terminal. */
static void setup_terminal(int console_socket) {
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) child_fail(125, "cannot allocate a terminal: %s", strerror(errno));
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  if (slave < 0) child_fail(125, "cannot open the terminal: %s", strerror(errno));
  char byte = 't';
  struct iovec iov = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &master, sizeof(int));
  if (sendmsg(console_socket, &msg, 0) < 0) child_fail(125, "cannot pass the terminal to the monitor: %s", strerror(errno));
  close(master);
  close(console_socket);
  if (setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) child_fail(125, "cannot make the terminal the container's: %s", strerror(errno));
  for (int i = 0; i < 3; i++) if (dup2(slave, i) < 0) child_fail(125, "cannot set up the terminal: %s", strerror(errno));
  if (slave > 2) close(slave);
}

_Noreturn void become_process(const json_value *spec) {
  apply_identity_and_caps(spec);

  const json_value *args = json_get(spec, "args");
  const json_value *env = json_get(spec, "env");
  if (!args || args->type != JSON_ARRAY || args->count == 0) child_fail(125, "no command given");
  char **argv = calloc(args->count + 1, sizeof *argv);
  char **envp = calloc((env ? env->count : 0) + 1, sizeof *envp);
  for (size_t i = 0; i < args->count; i++) argv[i] = args->items[i]->string;
  for (size_t i = 0; env && i < env->count; i++) envp[i] = env->items[i]->string;
  /* execvp searches the PATH of the environment it runs in: make it the container's. */
  clearenv();
  for (size_t i = 0; envp[i]; i++) putenv(envp[i]);
  if (!getenv("PATH")) setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);

  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execvp(argv[0], argv);
  if (errno == ENOENT)
    child_fail(127, "%s: executable file `%s` not found in $PATH: No such file or directory", argv[0], argv[0]);
  if (errno == EACCES || errno == EISDIR || errno == ENOEXEC)
    child_fail(126, "%s: cannot execute: %s", argv[0], strerror(errno == EISDIR ? EACCES : errno));
  child_fail(126, "%s: %s", argv[0], strerror(errno));
}

/* spec "joinNamespaces": {net?, ipc?, uts?, pid?} are paths (/proc/PID/ns/net,
 * a bind-mounted nsfs file) of namespaces to enter instead of creating new
 * ones. net/ipc/uts are entered by the child before its mounts (so sysfs and
 * mqueue belong to them); pid is entered by the parent around clone, since a
 * pid namespace applies to children only. */
static const struct { const char *key; int type; } joinable[] = {
  {"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"pid", CLONE_NEWPID},
};

static int join_namespace(const char *path, int type, char *err, size_t errlen, const char *what) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, type) < 0) {
    snprintf(err, errlen, "cannot join the %s namespace %s: %s", what, path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return 0;
}

static void join_child_namespaces(const json_value *join) {
  char err[512];
  for (size_t i = 0; i < 3; i++) {
    const char *path = json_get_string(join, joinable[i].key, NULL);
    if (path && join_namespace(path, joinable[i].type, err, sizeof err, joinable[i].key) < 0) child_fail(125, "%s", err);
  }
}

static int container_init(void *arg) {
  struct child_args *a = arg;
  const json_value *spec = a->spec;
  char err[1024] = "";
  char go;

  close(a->go_pipe[1]);
  if (read(a->go_pipe[0], &go, 1) != 1) _exit(125); /* the parent died */
  close(a->go_pipe[0]);
  /* The parent has moved us into the container's cgroup: it is the root of our cgroup namespace. */
  if (json_get_string(spec, "cgroupPath", NULL) && json_get_bool(json_get(spec, "namespaces"), "cgroup", 1) && unshare(CLONE_NEWCGROUP) < 0)
    child_fail(125, "cannot create the cgroup namespace: %s", strerror(errno));
  for (int i = 0; i < 3; i++) {
    if (a->stdio[i] >= 0 && a->stdio[i] != i && dup2(a->stdio[i], i) < 0) child_fail(125, "cannot set up stdio: %s", strerror(errno));
  }
  for (int i = 0; i < 3; i++) if (a->stdio[i] > 2) close(a->stdio[i]);
  join_child_namespaces(json_get(spec, "joinNamespaces"));

  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) child_fail(125, "cannot make mounts private: %s", strerror(errno));
  /* Host paths and kernel filesystems are opened now, while the host's tree is in sight. */
  if (mounts_prepare(json_get(spec, "mounts"), &a->mounts, &a->mount_count, err, sizeof err) < 0 ||
      devices_prepare(json_get(spec, "devices"), &a->device_fds, err, sizeof err) < 0)
    child_fail(125, "%s", err);
  const char *rootfs = json_get_string(spec, "rootfs", NULL);
  if (nested_userns_requested(spec)) {
    if (nested_userns_enter_rootfs(err, sizeof err) < 0) child_fail(125, "%s", err); /* the parent made it our cwd */
  } else {
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) child_fail(125, "cannot bind the root filesystem %s: %s", rootfs, strerror(errno));
    if (chdir(rootfs) < 0) child_fail(125, "cannot enter %s: %s", rootfs, strerror(errno));
  }
  if (syscall(SYS_pivot_root, ".", ".") < 0) child_fail(125, "pivot_root: %s", strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) child_fail(125, "cannot detach the old root: %s", strerror(errno));
  if (chdir("/") < 0) child_fail(125, "chdir /: %s", strerror(errno));

  /* From here on every path resolves inside the container's root. */
  if (mounts_apply(a->mounts, a->mount_count, err, sizeof err) < 0) child_fail(125, "%s", err);
  if (devices_apply(json_get(spec, "devices"), a->device_fds, err, sizeof err) < 0) child_fail(125, "%s", err);
  const json_value *links = json_get(spec, "symlinks");
  for (size_t i = 0; links && i < links->count; i++) {
    const char *target = json_get_string(links->items[i], "target", NULL);
    const char *link = json_get_string(links->items[i], "link", NULL);
    if (target && link && symlink(target, link) < 0 && errno != EEXIST)
      child_fail(125, "cannot create %s: %s", link, strerror(errno));
  }
  if (mask_paths(json_get(spec, "maskedPaths"), err, sizeof err) < 0) child_fail(125, "%s", err);
  if (readonly_paths(json_get(spec, "readonlyPaths"), err, sizeof err) < 0) child_fail(125, "%s", err);
  if (json_get_bool(spec, "readonlyRootfs", 0) &&
      mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0 &&
      mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    child_fail(125, "cannot make the root filesystem read-only: %s", strerror(errno));

  if (json_get_bool(spec, "terminal", 0)) {
    setup_terminal(a->console_socket);
    /* The terminal belongs to the container's user (its group stays tty), as with Podman. */
    if (fchown(0, (uid_t)json_get_number(json_get(spec, "user"), "uid", 0), (gid_t)-1) < 0)
      child_fail(125, "cannot give the terminal to the container's user: %s", strerror(errno));
  }

  const char *hostname = json_get_string(spec, "hostname", NULL);
  /* A joined UTS namespace keeps its owner's host name. */
  if (hostname && hostname[0] && !json_get_string(json_get(spec, "joinNamespaces"), "uts", NULL) && sethostname(hostname, strlen(hostname)) < 0)
    child_fail(125, "cannot set the hostname: %s", strerror(errno));
  if (json_get_bool(spec, "loopbackUp", 0)) loopback_up();
  umask((mode_t)json_get_number(spec, "umask", 022));

  const char *cwd = json_get_string(spec, "cwd", "/");
  if (chdir(cwd) < 0) {
    if (errno != ENOENT || mkdir_all(cwd, 0755) < 0 || chdir(cwd) < 0)
      child_fail(125, "cannot change to the working directory %s: %s", cwd, strerror(errno));
  }

  become_process(spec);
}

static int namespace_flags(const json_value *spec) {
  const json_value *ns = json_get(spec, "namespaces");
  int flags = CLONE_NEWNS | (nested_userns_requested(spec) ? CLONE_NEWUSER : 0);
  if (json_get_bool(ns, "pid", 1)) flags |= CLONE_NEWPID;
  if (json_get_bool(ns, "uts", 1)) flags |= CLONE_NEWUTS;
  if (json_get_bool(ns, "ipc", 1)) flags |= CLONE_NEWIPC;
  if (json_get_bool(ns, "net", 1)) flags |= CLONE_NEWNET;
  /* With a cgroup of its own, the child makes its cgroup namespace once it is in it. */
  if (json_get_bool(ns, "cgroup", 1) && !json_get_string(spec, "cgroupPath", NULL)) flags |= CLONE_NEWCGROUP;
  const json_value *join = json_get(spec, "joinNamespaces");
  for (size_t i = 0; i < sizeof joinable / sizeof *joinable; i++)
    if (json_get_string(join, joinable[i].key, NULL)) flags &= ~joinable[i].type;
  return flags;
}

/* The write end of a resident helper's exit pipe: slirp4netns ends when it
 * closes, so a monitor that dies for any reason takes the helper with it. */
static int helper_exit_fd = -1;
static pid_t helper_pid = -1;

/* One request to the helper's JSON API socket (slirp4netns add_hostfwd); the
 * reply must not be an error. */
static int helper_api_call(const char *sock_path, const char *request, char *err, size_t errlen) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  /* Reached through its directory's descriptor, so a deep runtime directory does not hit the 108-byte limit. */
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", sock_path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  int dfd = open(slash ? dir : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd, slash ? slash + 1 : sock_path);
  int rc = s < 0 || dfd < 0 ? -1 : connect(s, (struct sockaddr *)&addr, sizeof addr);
  if (dfd >= 0) close(dfd);
  if (rc < 0) {
    snprintf(err, errlen, "cannot reach the network helper's API socket %s: %s", sock_path, strerror(errno));
    if (s >= 0) close(s);
    return -1;
  }
  char reply[2048];
  size_t got = 0;
  ssize_t n;
  if (write_all(s, request, strlen(request)) < 0) got = 0;
  shutdown(s, SHUT_WR);
  while (got < sizeof reply - 1 && ((n = read(s, reply + got, sizeof reply - 1 - got)) > 0 || (n < 0 && errno == EINTR)))
    if (n > 0) got += (size_t)n;
  reply[got] = '\0';
  close(s);
  if (got == 0 || strstr(reply, "\"error\"")) {
    char *nl = strchr(reply, '\n');
    if (nl) *nl = '\0';
    snprintf(err, errlen, "the network helper refused %s: %s", request, got ? reply : "no reply");
    return -1;
  }
  return 0;
}

/* A helper that stays in the foreground (slirp4netns): started with a ready
 * pipe at fd readyFd and an exit pipe at fd exitFd, its output in logFile; we
 * wait for its ready byte, record its pid, then make the API calls. */
static int run_resident_helper(const json_value *net, char **argv, char *err, size_t errlen) {
  int ready_fd = (int)json_get_number(net, "readyFd", 3);
  int exit_fd = (int)json_get_number(net, "exitFd", 4);
  const char *log_file = json_get_string(net, "logFile", "/dev/null");
  const char *pid_file = json_get_string(net, "pidFile", NULL);
  int ready[2], ex[2];
  if (pipe2(ready, O_CLOEXEC) < 0) { snprintf(err, errlen, "pipe: %s", strerror(errno)); return -1; }
  if (pipe2(ex, O_CLOEXEC) < 0) { close(ready[0]); close(ready[1]); snprintf(err, errlen, "pipe: %s", strerror(errno)); return -1; }
  pid_t h = fork();
  if (h == 0) {
    int logfd = open(log_file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int devnull = open("/dev/null", O_RDWR);
    /* Move both pipe ends clear of the target numbers before placing them. */
    int r = fcntl(ready[1], F_DUPFD_CLOEXEC, 10), e = fcntl(ex[0], F_DUPFD_CLOEXEC, 10);
    if (devnull >= 0) dup2(devnull, 0);
    if (logfd >= 0) { dup2(logfd, 1); dup2(logfd, 2); }
    if (r < 0 || e < 0 || dup2(r, ready_fd) < 0 || dup2(e, exit_fd) < 0) _exit(127);
    /* The API socket is named relative to here: a socket path is limited to 108 bytes. */
    const char *cwd = json_get_string(net, "cwd", NULL);
    if (cwd && chdir(cwd) < 0) { dprintf(2, "cannot enter %s: %s\n", cwd, strerror(errno)); _exit(127); }
    setsid();
    execvp(argv[0], argv);
    dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(ready[1]);
  close(ex[0]);
  if (h < 0) { close(ready[0]); close(ex[1]); snprintf(err, errlen, "fork: %s", strerror(errno)); return -1; }
  helper_pid = h;
  helper_exit_fd = ex[1];
  char byte;
  ssize_t n;
  struct pollfd pfd = {.fd = ready[0], .events = POLLIN};
  int waited = 0;
  while ((waited = poll(&pfd, 1, 15000)) < 0 && errno == EINTR) {}
  n = waited > 0 ? read(ready[0], &byte, 1) : -1;
  close(ready[0]);
  if (n != 1) {
    char *log = read_small_file(log_file, NULL);
    char reason[1024] = "";
    /* The first line that is not progress talk is the helper's reason. */
    static const char *chatter[] = {"* ", "sent tapfd", "received tapfd", "Starting slirp", "WARNING", NULL};
    for (char *line = log ? strtok(log, "\n") : NULL; line && !reason[0]; line = strtok(NULL, "\n")) {
      int skip = 0;
      for (int i = 0; chatter[i]; i++) skip |= strncmp(line, chatter[i], strlen(chatter[i])) == 0;
      if (!skip) snprintf(reason, sizeof reason, "%s", line);
    }
    free(log);
    snprintf(err, errlen, "cannot set up the container's network with %s: %s", argv[0],
             waited == 0 ? "it did not get ready in 15 seconds" : reason[0] ? reason : "it exited without saying why");
    return -1;
  }
  if (pid_file) {
    char text[32];
    int fd = open(pid_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) { write_all(fd, text, (size_t)snprintf(text, sizeof text, "%d\n", (int)h)); close(fd); }
  }
  const char *sock = json_get_string(net, "apiSocket", NULL);
  const json_value *calls = json_get(net, "apiRequests");
  for (size_t i = 0; sock && calls && i < calls->count; i++)
    if (helper_api_call(sock, calls->items[i]->string, err, errlen) < 0) return -1;
  return 0;
}

/* Duplicate address detection holds a new interface's IPv6 addresses back for
 * 1-2 s (the link-local one, then the SLAAC one). As Podman does for slirp4netns,
 * the namespace's default accept_dad is 0 while the helper creates its device, and
 * back to what it was after. Set by a child in the namespace (we could enter it
 * but not come back: our own is the host's). Returns the value it replaced
 * (0-2), or -1 (no IPv6 there: only the delay). */
static int set_default_accept_dad(const char *nspath, int value) {
  pid_t c = fork();
  if (c == 0) {
    static const char sysctl[] = "/proc/sys/net/ipv6/conf/default/accept_dad";
    int ns = open(nspath, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) _exit(100);
    char *old = read_small_file(sysctl, NULL);
    int fd = open(sysctl, O_WRONLY | O_CLOEXEC);
    char text[4];
    int len = snprintf(text, sizeof text, "%d", value);
    if (!old || old[0] < '0' || old[0] > '2' || fd < 0 || write(fd, text, (size_t)len) != len) _exit(100);
    _exit(old[0] - '0');
  }
  int status = 0;
  if (c < 0) return -1;
  while (waitpid(c, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) && WEXITSTATUS(status) <= 2 ? WEXITSTATUS(status) : -1;
}

/* The network helper (pasta) configures the container's network namespace
 * through a file bind-mounted to it: pasta drops to "nobody" before opening the
 * namespace, and may open a bind-mounted nsfs file where it may not open
 * /proc/PID/ns/net. It forks its daemon and exits 0 once the interface is up. */
static int run_network_helper(const json_value *net, pid_t pid, char *err, size_t errlen) {
  const json_value *helper = json_get(net, "argv");
  const char *netns_path = json_get_string(net, "netnsPath", NULL);
  if (!helper || helper->type != JSON_ARRAY || helper->count == 0 || !netns_path) return 0;
  char nspath[64];
  snprintf(nspath, sizeof nspath, "/proc/%d/ns/net", (int)pid);
  /* The helpers' port forwarder watches the container itself, not us: a killed monitor must not take its ports. */
  char pidtext[16];
  snprintf(pidtext, sizeof pidtext, "%d", (int)pid);
  setenv("TSPOD_CONTAINER_PID", pidtext, 1);
  int fd = open(netns_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 || (close(fd), mount(nspath, netns_path, NULL, MS_BIND, NULL) < 0)) {
    snprintf(err, errlen, "cannot bind the container's network namespace to %s: %s", netns_path, strerror(errno));
    return -1;
  }
  char **argv = calloc(helper->count + 1, sizeof *argv);
  if (!argv) return -1;
  for (size_t i = 0; i < helper->count; i++) argv[i] = helper->items[i]->string;
  if (json_get(net, "readyFd")) {
    int dad = json_get_bool(net, "ipv6NoDad", 0) ? set_default_accept_dad(nspath, 0) : -1;
    int rc = run_resident_helper(net, argv, err, errlen);
    if (dad > 0) set_default_accept_dad(nspath, dad);
    free(argv);
    if (rc < 0) network_teardown(net);
    return rc;
  }
  int errp[2];
  if (pipe2(errp, O_CLOEXEC) < 0) { free(argv); return -1; }
  pid_t h = fork();
  if (h == 0) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); }
    dup2(errp[1], 2);
    execvp(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s", argv[0], strerror(errno));
    _exit(127);
  }
  close(errp[1]);
  char msg[2048];
  size_t got = 0;
  ssize_t n;
  while ((n = read(errp[0], msg + got, sizeof msg - 1 - got)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) got += (size_t)n;
  msg[got] = '\0';
  close(errp[0]);
  int status = 0;
  if (h > 0) while (waitpid(h, &status, 0) < 0 && errno == EINTR) {}
  free(argv);
  if (h < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    /* Keep pasta's own reason; drop its complaints about a missing syslog. */
    char reason[1024] = "";
    for (char *line = strtok(msg, "\n"); line; line = strtok(NULL, "\n")) {
      if (strstr(line, "syslog")) continue;
      if (reason[0]) strncat(reason, "; ", sizeof reason - strlen(reason) - 1);
      strncat(reason, line, sizeof reason - strlen(reason) - 1);
    }
    snprintf(err, errlen, "cannot set up the container's network with %s: %s", helper->items[0]->string,
             reason[0] ? reason : "it failed without saying why");
    network_teardown(net);
    return -1;
  }
  return 0;
}

/* End the network helper and release the namespace file: run when the
 * container is gone (or failed to start). */
void network_teardown(const json_value *net) {
  const char *pid_file = json_get_string(net, "pidFile", NULL);
  const char *netns_path = json_get_string(net, "netnsPath", NULL);
  if (pid_file) {
    char *text = read_small_file(pid_file, NULL);
    int hpid = text ? atoi(text) : 0;
    free(text);
    if (hpid > 1) kill(hpid, SIGTERM);
    unlink(pid_file);
  }
  if (helper_exit_fd >= 0) { close(helper_exit_fd); helper_exit_fd = -1; }
  if (helper_pid > 0) {
    /* Our child: reap it, so nothing is left behind, not even a zombie. */
    for (int i = 0; i < 100 && waitpid(helper_pid, NULL, WNOHANG) == 0; i++) usleep(10000);
    if (waitpid(helper_pid, NULL, WNOHANG) == 0) { kill(helper_pid, SIGKILL); waitpid(helper_pid, NULL, 0); }
    helper_pid = -1;
  }
  const char *sock = json_get_string(net, "apiSocket", NULL);
  if (sock) unlink(sock);
  if (netns_path) {
    umount2(netns_path, MNT_DETACH);
    unlink(netns_path);
  }
}

pid_t container_start(const json_value *spec, const int stdio[3], int console_socket, int *fail_code, char *err, size_t errlen) {
  static struct child_args a;
  memset(&a, 0, sizeof a);
  a.spec = spec;
  a.console_socket = console_socket;
  for (int i = 0; i < 3; i++) a.stdio[i] = stdio[i];
  *fail_code = 125;
  if (!json_get_string(spec, "rootfs", NULL)) { snprintf(err, errlen, "the container spec has no rootfs"); return -1; }
  if (pipe2(error_pipe, O_CLOEXEC) < 0 || pipe2(a.go_pipe, O_CLOEXEC) < 0) { snprintf(err, errlen, "pipe: %s", strerror(errno)); return -1; }

  size_t stack_size = 256 * 1024;
  char *stack = malloc(stack_size);
  if (!stack) { snprintf(err, errlen, "out of memory"); return -1; }
  const char *join_pid = json_get_string(json_get(spec, "joinNamespaces"), "pid", NULL);
  int own_pidns = -1;
  if (join_pid) {
    own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own_pidns < 0 || join_namespace(join_pid, CLONE_NEWPID, err, errlen, "pid") < 0) {
      if (own_pidns >= 0) close(own_pidns);
      free(stack);
      return -1;
    }
  }
  /* With a user namespace of its own the child resolves no host path: hand it trees and its root as cwd. */
  int nested = nested_userns_requested(spec), saved_cwd = -1;
  if (nested) err[0] = '\0';
  if (nested && (mounts_preopen_binds(json_get(spec, "mounts"), err, errlen) < 0 ||
                 (saved_cwd = open(".", O_PATH | O_CLOEXEC)) < 0 || chdir(json_get_string(spec, "rootfs", "")) < 0)) {
    if (!err[0]) snprintf(err, errlen, "cannot enter the root filesystem: %s", strerror(errno));
    return -1;
  }
  pid_t pid = clone(container_init, stack + stack_size, namespace_flags(spec) | SIGCHLD, &a);
  if (nested) {
    const json_value *mounts = json_get(spec, "mounts");
    mounts_preopened_close(mounts ? mounts->count : 0);
    if (fchdir(saved_cwd) == 0) close(saved_cwd);
    if (pid > 0 && nested_userns_write_maps(spec, pid, err, errlen) < 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      return -1;
    }
  }
  /* Our own children (the network helper, the cleanup command) stay in our pid namespace. */
  if (own_pidns >= 0) { setns(own_pidns, CLONE_NEWPID); close(own_pidns); }
  if (pid < 0) {
    snprintf(err, errlen, "cannot create the container's namespaces: %s", strerror(errno));
    return -1;
  }
  close(error_pipe[1]);
  close(a.go_pipe[0]);
  const char *cgroup = json_get_string(spec, "cgroupPath", NULL);
  if (cgroup && cgroup_enter(cgroup, pid, err, errlen) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  if (run_network_helper(json_get(spec, "network"), pid, err, errlen) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
  }
  if (write_all(a.go_pipe[1], "g", 1) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    snprintf(err, errlen, "cannot start the container: %s", strerror(errno));
    return -1;
  }
  close(a.go_pipe[1]);

  /* Either the exec closes the error pipe (started) or the child reports why it failed. */
  int code = read_failure_report(error_pipe[0], err, errlen);
  free(stack);
  if (code) {
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
    *fail_code = code;
    return -1;
  }
  return pid;
}
