#define _GNU_SOURCE
#include "monitor.h"
#include "container.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONFIG_FD 3
#define EVENT_FD 4

static int event_fd = EVENT_FD;
static volatile sig_atomic_t container_pid;

static void emit(const char *line) {
  if (event_fd >= 0) write_all(event_fd, line, strlen(line));
}

static void emit_error(int code, const char *message) {
  char escaped[2200], line[2400];
  json_escape_to(escaped, sizeof escaped, message);
  snprintf(line, sizeof line, "{\"event\":\"error\",\"exitCode\":%d,\"message\":%s}\n", code, escaped);
  emit(line);
}

static void now_rfc3339(char *buf, size_t len) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, len - n, ".%09ldZ", ts.tv_nsec);
}

/* k8s-file: "<time> <stream> F|P <text>\n", P marking a line that continues. */
static void log_chunk(int log_fd, const char *stream, const char *buf, size_t len) {
  if (log_fd < 0) return;
  char stamp[64];
  now_rfc3339(stamp, sizeof stamp);
  size_t start = 0;
  while (start < len) {
    const char *nl = memchr(buf + start, '\n', len - start);
    size_t end = nl ? (size_t)(nl - buf) : len;
    char head[128];
    int h = snprintf(head, sizeof head, "%s %s %c ", stamp, stream, nl ? 'F' : 'P');
    write_all(log_fd, head, (size_t)h);
    write_all(log_fd, buf + start, end - start);
    write_all(log_fd, "\n", 1);
    start = end + 1;
  }
}

static void write_exit_file(const char *path, int code, int signaled, const char *error) {
  if (!path) return;
  char tmp[4200], stamp[64], escaped[2200] = "\"\"";
  now_rfc3339(stamp, sizeof stamp);
  if (error) json_escape_to(escaped, sizeof escaped, error);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  char body[2600];
  int n = snprintf(body, sizeof body, "{\"exitCode\":%d,\"signaled\":%s,\"finishedAt\":\"%s\",\"error\":%s}\n", code,
                   signaled ? "true" : "false", stamp, escaped);
  write_all(fd, body, (size_t)n);
  fsync(fd);
  close(fd);
  rename(tmp, path);
}

static int tty_master = -1;

/* --sdnotify=conmon: tell systemd the service is up, and that we are its main process. */
static void notify_ready(const char *socket_path) {
  if (!socket_path || !socket_path[0]) return;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  size_t len = strlen(socket_path);
  if (len >= sizeof addr.sun_path) return;
  memcpy(addr.sun_path, socket_path, len);
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0'; /* abstract socket */
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  char msg[64];
  int n = snprintf(msg, sizeof msg, "MAINPID=%d\nREADY=1\n", (int)getpid());
  sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
  close(fd);
}

static int receive_fd(int sock) {
  char byte;
  struct iovec iov = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t n;
  while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  if (n <= 0) return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return fd;
}

static void forward_signal(int sig) {
  /* A new window size goes to the container's terminal, which signals its processes. */
  if (sig == SIGWINCH && tty_master >= 0) {
    struct winsize ws;
    if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(tty_master, TIOCSWINSZ, &ws);
    return;
  }
  if (container_pid > 0) kill(container_pid, sig);
}

static void run_cleanup(const json_value *cleanup) {
  if (!cleanup || cleanup->type != JSON_ARRAY || cleanup->count == 0) return;
  char **argv = calloc(cleanup->count + 1, sizeof *argv);
  if (!argv) return;
  for (size_t i = 0; i < cleanup->count; i++) argv[i] = cleanup->items[i]->string;
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  if (pid > 0) while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
  free(argv);
}

/* Detached: the monitor becomes its own session, and the launcher that the
 * CLI started exits as soon as the container has started (or failed). */
