import { describe, expect, it } from 'vitest';
import { formatRanges, hostIdOf, keepIdRanges, namespaceIdCount, outsideIdOfRoot, pickFreeRange, resolveUserns, type NamespaceFacts } from '../../../src/runtime/id-mappings.js';

const facts = (autoInUse: NamespaceFacts['autoInUse'] = []): (() => NamespaceFacts) => () => ({
  uidCount: 65537, gidCount: 65537, uid: 1001, gid: 1001, userName: 'me', autoInUse,
});

describe('user namespace mappings', () => {
  it('reads the rootless namespace: its size and who id 0 is outside', () => {
    const map = '         0       1001          1\n         1     100000      65536\n';
    expect(namespaceIdCount(map)).toBe(65537);
    expect(outsideIdOfRoot(map)).toBe(1001);
  });

  it('lays keep-id out as Podman does', () => {
    expect(formatRanges(keepIdRanges(1001, 65537))).toEqual(['0:1:1001', '1001:0:1', '1002:1002:64535']);
    expect(formatRanges(keepIdRanges(0, 65537))).toEqual(['0:0:1', '1:1:65536']);
    expect(() => keepIdRanges(70000, 65537)).toThrow(/beyond the 65537 ids/);
    const k = resolveUserns({ userns: 'keep-id:uid=5,gid=7' }, facts())!;
    expect(k.keepId).toEqual({ uid: 5, gid: 7, name: '5' });
    expect(resolveUserns({ userns: 'keep-id' }, facts())!.keepId).toEqual({ uid: 1001, gid: 1001, name: 'me' });
    expect(formatRanges(k.gidMap)).toEqual(['0:1:7', '7:0:1', '8:8:65529']);
  });

  it('maps container ids to rootless ids, and says when one is not mapped', () => {
    const ranges = keepIdRanges(1001, 65537);
    expect(hostIdOf(0, ranges)).toBe(1);
    expect(hostIdOf(1001, ranges)).toBe(0);
    expect(hostIdOf(2000, ranges)).toBe(2000);
    expect(hostIdOf(70000, ranges)).toBeUndefined();
  });

  it('takes --uidmap alone for both maps, and checks ranges', () => {
    const u = resolveUserns({ uidmap: ['0:1:1000'] }, facts())!;
    expect([u.mode, formatRanges(u.uidMap), formatRanges(u.gidMap)]).toEqual(['private', ['0:1:1000'], ['0:1:1000']]);
    expect(() => resolveUserns({ uidmap: ['0:1:0'] }, facts())).toThrow(/size above 0/);
    expect(() => resolveUserns({ uidmap: ['0:65000:1000'] }, facts())).toThrow(/reaches beyond/);
    expect(() => resolveUserns({ uidmap: ['0:1:10', '10:5:10'] }, facts())).toThrow(/overlap/);
    expect(formatRanges(resolveUserns({ userns: 'nomap' }, facts())!.uidMap)).toEqual(['0:1:65536']);
    expect(resolveUserns({ userns: 'host' }, facts())).toBeUndefined();
    expect(resolveUserns({}, facts())).toBeUndefined();
  });

  it('gives auto containers ranges that do not overlap', () => {
    expect(pickFreeRange(1024, 65537, [])).toBe(1);
    expect(pickFreeRange(1024, 65537, [{ container: 0, host: 1, size: 1024 }])).toBe(1025);
    expect(pickFreeRange(10, 65537, [{ container: 0, host: 20, size: 5 }])).toBe(1);
    expect(pickFreeRange(65536, 65537, [{ container: 0, host: 1, size: 1 }])).toBeUndefined();
    const a = resolveUserns({ userns: 'auto:size=100' }, facts([{ container: 0, host: 1, size: 1024 }]))!;
    expect(formatRanges(a.uidMap)).toEqual(['0:1025:100']);
    expect(() => resolveUserns({ userns: 'auto:size=x' }, facts())).toThrow(/auto takes size=N/);
  });
});
