import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildMapping, parseSubIdFile } from '../../../src/rootless/subid.js';
import { inspectCgroups } from '../../../src/system/cgroups.js';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('info');
afterAll(() => sandbox.dispose());

function infoJson(): any {
  const r = sandbox.run(['info', '--format', 'json']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

/** Mount a kernel overlay by hand inside the namespace, as an independent check of the probe. */
function kernelOverlayWorksByHand(): boolean {
  const base = fs.mkdtempSync(path.join(sandbox.home, 'overlay-check-'));
  for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(base, d));
  fs.writeFileSync(path.join(base, 'lower', 'f'), 'x');
  const script = `mount -t overlay overlay -o lowerdir=${base}/lower,upperdir=${base}/upper,workdir=${base}/work,userxattr ${base}/merged && rm ${base}/merged/f && umount ${base}/merged`;
  const r = sandbox.run(['unshare', 'sh', '-c', script]);
  return r.status === 0;
}

describe('tspod info', () => {
  it('reports the host as it is', () => {
    const info = infoJson();
    expect(info.host.kernel).toBe(os.release());
    expect(info.host.os).toBe('linux');
    expect(info.host.cpus).toBe(os.cpus().length);
    expect(info.host.hostname).toBe(os.hostname());
    expect(info.host.security.rootless).toBe(true);
    const cg = inspectCgroups();
    expect(info.host.cgroupVersion).toBe(cg.version);
    expect(info.host.cgroupMode).toBe(cg.mode);
    expect(info.host.resourceLimits).toBe(cg.resourceLimits);
    if (cg.mode === 'hybrid') expect(info.host.resourceLimitsReason).toMatch(/hybrid.*resource limits are unavailable/);
  });

  it('shows the id mappings from /etc/subuid and /etc/subgid', () => {
    const info = infoJson();
    const me = os.userInfo();
    const uid = buildMapping(me.uid, parseSubIdFile(fs.readFileSync('/etc/subuid', 'utf8'), { name: me.username, id: me.uid }));
    const gid = buildMapping(me.gid, parseSubIdFile(fs.readFileSync('/etc/subgid', 'utf8'), { name: me.username, id: me.uid }));
    const asPodman = (m: typeof uid) => m.map((x) => ({ container_id: x.containerId, host_id: x.hostId, size: x.size }));
    expect(info.host.idMappings.uidmap).toEqual(asPodman(uid));
    expect(info.host.idMappings.gidmap).toEqual(asPodman(gid));
  });

  it('chooses the graph driver by really mounting', () => {
    const info = infoJson();
    const byHand = kernelOverlayWorksByHand();
    if (byHand) {
      expect(info.store.graphDriverName).toBe('overlay');
      expect(info.store.graphStatus['Native Overlay Diff']).toBe('true');
      expect(info.store.graphOptions).toEqual({});
    } else {
      const fuse = spawnSync('sh', ['-c', 'command -v fuse-overlayfs']).status === 0;
      expect(info.store.graphDriverName).toBe(fuse ? 'overlay' : 'vfs');
    }
  });

  it('keeps the probe per user for the kernel and the store\'s file system: a new run root (a reboot) does not mount again', () => {
    infoJson();
    const cacheDir = path.join(sandbox.home, '.cache', 'tspod');
    const [file] = fs.readdirSync(cacheDir).filter((f) => /^driver-probe-\d+\.json$/.test(f));
    expect(file, 'the user-level probe result').toBeDefined();
    const probed = (runRoot: string) => {
      fs.mkdirSync(runRoot, { mode: 0o700 });
      const env = { XDG_RUNTIME_DIR: runRoot };
      const r = sandbox.run(['--log-level', 'debug', 'info', '--format', '{{.Store.GraphDriverName}}'], { env });
      sandbox.run(['system', 'migrate'], { env }); // that run root's pause process
      expect(r.status).toBe(0);
      return r.stderr.includes('graph driver probe:');
    };
    expect(probed(path.join(sandbox.home, 'run-after-reboot'))).toBe(false);
    // Another kernel: probed again.
    const rec = JSON.parse(fs.readFileSync(path.join(cacheDir, file!), 'utf8'));
    fs.writeFileSync(path.join(cacheDir, file!), JSON.stringify({ ...rec, kernel: 'an-older-kernel' }));
    expect(probed(path.join(sandbox.home, 'run-new-kernel'))).toBe(true);
  });

  it('honours --storage-driver vfs', () => {
    const r = sandbox.run(['--storage-driver', 'vfs', 'info', '--format', '{{.Store.GraphDriverName}}']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('vfs\n');
  });

  it('names the store and runtime paths and the network helpers found', () => {
    const info = infoJson();
    expect(info.store.graphRoot).toBe(path.join(sandbox.home, '.local', 'share', 'tspod'));
    expect(info.store.runRoot).toBe(sandbox.runDir);
    expect(info.store.volumePath).toBe(path.join(info.store.graphRoot, 'volumes'));
    for (const helper of ['pasta', 'slirp4netns']) {
      const where = spawnSync('sh', ['-c', `command -v ${helper}`], { encoding: 'utf8' }).stdout.trim();
      expect(info.host[helper].executable).toBe(where);
    }
  });

  it('answers Go templates the way Podman users script them', () => {
    expect(sandbox.run(['info', '--format', '{{.Host.Kernel}}']).stdout).toBe(`${os.release()}\n`);
    const driver = infoJson().store.graphDriverName;
    expect(sandbox.run(['info', '-f', '{{.Store.GraphDriverName}}']).stdout).toBe(`${driver}\n`);
    expect(sandbox.run(['info', '--format', '{{.Host.OCIRuntime.Name}}']).stdout).toBe('tspod-launch\n');
    expect(sandbox.run(['info', '--format', '{{range .Host.IDMappings.UIDMap}}{{.HostID}} {{end}}']).stdout).toMatch(
      new RegExp(`^${os.userInfo().uid} \\d+ `),
    );
  });

  it('prints YAML by default', () => {
    const r = sandbox.run(['info']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^host:\n/);
    expect(r.stdout).toMatch(/^ {2}graphDriverName: (overlay|vfs)$/m);
  });

  it('fails with one clear line on a bad template', () => {
    const r = sandbox.run(['info', '--format', '{{.Host.Kernel']);
    expect(r.status).toBe(125);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: /);
  });
});
