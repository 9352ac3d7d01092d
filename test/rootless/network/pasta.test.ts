import '../../helpers/require-unprivileged.js';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { poolIdlePids } from './net-helpers.js';

const sandbox = new TspodSandbox('pasta');
const rootfs = makeBusyboxRootfs(sandbox.home);
fs.mkdirSync(path.join(rootfs, 'www'));
fs.writeFileSync(path.join(rootfs, 'www', 'index.html'), 'hello-web\n');
const t = (args: string[]) => sandbox.run(args);

const UDP_PRINT_C = `
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) { perror("bind"); return 1; }
  char buf[2048];
  for (;;) {
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n > 0) { fwrite(buf, 1, (size_t)n, stdout); fflush(stdout); }
  }
}
`;
afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

async function retry<T>(what: string, fn: () => Promise<T>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** This sandbox's helper processes, less the pasta pool's idle entry (which belongs to no container). */
async function pastaPids(): Promise<number[]> {
  const idle = await poolIdlePids(sandbox.runDir);
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(sandbox.runDir) && fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1][0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number)
    .filter((p) => !idle.includes(p));
}

describe('pasta networking (the default)', () => {
  it('gives the container an interface besides loopback, and resolvers', () => {
    const r = t(['run', '--rm', '--rootfs', rootfs, 'sh', '-c', 'ls /sys/class/net; echo --; grep -c nameserver /etc/resolv.conf']);
    expect(r.stderr).toBe('');
    const [ifaces, count] = r.stdout.split('--\n');
    const names = ifaces.trim().split('\n');
    expect(names).toContain('lo');
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(Number(count)).toBeGreaterThan(0);
  });

  it('publishes a TCP port, reaches the server in the container, and frees everything on rm -f', async () => {
    const port = await freePort();
    const run = t(['run', '-d', '--name', 'web', '-p', `${port}:8080`, '--rootfs', rootfs, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    expect(run.stderr).toBe('');
    expect(await retry('GET through the published port', () => get(port))).toBe('hello-web\n');
    expect(t(['port', 'web']).stdout).toBe(`8080/tcp -> 0.0.0.0:${port}\n`);
    expect(t(['port', 'web', '8080']).stdout).toBe(`0.0.0.0:${port}\n`);
    expect(t(['ps', '--format', '{{.Names}} {{.Ports}}']).stdout).toBe(`web 0.0.0.0:${port}->8080/tcp\n`);
    expect((await pastaPids()).length).toBe(1);
    expect(t(['rm', '-f', 'web']).status).toBe(0);
    await retry('pasta to end', async () => expect(await pastaPids()).toEqual([]));
    // The host port is free again.
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer().once('error', reject).listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });

  it('picks a free host port when none is given', async () => {
    t(['run', '-d', '--name', 'random', '-p', '8080', '--rootfs', rootfs, 'httpd', '-f', '-p', '8080', '-h', '/www']);
    const line = t(['port', 'random']).stdout;
    const m = /^8080\/tcp -> 0\.0\.0\.0:(\d+)\n$/.exec(line);
    expect(m).not.toBeNull();
    expect(await retry('GET through the random port', () => get(Number(m![1])))).toBe('hello-web\n');
    t(['rm', '-f', 'random']);
  });

  it('publishes a UDP port', async () => {
    const port = await freePort();
    // busybox has no UDP server: build a tiny static one into the root filesystem.
    const src = path.join(sandbox.home, 'udp-print.c');
    fs.writeFileSync(src, UDP_PRINT_C);
    execFileSync('cc', ['-static', '-O2', '-o', path.join(rootfs, 'bin', 'udp-print'), src]);
    t(['run', '-d', '--name', 'udp', '-p', `${port}:9999/udp`, '--rootfs', rootfs, 'udp-print', '9999']);
    const sock = dgram.createSocket('udp4');
    try {
      await retry('a datagram to reach the container', async () => {
        await new Promise<void>((res, rej) => sock.send('ping-udp\n', port, '127.0.0.1', (e) => (e ? rej(e) : res())));
        await new Promise((r) => setTimeout(r, 200));
        expect(t(['logs', 'udp']).stdout).toContain('ping-udp');
      });
    } finally {
      sock.close();
      t(['rm', '-f', 'udp']);
    }
  });

  it('refuses a privileged host port, naming the sysctl', () => {
    const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (start === 0) return; // every port is unprivileged on this host: nothing to refuse
    const r = t(['run', '--rm', '-p', `${start - 1}:80`, '--rootfs', rootfs, 'true']);
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/net\.ipv4\.ip_unprivileged_port_start/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects malformed -p values in one line', () => {
    for (const bad of ['abc', '1:2:3:4', '70000:80', '80/sctp', '8000-8002:80-81']) {
      const r = t(['create', '-p', bad, '--rootfs', rootfs, 'true']);
      expect(r.status, bad).toBe(125);
      expect(r.stderr.trim().split('\n'), bad).toHaveLength(1);
    }
  });

  it('discards published ports with --network none, with Podman\'s warning', () => {
    const r = t(['run', '--rm', '--network', 'none', '-p', '18099:80', '--rootfs', rootfs, 'true']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/Port mappings have been discarded/);
  });
});

describe('DNS and hosts flags', () => {
  it('write --dns, --dns-search, --dns-option and --add-host into the container', () => {
    const r = t(['run', '--rm', '--dns', '9.9.9.9', '--dns-search', 'example.org', '--dns-option', 'ndots:2', '--add-host', 'db:10.1.2.3', '--rootfs', rootfs, 'sh', '-c', 'cat /etc/resolv.conf; grep -w db /etc/hosts']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('nameserver 9.9.9.9\nsearch example.org\noptions ndots:2\n10.1.2.3\tdb\n');
  });
});
