#ifndef TSPOD_CONTAINER_H
#define TSPOD_CONTAINER_H
#include <stddef.h>
#include <sys/types.h>
#include "json.h"

/* Clone the container's init with fresh namespaces, set it up as the spec says
 * (mounts, pivot_root, devices, identity, capabilities) and exec its command,
 * with stdio[0..2] as its standard streams. Returns its pid once the exec has
 * happened; -1 with a sentence in err and the exit status Podman would give
 * (125, 126 not executable, 127 not found) in *fail_code otherwise. */
pid_t container_start(const json_value *spec, const int stdio[3], int console_socket, int *fail_code, char *err, size_t errlen);
/* (console_socket: with spec "terminal", where the container sends its terminal's master, else -1) */

/* Set the identity, capabilities and environment the spec gives and exec its
 * args; on failure write "EXITCODE message" to error_pipe[1] and exit. */
_Noreturn void become_process(const json_value *spec);
extern int error_pipe[2];

/* Stop the container's network helper and release its namespace file
 * (spec "network": {argv, netnsPath, pidFile}). */
void network_teardown(const json_value *net);

#endif
