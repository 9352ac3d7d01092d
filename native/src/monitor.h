#ifndef TSPOD_MONITOR_H
#define TSPOD_MONITOR_H

/* `tspod-launch --monitor`: the per-container monitor (the role conmon plays
 * for Podman). Parameters as JSON on fd 3:
 *   {"spec": {...container spec...}, "logPath": "...", "exitFile": "...",
 *    "detach": bool, "interactive": bool, "cleanup": ["argv", ...] | null}
 * Events as JSON lines on fd 4: started (pid, monitorPid), error, exited.
 * It holds the container's stdout and stderr, writes them to the log in
 * Kubernetes' k8s-file format (and, in the foreground, to its own stdout and
 * stderr), records the exit status in exitFile, and, detached, runs the cleanup
 * command when the container is gone. */
int monitor_main(void);

#endif
