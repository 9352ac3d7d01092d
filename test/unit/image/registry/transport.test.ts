import { describe, expect, it } from 'vitest';
import { endpointHost } from '../../../../src/image/registry/transport.js';
import { MANIFEST_ACCEPT, MediaType } from '../../../../src/image/media-types.js';

describe('endpoints', () => {
  it('serves docker.io from registry-1.docker.io and everything else from itself', () => {
    expect(endpointHost('docker.io')).toBe('registry-1.docker.io');
    expect(endpointHost('index.docker.io')).toBe('registry-1.docker.io');
    expect(endpointHost('quay.io')).toBe('quay.io');
    expect(endpointHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(endpointHost('[::1]:5000')).toBe('[::1]:5000');
  });

  it('asks for every current manifest type and never for schema 1', () => {
    expect(MANIFEST_ACCEPT).toEqual(
      expect.arrayContaining([MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest]),
    );
    expect(MANIFEST_ACCEPT.some((m) => m.startsWith('application/vnd.docker.distribution.manifest.v1'))).toBe(false);
  });
});
