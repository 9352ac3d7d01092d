import '../../helpers/require-unprivileged.js';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { addWebRoot, freePort, get, helperPids, retry } from './net-helpers.js';

const sandbox = new TspodSandbox('netmodes');
const rootfs = makeBusyboxRootfs(sandbox.home);
addWebRoot(rootfs);
const t = (args: string[]) => sandbox.run(args);

afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('--network container:NAME and ns:PATH', () => {
  it('shares the other container\'s interfaces, listening ports, hosts and resolv.conf', async () => {
    const port = await freePort();
    const run = t(['run', '-d', '--name', 'owner', '-p', `${port}:8080`, '--rootfs', rootfs, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    expect(run.stderr).toBe('');
    const owner = t(['run', '--rm', '--rootfs', rootfs, 'true']); // a bystander: its own namespace
    expect(owner.status).toBe(0);
    const ownerIfaces = t(['exec', 'owner', 'sh', '-c', 'ip -o addr | sort']).stdout;
    const r = t(['run', '--rm', '--network', 'container:owner', '--rootfs', rootfs, 'sh', '-c',
      'ip -o addr | sort; echo --; netstat -ltn | grep -c :8080; wget -qO- http://127.0.0.1:8080/; echo --; cat /etc/hosts /etc/resolv.conf']);
    expect(r.stderr).toBe('');
    const [ifaces, listening, files] = r.stdout.split('--\n');
    expect(ifaces).toBe(ownerIfaces);
    expect(listening).toBe('1\nhello-web\n');
    expect(files).toBe(t(['exec', 'owner', 'cat', '/etc/hosts', '/etc/resolv.conf']).stdout);
    // The owner's published port still serves, from the host.
    expect(await retry('GET through the owner\'s port', () => get('127.0.0.1', port))).toBe('hello-web\n');
  });

  it('records the other container by id, discards its own -p with Podman\'s warning, and keeps its own host name', () => {
    const id = t(['inspect', '--format', '{{.Id}}', 'owner']).stdout.trim();
    const c = t(['create', '--name', 'joiner', '--network', 'container:owner', '-p', '18111:80', '--hostname', 'joiner-host', '--rootfs', rootfs, 'hostname']);
    expect(c.status).toBe(0);
    expect(c.stderr).toMatch(/Port mappings have been discarded/);
    expect(t(['port', 'joiner']).stdout).toBe('');
    expect(t(['inspect', '--format', '{{.HostConfig.NetworkMode}}', 'joiner']).stdout.trim()).toBe(`container:${id}`);
    const s = t(['start', '-a', 'joiner']);
    expect(s.stdout).toBe('joiner-host\n');
    // The owner cannot go while another container lives in its namespace.
    const rm = t(['rm', '-f', 'owner']);
    expect(rm.status).toBe(125);
    expect(rm.stderr).toMatch(/has dependent containers which must be removed before it/);
    expect(t(['rm', 'joiner']).status).toBe(0);
  });

  it('refuses an unknown container, and a stopped one at start', () => {
    const r = t(['run', '--rm', '--network', 'container:no-such', '--rootfs', rootfs, 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toBe('Error: looking up container to share net namespace with: no container with name or ID "no-such" found: no such container\n');
    expect(t(['create', '--name', 'stopped', '--rootfs', rootfs, 'true']).stderr).toBe('');
    const s = t(['run', '--rm', '--network', 'container:stopped', '--rootfs', rootfs, 'true']);
    expect(s.status).toBe(125);
    expect(s.stderr).toMatch(/not running/);
    expect(s.stderr.trim().split('\n')).toHaveLength(1);
    t(['rm', 'stopped']);
  });

  it('joins a network namespace by path (ns:PATH)', () => {
    const pid = t(['inspect', '--format', '{{.State.Pid}}', 'owner']).stdout.trim();
    const r = t(['run', '--rm', '--network', `ns:/proc/${pid}/ns/net`, '--rootfs', rootfs, 'wget', '-qO-', 'http://127.0.0.1:8080/']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('hello-web\n');
    const bad = t(['run', '--rm', '--network', 'ns:/nonexistent/netns', '--rootfs', rootfs, 'true']);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/does not exist/);
    t(['rm', '-f', 'owner']);
    expect(helperPids('pasta', sandbox.runDir)).toEqual([]);
  });

  it('checks mode names and options in one line', () => {
    for (const bad of ['ns:relative', 'container:', 'none:x', 'slirp4netns:mtu=abc', 'slirp4netns:bogus=1', 'slirp4netns:allow_host_loopback=maybe', 'slirp4netns:cidr=10.0.2.0']) {
      const r = t(['create', '--network', bad, '--rootfs', rootfs, 'true']);
      expect(r.status, bad).toBe(125);
      expect(r.stderr.trim().split('\n'), bad).toHaveLength(1);
    }
  });
});
