#ifndef TSPOD_CONTAINER_H
#define TSPOD_CONTAINER_H

/* `tspod-launch --container`: the container spec arrives as JSON on fd 3 and
 * events leave as JSON lines on fd 4 ({"event":"started","pid":N},
 * {"event":"error",...}, {"event":"exited","exitCode":N}). The launcher clones
 * the container's init with fresh namespaces, forwards signals to it, waits,
 * and exits with the container's status. */
int container_main(void);

#endif
