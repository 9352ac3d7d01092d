import { describe, expect, it } from 'vitest';
import { pastaArgs } from '../../../src/network/pasta.js';
import { DEFAULT_POOL_IDLE_SECONDS, poolIdleSeconds, poolRequest } from '../../../src/network/pasta-pool.js';

describe('the pasta pool\'s terms', () => {
  it('reads the idle time from TSPOD_PASTA_POOL_IDLE (0 turns the pool off; anything else invalid keeps the default)', () => {
    expect(poolIdleSeconds({})).toBe(DEFAULT_POOL_IDLE_SECONDS);
    expect(poolIdleSeconds({ TSPOD_PASTA_POOL_IDLE: '7' })).toBe(7);
    expect(poolIdleSeconds({ TSPOD_PASTA_POOL_IDLE: '0' })).toBe(0);
    for (const bad of ['-1', '1.5', 'soon', ' ']) expect(poolIdleSeconds({ TSPOD_PASTA_POOL_IDLE: bad }), bad).toBe(DEFAULT_POOL_IDLE_SECONDS);
  });

  it('tells interchangeable pastas apart by their arguments, not by their entry\'s paths', () => {
    const req = (dnsForward?: string, bin = '/usr/bin/pasta') => poolRequest((netnsPath, pidFile) => pastaArgs(bin, [], { netnsPath, pidFile, dnsForward }));
    const a = req();
    expect(a.argv('/r/netpool/new-1/netns', '/r/netpool/new-1/pasta.pid')).toEqual(
      pastaArgs('/usr/bin/pasta', [], { netnsPath: '/r/netpool/new-1/netns', pidFile: '/r/netpool/new-1/pasta.pid' }),
    );
    expect(a.key).not.toContain('/r/netpool');
    expect(req().key).toBe(a.key);
    expect(req('169.254.1.1').key).not.toBe(a.key);
    expect(req(undefined, '/usr/bin/pasta.avx2').key).not.toBe(a.key);
  });
});
