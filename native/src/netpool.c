/* tspod-launch --netpool ENTRY IDLE_SECS PAUSE_PID PAUSE_START -- PASTA ARGS...
 *
 * Keeps one network namespace ready with pasta already attached, so that the
 * next `run` in the default network mode does not wait ~150 ms for pasta to
 * start (src/network/pasta-pool.ts claims it).
 *
 * ENTRY is POOL/new-NAME, made by the caller (with its "key" file). We make a
 * network namespace, bind it to ENTRY/netns, run pasta on it (its arguments
 * name ENTRY/netns and ENTRY/pasta.pid) and, once pasta has exited 0 (it
 * daemonizes when the interface is configured), publish the entry by renaming
 * it to POOL/ready-NAME. A `run` claims it by renaming ready-NAME away (an
 * atomic rename: one winner); the container then owns pasta and the namespace
 * and tears them down as it does its own, and we leave at once.
 *
 * Unclaimed, the entry is retired (renamed to gone-NAME first, so no claim can
 * race with us) when IDLE_SECS pass, when the pause process (PAUSE_PID with
 * start time PAUSE_START; 0 for none) that holds the rootless namespaces ends,
 * or on SIGTERM: pasta is stopped and the namespace released. */
#define _GNU_SOURCE
#include "netpool.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t terminated;

static void on_term(int sig) {
  (void)sig;
  terminated = 1;
}

/* Stop pasta (if the pid is still pasta) and release the namespace in DIR. */
static void retire(const char *dir, pid_t pasta) {
  char path[PATH_MAX];
  if (pasta > 1) {
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pasta);
    char *comm = read_small_file(path, NULL);
    if (comm && strncmp(comm, "pas", 3) == 0) kill(pasta, SIGTERM);
    free(comm);
  }
  static const char *files[] = {"pasta.pid", "key", "keeper.pid", NULL};
  snprintf(path, sizeof path, "%s/netns", dir);
  umount2(path, MNT_DETACH);
  unlink(path);
  for (int i = 0; files[i]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, files[i]);
    unlink(path);
  }
  rmdir(dir);
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int netpool_main(int argc, char **argv) {
  if (argc < 8 || strcmp(argv[6], "--") != 0) {
    fprintf(stderr, "usage: tspod-launch --netpool ENTRY IDLE_SECS PAUSE_PID PAUSE_START -- PASTA ARGS...\n");
    return 125;
  }
  const char *entry = argv[2];
  long idle_secs = atol(argv[3]);
  pid_t pause_pid = (pid_t)atol(argv[4]);
  unsigned long long pause_start = strtoull(argv[5], NULL, 10);
  char **helper = argv + 7;

  const char *slash = strrchr(entry, '/');
  if (!slash || strncmp(slash + 1, "new-", 4) != 0 || idle_secs <= 0) {
    fprintf(stderr, "--netpool: ENTRY must be POOL/new-NAME and IDLE_SECS positive\n");
    return 125;
  }
  char pool[PATH_MAX], ready[PATH_MAX + 16], gone[PATH_MAX + 16], netns[PATH_MAX + 16], pid_file[PATH_MAX + 16];
  if ((size_t)(slash - entry) >= sizeof pool - 16) return 125;
  snprintf(pool, sizeof pool, "%.*s", (int)(slash - entry), entry);
  const char *name = slash + 5;
  snprintf(ready, sizeof ready, "%s/ready-%s", pool, name);
  snprintf(gone, sizeof gone, "%s/gone-%s", pool, name);
  snprintf(netns, sizeof netns, "%s/netns", entry);
  snprintf(pid_file, sizeof pid_file, "%s/pasta.pid", entry);

  struct sigaction sa = {0};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  if (chdir("/") < 0) return 125; /* pin no directory */

  /* Watch the pause process first, so that one ending while we set up is seen. */
  int pause_fd = -1;
  if (pause_pid > 1) {
    unsigned long long start = 0;
    pause_fd = (int)syscall(SYS_pidfd_open, pause_pid, 0);
    if (pause_fd < 0 || proc_start_time(pause_pid, &start) < 0 || start != pause_start) {
      retire(entry, 0);
      return 1;
    }
  }

  /* A fresh network namespace, bound to ENTRY/netns. A child makes it: we
   * could not come back to ours (owned by the initial user namespace), and
   * pasta must start from the host's network. */
  int sync[2], fd = open(netns, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
  if (fd < 0 || pipe2(sync, O_CLOEXEC) < 0) {
    fprintf(stderr, "--netpool: cannot create %s: %s\n", netns, strerror(errno));
    retire(entry, 0);
    return 1;
  }
  pid_t holder = fork();
  if (holder == 0) {
    char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
    close(sync[0]);
    if (write(sync[1], &c, 1) != 1) _exit(1);
    pause(); /* until the parent has bound the namespace and kills us */
    _exit(0);
  }
  close(sync[1]);
  char made = 'n', ns_of_holder[64];
  if (holder > 0 && read(sync[0], &made, 1) != 1) made = 'n';
  close(sync[0]);
  snprintf(ns_of_holder, sizeof ns_of_holder, "/proc/%d/ns/net", (int)holder);
  int bound = made == 'y' && mount(ns_of_holder, netns, NULL, MS_BIND, NULL) == 0;
  int saved = errno;
  if (holder > 0) { kill(holder, SIGKILL); while (waitpid(holder, NULL, 0) < 0 && errno == EINTR) {} }
  if (!bound) {
    fprintf(stderr, "--netpool: cannot make a network namespace at %s: %s\n", netns, strerror(made == 'y' ? saved : EPERM));
    retire(entry, 0);
    return 1;
  }

  pid_t h = fork();
  if (h == 0) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
    execvp(helper[0], helper);
    _exit(127);
  }
  int status = 0;
  if (h > 0) while (waitpid(h, &status, 0) < 0 && errno == EINTR) {}
  char *text = read_small_file(pid_file, NULL);
  pid_t pasta = text ? (pid_t)atol(text) : 0;
  free(text);
  if (h < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || pasta <= 1 || terminated) {
    retire(entry, pasta);
    return 1;
  }

  /* Claims show up as our ready name leaving the pool directory. */
  int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (ino < 0 || inotify_add_watch(ino, pool, IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF) < 0 || rename(entry, ready) < 0) {
    retire(entry, pasta);
    return 1;
  }

  long long deadline = now_ms() + idle_secs * 1000;
  for (;;) {
    struct stat st;
    if (lstat(ready, &st) < 0 && errno == ENOENT) return 0; /* claimed (or drained) */
    long long left = deadline - now_ms();
    if (terminated || left <= 0) break;
    struct pollfd fds[2] = {{.fd = ino, .events = POLLIN}, {.fd = pause_fd, .events = POLLIN}};
    int n = poll(fds, pause_fd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[1].revents & (POLLIN | POLLHUP))) break; /* the pause process ended */
    if (n > 0 && (fds[0].revents & POLLIN)) {
      char buf[4096];
      while (read(ino, buf, sizeof buf) > 0) {}
    }
  }
  /* Retire, unless a claim wins the rename first. */
  if (rename(ready, gone) < 0) return 0;
  retire(gone, pasta);
  return 0;
}
