import { describe, expect, it } from 'vitest';
import { applyChanges } from '../../../src/image/import.js';

describe('--change instructions', () => {
  it('apply like a Dockerfile', () => {
    expect(applyChanges({}, ['CMD ["a","b"]', 'ENTRYPOINT echo hi', 'ENV A=1 B=2', 'ENV C 3', 'LABEL k=v', 'EXPOSE 80 53/udp', 'VOLUME /data', 'USER app', 'WORKDIR /w', 'STOPSIGNAL SIGINT'])).toEqual({
      Cmd: ['a', 'b'],
      Entrypoint: ['/bin/sh', '-c', 'echo hi'],
      Env: ['A=1', 'B=2', 'C=3'],
      Labels: { k: 'v' },
      ExposedPorts: { '80/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      User: 'app',
      WorkingDir: '/w',
      StopSignal: 'SIGINT',
    });
    expect(() => applyChanges({}, ['RUN make'])).toThrow(/RUN is not one of/);
    expect(() => applyChanges({}, ['nonsense'])).toThrow(/invalid --change/);
  });
});
