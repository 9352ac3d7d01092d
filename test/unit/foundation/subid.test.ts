import { describe, expect, it } from 'vitest';
import { buildMapping, parseProcIdMap, parseSubIdFile } from '../../../src/rootless/subid.js';

describe('subordinate id files', () => {
  const file = ['# comment', 'alice:100000:65536', 'bob:165536:65536', '1001:300000:1000', 'alice:500000:10', 'broken-line', 'alice:x:5', 'alice:1:0', ''].join('\n');

  it('finds a user by name and by numeric id, in file order', () => {
    expect(parseSubIdFile(file, { name: 'alice', id: 1000 })).toEqual([
      { start: 100000, count: 65536 },
      { start: 500000, count: 10 },
    ]);
    expect(parseSubIdFile(file, { name: 'carol', id: 1001 })).toEqual([{ start: 300000, count: 1000 }]);
    expect(parseSubIdFile(file, { name: 'dave', id: 7 })).toEqual([]);
  });

  it('maps the own id to 0 and the ranges from 1 on', () => {
    expect(buildMapping(1000, [{ start: 100000, count: 65536 }, { start: 500000, count: 10 }])).toEqual([
      { containerId: 0, hostId: 1000, size: 1 },
      { containerId: 1, hostId: 100000, size: 65536 },
      { containerId: 65537, hostId: 500000, size: 10 },
    ]);
    expect(buildMapping(1000, [])).toEqual([{ containerId: 0, hostId: 1000, size: 1 }]);
  });

  it('reads /proc/PID/uid_map text', () => {
    expect(parseProcIdMap('         0       1001          1\n         1     100000      65536\n')).toEqual([
      { containerId: 0, hostId: 1001, size: 1 },
      { containerId: 1, hostId: 100000, size: 65536 },
    ]);
  });
});
