import { describe, expect, it } from 'vitest';
import {
  formatTransportReference,
  isImageId,
  parseImageReference,
  parseTransportReference,
} from '../../../src/image/reference.js';
import { TspodError } from '../../../src/util/errors.js';

const hex = 'a'.repeat(64);
const digest = `sha256:${hex}`;

describe('parseImageReference', () => {
  it('normalises like Podman', () => {
    const cases: Array<[string, string, boolean]> = [
      ['busybox', 'docker.io/library/busybox:latest', true],
      ['library/busybox', 'docker.io/library/busybox:latest', true],
      ['docker.io/busybox', 'docker.io/library/busybox:latest', false],
      ['index.docker.io/busybox:1.36', 'docker.io/library/busybox:1.36', false],
      ['docker.io/user/app', 'docker.io/user/app:latest', false],
      ['user/app:v1', 'docker.io/user/app:v1', true],
      ['localhost/foo', 'localhost/foo:latest', false],
      ['localhost:5000/foo/bar:tag', 'localhost:5000/foo/bar:tag', false],
      ['registry:5000/ns/repo:tag', 'registry:5000/ns/repo:tag', false],
      ['quay.io/a/b/c', 'quay.io/a/b/c:latest', false],
      [`repo@${digest}`, `docker.io/library/repo@${digest}`, true],
      [`repo:tag@${digest}`, `docker.io/library/repo:tag@${digest}`, true],
      ['[::1]:5000/img', '[::1]:5000/img:latest', false],
      ['foo:5000', 'docker.io/library/foo:5000', true],
      ['a.b-c/d__e/f-g.h_i', 'a.b-c/d__e/f-g.h_i:latest', false],
    ];
    for (const [input, want, short] of cases) {
      const ref = parseImageReference(input);
      expect(ref.toString(), input).toBe(want);
      expect(ref.isShortName, input).toBe(short);
    }
  });

  it('exposes the parts', () => {
    const ref = parseImageReference(`quay.io/ns/repo:1.0@${digest}`);
    expect(ref.registry).toBe('quay.io');
    expect(ref.repository).toBe('ns/repo');
    expect(ref.tag).toBe('1.0');
    expect(ref.digest).toBe(digest);
    expect(ref.name).toBe('quay.io/ns/repo');
    const short = parseImageReference('busybox:1');
    expect(short.shortName).toBe('busybox');
    expect(short.tag).toBe('1');
    expect(parseImageReference('busybox').tag).toBeUndefined();
    expect(parseImageReference('busybox').effectiveTag).toBe('latest');
    expect(parseImageReference(`busybox@${digest}`).effectiveTag).toBeUndefined();
  });

  it('gives the familiar form', () => {
    expect(parseImageReference('docker.io/library/busybox').familiar()).toBe('busybox:latest');
    expect(parseImageReference('user/app:2').familiar()).toBe('user/app:2');
    expect(parseImageReference('docker.io/library/a/b').familiar()).toBe('library/a/b:latest');
    expect(parseImageReference('quay.io/x/y:3').familiar()).toBe('quay.io/x/y:3');
    expect(parseImageReference(`busybox@${digest}`).familiar()).toBe(`busybox@${digest}`);
  });

  it('derives new references', () => {
    const ref = parseImageReference('busybox');
    expect(ref.withTag('2').toString()).toBe('docker.io/library/busybox:2');
    expect(ref.withDigest(digest).toString()).toBe(`docker.io/library/busybox@${digest}`);
    const moved = ref.withName('quay.io', 'libpod/busybox');
    expect(moved.toString()).toBe('quay.io/libpod/busybox:latest');
    expect(moved.isShortName).toBe(false);
  });

  it('rejects invalid references with clear messages', () => {
    const bad: Array<[string, RegExp]> = [
      ['Busybox', /invalid reference format: repository name must be lowercase/],
      ['docker.io/Library/busybox', /repository name must be lowercase/],
      ['', /at least one component/],
      [':tag', /at least one component/],
      ['busybox:', /invalid tag/],
      ['busybox:-x', /invalid tag/],
      [`busybox:${'t'.repeat(129)}`, /invalid tag/],
      ['busybox@sha256:abc', /invalid checksum digest format/],
      [`busybox@sha256:${'a'.repeat(63)}0a`, /invalid checksum digest length/],
      [`busybox@md5:${'a'.repeat(32)}`, /unsupported digest algorithm/],
      [`busybox@sha256:${'A'.repeat(64)}`, /lower-case/],
      ['foo//bar', /repository names may contain only/],
      ['foo/-bar', /repository names may contain only/],
      ['exa_mple.com:x/foo', /invalid registry|invalid tag|repository/],
      [hex, /image ID/],
      [`${'a'.repeat(250)}/bbbbbbb`, /not be more than 255 characters/],
    ];
    for (const [input, pattern] of bad) {
      expect(() => parseImageReference(input), input).toThrow(TspodError);
      expect(() => parseImageReference(input), input).toThrow(pattern);
    }
  });

  it('recognises image IDs', () => {
    expect(isImageId(hex)).toBe(true);
    expect(isImageId(digest)).toBe(true);
    expect(isImageId('abc')).toBe(false);
  });
});

