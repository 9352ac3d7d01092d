/* tspod-launch --portfwd [--no-transparent] NETNS WATCH_PID PID_FILE PROTO:HOSTIP:HOSTPORT:CTRIP:CTRPORT...
 *
 * Published ports (the role Podman's rootlessport plays): listen on the host's
 * side, and for each connection (TCP) or client address (UDP) open a socket
 * inside NETNS to the container's address: the rootless network namespace and
 * the container's bridge address (user-defined networks), or the container's
 * own namespace and its tap0 address (slirp4netns with port_handler=rootlesskit).
 * The listening sockets are made before the setns, every later socket after
 * it: one process bridges the two namespaces. TCP clients keep their address
 * where the namespace allows (target_socket); --no-transparent (slirp4netns,
 * whose namespace routes nothing back to us) connects from the namespace's own
 * address, as rootlesskit does. Binding errors are reported on stderr before it
 * daemonizes; it writes its pid to PID_FILE and ends when WATCH_PID (the
 * container's first process, so a killed monitor does not take the ports with
 * it) does, or on SIGTERM. */
#define _GNU_SOURCE
#include "portfwd.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_FWD 256
#define BUF 65536
/* TCP moves through a pipe per direction with splice(2), never through our memory. */
#define PIPE_BYTES (256 * 1024)
#define UDP_IDLE_SECS 60
/* Must match bridge-netns.ts (TPROXY_SOCKET_MARK). */
#define PORTFWD_SOCKET_MARK 0x7471

struct fwd {
  int proto; /* SOCK_STREAM or SOCK_DGRAM */
  int fd;
  struct sockaddr_in target;
};

/* One epoll registration: a listener, one side of a TCP pair, a UDP session, or the watch pidfd. */
enum kind { K_LISTEN, K_TCP, K_UDP_HOST, K_UDP_SESSION, K_WATCH };

struct conn;
struct ref {
  enum kind kind;
  struct fwd *fwd;
  struct conn *conn;
  int side; /* K_TCP: 0 client, 1 container */
};

struct conn {
  int fd[2];
  struct ref ref[2];
  int pipe[2][2]; /* TCP: data read from side i waits in pipe[i] for the other side */
  size_t pending[2], room;
  int eof[2];
  int shut[2];
  /* UDP session */
  struct sockaddr_in client;
  time_t last;
  int dead;
  struct conn *next;
  struct conn *grave;
};

static int ep;
static int transparent = 1;
static struct conn *udp_sessions;
/* Closed in this epoll batch, freed after it: a later event of the batch may still name them. */
static struct conn *graveyard;

