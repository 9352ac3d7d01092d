#ifndef TSPOD_NETPOOL_H
#define TSPOD_NETPOOL_H

/* `tspod-launch --netpool ENTRY IDLE_SECS PAUSE_PID PAUSE_START -- PASTA ARGS...`:
 * one pre-started network namespace with pasta attached (see netpool.c). */
int netpool_main(int argc, char **argv);

#endif