static int detach_monitor(void) {
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid > 0) {
    close(sync[1]);
    char line[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof line - 1 && (n = read(sync[0], line + got, sizeof line - 1 - got)) != 0) {
      if (n < 0) { if (errno == EINTR) continue; break; }
      got += (size_t)n;
      if (memchr(line, '\n', got)) break;
    }
    line[got] = '\0';
    write_all(EVENT_FD, line, got);
    _exit(strstr(line, "\"started\"") ? 0 : 125);
  }
  close(sync[0]);
  setsid();
  prctl(PR_SET_NAME, "tspod-monitor", 0, 0, 0);
  close(EVENT_FD);
  event_fd = sync[1];
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); close(devnull); }
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  return 0;
}

/* ---- attach: clients on a unix socket in the container's run directory ----
 * Frames both ways are [type:1][length:4, big-endian][payload]. To clients:
 * 1 stdout, 2 stderr, 3 exit (payload: the exit code, 4 bytes). From clients:
 * 0 stdin bytes, 4 end of stdin, 5 window size (rows:2, cols:2). */
#define MAX_CLIENTS 16
enum { FRAME_STDIN = 0, FRAME_STDOUT = 1, FRAME_STDERR = 2, FRAME_EXIT = 3, FRAME_STDIN_EOF = 4, FRAME_RESIZE = 5 };

struct client {
  int fd;
  unsigned char buf[8192 + 5];
  size_t have;
};
static struct client clients[MAX_CLIENTS];
static int listen_fd = -1;
static char *socket_path;
/* Where container stdin goes: the terminal's master, or the write end of its stdin pipe. */
static int container_stdin = -1;
/* For the pipe (non-blocking): what the container has not taken yet. We read no more of our own
 * stdin while some is pending, so a container that writes before it reads cannot deadlock us. */
static char *stdin_pending;
static size_t stdin_pending_len;
static int stdin_close_after_flush;
static int stdin_is_tty;

static void close_container_stdin_now(void) {
  if (container_stdin >= 0 && !stdin_is_tty) close(container_stdin);
  container_stdin = -1;
  stdin_pending_len = 0;
}

static void flush_container_stdin(void) {
  while (container_stdin >= 0 && stdin_pending_len > 0) {
    ssize_t n = write(container_stdin, stdin_pending, stdin_pending_len);
    if (n > 0) {
      memmove(stdin_pending, stdin_pending + n, stdin_pending_len - (size_t)n);
      stdin_pending_len -= (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;
    } else {
      close_container_stdin_now(); /* the container closed its stdin */
      return;
    }
  }
  if (stdin_close_after_flush && stdin_pending_len == 0) close_container_stdin_now();
}

static void write_container_stdin(const void *data, size_t len) {
  if (container_stdin < 0 || len == 0) return;
  if (stdin_is_tty) {
    if (write_all(container_stdin, data, len) < 0) container_stdin = -1;
    return;
  }
  char *bigger = realloc(stdin_pending, stdin_pending_len + len);
  if (!bigger) return;
  stdin_pending = bigger;
  memcpy(stdin_pending + stdin_pending_len, data, len);
  stdin_pending_len += len;
  flush_container_stdin();
}

/* A client that does not take its output within a second is dropped rather than stall the container. */
static int write_within(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n > 0) { p += n; len -= (size_t)n; continue; }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd pf = {fd, POLLOUT, 0};
      if (poll(&pf, 1, 1000) > 0) continue;
    }
    return -1;
  }
  return 0;
}

static void drop_client(struct client *c) {
  close(c->fd);
  c->fd = -1;
  c->have = 0;
}

static void send_frame(int type, const void *data, size_t len) {
  unsigned char head[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i].fd < 0) continue;
    if (write_within(clients[i].fd, head, 5) < 0 || write_within(clients[i].fd, data, len) < 0) drop_client(&clients[i]);
  }
}

/* Bind through /proc/self/fd/N of the directory: the full path may be longer than sun_path allows. */
static int attach_listen(const char *path) {
  if (!path) return -1;
  const char *slash = strrchr(path, '/');
  if (!slash) return -1;
  char dir[4096];
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -1;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1);
  unlinkat(dfd, slash + 1, 0);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd >= 0 && (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 8) < 0)) { close(fd); fd = -1; }
  close(dfd);
  if (fd >= 0) socket_path = strdup(path);
  return fd;
}

