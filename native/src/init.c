/* tspod-init: the container's PID 1 for `run --init` (the role catatonit plays
 * for Podman). It starts the command, passes signals on to it, reaps every
 * orphan that the kernel hands to PID 1, and exits as the command did.
 * `tspod-init -P` only waits (catatonit's pause mode): a pod's infra container
 * runs it to hold the namespaces its containers share, and exits 0 on SIGTERM,
 * SIGINT or SIGHUP.
 * Linked statically: it runs inside images that may have no C library. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int pause_forever(void) {
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  for (;;) {
    int sig;
    if (sigwait(&all, &sig) != 0) continue;
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) return 0;
    if (sig == SIGCHLD) while (waitpid(-1, NULL, WNOHANG) > 0) {}
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "-P") == 0) return pause_forever();
  int first = 1;
  if (argc > 1 && strcmp(argv[1], "--") == 0) first = 2;
  if (first >= argc) {
    fprintf(stderr, "tspod-init: no command given\n");
    return 125;
  }
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  pid_t child = fork();
  if (child < 0) {
    perror("tspod-init: fork");
    return 125;
  }
  if (child == 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[first], argv + first);
    fprintf(stderr, "tspod-init: %s: %s\n", argv[first], strerror(errno));
    _exit(errno == ENOENT ? 127 : 126);
  }
  for (;;) {
    int sig;
    if (sigwait(&all, &sig) != 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == child) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
  }
}
