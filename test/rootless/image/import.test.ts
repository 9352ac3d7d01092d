import '../../helpers/require-unprivileged.js';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('import');
const rootfs = makeBusyboxRootfs(sandbox.home);
const tarball = path.join(sandbox.home, 'rootfs.tar.gz');
execFileSync('tar', ['-C', rootfs, '-czf', tarball, '.']);
afterAll(() => {
  sandbox.run(['rm', '-a', '-f']);
  sandbox.dispose();
});

describe('tspod import', () => {
  it('makes a one-layer image from a gzip tarball with --change and --message', () => {
    const r = sandbox.run(['import', '-c', 'CMD ["sh","-c","echo imported $GREETING"]', '-c', 'ENV GREETING=hi', '-m', 'from a tarball', tarball, 'imported']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(sandbox.run(['run', '--rm', 'imported']).stdout).toBe('imported hi\n');
    const inspect = JSON.parse(sandbox.run(['image', 'inspect', 'imported']).stdout)[0];
    expect(inspect.RepoTags).toEqual(['localhost/imported:latest']);
    expect(inspect.RootFS.Layers).toHaveLength(1);
    expect(inspect.Config.Env).toEqual(['GREETING=hi']);
    expect(sandbox.run(['history', '--format', '{{.Comment}}', 'imported']).stdout).toContain('from a tarball');
  });

  it('reads stdin, and the same tarball gives the same layer', () => {
    const plain = path.join(sandbox.home, 'rootfs.tar');
    execFileSync('sh', ['-c', `gzip -dc ${tarball} > ${plain}`]);
    const r = sandbox.run(['import', '-', 'fromstdin:v1'], { input: fs.readFileSync(plain) });
    expect(r.status).toBe(0);
    const a = JSON.parse(sandbox.run(['image', 'inspect', 'imported']).stdout)[0].RootFS.Layers;
    const b = JSON.parse(sandbox.run(['image', 'inspect', 'fromstdin:v1']).stdout)[0].RootFS.Layers;
    expect(b).toEqual(a);
  });

  it('refuses unknown instructions and missing files in one line', () => {
    const bad = sandbox.run(['import', '-c', 'FROM scratch', tarball]);
    expect(bad.status).toBe(125);
    expect(bad.stderr).toMatch(/^Error: invalid --change "FROM scratch"/);
    const missing = sandbox.run(['import', '/no/such.tar']);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toBe('Error: cannot import /no/such.tar: no such file; give a tarball, - for stdin, or a URL\n');
  });
});

describe('tspod import URL', () => {
  it('downloads over http and https (following a redirect), trusting NODE_EXTRA_CA_CERTS for https', async () => {
    const { makeTlsMaterial } = await import('../../helpers/registry-server.js');
    const http = await import('node:http');
    const https = await import('node:https');
    const tlsm = makeTlsMaterial(path.join(sandbox.home, 'tls'));
    const serve = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      if (req.url === '/moved') return void res.writeHead(302, { location: '/rootfs.tar.gz' }).end();
      if (req.url !== '/rootfs.tar.gz') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/gzip' });
      fs.createReadStream(tarball).pipe(res);
    };
    const plain = http.createServer(serve);
    const secure = https.createServer({ cert: fs.readFileSync(tlsm.cert), key: fs.readFileSync(tlsm.key) }, serve);
    const listen = (s: import('node:net').Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as import('node:net').AddressInfo).port)));
    const [plainPort, securePort] = [await listen(plain), await listen(secure)];
    try {
      const viaHttp = await sandbox.runAsync(['import', `http://127.0.0.1:${plainPort}/rootfs.tar.gz`, 'fromhttp']);
      expect(viaHttp.stderr).toBe('');
      expect(viaHttp.status).toBe(0);
      const untrusted = await sandbox.runAsync(['import', `https://localhost:${securePort}/moved`, 'fromhttps']);
      expect(untrusted.status).toBe(125);
      expect(untrusted.stderr).toMatch(/^Error: cannot download https:\/\/localhost:\d+\/moved: .+\n$/);
      const trusted = await sandbox.runAsync(['import', `https://localhost:${securePort}/moved`, 'fromhttps'], { env: { NODE_EXTRA_CA_CERTS: tlsm.caCert } });
      expect(trusted.stderr).toBe('');
      expect(trusted.status).toBe(0);
      expect((await sandbox.runAsync(['run', '--rm', 'fromhttps', 'cat', '/etc/hostname'])).status).toBe(0);
      const missing = await sandbox.runAsync(['import', `https://localhost:${securePort}/none`, 'x'], { env: { NODE_EXTRA_CA_CERTS: tlsm.caCert } });
      expect(missing.stderr).toBe(`Error: cannot download https://localhost:${securePort}/none: HTTP 404\n`);
    } finally {
      plain.close();
      secure.close();
    }
  });
});