static void accept_client(void) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) return;
  for (int i = 0; i < MAX_CLIENTS; i++) {
    if (clients[i].fd < 0) { clients[i].fd = fd; clients[i].have = 0; return; }
  }
  close(fd);
}

static void close_container_stdin(int tty) {
  /* A terminal stays open (^D is the user's to type); a pipe's end is the container's EOF, once it took the rest. */
  if (tty || container_stdin < 0) return;
  stdin_close_after_flush = 1;
  flush_container_stdin();
}

static void client_input(struct client *c, int tty) {
  ssize_t n = read(c->fd, c->buf + c->have, sizeof c->buf - c->have);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) { drop_client(c); return; }
  c->have += (size_t)n;
  for (;;) {
    if (c->have < 5) return;
    size_t len = ((size_t)c->buf[1] << 24) | ((size_t)c->buf[2] << 16) | ((size_t)c->buf[3] << 8) | c->buf[4];
    if (len > sizeof c->buf - 5) { drop_client(c); return; }
    if (c->have < 5 + len) return;
    unsigned char *payload = c->buf + 5;
    if (c->buf[0] == FRAME_STDIN) {
      write_container_stdin(payload, len);
    } else if (c->buf[0] == FRAME_STDIN_EOF) {
      close_container_stdin(tty);
    } else if (c->buf[0] == FRAME_RESIZE && len == 4 && tty_master >= 0) {
      struct winsize ws = {.ws_row = (unsigned short)(payload[0] << 8 | payload[1]), .ws_col = (unsigned short)(payload[2] << 8 | payload[3])};
      ioctl(tty_master, TIOCSWINSZ, &ws);
    }
    memmove(c->buf, c->buf + 5 + len, c->have - 5 - len);
    c->have -= 5 + len;
  }
}

/* ---- detach keys (--detach-keys), watched on our stdin in the foreground ---- */
static unsigned char detach_keys[32];
static size_t detach_len, detach_matched;

/* Pass typed bytes on, holding back a partial detach sequence; 1 when the whole sequence was typed. */
static int filter_detach(const unsigned char *in, size_t n) {
  unsigned char out[65536 + 32];
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (detach_len && in[i] == detach_keys[detach_matched]) {
      if (++detach_matched == detach_len) return 1;
      continue;
    }
    /* A broken sequence: what was held back was typed for the container. */
    if (detach_matched) { memcpy(out + o, detach_keys, detach_matched); o += detach_matched; detach_matched = 0; }
    if (detach_len && in[i] == detach_keys[0]) { detach_matched = 1; if (detach_len == 1) return 1; continue; }
    out[o++] = in[i];
  }
  write_container_stdin(out, o);
  return 0;
}

static void ignore_signal(int sig) { (void)sig; }

/* The user typed the detach keys: the CLI goes, we stay with the container as a detached monitor does. */
static void detach_from_terminal(void) {
  emit("{\"event\":\"detached\"}\n");
  if (event_fd >= 0) close(event_fd);
  event_fd = -1;
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); close(devnull); }
  setsid();
  prctl(PR_SET_NAME, "tspod-monitor", 0, 0, 0);
  struct sigaction sa = {0};
  sa.sa_handler = ignore_signal;
  int quiet[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
  for (size_t i = 0; i < sizeof quiet / sizeof *quiet; i++) sigaction(quiet[i], &sa, NULL);
}

