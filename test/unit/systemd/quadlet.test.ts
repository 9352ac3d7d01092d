import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convert, serviceName, type Warning } from '../../../src/systemd/quadlet/convert.js';
import { findQuadletFiles, generate, unitDirs, writeUnits } from '../../../src/systemd/quadlet/generator.js';
import { parseUnitFile, splitWords, type UnitFile } from '../../../src/systemd/quadlet/unitfile.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-quadlet-unit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function conv(name: string, text: string, others: Record<string, string> = {}) {
  const files = new Map<string, UnitFile>();
  for (const [n, t] of Object.entries({ ...others, [name]: text })) files.set(n, parseUnitFile(t, `/q/${n}`));
  const warnings: Warning[] = [];
  const unit = convert(files.get(name)!, { tspod: '/opt/tspod/bin/tspod', files, warnings });
  const get = (section: string, key: string) => unit.sections.filter((s) => s.name === section).flatMap((s) => s.entries).filter((e) => e.key === key).map((e) => e.value);
  return { unit, warnings, get };
}

describe('unit file syntax', () => {
  it('sections, comments, continuation lines, line numbers', () => {
    const f = parseUnitFile('# c\n[Container]\nImage=busybox\n; x\nExec=sh -c \\\n  "echo hi"\n\n[Service]\nRestart=always\n', 'f.container');
    expect(f.sections.map((s) => s.name)).toEqual(['Container', 'Service']);
    expect(f.sections[0].entries).toEqual([
      { key: 'Image', value: 'busybox', line: 3 },
      { key: 'Exec', value: 'sh -c    "echo hi"', line: 5 },
    ]);
    expect(() => parseUnitFile('Image=x\n', 'f.container')).toThrow(/f.container:1: KEY=VALUE before any \[Section\]/);
  });

  it("splits words as systemd does", () => {
    expect(splitWords(`A=1 "B=two words" 'C=it''s' D=a\\ b ""`)).toEqual(['A=1', 'B=two words', 'C=its', 'D=a b', '']);
  });
});

describe('.container', () => {
  const text = `[Unit]
Description=web

[Container]
Image=docker.io/library/busybox:latest
ContainerName=web
Exec=sh -c "echo hi; sleep 100"
Environment=A=1 "B=two words"
PublishPort=8080:80
Volume=data.volume:/data
Network=net.network
User=app
Group=app
Label=a=1 b=2
AutoUpdate=registry
HealthCmd=/bin/check --now
ReadOnly=true
AddCapability=NET_ADMIN SYS_TIME
Notify=true
WorkingDir=/srv
Frobnicate=yes

[Service]
Restart=always

[Install]
WantedBy=default.target
`;
  const others = { 'data.volume': '[Volume]\nVolumeName=mydata\n', 'net.network': '[Network]\n' };

  it('makes a notify service that runs tspod run with every key as its flag', () => {
    const { unit, get } = conv('web.container', text, others);
    expect(unit.name).toBe('web.service');
    const start = get('Service', 'ExecStart')[0];
    expect(start).toBe(
      '/opt/tspod/bin/tspod run --name=web --cidfile=%t/%N.cid --replace --rm -d --sdnotify=container --user=app:app --env A=1 --env "B=two words" --publish 8080:80 -v mydata:/data --network=systemd-net --label=a=1 --label=b=2 --label=io.containers.autoupdate=registry --health-cmd "/bin/check --now" --read-only --cap-add=NET_ADMIN --cap-add=SYS_TIME --workdir=/srv docker.io/library/busybox:latest sh -c "echo hi; sleep 100"',
    );
    expect(get('Service', 'ExecStop')).toEqual(['/opt/tspod/bin/tspod rm -v -f -i --cidfile=%t/%N.cid']);
    expect(get('Service', 'ExecStopPost')).toEqual(['-/opt/tspod/bin/tspod rm -v -f -i --cidfile=%t/%N.cid']);
    expect(get('Service', 'Type')).toEqual(['notify']);
    expect(get('Service', 'Restart')).toEqual(['always']);
    expect(get('Unit', 'Description')).toEqual(['web']);
    expect(get('Unit', 'Requires')).toEqual(['data-volume.service', 'net-network.service']);
    expect(get('Unit', 'SourcePath')).toEqual(['/q/web.container']);
    expect(get('Install', 'WantedBy')).toEqual(['default.target']);
  });

  it('warns about an unknown key with its file and line', () => {
    const { warnings } = conv('web.container', text, others);
    expect(warnings).toEqual([{ file: '/q/web.container', line: 21, message: "unsupported key 'Frobnicate' in group 'Container'" }]);
  });

  it('Rootfs= runs a root filesystem directory; the default name is systemd-%N', () => {
    const { get } = conv('app.container', '[Container]\nRootfs=/srv/rootfs\nExec=true\n');
    expect(get('Service', 'ExecStart')[0]).toBe('/opt/tspod/bin/tspod run --name=systemd-app --cidfile=%t/%N.cid --replace --rm -d --sdnotify=conmon --rootfs /srv/rootfs true');
  });
});

