import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// commit/import --change ONBUILD as podman 4.3.1 treats it: the Docker config keeps the
// triggers, the OCI config has no place for them (commit warns for each, import is silent).
const sandbox = new TspodSandbox('commit-onbuild');
const t = (args: string[]) => sandbox.run(args);

beforeAll(() => {
  expect(t(['load', '-i', path.join(REPO_ROOT, 'dist', 'busybox-image.tar')]).status).toBe(0);
  expect(t(['create', '--name', 'src', 'busybox', 'true']).status).toBe(0);
});
afterAll(() => {
  t(['rm', '-a', '-f']);
  sandbox.dispose();
});

/** The image config as saved in a docker-archive (what another engine would load). */
function savedConfig(image: string): { config?: Record<string, unknown> } {
  const dir = fs.mkdtempSync(path.join(sandbox.home, 'save-'));
  const archive = path.join(dir, 'image.tar');
  expect(t(['save', '--format', 'docker-archive', '-o', archive, image]).status).toBe(0);
  expect(spawnSync('tar', ['-xf', archive, '-C', dir]).status).toBe(0);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { Config: string }[];
  return JSON.parse(fs.readFileSync(path.join(dir, manifest[0].Config), 'utf8'));
}

describe('--change ONBUILD', () => {
  it('commit --format docker keeps the triggers, in order, as written', () => {
    const r = t(['commit', '-q', '-f', 'docker', '-c', 'ONBUILD RUN echo hi', '-c', 'onbuild ADD . /app', 'src', 'ob-docker']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(savedConfig('ob-docker').config?.OnBuild).toEqual(['RUN echo hi', 'ADD . /app']);
  });

  it("commit in the OCI format warns for each trigger with podman's words and drops them", () => {
    const r = t(['commit', '-q', '-c', 'ONBUILD RUN echo hi', '-c', 'ENV A=1', 'src', 'ob-oci']);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('ONBUILD is not supported for OCI image format, RUN echo hi will be ignored. Must use `docker` format');
    const config = savedConfig('ob-oci').config ?? {};
    expect(config).not.toHaveProperty('OnBuild');
    expect(config.Env).toContain('A=1');
  });

  it('import takes ONBUILD quietly (its image is OCI)', () => {
    const dir = fs.mkdtempSync(path.join(sandbox.home, 'imp-'));
    fs.writeFileSync(path.join(dir, 'f'), 'x\n');
    expect(spawnSync('tar', ['-cf', path.join(dir, 'root.tar'), '-C', dir, 'f']).status).toBe(0);
    const r = t(['import', '-c', 'ONBUILD RUN true', path.join(dir, 'root.tar'), 'imported']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(savedConfig('imported').config ?? {}).not.toHaveProperty('OnBuild');
  });

  it("refuses what podman refuses (FROM, HEALTHCHECK, SHELL, ARG, a bare ONBUILD) in one line with 125", () => {
    for (const change of ['FROM x', 'HEALTHCHECK CMD true', 'SHELL ["/bin/sh"]', 'ARG x', 'ONBUILD']) {
      const r = t(['commit', '-c', change, 'src', 'nope']);
      expect(r.status, change).toBe(125);
      expect(r.stderr.trim().split('\n'), change).toHaveLength(1);
    }
  });
});
