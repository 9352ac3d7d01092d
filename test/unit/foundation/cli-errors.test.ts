import { describe, expect, it } from 'vitest';
import { describeUsageError } from '../../../src/cli/errors.js';
import { resolveGlobals } from '../../../src/cli/context.js';
import { unifiedCgroupPath } from '../../../src/system/cgroups.js';
import { volumeMatches, parseKeyValues, type VolumeRecord } from '../../../src/runtime/volumes.js';

describe('usage errors', () => {
  const groups = new Set(['volume', 'system']);
  it('names an unknown command, a missing subcommand and an unknown flag in one line', () => {
    const notFound = new Error('Command not found; did you mean one of:\n\n  0. tspod info');
    expect(describeUsageError(notFound, ['frob'], groups)).toBe("unrecognized command `tspod frob`; run 'tspod --help' to list the commands");
    expect(describeUsageError(notFound, ['volume'], groups)).toBe("missing command 'tspod volume COMMAND'; run 'tspod volume --help' to list its commands");
    expect(describeUsageError(notFound, ['--log-level', 'volume', 'zap'], groups)).toMatch(/^unrecognized command `tspod volume zap`/);
    const flag = new Error('Unsupported option name ("--bogus").\n\n$ tspod info');
    expect(describeUsageError(flag, ['info', '--bogus'], groups)).toBe("unknown flag: --bogus; run 'tspod info --help' to list its flags");
    for (const msg of [describeUsageError(notFound, ['x'], groups), describeUsageError(flag, ['info'], groups)]) expect(msg).not.toContain('\n');
  });
});

describe('global options', () => {
  it('rejects unknown log levels and storage drivers with what to use instead', () => {
    expect(() => resolveGlobals({ logLevel: 'loud' })).toThrow(/invalid --log-level "loud": use one of trace, debug/);
    expect(() => resolveGlobals({ storageDriver: 'zfs' })).toThrow(/unknown --storage-driver "zfs": use one of overlay, vfs/);
    expect(resolveGlobals({ root: 'rel/dir', logLevel: 'DEBUG' })).toMatchObject({ storageRoot: expect.stringMatching(/^\/.*rel\/dir$/), logLevel: 'debug' });
  });
});

describe('cgroup membership', () => {
  it('takes the unified line of /proc/self/cgroup', () => {
    expect(unifiedCgroupPath('12:pids:/user.slice\n0::/user.slice/user-1000.slice/session-1.scope\n')).toBe('/user.slice/user-1000.slice/session-1.scope');
    expect(unifiedCgroupPath('12:pids:/\n1:name=systemd:/\n')).toBeUndefined();
  });
});

describe('volume filters', () => {
  const vol: VolumeRecord = {
    Name: 'data-1', Driver: 'local', Mountpoint: '/x/_data', CreatedAt: '', Labels: { app: 'web', tier: '' },
    Scope: 'local', Options: {}, MountCount: 0, NeedsCopyUp: true, NeedsChown: true,
  };
  it('ORs values of one key and ANDs different keys', () => {
    expect(volumeMatches(vol, ['name=data'])).toBe(true);
    expect(volumeMatches(vol, ['name=nope', 'name=data'])).toBe(true);
    expect(volumeMatches(vol, ['name=data', 'label=app=db'])).toBe(false);
    expect(volumeMatches(vol, ['label=tier'])).toBe(true);
    expect(volumeMatches(vol, ['label=app=web', 'driver=local', 'dangling=true'])).toBe(true);
    expect(() => volumeMatches(vol, ['colour=red'])).toThrow(/invalid filter "colour"/);
  });
  it('parses KEY=VALUE lists', () => {
    expect(parseKeyValues(['a=1', 'b', 'c=x=y'], 'label')).toEqual({ a: '1', b: '', c: 'x=y' });
    expect(() => parseKeyValues(['=v'], 'label')).toThrow(/invalid label "=v"/);
  });
});
