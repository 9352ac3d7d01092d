import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../../src/image/registry/client.js';
import { type Fixtures, buildFixtures, pushImage } from '../../helpers/image-fixtures.js';
import { type RegistryServer, startRegistry } from '../../helpers/registry-server.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { tmpDir } from './helpers.js';

let reg: RegistryServer;
let fx: Fixtures;
let tmp: string;
let sb: TspodSandbox;

beforeAll(async () => {
  tmp = tmpDir('image-alltags');
  fx = buildFixtures(path.join(tmp, 'fixtures'));
  reg = await startRegistry({ mode: 'plain' });
  const client = new RegistryClient({ registry: reg.host, tlsVerify: false, certDirs: [] });
  await pushImage(client, 'fixtures/tagged', 'v1', fx.busybox);
  await pushImage(client, 'fixtures/tagged', 'latest', fx.busybox);
  await pushImage(client, 'fixtures/tagged', 'v2', fx.multiLayer);
  await pushImage(client, 'fixtures/other', 'v9', fx.busyboxZstd);
  client.close();
  sb = new TspodSandbox('image-alltags');
}, 60_000);

afterAll(async () => {
  sb?.dispose();
  await reg?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('pull --all-tags', { timeout: 60_000 }, () => {
  it('pulls every tag of the repository (tags list API), printing one ID per tag', () => {
    const r = sb.run(['pull', '-q', '--tls-verify=false', '--all-tags', `${reg.host}/fixtures/tagged`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The registry lists tags sorted: latest, v1, v2.
    const busybox = fx.busybox.config.digest.slice(7);
    expect(r.stdout.trim().split('\n')).toEqual([busybox, busybox, fx.multiLayer.config.digest.slice(7)]);
    const names = sb.run(['images', '--format', '{{.Repository}}:{{.Tag}}']).stdout.trim().split('\n').sort();
    expect(names).toEqual([`${reg.host}/fixtures/tagged:latest`, `${reg.host}/fixtures/tagged:v1`, `${reg.host}/fixtures/tagged:v2`]);
    // -a is the short form; a docker:// prefix is accepted.
    const again = sb.run(['pull', '-q', '--tls-verify=false', '-a', `docker://${reg.host}/fixtures/other`]);
    expect(again.stderr).toBe('');
    expect(again.stdout.trim()).toBe(fx.busyboxZstd.config.digest.slice(7));
  });

  it('refuses a tag, a digest and the file transports; a missing repository fails', () => {
    const tagged = sb.run(['pull', '--tls-verify=false', '-a', `${reg.host}/fixtures/tagged:v1`]);
    expect(tagged.status).toBe(125);
    expect(tagged.stderr).toBe(`Error: tag or digest can't be used with --all-tags/-a: give the repository alone, such as ${reg.host}/fixtures/tagged\n`);
    const digested = sb.run(['pull', '--tls-verify=false', '-a', `${reg.host}/fixtures/tagged@${fx.busybox.manifestDigest}`]);
    expect(digested.status).toBe(125);
    expect(digested.stderr).toMatch(/^Error: tag or digest can't be used with --all-tags\/-a/);
    const archive = sb.run(['pull', '-a', `docker-archive:${path.join(tmp, 'x.tar')}`]);
    expect(archive.status).toBe(125);
    expect(archive.stderr).toBe('Error: pulling all tags is not supported for docker-archive transport\n');
    const missing = sb.run(['pull', '--tls-verify=false', '-a', `${reg.host}/fixtures/nonexistent`]);
    expect(missing.status).toBe(125);
    expect(missing.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(missing.stderr).toMatch(/^Error: .*fixtures\/nonexistent/);
  });
});
