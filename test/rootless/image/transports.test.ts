import '../../helpers/require-unprivileged.js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type Fixtures, writeOciLayout } from '../../helpers/image-fixtures.js';
import { PodmanPeer } from '../../helpers/podman-peer.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import { readImagesDb, readLayersDb } from './helpers.js';

// pull from and push to the file transports (oci:, oci-archive:, docker-archive:, dir:),
// with skopeo (containers/image) writing what tspod reads and reading what tspod writes,
// and podman pulling tspod's output.
let tmp: string;
let fx: Fixtures;
let sb: TspodSandbox;
let peer: PodmanPeer;
const at = (...p: string[]) => path.join(tmp, ...p);

function skopeo(args: string[]): string {
  return execFileSync('skopeo', args, { encoding: 'utf8', env: peer.env, stdio: ['ignore', 'pipe', 'pipe'] });
}
const podman = (args: string[]): string => peer.run(args);
function ok(args: string[]): string {
  const r = sb.run(args, { timeout: 120_000 });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.status, args.join(' ')).toBe(0);
  return r.stdout;
}
const names = (id: string) => readImagesDb(sb).images[id]?.names ?? [];

beforeAll(() => {
  // Lower case throughout: an image pulled from oci:PATH is named localhost/PATH.
  tmp = path.join(os.tmpdir(), `tspod-image-transports-${process.pid}-${Date.now().toString(36)}`);
  fs.mkdirSync(tmp);
  fx = buildFixtures(at('fixtures'));
  peer = new PodmanPeer(tmp);
  // The multi-layer fixture in an OCI layout, and skopeo's copies of it in every other format.
  writeOciLayout(at('src-layout'), [{ ref: 'v1', image: fx.multiLayer }]);
  skopeo(['copy', '--quiet', 'oci:' + at('src-layout') + ':v1', `oci:${at('sk-oci')}:mytag`]);
  skopeo(['copy', '--quiet', 'oci:' + at('src-layout') + ':v1', `oci-archive:${at('sk.oci.tar')}:example.com/team/multi:v2`]);
  skopeo(['copy', '--quiet', 'oci:' + at('src-layout') + ':v1', `dir:${at('sk-dir')}`]);
  skopeo(['copy', '--quiet', 'oci:' + at('src-layout') + ':v1', `docker-archive:${at('sk.docker.tar')}:example.com/team/multi:v3`]);
  sb = new TspodSandbox('image-transports');
}, 60_000);

