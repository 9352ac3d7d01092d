#define _GNU_SOURCE
#include "json.h"
#include "userns.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void report_error(const char *what, int err) {
  char msg[512], escaped[1100];
  if (err) snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  else snprintf(msg, sizeof msg, "%s", what);
  json_escape_to(escaped, sizeof escaped, msg);
  printf("{\"error\":%s}\n", escaped);
  fflush(stdout);
}

/* Run a helper (newuidmap/newgidmap) with "PID inside outside count ..." and wait. */
static int run_map_helper(const char *helper, pid_t pid, const json_value *map, char *why, size_t whylen) {
  size_t argc = 2 + map->count * 3 + 1;
  char **argv = calloc(argc, sizeof *argv);
  char pidbuf[24];
  if (!argv) return -1;
  snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
  argv[0] = (char *)helper;
  argv[1] = pidbuf;
  size_t a = 2;
  for (size_t i = 0; i < map->count; i++) {
    const json_value *m = map->items[i];
    const char *keys[3] = {"containerId", "hostId", "size"};
    for (int k = 0; k < 3; k++) {
      char *num = malloc(24);
      if (!num) return -1;
      snprintf(num, 24, "%.0f", json_get_number(m, keys[k], 0));
      argv[a++] = num;
    }
  }
  argv[a] = NULL;
  pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); }
    execv(helper, argv);
    fprintf(stderr, "cannot run %s: %s\n", helper, strerror(errno));
    _exit(127);
  }
  int status;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  for (size_t i = 2; i < a; i++) free(argv[i]);
  free(argv);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(why, whylen, "%s failed (exit status %d)", helper, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return -1;
  }
  return 0;
}

/* Without a helper, an unprivileged process may map exactly its own id. */
static int write_own_map(pid_t pid, const char *file, const json_value *map, char *why, size_t whylen) {
  char path[64], line[96];
  if (map->count != 1) { snprintf(why, whylen, "a %s without newuidmap/newgidmap can hold one id only", file); return -1; }
  const json_value *m = map->items[0];
  snprintf(line, sizeof line, "%.0f %.0f %.0f\n", json_get_number(m, "containerId", 0),
           json_get_number(m, "hostId", 0), json_get_number(m, "size", 1));
  if (strcmp(file, "gid_map") == 0) {
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write_all(fd, "deny", 4) < 0) { snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno)); if (fd >= 0) close(fd); return -1; }
    close(fd);
  }
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write_all(fd, line, strlen(line)) < 0) { snprintf(why, whylen, "cannot write %s: %s", path, strerror(errno)); if (fd >= 0) close(fd); return -1; }
  close(fd);
  return 0;
}

static int apply_map(pid_t pid, const json_value *cfg, const char *key, const char *helper_key, const char *file,
                     char *why, size_t whylen) {
  const json_value *map = json_get(cfg, key);
  if (!map || map->type != JSON_ARRAY || map->count == 0) { snprintf(why, whylen, "no %s given", key); return -1; }
  const char *helper = json_get_string(cfg, helper_key, NULL);
  return helper ? run_map_helper(helper, pid, map, why, whylen) : write_own_map(pid, file, map, why, whylen);
}

/* The pause process: it only keeps the namespaces alive. */
static void become_pause(void) {
  setsid();
  if (chdir("/") < 0) _exit(1);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
  for (int fd = 3; fd < 1024; fd++) close(fd);
  prctl(PR_SET_NAME, "tspod-pause", 0, 0, 0);
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  for (;;) pause();
}

int userns_create_main(void) {
  char err[256];
  char *input = read_fd_all(0, NULL);
  if (!input) { report_error("cannot read the namespace parameters", errno); return 1; }
  json_value *cfg = json_parse(input, err, sizeof err);
  free(input);
  if (!cfg) { report_error(err, 0); return 1; }

  int to_child[2], to_parent[2];
  if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(to_parent, O_CLOEXEC) < 0) { report_error("pipe", errno); return 1; }

  pid_t pid = fork();
  if (pid < 0) { report_error("fork", errno); return 1; }
  if (pid == 0) {
    char go;
    close(to_child[1]);
    close(to_parent[0]);
    char status = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 'u' : 'e';
    int saved = errno;
    if (write_all(to_parent[1], &status, 1) < 0 || status != 'u') _exit(saved ? saved : 1);
    if (read(to_child[0], &go, 1) != 1 || go != 'g') _exit(1);
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) _exit(1);
    close(to_parent[1]);
    close(to_child[0]);
    become_pause();
  }
  close(to_child[0]);
  close(to_parent[1]);

  char status = 0;
  if (read(to_parent[0], &status, 1) != 1 || status != 'u') {
    int st;
    waitpid(pid, &st, 0);
    report_error("cannot create a user namespace (unshare)", WIFEXITED(st) ? WEXITSTATUS(st) : 0);
    return 1;
  }
  char why[512] = "";
  if (apply_map(pid, cfg, "uidMap", "newuidmap", "uid_map", why, sizeof why) < 0 ||
      apply_map(pid, cfg, "gidMap", "newgidmap", "gid_map", why, sizeof why) < 0) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    report_error(why[0] ? why : "cannot write the id mappings", why[0] ? 0 : errno);
    return 1;
  }
  if (write_all(to_child[1], "g", 1) < 0) { report_error("cannot release the pause process", errno); return 1; }
  close(to_child[1]);
  /* Wait until the child has taken its ids and closed its end: it is then ready to be joined. */
  char dummy;
  while (read(to_parent[0], &dummy, 1) < 0 && errno == EINTR) {}
  unsigned long long start = 0;
  if (proc_start_time(pid, &start) < 0) { report_error("the pause process died at start", errno); return 1; }
  printf("{\"pid\":%d,\"startTime\":%llu}\n", (int)pid, start);
  fflush(stdout);
  json_free(cfg);
  return 0;
}
