#define _GNU_SOURCE
#include "exec.h"
#include "container.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define CONFIG_FD 3
#define EVENT_FD 4

static volatile sig_atomic_t target;

static void emit(const char *line) { write_all(EVENT_FD, line, strlen(line)); }

static void emit_error(int code, const char *message) {
  char escaped[2200], line[2400];
  json_escape_to(escaped, sizeof escaped, message);
  snprintf(line, sizeof line, "{\"event\":\"error\",\"exitCode\":%d,\"message\":%s}\n", code, escaped);
  emit(line);
}

static int tty_master = -1;

/* Our terminal's size onto the exec terminal: stdin may be /dev/null without -i, so any of our stdio will do. */
static void copy_window_size(void) {
  struct winsize ws;
  for (int fd = 0; fd < 3; fd++)
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0) { ioctl(tty_master, TIOCSWINSZ, &ws); return; }
}

static void forward_signal(int sig) {
  /* With -t a new window size goes to the terminal, which signals its processes. */
  if (sig == SIGWINCH && tty_master >= 0) {
    copy_window_size();
    return;
  }
  if (target > 0) kill(target, sig);
}

/* ---- detach keys (exec --detach-keys), watched on our stdin with -it, as the monitor does for run -it ---- */
static unsigned char detach_keys[32];
static size_t detach_len, detach_matched;

/* Copy typed bytes to `out`, holding back a partial detach sequence; 1 when the whole sequence was typed. */
static int filter_detach(const unsigned char *in, size_t n, unsigned char *out, size_t *olen) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (detach_len && in[i] == detach_keys[detach_matched]) {
      if (++detach_matched == detach_len) { *olen = o; return 1; }
      continue;
    }
    /* A broken sequence: what was held back was typed for the process. */
    if (detach_matched) { memcpy(out + o, detach_keys, detach_matched); o += detach_matched; detach_matched = 0; }
    if (detach_len && in[i] == detach_keys[0]) {
      detach_matched = 1;
      if (detach_len == 1) { *olen = o; return 1; }
      continue;
    }
    out[o++] = in[i];
  }
  *olen = o;
  return 0;
}

static void ignore_signal(int sig) { (void)sig; }

/* The user typed the detach keys: the CLI goes, we stay and hold the terminal until
 * the process ends (closing the master would hang it up), as Podman's exec session goes on. */
static void detach_session(void) {
  emit("{\"event\":\"detached\"}\n");
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2);
    dup2(devnull, EVENT_FD); /* no more events: the CLI is gone */
    if (devnull > EVENT_FD) close(devnull);
  }
  setsid();
  struct sigaction sa = {0};
  sa.sa_handler = ignore_signal;
  int quiet[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof quiet / sizeof *quiet; i++) sigaction(quiet[i], &sa, NULL);
}

/* exec -t: copy between our stdio and the terminal's master until the process
 * exits and its output is read; our own terminal goes raw meanwhile. Sets
 * *detached when the user typed the detach keys. */
static int relay_terminal(pid_t child, int interactive, int *detached) {
  struct termios saved;
  int raw = interactive && isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
  }
  int status = 0, exited = 0, in_open = interactive, master_open = 1;
  char buf[8192];
  unsigned char pass[sizeof buf + sizeof detach_keys];
  while (master_open) {
    struct pollfd fds[2] = {{tty_master, POLLIN, 0}, {0, POLLIN, 0}};
    int n = poll(fds, in_open ? 2 : 1, exited ? 0 : 100);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(tty_master, buf, sizeof buf);
      if (r > 0) write_all(1, buf, (size_t)r);
      else if (!(r < 0 && errno == EINTR)) master_open = 0; /* EIO: every holder of the terminal is gone */
    }
    if (in_open && n > 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t r = read(0, buf, sizeof buf);
      if (r > 0) {
        size_t len;
        int detach = filter_detach((unsigned char *)buf, (size_t)r, pass, &len);
        write_all(tty_master, pass, len);
        if (detach) {
          if (raw) tcsetattr(0, TCSANOW, &saved);
          raw = 0;
          in_open = 0;
          *detached = 1;
          detach_session();
        }
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        in_open = 0;
        if (detach_matched) write_all(tty_master, detach_keys, detach_matched);
        detach_matched = 0;
        char eot = 4; /* end of input: ^D on the terminal, as a user would type it */
        write_all(tty_master, &eot, 1);
      }
    }
    if (exited && n == 0) break; /* gone, and nothing more to read */
    if (!exited && waitpid(child, &status, WNOHANG) == child) exited = 1;
  }
  if (!exited) while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  if (raw) tcsetattr(0, TCSANOW, &saved);
  return status;
}

/* Enter the container's namespaces in an order the kernel accepts: the mount
 * namespace last among those that change paths, the PID one takes effect for
 * the child we fork afterwards. */