afterAll(() => {
  peer?.dispose();
  sb?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('file transports', { timeout: 120_000 }, () => {
  const id = () => fx.multiLayer.config.digest.slice(7);

  it('pulls oci:, oci-archive:, dir: and docker-archive: written by skopeo: same image ID, layers verified, names as podman gives', () => {
    expect(ok(['pull', '-q', `oci:${at('sk-oci')}:mytag`]).trim()).toBe(id());
    expect(names(id())).toEqual([`localhost${at('sk-oci')}:latest`]);
    // The layers are the fixture's: diffIDs from the config, blobs verified against the manifest.
    const layers = Object.values(readLayersDb(sb).layers).map((l) => l.diffID).sort();
    expect(layers).toEqual(fx.multiLayer.layers.map((l) => l.diffId).sort());
    expect(ok(['pull', '-q', `oci-archive:${at('sk.oci.tar')}`]).trim()).toBe(id());
    expect(names(id())).toContain('example.com/team/multi:v2');
    expect(ok(['pull', '-q', `dir:${at('sk-dir')}`]).trim()).toBe(id());
    // docker-archive: uncompressed layers; the config (so the ID) is the same bytes.
    const dockerId = JSON.parse(skopeo(['inspect', '--raw', `docker-archive:${at('sk.docker.tar')}`])).config.digest.slice(7);
    expect(dockerId).toBe(id());
    expect(ok(['pull', '-q', `docker-archive:${at('sk.docker.tar')}`]).trim()).toBe(id());
    expect(names(id())).toEqual(['example.com/team/multi:v3', 'example.com/team/multi:v2', `localhost${at('sk-oci')}:latest`]);
    expect(Object.keys(readLayersDb(sb).layers)).toHaveLength(2);
    // The image runs from its store like a pulled one.
    expect(ok(['image', 'inspect', '--format', '{{.Id}}', 'example.com/team/multi:v2']).trim()).toBe(id());
  });

  it('refuses a missing ref name, a missing path and a non-layout with one clear line (exit 125)', () => {
    for (const [ref, msg] of [
      [`oci:${at('sk-oci')}:nosuch`, /no descriptor found for reference "nosuch"/],
      [`oci-archive:${at('missing.tar')}`, /does not exist/],
      [`oci:${at('sk-dir')}`, /is not an OCI image layout/],
      [`dir:${at('sk-oci')}`, /has no manifest.json/],
    ] as const) {
      const r = sb.run(['pull', '-q', ref]);
      expect(r.status, ref).toBe(125);
      expect(r.stderr.trim().split('\n'), ref).toHaveLength(1);
      expect(r.stderr, ref).toMatch(msg);
    }
  });

  it('pushes to oci: (tags added to one layout), dir:, oci-archive: and docker-archive:; skopeo reads them with the same config and layer digests', () => {
    const src = 'example.com/team/multi:v2';
    ok(['push', src, `oci:${at('out-oci')}:t1`]);
    ok(['push', src, `oci:${at('out-oci')}:t2`]);
    const index = JSON.parse(fs.readFileSync(at('out-oci', 'index.json'), 'utf8'));
    expect(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'])).toEqual(['t1', 't2']);
    ok(['push', src, `dir:${at('out-dir')}`]);
    expect(fs.readFileSync(at('out-dir', 'version'), 'utf8')).toBe('Directory Transport Version: 1.1\n');
    ok(['push', src, `oci-archive:${at('out.oci.tar')}:tagged`]);
    ok(['push', src, `docker-archive:${at('out.docker.tar')}:example.com/x/y:z`]);
    const layerDigests = fx.multiLayer.layers.map((l) => l.digest);
    for (const ref of [`oci:${at('out-oci')}:t1`, `oci:${at('out-oci')}:t2`, `dir:${at('out-dir')}`, `oci-archive:${at('out.oci.tar')}:tagged`]) {
      const raw = JSON.parse(skopeo(['inspect', '--raw', ref]));
      expect(raw.config.digest, ref).toBe(fx.multiLayer.config.digest);
      expect(raw.layers.map((l: { digest: string }) => l.digest), ref).toEqual(layerDigests);
      // skopeo copies it (verifying every blob) into a fresh layout.
      const copy = at(`copy-${path.basename(ref.split(':')[1]!)}-${ref.split(':').length}`);
      skopeo(['copy', '--quiet', ref, `oci:${copy}:c`]);
    }
    // dir: keeps the stored manifest byte for byte.
    expect(fs.readFileSync(at('out-dir', 'manifest.json'))).toEqual(fx.multiLayer.manifest);
    // docker-archive: layers uncompressed (diffIDs), the given name first, the image's own after.
    const dm = JSON.parse(execFileSync('tar', ['-xOf', at('out.docker.tar'), 'manifest.json'], { encoding: 'utf8' }));
    expect(dm[0].RepoTags[0]).toBe('example.com/x/y:z');
    expect(dm[0].Layers).toEqual(fx.multiLayer.layers.map((l) => `${l.diffId.slice(7)}.tar`));
  });

  it('podman pulls what tspod pushed to oci-archive:, dir: and docker-archive: and gets the same image ID', () => {
    for (const ref of [`oci-archive:${at('out.oci.tar')}:tagged`, `dir:${at('out-dir')}`]) {
      expect(podman(['pull', '-q', ref]).trim(), ref).toBe(id());
    }
    podman(['pull', '-q', `docker-archive:${at('out.docker.tar')}`]);
    expect(podman(['image', 'inspect', '--format', '{{.Id}}', 'example.com/x/y:z']).trim()).toBe(id());
  });

  it('save --format oci-dir and docker-dir write directories podman and skopeo read; the first image only', () => {
    ok(['save', '--format', 'oci-dir', '-o', at('save-oci'), 'example.com/team/multi:v2']);
    const index = JSON.parse(fs.readFileSync(at('save-oci', 'index.json'), 'utf8'));
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).toBe('example.com/team/multi:v2');
    expect(podman(['pull', '-q', `oci:${at('save-oci')}:example.com/team/multi:v2`]).trim()).toBe(id());
    ok(['save', '--format', 'docker-dir', '-o', at('save-dir'), 'example.com/team/multi:v2']);
    const m = JSON.parse(fs.readFileSync(at('save-dir', 'manifest.json'), 'utf8'));
    expect(m.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
    expect(m.config.digest).toBe(fx.multiLayer.config.digest);
    expect(JSON.parse(skopeo(['inspect', '--raw', `dir:${at('save-dir')}`])).layers.map((l: { digest: string }) => l.digest)).toEqual(fx.multiLayer.layers.map((l) => l.digest));
    // A second name without -m: ignored by the OCI formats, as podman does.
    const two = sb.run(['save', '--format', 'oci-dir', '-o', at('save-two'), 'example.com/team/multi:v2', 'example.com/team/multi:v3']);
    expect(two.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(at('save-two', 'index.json'), 'utf8')).manifests).toHaveLength(1);
    const noOut = sb.run(['save', '--format', 'docker-dir', 'example.com/team/multi:v2']);
    expect(noOut.status).toBe(125);
    expect(noOut.stderr).toMatch(/-o DIR/);
  });
});
