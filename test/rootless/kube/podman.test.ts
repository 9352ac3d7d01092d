import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PodmanPeer } from '../../helpers/podman-peer.js';
import { freePort } from '../../helpers/registry-server.js';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';
import { fetchPage } from './helpers.js';

// The peer: podman (its own store in the sandbox, vfs, runc) plays the YAML tspod
// generates, and tspod plays the YAML podman generates, with the embedded busybox image.
const sandbox = new TspodSandbox('kube-podman');
const home = sandbox.home;
const site = path.join(home, 'site');
const image = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const peer = new PodmanPeer(home, { tmp: path.join(home, 'tmp') });
// Serves /www on port 80 of the pod; stops at once on SIGTERM.
const SERVER = ['sh', '-c', 'trap "exit 0" TERM; httpd -f -p 80 -h /www & wait'];

const podman = (args: string[]): string => peer.run(args);
const t = (args: string[]) => {
  const r = sandbox.run(args, { timeout: 120_000 });
  if (r.status !== 0) throw new Error(`tspod ${args.join(' ')} -> ${r.status}: ${r.stderr}`);
  return r.stdout;
};

beforeAll(() => {
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'index.html'), 'kube interop\n');
  podman(['load', '-q', '-i', image]);
  t(['load', '-i', image]);
}, 120_000);

afterAll(() => {
  peer.spawn(['pod', 'rm', '-a', '-f', '-t', '0'], { timeout: 60_000 });
  peer.dispose();
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