static int parse_spec(const char *spec, struct fwd *f, struct sockaddr_in *host) {
  char copy[256];
  snprintf(copy, sizeof copy, "%s", spec);
  char *parts[5];
  char *save = NULL;
  int n = 0;
  for (char *t = strtok_r(copy, ":", &save); t && n < 5; t = strtok_r(NULL, ":", &save)) parts[n++] = t;
  if (n != 5) return -1;
  f->proto = strcmp(parts[0], "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
  memset(host, 0, sizeof *host);
  host->sin_family = AF_INET;
  host->sin_port = htons((uint16_t)atoi(parts[2]));
  if (inet_pton(AF_INET, parts[1], &host->sin_addr) != 1) return -1;
  memset(&f->target, 0, sizeof f->target);
  f->target.sin_family = AF_INET;
  f->target.sin_port = htons((uint16_t)atoi(parts[4]));
  if (inet_pton(AF_INET, parts[3], &f->target.sin_addr) != 1) return -1;
  return 0;
}

static void watch(int fd, struct ref *r, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = r};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void close_conn(struct conn *c) {
  if (c->dead) return;
  c->dead = 1;
  for (int i = 0; i < 2; i++) {
    if (c->fd[i] >= 0) close(c->fd[i]);
    c->fd[i] = -1;
    for (int k = 0; k < 2; k++) {
      if (c->pipe[i][k] > 0) close(c->pipe[i][k]);
      c->pipe[i][k] = -1;
    }
  }
  c->grave = graveyard;
  graveyard = c;
}

static void bury(void) {
  while (graveyard) {
    struct conn *c = graveyard;
    graveyard = c->grave;
    free(c);
  }
}

/* Interest of side i: read while its pipe has room and it has not ended; write while the other side's pipe holds data. */
static void rearm(struct conn *c) {
  for (int i = 0; i < 2; i++) {
    uint32_t ev = 0;
    if (!c->eof[i] && c->pending[i] < c->room) ev |= EPOLLIN;
    if (c->pending[1 - i] > 0) ev |= EPOLLOUT;
    watch(c->fd[i], &c->ref[i], ev);
  }
}

static void tcp_event(struct conn *c, int side, uint32_t events) {
  if (c->dead) return;
  /* A reset connection: nothing more goes through either way (and a level-triggered error would spin). */
  if (events & EPOLLERR) { close_conn(c); return; }
  if ((events & (EPOLLIN | EPOLLHUP)) && !c->eof[side] && c->pending[side] < c->room) {
    ssize_t n = splice(c->fd[side], NULL, c->pipe[side][1], NULL, c->room - c->pending[side], SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) c->pending[side] += (size_t)n;
    else if (n == 0) c->eof[side] = 1;
    else if (errno != EAGAIN && errno != EINTR) { close_conn(c); return; }
  }
  /* Flush whatever is pending in both directions; pass an end on once its data is through. */
  for (int from = 0; from < 2; from++) {
    while (c->pending[from] > 0) {
      ssize_t w = splice(c->pipe[from][0], NULL, c->fd[1 - from], NULL, c->pending[from], SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (w < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        close_conn(c);
        return;
      }
      c->pending[from] -= (size_t)w;
    }
    if (c->eof[from] && c->pending[from] == 0 && !c->shut[from]) {
      shutdown(c->fd[1 - from], SHUT_WR);
      c->shut[from] = 1;
    }
  }
  if (c->shut[0] && c->shut[1]) { close_conn(c); return; }
  rearm(c);
}

/* A socket towards the container that carries the client's own address
 * (IP_TRANSPARENT; the rootless namespace routes the replies back to it, see
 * bridge-netns.ts), so the server sees who connected. Loopback clients cannot
 * be shown as such (the container would answer its own loopback): they, and
 * any failure here, get a plain socket from the gateway address. */
static int target_socket(const struct sockaddr_in *client) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || !transparent || !client || (ntohl(client->sin_addr.s_addr) >> 24) == 127) return fd;
  int one = 1;
  /* The mark lets nftables remember the connection as the forwarder's (ct mark), and only its replies are diverted. */
  int mark = PORTFWD_SOCKET_MARK;
  if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) == 0 && setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof one) == 0) {
    if (bind(fd, (const struct sockaddr *)client, sizeof *client) == 0) return fd;
    struct sockaddr_in any_port = *client;
    any_port.sin_port = 0;
    if (bind(fd, (const struct sockaddr *)&any_port, sizeof any_port) == 0) return fd;
  }
  close(fd);
  return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void tcp_accept(struct fwd *f) {
  for (;;) {
    struct sockaddr_in client;
    socklen_t cl = sizeof client;
    int cfd = accept4(f->fd, (struct sockaddr *)&client, &cl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (cfd < 0) return;
    int tfd = target_socket(cl == sizeof client && client.sin_family == AF_INET ? &client : NULL);
    if (tfd < 0 || (connect(tfd, (struct sockaddr *)&f->target, sizeof f->target) < 0 && errno != EINPROGRESS)) {
      if (tfd >= 0) close(tfd);
      close(cfd);
      continue;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c || pipe2(c->pipe[0], O_NONBLOCK | O_CLOEXEC) < 0) {
      free(c);
      close(cfd); close(tfd);
      continue;
    }
    if (pipe2(c->pipe[1], O_NONBLOCK | O_CLOEXEC) < 0) {
      close(c->pipe[0][0]); close(c->pipe[0][1]); free(c);
      close(cfd); close(tfd);
      continue;
    }
    /* A bigger pipe means fewer wake-ups; the kernel may refuse (per-user pipe limits): keep what it gives. */
    int size0 = fcntl(c->pipe[0][1], F_SETPIPE_SZ, PIPE_BYTES), size1 = fcntl(c->pipe[1][1], F_SETPIPE_SZ, PIPE_BYTES);
    if (size0 < 0) size0 = fcntl(c->pipe[0][1], F_GETPIPE_SZ);
    if (size1 < 0) size1 = fcntl(c->pipe[1][1], F_GETPIPE_SZ);
    c->room = size0 > 0 && size1 > 0 ? (size_t)(size0 < size1 ? size0 : size1) : 65536;
    c->fd[0] = cfd;
    c->fd[1] = tfd;
    for (int i = 0; i < 2; i++) c->ref[i] = (struct ref){.kind = K_TCP, .fwd = f, .conn = c, .side = i};
    rearm(c);
  }
}

static void udp_from_host(struct fwd *f) {
  char buf[BUF];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(f->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) return;
    struct conn *s = udp_sessions;
    while (s && !(s->ref[0].fwd == f && s->client.sin_port == from.sin_port && s->client.sin_addr.s_addr == from.sin_addr.s_addr)) s = s->next;
    if (!s) {
      int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      if (connect(fd, (struct sockaddr *)&f->target, sizeof f->target) < 0) { close(fd); continue; }
      s = calloc(1, sizeof *s);
      if (!s) { close(fd); continue; }
      s->fd[0] = fd;
      s->fd[1] = -1;
      s->client = from;
      s->ref[0] = (struct ref){.kind = K_UDP_SESSION, .fwd = f, .conn = s};
      s->next = udp_sessions;
      udp_sessions = s;
      watch(fd, &s->ref[0], EPOLLIN);
    }
    s->last = time(NULL);
    send(s->fd[0], buf, (size_t)n, 0);
  }
}