static int join_namespaces(int pid, char *err, size_t errlen) {
  static const struct { const char *name; int flag; } order[] = {
    {"user", CLONE_NEWUSER}, /* first: a container's own user namespace owns the others */
    {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
  };
  enum { COUNT = sizeof order / sizeof *order };
  int fds[COUNT];
  char path[64];
  for (int i = 0; i < COUNT; i++) {
    snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, order[i].name);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) {
      snprintf(err, errlen, "the container is not running (cannot open %s: %s)", path, strerror(errno));
      for (int j = 0; j < i; j++) close(fds[j]);
      return -1;
    }
  }
  for (int i = 0; i < COUNT; i++) {
    /* Namespaces the container shares with us (e.g. --network host) are no change. */
    char self[64], a[64] = "", b[64] = "";
    snprintf(self, sizeof self, "/proc/self/ns/%s", order[i].name);
    snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, order[i].name);
    if (readlink(self, a, sizeof a - 1) > 0 && readlink(path, b, sizeof b - 1) > 0 && strcmp(a, b) == 0) {
      close(fds[i]);
      continue;
    }
    if (setns(fds[i], order[i].flag) < 0) {
      snprintf(err, errlen, "cannot join the container's %s namespace: %s", order[i].name, strerror(errno));
      return -1;
    }
    close(fds[i]);
  }
  return 0;
}

int exec_main(void) {
  char err[1024];
  char *input = read_fd_all(CONFIG_FD, NULL);
  close(CONFIG_FD);
  if (!input) { emit_error(125, "cannot read the exec parameters"); return 125; }
  json_value *cfg = json_parse(input, err, sizeof err);
  free(input);
  if (!cfg) { emit_error(125, err); return 125; }
  int pid = (int)json_get_number(cfg, "pid", 0);
  const json_value *spec = json_get(cfg, "process");
  if (pid <= 0 || !spec) { emit_error(125, "the exec parameters name no container process"); return 125; }
  /* Into the container's cgroup first (its path is not in sight from its mount namespace), so pause freezes us too. */
  const char *cgroup = json_get_string(cfg, "cgroupPath", NULL);
  if (cgroup && cgroup_enter(cgroup, 0, err, sizeof err) < 0) { emit_error(125, err); return 125; }
  if (join_namespaces(pid, err, sizeof err) < 0) { emit_error(125, err); return 125; }
  if (pipe2(error_pipe, O_CLOEXEC) < 0) { emit_error(125, "pipe failed"); return 125; }
  /* -t: a terminal from the container's devpts (its mount namespace is ours now). */
  int terminal = json_get_bool(cfg, "terminal", 0);
  const json_value *keys = json_get(cfg, "detachKeys");
  for (size_t i = 0; keys && keys->type == JSON_ARRAY && i < keys->count && i < sizeof detach_keys; i++)
    detach_keys[detach_len++] = (unsigned char)keys->items[i]->number;
  if (terminal) {
    tty_master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty_master < 0 || grantpt(tty_master) < 0 || unlockpt(tty_master) < 0) { emit_error(125, "cannot allocate a terminal"); return 125; }
    copy_window_size();
  }

  pid_t child = fork();
  if (child < 0) { emit_error(125, "fork failed"); return 125; }
  if (child == 0) {
    close(error_pipe[0]);
    if (terminal) {
      int slave = open(ptsname(tty_master), O_RDWR | O_NOCTTY);
      if (slave < 0 || setsid() < 0 || ioctl(slave, TIOCSCTTY, 0) < 0) {
        char msg[300];
        int n = snprintf(msg, sizeof msg, "125 cannot set up the terminal: %s", strerror(errno));
        write_all(error_pipe[1], msg, (size_t)n);
        _exit(125);
      }
      for (int i = 0; i < 3; i++) dup2(slave, i);
      if (slave > 2) close(slave);
      /* The terminal belongs to the process's user, as with Podman. */
      if (fchown(0, (uid_t)json_get_number(json_get(spec, "user"), "uid", 0), (gid_t)-1) < 0) {}
    }
    const char *cwd = json_get_string(spec, "cwd", "/");
    if (chdir(cwd) < 0) {
      char msg[600];
      int n = snprintf(msg, sizeof msg, "125 cannot change to the working directory %s: %s", cwd, strerror(errno));
      write_all(error_pipe[1], msg, (size_t)n);
      _exit(125);
    }
    become_process(spec);
  }
  target = child;
  close(error_pipe[1]);
  struct sigaction sa = {0};
  sa.sa_handler = forward_signal;
  sa.sa_flags = SA_RESTART;
  int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &sa, NULL);

  char failure[1100];
  int status;
  int code = read_failure_report(error_pipe[0], failure, sizeof failure);
  if (code) {
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    emit_error(code, failure);
    return code;
  }
  char line[128];
  snprintf(line, sizeof line, "{\"event\":\"started\",\"pid\":%d,\"monitorPid\":%d}\n", (int)child, (int)getpid());
  emit(line);
  int detached = 0;
  if (terminal) status = relay_terminal(child, json_get_bool(cfg, "interactive", 0), &detached);
  else while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) { emit_error(125, "lost the exec'd process"); return 125; }
  }
  code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  snprintf(line, sizeof line, "{\"event\":\"exited\",\"exitCode\":%d}\n", code);
  if (!detached) emit(line);
  json_free(cfg);
  return code;
}
