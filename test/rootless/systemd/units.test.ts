import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';
import { expandSpecifiers, ServiceRunner, splitCommandLine } from './exec-runner.js';

if (spawnSync('sh', ['-c', 'command -v systemd-analyze']).status !== 0) throw new Error('systemd-analyze is missing (apt-get install systemd)');

const sandbox = new TspodSandbox('systemd');
const home = sandbox.home;
const rootfs = path.join(home, 'rootfs');
const t = (args: string[], opts: { cwd?: string } = {}) => {
  const r = opts.cwd
    ? (() => {
        const s = spawnSync(TSPOD_BIN, args, { env: sandbox.env, cwd: opts.cwd, encoding: 'utf8' });
        return { status: s.status ?? 128, stdout: s.stdout, stderr: s.stderr };
      })()
    : sandbox.run(args);
  if (r.status !== 0) throw new Error(`tspod ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const inspect = (name: string) => JSON.parse(t(['inspect', name]))[0];

// A container that stops at once on SIGTERM, so "stops cleanly" means exit status 0.
// Single quotes inside, so that a unit's Exec="..." line carries it as one word.
const SERVER = ['sh', '-c', "trap 'exit 0' TERM; while :; do sleep 0.2; done"];

beforeAll(() => {
  fs.renameSync(makeBusyboxRootfs(home), rootfs);
});

afterAll(() => {
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

function verify(files: string[]): { status: number; stderr: string } {
  const r = spawnSync('systemd-analyze', ['verify', '--user', ...files], { env: sandbox.env, encoding: 'utf8' });
  return { status: r.status ?? 128, stderr: r.stderr };
}

describe('the test runner itself', () => {
  it('expands specifiers and environment like systemd', () => {
    const r = { unitName: 'echo@hello.service', env: { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/7' } };
    expect(expandSpecifiers('%t/%n.ctr-id %N %p %i %h 100%%', r)).toBe('/run/user/7/echo@hello.service.ctr-id echo@hello echo hello /home/u 100%');
    expect(splitCommandLine('-/bin/echo "a b" $$HOME ${X} $Y', { X: 'x y', Y: 'one two' })).toEqual({
      ignoreFailure: true,
      argv: ['/bin/echo', 'a b', '$HOME', 'x y', 'one', 'two'],
    });
  });
});

describe('generate systemd', () => {
  it('writes units that systemd-analyze verify --user accepts, with and without --new', () => {
    t(['create', '--name', 'verified', '--rootfs', rootfs, ...SERVER]);
    const dir = path.join(home, 'units-verify');
    fs.mkdirSync(dir);
    const plain = t(['generate', 'systemd', '--name', '--files', 'verified'], { cwd: dir }).trim();
    const fresh = t(['generate', 'systemd', '--new', '--name', '--files', '--container-prefix', 'new', 'verified'], { cwd: dir }).trim();
    expect(plain).toBe(path.join(dir, 'container-verified.service'));
    expect(fresh).toBe(path.join(dir, 'new-verified.service'));
    const v = verify([plain, fresh]);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
  });

  it('existing container: ExecStart starts it, ExecStop stops it cleanly', () => {
    t(['create', '--name', 'svc', '--rootfs', rootfs, ...SERVER]);
    const unit = t(['generate', 'systemd', '--name', 'svc']);
    const runner = new ServiceRunner(unit, { unitName: 'container-svc.service', env: sandbox.env });
    expect(runner.start(), runner.describe()).toBe(true);
    expect(inspect('svc').State.Status).toBe('running');
    // The PID file systemd would watch: the monitor's (checked once tspod writes it; it does not yet).
    const pidFile = runner.path('PIDFile')!;
    if (fs.existsSync(pidFile)) expect(Number(fs.readFileSync(pidFile, 'utf8').trim())).toBe(inspect('svc').State.ConmonPid);
    expect(runner.stop(), runner.describe()).toBe(true);
    const st = inspect('svc').State;
    expect(st.Status).toBe('exited');
    expect(st.ExitCode).toBe(0);
    expect(runner.log.map((l) => l.key)).toEqual(['ExecStart', 'ExecStop', 'ExecStopPost']);
  });

  it('--new: the unit creates the container, finds it through %t/%n.ctr-id, stops and removes it', () => {
    t(['create', '--name', 'fresh', '-e', 'GREETING=hello world', '--rootfs', rootfs, ...SERVER]);
    const unit = t(['generate', 'systemd', '--new', '--name', 'fresh']);
    // As with Podman, the unit replaces the container it was generated from.
    t(['rm', 'fresh']);
    const runner = new ServiceRunner(unit, { unitName: 'container-fresh.service', env: sandbox.env });
    expect(runner.start(), runner.describe()).toBe(true);
    const cidFile = expandSpecifiers('%t/%n.ctr-id', runner.r);
    const cid = fs.readFileSync(cidFile, 'utf8').trim();
    expect(inspect(cid).Name).toBe('fresh');
    expect(inspect(cid).Config.Env).toContain('GREETING=hello world');
    expect(runner.stop(), runner.describe()).toBe(true);
    expect(sandbox.run(['container', 'exists', 'fresh']).status).toBe(1);
  });
});

describe('quadlet', () => {
  const qdir = () => path.join(home, '.config', 'containers', 'systemd');
  let podPort = 0;

  beforeAll(() => {
    fs.mkdirSync(qdir(), { recursive: true });
    fs.mkdirSync(path.join(home, 'data'));
    fs.writeFileSync(
      path.join(qdir(), 'web.container'),
      `[Unit]\nDescription=web\n\n[Container]\nRootfs=${rootfs}\nExec=${SERVER.slice(0, 2).join(' ')} "${SERVER[2]}"\nEnvironment=A=1 "B=two words"\nVolume=%h/data:/data\nLabel=app=web\nAutoUpdate=local\nHealthCmd=true\n\n[Service]\nRestart=always\n\n[Install]\nWantedBy=default.target\n`,
    );
    fs.writeFileSync(path.join(qdir(), 'echo@.container'), `[Container]\nRootfs=${rootfs}\nExec=${SERVER.slice(0, 2).join(' ')} "${SERVER[2]}"\nEnvironment=INSTANCE=%i\n`);
    fs.writeFileSync(path.join(qdir(), 'data.volume'), '[Volume]\nLabel=x=y\n');
    fs.writeFileSync(path.join(qdir(), 'net.network'), '[Network]\nSubnet=10.89.7.0/24\n');
    fs.writeFileSync(path.join(qdir(), 'busy.image'), '[Image]\nImage=docker.io/library/busybox:latest\n');
    // A port nobody else is likely to hold while the suites run side by side.
    podPort = 20000 + (process.pid % 20000);
    fs.writeFileSync(path.join(qdir(), 'grp.pod'), `[Pod]\nPublishPort=${podPort}:80\n`);
    fs.writeFileSync(path.join(qdir(), 'member.container'), `[Container]\nRootfs=${rootfs}\nPod=grp.pod\nExec=sh -c "trap 'exit 0' TERM; while :; do sleep 0.2; done"\n`);
    // A Pod whose container runs from the test's root filesystem directory (tspod's annotation for --rootfs images).
    fs.writeFileSync(
      path.join(home, 'app.yaml'),
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\n  annotations:\n    io.tspod.annotations.rootfs/srv: "true"\nspec:\n  restartPolicy: Never\n  containers:\n  - name: srv\n    image: ${rootfs}\n    command: ${JSON.stringify(SERVER)}\n`,
    );
    fs.writeFileSync(path.join(qdir(), 'app.kube'), `[Kube]\nYaml=${path.join(home, 'app.yaml')}\n`);
    fs.writeFileSync(path.join(qdir(), 'odd.volume'), '[Volume]\nLabel=x=y\nShiny=yes\n');
  });

  it('--dryrun prints every service and warns about an unknown key with file and line', () => {
    const r = sandbox.run(['quadlet', '--dryrun', '--user']);
    expect(r.status).toBe(0);
    for (const u of ['web.service', 'echo@.service', 'data-volume.service', 'net-network.service', 'busy-image.service', 'grp-pod.service', 'member.service', 'app.service', 'odd-volume.service']) {
      expect(r.stdout).toContain(`---${u}---`);
    }
    expect(r.stderr).toBe(`tspod quadlet: ${path.join(qdir(), 'odd.volume')}:3: unsupported key 'Shiny' in group 'Volume'\n`);
  });

  it('writes services (and the default.target.wants link) that systemd-analyze verify --user accepts', () => {
    const out = path.join(home, 'generator-out');
    const r = sandbox.run(['quadlet', '--user', out, `${out}-early`, `${out}-late`]);
    expect(r.status).toBe(0);
    expect(fs.readlinkSync(path.join(out, 'default.target.wants', 'web.service'))).toBe('../web.service');
    const units = fs.readdirSync(out).filter((f) => f.endsWith('.service') && !f.includes('@')).map((f) => path.join(out, f));
    expect(units).toHaveLength(8);
    const v = verify(units);
    expect(v.stderr).toBe('');
    expect(v.status).toBe(0);
  });

  it('the web service runs: %h volume, environment, found through %t/%N.cid, stopped cleanly', () => {
    const out = path.join(home, 'generator-run');
    sandbox.run(['quadlet', '--user', out]);
    const runner = new ServiceRunner(fs.readFileSync(path.join(out, 'web.service'), 'utf8'), { unitName: 'web.service', env: sandbox.env });
    expect(runner.start(), runner.describe()).toBe(true);
    const cid = fs.readFileSync(expandSpecifiers('%t/%N.cid', runner.r), 'utf8').trim();
    const info = inspect(cid);
    expect(info.Name).toBe('systemd-web');
    expect(info.State.Status).toBe('running');
    expect(info.Config.Env).toEqual(expect.arrayContaining(['A=1', 'B=two words']));
    // %h/data is the volume: what the container writes there lands in the user's home.
    expect(sandbox.run(['exec', cid, 'sh', '-c', 'echo from-web > /data/mark']).status).toBe(0);
    expect(fs.readFileSync(path.join(home, 'data', 'mark'), 'utf8')).toBe('from-web\n');
    expect(runner.stop(), runner.describe()).toBe(true);
    expect(sandbox.run(['container', 'exists', 'systemd-web']).status).toBe(1);
  });

  it('a template instance gets %i', () => {
    const out = path.join(home, 'generator-template');
    sandbox.run(['quadlet', '--user', out]);
    const runner = new ServiceRunner(fs.readFileSync(path.join(out, 'echo@.service'), 'utf8'), { unitName: 'echo@hello.service', env: sandbox.env });
    expect(runner.start(), runner.describe()).toBe(true);
    expect(inspect('systemd-echo_hello').Config.Env).toContain('INSTANCE=hello');
    expect(runner.stop(), runner.describe()).toBe(true);
  });

  it('the .pod unit runs a pod (found through %t/%N.pod-id and its PIDFile), a .container with Pod= joins it, both stop cleanly', () => {
    const out = path.join(home, 'generator-pod');
    sandbox.run(['quadlet', '--user', out]);
    const pod = new ServiceRunner(fs.readFileSync(path.join(out, 'grp-pod.service'), 'utf8'), { unitName: 'grp-pod.service', env: sandbox.env });
    const member = new ServiceRunner(fs.readFileSync(path.join(out, 'member.service'), 'utf8'), { unitName: 'member.service', env: sandbox.env });
    try {
      expect(pod.start(), pod.describe()).toBe(true);
      const podId = fs.readFileSync(expandSpecifiers('%t/%N.pod-id', pod.r), 'utf8').trim();
      const info = JSON.parse(t(['pod', 'inspect', podId]));
      expect(info).toMatchObject({ Name: 'systemd-grp', State: 'Running', ExitPolicy: 'stop' });
      // Quadlet names the infra container after the pod, as Podman's does.
      expect(inspect(info.InfraContainerID).Name).toBe('systemd-grp-infra');
      expect(info.InfraConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: String(podPort) }] });
      // Type=forking: systemd watches the infra container's monitor through PIDFile=.
      expect(Number(fs.readFileSync(pod.path('PIDFile')!, 'utf8'))).toBe(inspect(info.InfraContainerID).State.ConmonPid);
      expect(member.start(), member.describe()).toBe(true);
      const cid = fs.readFileSync(expandSpecifiers('%t/%N.cid', member.r), 'utf8').trim();
      expect(inspect(cid).State.Status).toBe('running');
      expect(JSON.parse(t(['pod', 'inspect', 'systemd-grp'])).Containers.map((c: { Name: string }) => c.Name)).toContain('systemd-member');
      expect(t(['exec', 'systemd-member', 'hostname']).trim()).toBe('systemd-grp');
      expect(member.stop(), member.describe()).toBe(true);
    } finally {
      expect(pod.stop(), pod.describe()).toBe(true);
    }
    expect(sandbox.run(['pod', 'exists', 'systemd-grp']).status).toBe(1);
    expect(sandbox.run(['container', 'exists', 'systemd-member']).status).toBe(1);
    expect(pod.log.map((l) => [l.key, l.status])).toEqual([['ExecStartPre', 0], ['ExecStart', 0], ['ExecStop', 0], ['ExecStopPost', 0]]);
  }, 120_000);

  it('the .kube unit plays its YAML with a service container and kube down takes everything away', () => {
    const out = path.join(home, 'generator-kube');
    sandbox.run(['quadlet', '--user', out]);
    const unit = new ServiceRunner(fs.readFileSync(path.join(out, 'app.service'), 'utf8'), { unitName: 'app.service', env: sandbox.env });
    try {
      expect(unit.start(), unit.describe()).toBe(true);
      expect(unit.log[0].stdout).toMatch(/^Pod:\n[0-9a-f]{64}\nContainer:\n[0-9a-f]{64}\n\n$/);
      expect(inspect('app-srv').State.Status).toBe('running');
      expect(JSON.parse(t(['pod', 'inspect', 'app'])).State).toBe('Running');
      // The service container systemd would follow (its monitor says READY under Type=notify).
      const services = JSON.parse(t(['ps', '--format', 'json'])).filter((c: { Names: string[] }) => c.Names[0].endsWith('-service'));
      expect(services).toHaveLength(1);
      expect(services[0].Labels['io.tspod.kube.yaml']).toBe(path.join(home, 'app.yaml'));
    } finally {
      expect(unit.stop(), unit.describe()).toBe(true);
    }
    expect(sandbox.run(['pod', 'exists', 'app']).status).toBe(1);
    expect(t(['ps', '-a', '--format', '{{.Names}}'])).not.toMatch(/app-srv|-service/);
  }, 120_000);
});
