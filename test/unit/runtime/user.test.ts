import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveUser } from '../../../src/runtime/user.js';

// Supplementary groups as podman 4.3.1 (runc) gave them for the same files.
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-user-'));
fs.mkdirSync(path.join(root, 'etc'));
fs.writeFileSync(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nalice:x:1234:1234::/home/alice:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n');
fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\ngrp1:x:2000:alice\ngrp2:x:2001:\nalicegrp:x:1234:\nnogroup:x:65534:\n');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const groups = (spec: string | undefined, exec = false) => resolveUser(spec, root, { exec }).additionalGids;

describe('resolveUser supplementary groups', () => {
  it('for a container process: none without a user, else the primary group plus the listing groups (none of those with :GROUP)', () => {
    expect(groups(undefined)).toEqual([]);
    expect(groups('alice')).toEqual([1234, 2000]);
    expect(groups('1234')).toEqual([1234, 2000]);
    expect(groups('alice:grp2')).toEqual([2001]);
    expect(groups('root')).toEqual([0]);
    expect(groups('4444')).toEqual([0]);
  });

  it('for exec: only the groups that list the user, none with :GROUP', () => {
    expect(groups(undefined, true)).toEqual([]);
    expect(groups('alice', true)).toEqual([2000]);
    expect(groups('alice:grp2', true)).toEqual([]);
    expect(groups('nobody', true)).toEqual([]);
  });

  it('takes /etc/passwd and /etc/group as the container sees them (keep-id adds an entry)', () => {
    const u = resolveUser('me', root, { passwd: 'me:*:1001:1001::/:/bin/sh\n', group: 'me:x:1001:me\n' });
    expect(u).toEqual({ uid: 1001, gid: 1001, additionalGids: [1001], home: '/' });
    expect(() => resolveUser('me', root)).toThrow(/unable to find user me: no matching entries in passwd file/);
  });
});