describe('parseTransportReference', () => {
  it('reads bare and docker:// references as the docker transport', () => {
    const bare = parseTransportReference('busybox');
    expect(bare.transport).toBe('docker');
    expect(formatTransportReference(bare)).toBe('docker://docker.io/library/busybox:latest');
    const reg = parseTransportReference('localhost:5000/foo');
    expect(reg.transport === 'docker' && reg.image.registry).toBe('localhost:5000');
    const d = parseTransportReference('docker://quay.io/a/b:1');
    expect(d.transport === 'docker' && d.image.toString()).toBe('quay.io/a/b:1');
    expect(() => parseTransportReference('docker:busybox')).toThrow(/docker:\/\//);
  });

  it('reads oci and oci-archive paths with an optional name', () => {
    expect(parseTransportReference('oci:/tmp/layout')).toEqual({ transport: 'oci', path: '/tmp/layout', refName: undefined });
    expect(parseTransportReference('oci:/tmp/layout:v1')).toEqual({ transport: 'oci', path: '/tmp/layout', refName: 'v1' });
    expect(parseTransportReference('oci-archive:img.tar:app:1')).toEqual({ transport: 'oci-archive', path: 'img.tar', refName: 'app:1' });
    expect(() => parseTransportReference('oci:')).toThrow(/needs a path/);
    expect(() => parseTransportReference('oci:/x:bad name')).toThrow(/not a valid image name/);
  });

  it('reads docker-archive with a name or an index', () => {
    expect(parseTransportReference('docker-archive:/a.tar')).toEqual({ transport: 'docker-archive', path: '/a.tar' });
    const named = parseTransportReference('docker-archive:/a.tar:busybox:1');
    expect(named.transport === 'docker-archive' && named.image?.toString()).toBe('docker.io/library/busybox:1');
    expect(parseTransportReference('docker-archive:/a.tar:@2')).toEqual({ transport: 'docker-archive', path: '/a.tar', index: 2 });
    expect(() => parseTransportReference(`docker-archive:/a.tar:busybox@${digest}`)).toThrow(/does not support digest/);
    expect(formatTransportReference(named)).toBe('docker-archive:/a.tar:docker.io/library/busybox:1');
  });

  it('reads dir and containers-storage', () => {
    expect(parseTransportReference('dir:/tmp/img')).toEqual({ transport: 'dir', path: '/tmp/img' });
    const byName = parseTransportReference('containers-storage:[overlay@/var/lib/x+/run/x]busybox');
    expect(byName.transport === 'containers-storage' && byName.storeSpec).toBe('overlay@/var/lib/x+/run/x');
    expect(byName.transport === 'containers-storage' && byName.image?.toString()).toBe('docker.io/library/busybox:latest');
    expect(parseTransportReference(`containers-storage:${hex}`)).toEqual({ transport: 'containers-storage', storeSpec: undefined, imageId: hex });
    const both = parseTransportReference(`containers-storage:busybox@${hex}`);
    expect(both.transport === 'containers-storage' && [both.image?.name, both.imageId]).toEqual(['docker.io/library/busybox', hex]);
    expect(formatTransportReference(both)).toBe(`containers-storage:docker.io/library/busybox:latest@${hex}`);
  });

  it('refuses transports tspod does not have', () => {
    expect(() => parseTransportReference('docker-daemon:busybox:latest')).toThrow(/not supported/);
  });
});
