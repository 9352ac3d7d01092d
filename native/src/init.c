/* tspod-init: the container's PID 1 for `run --init` (the role catatonit plays
 * for Podman). It starts the command, passes signals on to it, reaps every
 * orphan that the kernel hands to PID 1, and exits as the command did.
 * Linked statically: it runs inside images that may have no C library. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
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