static void udp_from_container(struct conn *s) {
  if (s->dead) return;
  char buf[BUF];
  ssize_t n;
  while ((n = recv(s->fd[0], buf, sizeof buf, 0)) >= 0) {
    s->last = time(NULL);
    sendto(s->ref[0].fwd->fd, buf, (size_t)n, 0, (struct sockaddr *)&s->client, sizeof s->client);
  }
}

static void udp_expire(void) {
  time_t now = time(NULL);
  for (struct conn **p = &udp_sessions; *p;) {
    if (now - (*p)->last > UDP_IDLE_SECS) {
      struct conn *dead = *p;
      *p = dead->next;
      close_conn(dead);
    } else p = &(*p)->next;
  }
}

/* The forwarder of this container's previous run (restart) ends by itself when
 * that run's first process did, a moment later: end it now, so its ports are
 * free to bind. It is known by PID_FILE in its command line. */
static void end_previous(const char *pid_file) {
  char *text = read_small_file(pid_file, NULL);
  pid_t old = text ? (pid_t)atoi(text) : 0;
  free(text);
  if (old <= 1 || old == getpid()) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)old);
  size_t len = 0;
  char *cmd = read_small_file(path, &len);
  int mine = 0;
  for (size_t off = 0; cmd && off < len; off += strlen(cmd + off) + 1) mine |= strcmp(cmd + off, pid_file) == 0;
  free(cmd);
  if (!mine) return;
  int pidfd = (int)syscall(SYS_pidfd_open, old, 0);
  if (pidfd < 0) return;
  kill(old, SIGTERM);
  struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
  poll(&pfd, 1, 2000);
  close(pidfd);
}

/* tspod-launch --portfwd --exit-with PID FD COMMAND...: run COMMAND with a
 * pidfd of PID at FD. slirp4netns's --exit-fd=FD then ends it when the
 * container's first process does (a pidfd polls readable at exit), instead of
 * with the monitor: its tap0 carries the forwarded ports. */
static int exit_with_main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tspod-launch --portfwd --exit-with PID FD COMMAND...\n");
    return 125;
  }
  pid_t pid = (pid_t)atoi(argv[0]);
  int target = atoi(argv[1]);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0 || target < 3 || dup2(pidfd, target) < 0) {
    fprintf(stderr, "cannot watch process %s: %s\n", argv[0], strerror(errno));
    return 125;
  }
  if (pidfd != target) close(pidfd);
  else fcntl(target, F_SETFD, 0); /* pidfds are close-on-exec */
  execvp(argv[2], argv + 2);
  fprintf(stderr, "cannot run %s: %s\n", argv[2], strerror(errno));
  return 127;
}