int monitor_main(void) {
  char err[1024];
  char *input = read_fd_all(CONFIG_FD, NULL);
  close(CONFIG_FD);
  if (!input) { emit_error(125, "cannot read the monitor parameters"); return 125; }
  json_value *cfg = json_parse(input, err, sizeof err);
  free(input);
  if (!cfg) { emit_error(125, err); return 125; }
  const json_value *spec = json_get(cfg, "spec");
  const char *log_path = json_get_string(cfg, "logPath", NULL);
  const char *exit_file = json_get_string(cfg, "exitFile", NULL);
  int detach = json_get_bool(cfg, "detach", 0);
  int interactive = json_get_bool(cfg, "interactive", 0);
  int sig_proxy = json_get_bool(cfg, "sigProxy", 1);
  const json_value *keys = json_get(cfg, "detachKeys");
  for (size_t i = 0; keys && keys->type == JSON_ARRAY && i < keys->count && i < sizeof detach_keys; i++)
    detach_keys[detach_len++] = (unsigned char)keys->items[i]->number;
  for (int i = 0; i < MAX_CLIENTS; i++) clients[i].fd = -1;

  if (detach && detach_monitor() < 0) { emit_error(125, "cannot start the container monitor"); return 125; }
  /* Writing to a closed pipe (the CLI or the container gone) is an error to handle, not death. A handler, not
   * SIG_IGN: the container must not inherit an ignored SIGPIPE. */
  struct sigaction pipe_sa = {0};
  pipe_sa.sa_handler = ignore_signal;
  sigaction(SIGPIPE, &pipe_sa, NULL);

  int tty = json_get_bool(cfg, "tty", 0);
  int out[2], errp[2], in[2] = {-1, -1};
  int master = -1, slave = -1;
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int stdio[3];
  int console[2] = {-1, -1};
  if (tty) {
    /* With -t the container makes a terminal in its own devpts and sends us the master. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) { emit_error(125, "socketpair failed"); return 125; }
    stdio[0] = stdio[1] = stdio[2] = devnull;
    out[0] = out[1] = errp[0] = errp[1] = -1;
  } else {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) { emit_error(125, "pipe failed"); return 125; }
    /* -i: the container reads a pipe we feed from our stdin or from attached clients. */
    if (interactive && pipe2(in, O_CLOEXEC) < 0) { emit_error(125, "pipe failed"); return 125; }
    stdio[0] = interactive ? in[0] : devnull;
    stdio[1] = out[1];
    stdio[2] = errp[1];
    container_stdin = in[1];
    if (in[1] >= 0) fcntl(in[1], F_SETFL, O_NONBLOCK);
  }
  stdin_is_tty = tty;
  int log_fd = log_path ? open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
  listen_fd = attach_listen(json_get_string(cfg, "attachSocket", NULL));

  /* Signals from the CLI in the foreground go to the container (--sig-proxy); without, they are not ours to act on. */
  if (!detach) {
    struct sigaction sa = {0};
    sa.sa_handler = sig_proxy ? forward_signal : ignore_signal;
    sa.sa_flags = SA_RESTART;
    int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCONT};
    for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaction(forwarded[i], &sa, NULL);
    sa.sa_handler = forward_signal;
    sigaction(SIGWINCH, &sa, NULL);
  }

  int fail_code;
  pid_t pid = container_start(spec, stdio, console[1], &fail_code, err, sizeof err);
  if (console[1] >= 0) close(console[1]);
  if (in[0] >= 0) close(in[0]);
  if (pid >= 0 && tty) {
    master = receive_fd(console[0]);
    close(console[0]);
    if (master < 0) { kill(pid, SIGKILL); emit_error(125, "the container did not pass its terminal"); return 125; }
    out[0] = master;
    tty_master = master;
    container_stdin = interactive ? master : -1;
    if (!detach && isatty(0)) {
      struct winsize ws;
      if (ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    }
  }
  if (out[1] >= 0) close(out[1]);
  if (errp[1] >= 0) close(errp[1]);
  if (slave >= 0) close(slave);
  if (devnull >= 0) close(devnull);
  if (pid < 0) {
    if (socket_path) unlink(socket_path);
    write_exit_file(exit_file, fail_code, 0, err);
    emit_error(fail_code, err);
    return fail_code;
  }
  container_pid = pid;
  char line[160];
  snprintf(line, sizeof line, "{\"event\":\"started\",\"pid\":%d,\"monitorPid\":%d}\n", (int)pid, (int)getpid());
  emit(line);
  if (detach) { close(event_fd); event_fd = -1; }
  notify_ready(json_get_string(cfg, "notifySocket", NULL));

  /* In the foreground with a terminal, ours goes raw: keys reach the container's terminal as typed. */
  struct termios saved;
  int raw = tty && !detach && isatty(0) && tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
  }
  /* Streams: container stdout, container stderr (no terminal), our stdin (-i), attach listener, clients. */
  struct pollfd fds[5 + MAX_CLIENTS];
  fds[0] = (struct pollfd){out[0], POLLIN, 0};
  fds[1] = (struct pollfd){errp[0], POLLIN, 0};
  fds[2] = (struct pollfd){interactive && !detach ? 0 : -1, POLLIN, 0};
  const char *names[2] = {"stdout", "stderr"};
  int open_streams = tty ? 1 : 2;
  static char buf[65536];
  while (open_streams > 0) {
    fds[3] = (struct pollfd){listen_fd, POLLIN, 0};
    for (int i = 0; i < MAX_CLIENTS; i++) fds[4 + i] = (struct pollfd){clients[i].fd, POLLIN, 0};
    /* While the container has input pending, wait for it to take some instead of reading more of ours. */
    int pending = stdin_pending_len > 0 && container_stdin >= 0;
    fds[4 + MAX_CLIENTS] = (struct pollfd){pending ? container_stdin : -1, POLLOUT, 0};
    int our_stdin = fds[2].fd;
    if (pending) fds[2].fd = -1;
    int r = poll(fds, 5 + MAX_CLIENTS, -1);
    fds[2].fd = our_stdin;
    if (r < 0) { if (errno == EINTR) continue; break; }
    if (pending) {
      fds[2].revents = 0;
      if (fds[4 + MAX_CLIENTS].revents) flush_container_stdin();
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n > 0) {
        if (filter_detach((unsigned char *)buf, (size_t)n)) {
          if (raw) tcsetattr(0, TCSANOW, &saved);
          raw = 0;
          detach_from_terminal();
          detach = 1;
          fds[2].fd = -1;
        }
      } else if (n == 0 || errno != EINTR) {
        fds[2].fd = -1;
        if (detach_matched) write_container_stdin(detach_keys, detach_matched);
        detach_matched = 0;
        close_container_stdin(tty);
      }
    }
    if (fds[3].fd >= 0 && (fds[3].revents & POLLIN)) accept_client();
    for (int i = 0; i < MAX_CLIENTS; i++) {
      if (fds[4 + i].fd >= 0 && fds[4 + i].fd == clients[i].fd && (fds[4 + i].revents & (POLLIN | POLLHUP | POLLERR))) client_input(&clients[i], tty);
    }
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      /* A terminal's master reads EIO once the container side is closed. */
      if (n <= 0) { close(fds[i].fd); fds[i].fd = -1; open_streams--; continue; }
      log_chunk(log_fd, names[i], buf, (size_t)n);
      if (!detach) write_all(i == 0 ? 1 : 2, buf, (size_t)n);
      send_frame(i == 0 ? FRAME_STDOUT : FRAME_STDERR, buf, (size_t)n);
    }
  }
  if (raw) tcsetattr(0, TCSANOW, &saved);
  close_container_stdin_now();

  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) { emit_error(125, "lost the container process"); return 125; }
  }
  network_teardown(json_get(spec, "network"));
  cgroup_remove(json_get_string(spec, "cgroupPath", NULL));
  int signaled = WIFSIGNALED(status);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (log_fd >= 0) close(log_fd);
  write_exit_file(exit_file, code, signaled, NULL);
  /* Attached clients learn the exit code, then the socket goes. */
  if (socket_path) unlink(socket_path);
  if (listen_fd >= 0) close(listen_fd);
  unsigned char code_bytes[4] = {(unsigned char)(code >> 24), (unsigned char)(code >> 16), (unsigned char)(code >> 8), (unsigned char)code};
  send_frame(FRAME_EXIT, code_bytes, 4);
  for (int i = 0; i < MAX_CLIENTS; i++) if (clients[i].fd >= 0) drop_client(&clients[i]);
  snprintf(line, sizeof line, "{\"event\":\"exited\",\"exitCode\":%d%s}\n", code, signaled ? ",\"signaled\":true" : "");
  emit(line);
  if (detach) run_cleanup(json_get(cfg, "cleanup"));
  json_free(cfg);
  return code;
}
