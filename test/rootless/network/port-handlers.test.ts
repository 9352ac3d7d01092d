import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { addUdpPrinter, addWebRoot, freePort, get, helperPids, hostAddress, retry, sendUdp } from './net-helpers.js';

// slirp4netns's two port handlers (Podman's default, rootlesskit: tspod's forwarder;
// slirp4netns: its add_hostfwd), the forwarder's lifetime (the container's, not the
// monitor's), and slirp4netns's outbound_addr. Podman is the peer where it is installed.
const sandbox = new TspodSandbox('porthandlers');
const rootfs = makeBusyboxRootfs(sandbox.home);
addWebRoot(rootfs);
addUdpPrinter(rootfs, sandbox.home);
const t = (args: string[]) => sandbox.run(args);
const podmanName = `tspod-porthandlers-${process.pid}`;
const podman = ['podman', '--runtime', 'runc'];
const havePodman = spawnSync('sh', ['-c', 'command -v podman && command -v runc'], { stdio: 'ignore' }).status === 0;

afterAll(() => {
  t(['rm', '-a', '-f']);
  t(['network', 'rm', '-f', 'phnet']);
  if (havePodman) spawnSync(podman[0], [...podman.slice(1), 'rm', '-f', podmanName], { stdio: 'ignore' });
  sandbox.dispose();
});

