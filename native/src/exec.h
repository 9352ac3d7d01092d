#ifndef TSPOD_EXEC_H
#define TSPOD_EXEC_H

/* `tspod-launch --exec`: run a process in a running container. Parameters as
 * JSON on fd 3: {"pid": <container init pid>, "process": {args, env, cwd, user,
 * capabilities, noNewPrivileges}, "terminal", "interactive", "detachKeys": [bytes]};
 * events as JSON lines on fd 4 (started, error, exited, detached), the process
 * shares the launcher's stdio (with -t, a terminal the launcher relays). */
int exec_main(void);

#endif
