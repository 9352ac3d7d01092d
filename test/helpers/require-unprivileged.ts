// Rootless suites must really run as an unprivileged user: as root they would prove nothing.
if (process.getuid?.() === 0) {
  throw new Error('the rootless suite must run as an unprivileged user (CI runs it as one); run it with runuser -u <user> -- npm test');
}
export {};