int portfwd_main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[2], "--exit-with") == 0) return exit_with_main(argc - 3, argv + 3);
  if (argc >= 3 && strcmp(argv[2], "--no-transparent") == 0) {
    transparent = 0;
    argv[2] = argv[1];
    argv++;
    argc--;
  }
  if (argc < 5) {
    fprintf(stderr, "usage: tspod-launch --portfwd [--no-transparent] NETNS WATCH_PID PID_FILE PROTO:HOSTIP:HOSTPORT:CTRIP:CTRPORT...\n");
    return 125;
  }
  const char *netns = argv[2];
  pid_t watch_pid = (pid_t)atoi(argv[3]);
  const char *pid_file = argv[4];
  int nfwd = argc - 5;
  if (nfwd > MAX_FWD) { fprintf(stderr, "too many published ports (at most %d)\n", MAX_FWD); return 125; }
  static struct fwd fwds[MAX_FWD];
  end_previous(pid_file);
  for (int i = 0; i < nfwd; i++) {
    struct sockaddr_in host;
    if (parse_spec(argv[5 + i], &fwds[i], &host) < 0) { fprintf(stderr, "invalid port forward %s\n", argv[5 + i]); return 125; }
    int fd = socket(AF_INET, fwds[i].proto | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &host.sin_addr, addr, sizeof addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&host, sizeof host) < 0 || (fwds[i].proto == SOCK_STREAM && listen(fd, 128) < 0)) {
      fprintf(stderr, "cannot listen on %s:%d/%s: %s\n", addr, ntohs(host.sin_port), fwds[i].proto == SOCK_STREAM ? "tcp" : "udp", strerror(errno));
      return 125;
    }
    fwds[i].fd = fd;
  }
  int nsfd = open(netns, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
    fprintf(stderr, "cannot enter the rootless network namespace %s: %s\n", netns, strerror(errno));
    return 125;
  }
  close(nsfd);
  int pidfd = (int)syscall(SYS_pidfd_open, watch_pid, 0);
  if (pidfd < 0) { fprintf(stderr, "cannot watch process %d: %s\n", (int)watch_pid, strerror(errno)); return 125; }

  pid_t child = fork();
  if (child < 0) { fprintf(stderr, "fork: %s\n", strerror(errno)); return 125; }
  if (child > 0) {
    FILE *pf = fopen(pid_file, "w");
    if (!pf) { kill(child, SIGKILL); fprintf(stderr, "cannot write %s: %s\n", pid_file, strerror(errno)); return 125; }
    fprintf(pf, "%d\n", (int)child);
    fclose(pf);
    return 0;
  }
  setsid();
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); if (devnull > 2) close(devnull); }
  signal(SIGPIPE, SIG_IGN);

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) _exit(1);
  static struct ref refs[MAX_FWD];
  for (int i = 0; i < nfwd; i++) {
    refs[i] = (struct ref){.kind = fwds[i].proto == SOCK_STREAM ? K_LISTEN : K_UDP_HOST, .fwd = &fwds[i]};
    watch(fwds[i].fd, &refs[i], EPOLLIN);
  }
  static struct ref watch_ref = {.kind = K_WATCH};
  watch(pidfd, &watch_ref, EPOLLIN);

  struct epoll_event events[64];
  for (;;) {
    int n = epoll_wait(ep, events, 64, udp_sessions ? 10000 : -1);
    if (n < 0 && errno != EINTR) _exit(1);
    for (int i = 0; i < n; i++) {
      struct ref *r = events[i].data.ptr;
      switch (r->kind) {
      case K_WATCH: _exit(0);
      case K_LISTEN: tcp_accept(r->fwd); break;
      case K_TCP: tcp_event(r->conn, r->side, events[i].events); break;
      case K_UDP_HOST: udp_from_host(r->fwd); break;
      case K_UDP_SESSION: udp_from_container(r->conn); break;
      }
    }
    if (udp_sessions) udp_expire();
    bury();
  }
}