describe('the other kinds', () => {
  it('.volume: a oneshot volume create', () => {
    const { unit, get } = conv('data.volume', '[Volume]\nLabel=x=y\nDevice=/dev/sdb1\nType=ext4\nUser=1000\n');
    expect(unit.name).toBe('data-volume.service');
    expect(get('Service', 'ExecStart')).toEqual(['/opt/tspod/bin/tspod volume create --ignore --opt uid=1000 --label=x=y --opt device=/dev/sdb1 --opt type=ext4 systemd-data']);
    expect(get('Service', 'Type')).toEqual(['oneshot']);
    expect(get('Service', 'RemainAfterExit')).toEqual(['yes']);
  });

  it('.network: a oneshot network create', () => {
    const { unit, get } = conv('net.network', '[Network]\nSubnet=10.89.0.0/24\nGateway=10.89.0.1\nInternal=true\n');
    expect(unit.name).toBe('net-network.service');
    expect(get('Service', 'ExecStart')).toEqual(['/opt/tspod/bin/tspod network create --ignore --subnet=10.89.0.0/24 --gateway=10.89.0.1 --internal systemd-net']);
  });

  it('.kube: kube play and kube down of the YAML next to the file', () => {
    const { unit, get } = conv('app.kube', '[Kube]\nYaml=app.yaml\nPublishPort=8080:80\n');
    expect(unit.name).toBe('app.service');
    expect(get('Service', 'ExecStart')).toEqual(['/opt/tspod/bin/tspod kube play --replace --service-container=true --publish 8080:80 /q/app.yaml']);
    expect(get('Service', 'ExecStopPost')).toEqual(['/opt/tspod/bin/tspod kube down /q/app.yaml']);
  });

  it('.image: a oneshot pull', () => {
    const { unit, get } = conv('busy.image', '[Image]\nImage=docker.io/library/busybox:latest\nArch=arm64\n');
    expect(unit.name).toBe('busy-image.service');
    expect(get('Service', 'ExecStart')).toEqual(['/opt/tspod/bin/tspod image pull --arch=arm64 docker.io/library/busybox:latest']);
  });

  it('.pod: pod create, start, stop and rm through the pod id file', () => {
    const { unit, get } = conv('grp.pod', '[Pod]\nPublishPort=8080:80\n');
    expect(unit.name).toBe('grp-pod.service');
    expect(get('Service', 'ExecStartPre')).toEqual([
      '/opt/tspod/bin/tspod pod create --infra-conmon-pidfile=%t/%N.pid --pod-id-file=%t/%N.pod-id --exit-policy=stop --replace --publish 8080:80 --infra-name=systemd-grp-infra --name=systemd-grp',
    ]);
    expect(get('Service', 'ExecStart')).toEqual(['/opt/tspod/bin/tspod pod start --pod-id-file=%t/%N.pod-id']);
    expect(get('Service', 'PIDFile')).toEqual(['%t/%N.pid']);
  });

  it('names the services after the files', () => {
    expect(['a.container', 'a.kube', 'a.volume', 'a.network', 'a.image', 'a.pod'].map(serviceName)).toEqual([
      'a.service', 'a.service', 'a-volume.service', 'a-network.service', 'a-image.service', 'a-pod.service',
    ]);
  });
});

describe('the generator', () => {
  it("searches Podman's user directories in Podman's order", () => {
    const dirs = unitDirs({ user: true, uid: 1000, env: { HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' } });
    expect(dirs).toEqual(['/run/user/1000/containers/systemd', '/home/u/.config/containers/systemd', '/etc/containers/systemd/users/1000', '/etc/containers/systemd/users']);
    expect(unitDirs({ user: true, env: { HOME: '/h', XDG_CONFIG_HOME: '/c' }, uid: 5 })[0]).toBe('/c/containers/systemd');
    expect(unitDirs({ user: false })).toEqual(['/run/containers/systemd', '/etc/containers/systemd', '/usr/share/containers/systemd']);
    expect(unitDirs({ user: true, env: { QUADLET_UNIT_DIRS: '/a:/b' } })).toEqual(['/a', '/b']);
  });

  it('lets the first directory win for a file name, reads subdirectories, writes units and [Install] links', () => {
    const a = path.join(tmp, 'a');
    const b = path.join(tmp, 'b');
    fs.mkdirSync(path.join(a, 'sub'), { recursive: true });
    fs.mkdirSync(b, { recursive: true });
    fs.writeFileSync(path.join(a, 'web.container'), '[Container]\nRootfs=/r\nExec=true\n[Install]\nWantedBy=default.target multi-user.target\n');
    fs.writeFileSync(path.join(b, 'web.container'), '[Container]\nRootfs=/other\n');
    fs.writeFileSync(path.join(a, 'sub', 'data.volume'), '[Volume]\n');
    fs.writeFileSync(path.join(a, 'notes.txt'), 'ignored');
    expect(Object.fromEntries(findQuadletFiles([a, b]))).toEqual({
      'web.container': path.join(a, 'web.container'),
      'data.volume': path.join(a, 'sub', 'data.volume'),
    });
    const result = generate({ dirs: [a, b], tspod: '/t' });
    const out = path.join(tmp, 'out');
    writeUnits(out, result);
    expect(fs.readdirSync(out).sort()).toEqual(['data-volume.service', 'default.target.wants', 'multi-user.target.wants', 'web.service']);
    expect(fs.readlinkSync(path.join(out, 'default.target.wants', 'web.service'))).toBe('../web.service');
    expect(fs.readFileSync(path.join(out, 'web.service'), 'utf8')).toContain('--rootfs /r true');
  });

  it('reports a file it cannot parse and goes on with the others', () => {
    const d = path.join(tmp, 'bad');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'x.container'), 'Image=busybox\n');
    fs.writeFileSync(path.join(d, 'y.volume'), '[Volume]\n');
    const r = generate({ dirs: [d], tspod: '/t' });
    expect(r.errors).toEqual([`${path.join(d, 'x.container')}:1: KEY=VALUE before any [Section]`]);
    expect(r.units.map((u) => u.unit.name)).toEqual(['y-volume.service']);
  });
});
