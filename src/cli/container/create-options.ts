import { Option } from 'clipanion';
import { TspodCommand } from '../base.js';

/** The flags `run` and `create` share (Podman's container create flags). */
export abstract class ContainerCreateCommand extends TspodCommand {
  rootfs = Option.Boolean('--rootfs', false, { description: 'The first argument is a root filesystem directory, not an image' });
  name = Option.String('--name', { description: 'Assign a name to the container' });
  rm = Option.Boolean('--rm', false, { description: 'Remove the container when it exits' });
  env = Option.Array('-e,--env', [], { description: 'Set environment variables (KEY=VALUE, or KEY to take it from the host)' });
  workdir = Option.String('-w,--workdir', { description: 'Working directory inside the container' });
  hostname = Option.String('--hostname', { description: 'Set the container host name' });
  network = Option.String('--network,--net', { description: 'Network mode: pasta[:OPTIONS] (default), slirp4netns[:OPTIONS], none, host, container:NAME, ns:PATH, or user-defined networks NAME[,NAME...]' });
  ip = Option.String('--ip', { description: 'IPv4 address of the container on its (first) user-defined network' });
  ip6 = Option.String('--ip6', { description: 'IPv6 address of the container on its (first) user-defined network (one with an IPv6 subnet)' });
  macAddress = Option.String('--mac-address', { description: 'MAC address of the container on its (first) user-defined network' });
  networkAlias = Option.Array('--network-alias', [], { description: 'Another name of the container on its user-defined network' });
  volume = Option.Array('-v,--volume', [], { description: 'Bind mount a host path or a named volume ([SOURCE:]DEST[:ro,rw,z,Z,U])' });
  mount = Option.Array('--mount', [], { description: 'Attach a mount: type=bind|volume|tmpfs,source=,target=[,readonly]' });
  tmpfs = Option.Array('--tmpfs', [], { description: 'Mount a temporary filesystem (DEST[:OPTIONS])' });
  init = Option.Boolean('--init', false, { description: 'Run an init inside the container that forwards signals and reaps processes' });
  restart = Option.String('--restart', { description: 'Restart policy: no, on-failure[:N], always, unless-stopped' });
  dns = Option.Array('--dns', [], { description: 'Set custom DNS servers' });
  dnsSearch = Option.Array('--dns-search', [], { description: 'Set custom DNS search domains' });
  dnsOption = Option.Array('--dns-option', [], { description: 'Set custom DNS options' });
  addHost = Option.Array('--add-host', [], { description: 'Add a custom host-to-IP mapping (host:ip)' });
  publish = Option.Array('-p,--publish', [], { description: "Publish a container's port to the host ([IP:][HOSTPORT:]CONTAINERPORT[/PROTOCOL])" });
  user = Option.String('-u,--user', { description: 'Username or UID, and optionally group (user[:group])' });
  capAdd = Option.Array('--cap-add', [], { description: 'Add capabilities' });
  capDrop = Option.Array('--cap-drop', [], { description: 'Drop capabilities' });
  privileged = Option.Boolean('--privileged', false, { description: 'Give extended privileges to the container' });
  readOnly = Option.Boolean('--read-only', false, { description: "Make the container's root filesystem read-only" });
  labels = Option.Array('-l,--label', [], { description: 'Set metadata on the container (KEY=VALUE)' });
  interactive = Option.Boolean('-i,--interactive', false, { description: 'Keep STDIN open' });
  tty = Option.Boolean('-t,--tty', false, { description: 'Allocate a pseudo-TTY for the container' });
  stopSignal = Option.String('--stop-signal', { description: 'Signal to stop the container (default SIGTERM)' });
  stopTimeout = Option.String('--stop-timeout', { description: 'Seconds to wait before killing the container on stop (default 10)' });
  entrypoint = Option.String('--entrypoint', { description: 'Overwrite the default ENTRYPOINT of the image (a string or a JSON array)' });
  pull = Option.String('--pull', { description: 'Pull image policy: missing (default), always, never, newer' });
  tlsVerify = Option.Boolean('--tls-verify', { description: 'Require HTTPS and verify certificates when pulling' });
  publishAll = Option.Boolean('-P,--publish-all', false, { description: 'Publish all exposed ports to random ports on the host' });
  cidfile = Option.String('--cidfile', { description: 'Write the container ID to the file' });
  replace = Option.Boolean('--replace', false, { description: 'If a container with the same name exists, replace it' });
  sdnotify = Option.String('--sdnotify', { description: 'Control sd-notify behavior: conmon (the monitor says READY) or ignore' });
  healthCmd = Option.String('--health-cmd', { description: "The command 'tspod healthcheck run' runs in the container to check its health" });
  envFile = Option.Array('--env-file', [], { description: 'Read in a file of environment variables' });
  userns = Option.String('--userns', { description: 'User namespace: keep-id[:uid=N,gid=N] (your ids inside), nomap, auto[:size=N], host (default)' });
  uidmap = Option.Array('--uidmap', [], { description: 'UID map for a user namespace of its own (CONTAINER_UID:HOST_UID:SIZE, host = rootless ids)' });
  gidmap = Option.Array('--gidmap', [], { description: 'GID map for a user namespace of its own (CONTAINER_GID:HOST_GID:SIZE)' });
  volumesFrom = Option.Array('--volumes-from', [], { description: "Mount the volumes of another container (CONTAINER[:ro|rw])" });
  pod = Option.String('--pod', { description: 'Run the container in an existing pod (new:NAME creates it)' });
  image = Option.String({ name: 'IMAGE' });
  command = Option.Proxy({ name: 'COMMAND' });

  /** Validate the flags and record the container. */
  protected async createRecord() {
    const { createFromOptions } = await import('../../runtime/create.js');
    return createFromOptions(this.globals, {
      rootfs: this.rootfs,
      image: this.image,
      name: this.name,
      rm: this.rm,
      env: this.env,
      workdir: this.workdir,
      hostname: this.hostname,
      network: this.network,
      ip: this.ip,
      ip6: this.ip6,
      macAddress: this.macAddress,
      networkAlias: this.networkAlias,
      user: this.user,
      capAdd: this.capAdd,
      capDrop: this.capDrop,
      privileged: this.privileged,
      readOnly: this.readOnly,
      labels: this.labels,
      interactive: this.interactive,
      tty: this.tty,
      stopSignal: this.stopSignal,
      stopTimeout: this.stopTimeout,
      command: this.command,
      publish: this.publish,
      publishAll: this.publishAll,
      cidfile: this.cidfile,
      replace: this.replace,
      envFile: this.envFile,
      sdnotify: this.sdnotify,
      healthCmd: this.healthCmd,
      restart: this.restart,
      init: this.init,
      dns: this.dns,
      dnsSearch: this.dnsSearch,
      dnsOption: this.dnsOption,
      addHost: this.addHost,
      entrypoint: this.entrypoint,
      pull: this.pull,
      tlsVerify: this.tlsVerify,
      volume: this.volume,
      mount: this.mount,
      tmpfs: this.tmpfs,
      userns: this.userns,
      uidmap: this.uidmap,
      gidmap: this.gidmap,
      volumesFrom: this.volumesFrom,
      pod: this.pod,
    });
  }
}
