#ifndef TSPOD_EXEC_H
#define TSPOD_EXEC_H

/* `tspod-launch --exec`: run a process in a running container. Parameters as
 * JSON on fd 3: {"pid": <container init pid>, "process": {args, env, cwd, user,
 * capabilities, noNewPrivileges}}; events as JSON lines on fd 4 (started,
 * error, exited), the process shares the launcher's stdio. */
int exec_main(void);

#endif
