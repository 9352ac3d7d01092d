import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { BUSYBOX, makeBusyboxRootfs } from '../../helpers/rootfs.js';

/** A busybox root filesystem with a web root: /www/index.html and a CGI that prints the client's address. */
export function addWebRoot(rootfs: string): void {
  fs.mkdirSync(path.join(rootfs, 'www', 'cgi-bin'), { recursive: true });
  fs.writeFileSync(path.join(rootfs, 'www', 'index.html'), 'hello-web\n');
  fs.writeFileSync(path.join(rootfs, 'www', 'cgi-bin', 'peer'), '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n%s\\n" "$REMOTE_ADDR"\n', {
    mode: 0o755,
  });
}

export function get(host: string, port: number, urlPath = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: urlPath, timeout: 5000, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error('timed out'));
      })
      .on('error', reject);
  });
}

export async function retry<T>(what: string, fn: () => Promise<T>, ms = 10_000): Promise<T> {
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

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '0.0.0.0', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export function sendUdp(port: number, text: string): Promise<void> {
  const sock = dgram.createSocket('udp4');
  return new Promise<void>((res, rej) => sock.send(text, port, '127.0.0.1', (e) => (sock.close(), e ? rej(e) : res())));
}

/** The host's first non-loopback IPv4 address (what a client on the LAN would come from). */
export function hostAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/** Live (not zombie) processes whose command line mentions `needle` and whose name is `comm` (pasta runs as pasta, pasta.avx2 or passt.avx2). */
export function helperPids(comm: 'pasta' | 'slirp4netns', needle: string): number[] {
  const name = comm === 'pasta' ? /^pas(ta|st)(\.avx2)?$/ : /^slirp4netns$/;
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        return (
          name.test(fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim()) &&
          fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle) &&
          stat.slice(stat.lastIndexOf(') ') + 2)[0] !== 'Z'
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** busybox has no UDP server: a tiny static one that prints what it receives, as /bin/udp-print. */
export function addUdpPrinter(rootfs: string, workDir: string): void {
  const src = path.join(workDir, 'udp-print.c');
  fs.writeFileSync(
    src,
    `#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
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
`,
  );
  execFileSync('cc', ['-static', '-O2', '-o', path.join(rootfs, 'bin', 'udp-print'), src]);
}

/**
 * The pasta pool's own processes under a run root (RUNROOT/netpool: the keepers
 * and their idle pastas), once no entry is still starting. Tests that count a
 * container's helpers leave these out: an idle entry belongs to no container
 * (a claimed one has left that directory and counts as the container's).
 */
export async function poolIdlePids(runRoot: string): Promise<number[]> {
  const pool = path.join(runRoot, 'netpool');
  const entries = () => (fs.existsSync(pool) ? fs.readdirSync(pool) : []);
  for (let i = 0; i < 100 && entries().some((n) => n.startsWith('new-')); i++) await new Promise((r) => setTimeout(r, 100));
  const pids: number[] = [];
  for (const name of entries()) {
    for (const file of ['keeper.pid', 'pasta.pid']) {
      try {
        pids.push(Number(fs.readFileSync(path.join(pool, name, file), 'utf8').trim()));
      } catch {
        // not written (yet, or any more)
      }
    }
  }
  return pids;
}

/**
 * A busybox httpd on the host's loopback only (its own process: a suite's event loop
 * is blocked while tspod runs), serving "from-host-loopback". What allow_host_loopback
 * or pasta's --map-gw opens to a container.
 */
export async function startLoopbackServer(busybox: string, home: string): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  const www = path.join(home, 'host-www');
  fs.mkdirSync(www);
  fs.writeFileSync(path.join(www, 'index.html'), 'from-host-loopback\n');
  const server: ChildProcess = spawn(busybox, ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', www], { stdio: 'ignore' });
  await retry('the host loopback server', () => get('127.0.0.1', port));
  return { port, stop: () => server.kill() };
}

/**
 * The host-loopback server (startLoopbackServer) for a whole suite: started before its
 * tests, stopped after them; `port()` once the tests run.
 */
export function loopbackServerForSuite(home: string): { port: () => number } {
  let server: { port: number; stop: () => void } | undefined;
  beforeAll(async () => {
    server = await startLoopbackServer(BUSYBOX!, home);
  });
  afterAll(() => server?.stop());
  return { port: () => server!.port };
}

/** A busybox root filesystem under `home` serving `page` as /www/index.html, with `timeout` (busybox wget -T crashes: bound waits with it). */
export function webRootfs(home: string, page: string): string {
  const rootfs = makeBusyboxRootfs(home);
  fs.mkdirSync(path.join(rootfs, 'www'));
  fs.writeFileSync(path.join(rootfs, 'www', 'index.html'), page);
  fs.symlinkSync('busybox', path.join(rootfs, 'bin', 'timeout'));
  return rootfs;
}
