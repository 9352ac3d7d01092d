/* tspod-launch: the single-threaded front of every tspod invocation.
 *
 *   tspod-launch ENTRY.js ARGS...   join the rootless namespaces if a valid pause
 *                                   process holds them, then exec Node on ENTRY.js
 *   tspod-launch --create-userns    start the pause process (parameters as JSON
 *                                   on stdin, result as JSON on stdout)
 *   tspod-launch --monitor          start and watch a container (parameters
 *                                   as JSON on fd 3, events as JSON lines on fd 4)
 *   tspod-launch --exec             run a process in a running container (same)
 *   tspod-launch --portfwd ...      published ports of a container on a user
 *                                   network (portfwd.c)
 *   tspod-launch --netpool ...      a pre-started pasta for the next container
 *                                   (netpool.c)
 *
 * Node is multithreaded and can never setns into a user namespace itself, so the
 * join happens here, before Node starts. TypeScript decides; this carries out. */
#define _GNU_SOURCE
#include "exec.h"
#include "monitor.h"
#include "netpool.h"
#include "portfwd.h"
#include "userns.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void export_uint(const char *name, unsigned value) {
  char buf[24];
  snprintf(buf, sizeof buf, "%u", value);
  setenv(name, buf, 1);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--create-userns") == 0) return userns_create_main();
  if (argc >= 2 && strcmp(argv[1], "--monitor") == 0) return monitor_main();
  if (argc >= 2 && strcmp(argv[1], "--exec") == 0) return exec_main();
  if (argc >= 2 && strcmp(argv[1], "--portfwd") == 0) return portfwd_main(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "--netpool") == 0) return netpool_main(argc, argv);
  if (argc < 2) {
    fprintf(stderr, "Error: tspod-launch needs the path of tspod's JavaScript entry point; run tspod instead.\n");
    return 125;
  }

  uid_t uid = getuid();
  gid_t gid = getgid();
  /* Already uid 0 means real root (rootful) or already inside our namespace. */
  if (uid != 0 && getenv("_TSPOD_USERNS_JOINED") == NULL) {
    export_uint("_TSPOD_ROOTLESS_UID", uid);
    export_uint("_TSPOD_ROOTLESS_GID", gid);
    if (userns_join_if_held(uid) == 1) setenv("_TSPOD_USERNS_JOINED", "1", 1);
  }

  /* Node loads NODE_EXTRA_CA_CERTS at start-up, 60 ms for a system bundle, on
   * every command; tspod needs it only for registry TLS, where
   * src/image/registry/tls.ts reads it from TSPOD_EXTRA_CA_CERTS. */
  const char *extra_ca = getenv("NODE_EXTRA_CA_CERTS");
  if (extra_ca && extra_ca[0]) {
    setenv("TSPOD_EXTRA_CA_CERTS", extra_ca, 1);
    unsetenv("NODE_EXTRA_CA_CERTS");
  }

  const char *node = getenv("TSPOD_NODE");
  if (!node || !node[0]) node = "node";
  /* "--" ends Node's own options: Node 20 otherwise acts on an --env-file anywhere
   * in the command line, even among the script's arguments (run --env-file). */
  /* A young generation of at most 2 x 4 MiB instead of V8's 2 x 16 MiB: a pull
   * allocates fast enough to grow it to the full size, which then stayed resident
   * (bench/pull.ts, 477 MB five-layer image: peak RSS 143 -> 122-125 MB, CPU 4.4 -> 3.95 s).
   * Code caches are keyed by V8's flags, and every command starts here, so they agree. */
  /* `pull` runs without V8's optimising compiler (--max-opt=2: the interpreter and the
   * baseline compiler only; WebAssembly keeps its own tiers). In the second or two a
   * pull lasts, TurboFan spent ~0.35 s of CPU compiling the tar and unpack code, often
   * twice, on a machine whose cores the pull keeps busy (bench/pull.ts, Debian minbase,
   * 2 cores, 2 x 8 interleaved runs: 6-7% less wall time, 200 ms less CPU, 4 MB less
   * memory). The command word is found as src/entry.ts finds it (the first argument
   * that is not an option), so each word's code cache is always made under the same
   * flags. */
  const char *word = NULL;
  for (int i = 2; i < argc && !word; i++)
    if (argv[i][0] != '-') word = argv[i];
  int no_turbofan = word && strcmp(word, "pull") == 0;
  char **nargv = calloc((size_t)argc + 5, sizeof *nargv);
  if (!nargv) return 125;
  int n = 0;
  nargv[n++] = (char *)node;
  nargv[n++] = "--max-semi-space-size=4";
  if (no_turbofan) nargv[n++] = "--max-opt=2";
  nargv[n++] = "--";
  for (int i = 1; i < argc; i++) nargv[n++] = argv[i];
  nargv[n] = NULL;
  execvp(node, nargv);
  fprintf(stderr, "Error: cannot start Node.js (%s): %s; install Node.js 20 or newer, or set TSPOD_NODE.\n", node, strerror(errno));
  return 127;
}
