import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// The peer: podman (its own store in the sandbox, vfs, runc) plays the YAML tspod
// generates, and tspod plays the YAML podman generates, with the embedded busybox image.
const sandbox = new TspodSandbox('kube-podman');
const home = sandbox.home;
const site = path.join(home, 'site');
const image = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const podmanEnv = { PATH: process.env.PATH, HOME: path.join(home, 'podman-home'), LANG: 'C.UTF-8', TMPDIR: path.join(home, 'tmp') };
const store = ['--root', path.join(home, 'proot'), '--runroot', path.join(home, 'prun'), '--storage-driver', 'vfs', '--runtime', 'runc', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
// Serves /www on port 80 of the pod; stops at once on SIGTERM.
const SERVER = ['sh', '-c', 'trap "exit 0" TERM; httpd -f -p 80 -h /www & wait'];

function podman(args: string[]): string {
  const r = spawnSync('podman', [...store, ...args], { env: podmanEnv, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const t = (args: string[]) => {
  const r = sandbox.run(args, { timeout: 120_000 });
  if (r.status !== 0) throw new Error(`tspod ${args.join(' ')} -> ${r.status}: ${r.stderr}`);
  return r.stdout;
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function fetchPage(port: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const body = await new Promise<string>((resolve) => {
      http
        .get({ host: '127.0.0.1', port, path: '/index.html', timeout: 2000 }, (res) => {
          let b = '';
          res.on('data', (d) => (b += d));
          res.on('end', () => resolve(res.statusCode === 200 ? b : ''));
        })
        .on('error', () => resolve(''));
    });
    if (body) return body;
    await new Promise((r) => setTimeout(r, 100));
  }
  return '';
}

beforeAll(() => {
  fs.mkdirSync(podmanEnv.HOME, { recursive: true });
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'index.html'), 'kube interop\n');
  podman(['load', '-q', '-i', image]);
  t(['load', '-i', image]);
}, 120_000);

afterAll(() => {
  spawnSync('podman', [...store, 'pod', 'rm', '-a', '-f', '-t', '0'], { env: podmanEnv, timeout: 60_000 });
  spawnSync('podman', [...store, 'unshare', 'rm', '-rf', path.join(home, 'proot'), path.join(home, 'prun')], { env: podmanEnv, timeout: 60_000 });
  for (const id of sandbox.run(['pod', 'ps', '-q', '--no-trunc']).stdout.split('\n').filter(Boolean)) sandbox.run(['pod', 'rm', '-f', '-t', '0', id]);
  sandbox.dispose();
});

describe('kube YAML with podman as the peer', () => {
  it('tspod plays what podman generate kube writes, and podman plays what tspod generate kube writes', async () => {
    // podman -> tspod
    const port1 = await freePort();
    podman(['pod', 'create', '--name', 'interop', '-p', `${port1}:80`]);
    podman(['create', '--pod', 'interop', '--name', 'web', '-e', 'SIDE=podman', '-v', `${site}:/www:ro`, 'localhost/busybox', ...SERVER]);
    const fromPodman = path.join(home, 'from-podman.yaml');
    fs.writeFileSync(fromPodman, podman(['generate', 'kube', 'interop']));
    podman(['pod', 'rm', '-f', 'interop']);
    expect(t(['kube', 'play', fromPodman])).toMatch(/^Pod:\n[0-9a-f]{64}\nContainer:\n[0-9a-f]{64}\n\n$/);
    const played = JSON.parse(t(['inspect', 'interop-web']))[0];
    expect(played.Config.Env).toContain('SIDE=podman');
    expect(await fetchPage(port1)).toBe('kube interop\n');

    // tspod -> podman: the pod tspod just played, generated again
    const fromTspod = path.join(home, 'from-tspod.yaml');
    t(['generate', 'kube', '-f', fromTspod, 'interop']);
    t(['kube', 'down', fromPodman]);
    podman(['kube', 'play', fromTspod]);
    const ps = podman(['ps', '--format', '{{.Names}} {{.State}}']);
    expect(ps).toMatch(/^interop-web Up /m);
    expect(podman(['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', 'interop-web'])).toContain('SIDE=podman');
    expect(await fetchPage(port1)).toBe('kube interop\n');
    podman(['kube', 'down', fromTspod]);
  }, 240_000);
});