/** Live forwarders (`tspod-launch --portfwd`) of this sandbox's containers. */
function forwarders(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        return cmd[1] === '--portfwd' && cmd.some((a) => a.startsWith(sandbox.runDir)) && stat[stat.lastIndexOf(') ') + 2] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

const slirps = () => helperPids('slirp4netns', sandbox.runDir);

/** The client address busybox httpd hands its CGI ("[::ffff:10.0.2.100]": it listens on IPv6). */
const peer = async (host: string, port: number) => (await get(host, port, '/cgi-bin/peer')).replace(/^\[(::ffff:)?|\]$/gm, '');

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer().once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

const web = (name: string, network: string, port: number, extra: string[] = []) =>
  t(['run', '-d', '--name', name, '--network', network, '-p', `${port}:8080`, ...extra, '--rootfs', rootfs, 'httpd', '-f', '-p', '8080', '-h', '/www']);

describe('slirp4netns port_handler=rootlesskit (the default, as in Podman)', () => {
  it('carries TCP and UDP through the forwarder; the server sees the container\'s own address, as with podman', async () => {
    const tcp = await freePort();
    const udp = await freePort();
    const run = t(['run', '-d', '--name', 'rlk', '--network', 'slirp4netns', '-p', `${tcp}:8080`, '-p', `${udp}:9999/udp`, '--rootfs', rootfs,
      'sh', '-c', 'udp-print 9999 > /tmp/udp.txt & exec httpd -f -p 8080 -h /www']);
    expect(run.stderr).toBe('');
    expect(await retry('GET through the forwarder', () => get('127.0.0.1', tcp))).toBe('hello-web\n');
    await retry('a datagram through the forwarder', async () => {
      await sendUdp(udp, 'ping-udp\n');
      await new Promise((r) => setTimeout(r, 200));
      expect(t(['exec', 'rlk', 'cat', '/tmp/udp.txt']).stdout).toContain('ping-udp');
    });
    expect(forwarders()).toHaveLength(1);
    expect(slirps()).toHaveLength(1);

    const addr = hostAddress();
    if (!addr) return;
    const seen = await retry('the CGI through the forwarder', () => peer(addr, tcp));
    expect(seen).toBe('10.0.2.100\n');
    if (!havePodman) return;
    const pport = await freePort();
    const p = spawnSync(podman[0], [...podman.slice(1), 'run', '-d', '--name', podmanName, '--network', 'slirp4netns', '-p', `${pport}:8080`, '--rootfs', rootfs,
      'httpd', '-f', '-p', '8080', '-h', '/www'], { encoding: 'utf8' });
    expect(p.status, p.stderr).toBe(0);
    expect(await retry('the CGI through podman', () => peer(addr, pport))).toBe(seen);
    spawnSync(podman[0], [...podman.slice(1), 'rm', '-f', '-t', '0', podmanName], { stdio: 'ignore' });
  });

  it('rm -f ends slirp4netns and the forwarder and frees the port', async () => {
    const tcp = Number(t(['port', 'rlk', '8080/tcp']).stdout.trim().split(':').pop());
    expect(tcp).toBeGreaterThan(0);
    expect(await portIsFree(tcp)).toBe(false);
    expect(t(['rm', '-f', 'rlk']).status).toBe(0);
    expect(forwarders()).toEqual([]);
    expect(slirps()).toEqual([]);
    expect(await portIsFree(tcp)).toBe(true);
  });

  it('port_handler=slirp4netns: add_hostfwd, no forwarder, the client\'s own address', async () => {
    const port = await freePort();
    expect(web('hostfwd', 'slirp4netns:port_handler=slirp4netns', port).stderr).toBe('');
    expect(await retry('GET through slirp4netns', () => get('127.0.0.1', port))).toBe('hello-web\n');
    expect(forwarders()).toEqual([]);
    const addr = hostAddress();
    if (addr) expect(await retry('the CGI through slirp4netns', () => peer(addr, port))).toBe(`${addr}\n`);
    expect(t(['rm', '-f', 'hostfwd']).status).toBe(0);
  });

  it('a taken host port fails the start with the reason, and leaves nothing running', async () => {
    const port = await freePort();
    const holder = net.createServer().listen(port, '0.0.0.0');
    await new Promise((r) => holder.once('listening', r));
    try {
      const r = t(['run', '--rm', '--network', 'slirp4netns', '-p', `${port}:80`, '--rootfs', rootfs, 'true']);
      expect(r.status).toBe(125);
      expect(r.stderr).toMatch(new RegExp(`^Error: .*cannot listen on 0\\.0\\.0\\.0:${port}/tcp: Address already in use\\n$`));
    } finally {
      holder.close();
    }
    expect(slirps()).toEqual([]);
    expect(forwarders()).toEqual([]);
  });
});

describe('the forwarder lives as long as the container, not its monitor', () => {
  for (const [label, network] of [['slirp4netns', 'slirp4netns'], ['a user network', 'phnet']] as const) {
    it(`${label}: a killed monitor leaves the published port working; rm -f then ends the forwarder and frees the port`, async () => {
      if (network === 'phnet') expect(t(['network', 'create', 'phnet']).status).toBe(0);
      const port = await freePort();
      const name = `orphan-${network}`;
      expect(web(name, network, port).stderr).toBe('');
      expect(await retry('GET through the published port', () => get('127.0.0.1', port))).toBe('hello-web\n');
      const monitor = Number(t(['inspect', '--format', '{{.State.ConmonPid}}', name]).stdout.trim());
      expect(monitor).toBeGreaterThan(1);
      process.kill(monitor, 'SIGKILL');
      await retry('the monitor to be gone', async () => expect(fs.existsSync(`/proc/${monitor}/cmdline`) && fs.readFileSync(`/proc/${monitor}/cmdline`, 'utf8') !== '').toBe(false));
      // Still served after the monitor is gone, by a forwarder that did not end with it.
      expect(await get('127.0.0.1', port)).toBe('hello-web\n');
      expect(forwarders()).toHaveLength(1);
      if (network === 'slirp4netns') expect(slirps()).toHaveLength(1);
      expect(t(['ps', '--format', '{{.Names}}']).stdout).toContain(name);

      expect(t(['rm', '-f', name]).status).toBe(0);
      expect(forwarders()).toEqual([]);
      expect(await portIsFree(port)).toBe(true);
      await retry('slirp4netns to end with its container', async () => expect(slirps()).toEqual([]));
    });
  }

  it('restart: one forwarder again, the same port serving', async () => {
    const port = await freePort();
    expect(web('again', 'slirp4netns', port).stderr).toBe('');
    expect(await retry('GET before the restart', () => get('127.0.0.1', port))).toBe('hello-web\n');
    for (let i = 0; i < 3; i++) expect(t(['restart', '-t', '0', 'again']).status).toBe(0);
    expect(await retry('GET after the restarts', () => get('127.0.0.1', port))).toBe('hello-web\n');
    // The previous runs' helpers end as their monitors finish: no more than one of each stays.
    await retry('one forwarder and one slirp4netns', async () => {
      expect(forwarders()).toHaveLength(1);
      expect(slirps()).toHaveLength(1);
    });
    expect(t(['rm', '-f', 'again']).status).toBe(0);
    expect(forwarders()).toEqual([]);
  });

  it('a container that ends on its own takes its forwarder with it (monitor killed first)', async () => {
    const port = await freePort();
    const r = t(['run', '-d', '--name', 'short', '--network', 'slirp4netns', '-p', `${port}:8080`, '--rootfs', rootfs, 'sh', '-c',
      'httpd -p 8080 -h /www; mkfifo /tmp/go; read x < /tmp/go']);
    expect(r.stderr).toBe('');
    expect(await retry('GET', () => get('127.0.0.1', port))).toBe('hello-web\n');
    process.kill(Number(t(['inspect', '--format', '{{.State.ConmonPid}}', 'short']).stdout.trim()), 'SIGKILL');
    // The container's first process ends (its httpd child, reparented to it, is killed with the PID namespace,
    // and so may be this exec: its status is not the point).
    t(['exec', 'short', 'sh', '-c', 'echo > /tmp/go']);
    await retry('the forwarder and slirp4netns to end with the container', async () => {
      expect(forwarders()).toEqual([]);
      expect(slirps()).toEqual([]);
    });
    expect(await portIsFree(port)).toBe(true);
    expect(t(['rm', 'short']).status).toBe(0);
  });
});

describe('slirp4netns outbound_addr', () => {
  /** A host server that answers each connection with the address it came from. */
  async function addressEcho(): Promise<{ port: number; close: () => void }> {
    const srv = net.createServer((c) => c.end(`${c.remoteAddress?.replace(/^::ffff:/, '')}\n`));
    await new Promise<void>((r) => srv.listen(0, '0.0.0.0', r));
    return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
  }

  it('binds the container\'s outgoing connections to that address or interface', async () => {
    const addr = hostAddress();
    if (!addr) return;
    const echo = await addressEcho();
    try {
      // Asynchronously: the echo server runs in this process.
      const from = async (opts: string) => {
        const r = await sandbox.runAsync(['run', '--rm', '--network', `slirp4netns${opts}`, '--rootfs', rootfs, 'nc', '-w', '10', addr, String(echo.port)]);
        expect(r.stderr, opts).toBe('');
        return r.stdout;
      };
      expect(await from('')).toBe(`${addr}\n`);
      expect(await from(':outbound_addr=127.0.0.2')).toBe('127.0.0.2\n');
      expect(await from(':outbound_addr=lo')).toBe('127.0.0.1\n');
    } finally {
      echo.close();
    }
  });

  it('refuses bad values and options in one sentence, exit 125, as Podman checks them', () => {
    for (const bad of ['outbound_addr=999.1.1.1', 'outbound_addr=no-such-if0', 'outbound_addr6=1.2.3.4', 'enable_ipv6=false,outbound_addr6=::1', 'port_handler=foo', 'bogus=1']) {
      const r = t(['create', '--network', `slirp4netns:${bad}`, '--rootfs', rootfs, 'true']);
      expect(r.status, bad).toBe(125);
      expect(r.stderr, bad).toMatch(/^Error: [^\n]+\n$/);
    }
    expect(t(['create', '--network', 'slirp4netns:enable_ipv6=true,outbound_addr6=::1', '--rootfs', rootfs, 'true']).status).toBe(0);
    expect(t(['create', '--network', 'slirp4netns:outbound_addr6=::1', '--rootfs', rootfs, 'true']).status).toBe(0); // IPv6 is on by default
    // An IPv6 host address: neither handler binds one (slirp4netns's own API refuses it too).
    for (const handler of ['rootlesskit', 'slirp4netns']) {
      const r = t(['run', '--rm', '--network', `slirp4netns:port_handler=${handler}`, '-p', '[::1]:18799:80', '--rootfs', rootfs, 'true']);
      expect(r.status, handler).toBe(125);
      expect(r.stderr, handler).toBe('Error: cannot publish on the IPv6 address ::1 with slirp4netns: give an IPv4 host address (or none), or use --network pasta\n');
    }
  });
});
