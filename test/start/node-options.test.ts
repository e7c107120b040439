// qmail-start's environment for its daemons (impl/start/node-options.ts): NODE_OPTIONS keeps the
// heap sizes only, since anything that prints to stdout would write into a protocol channel.

import { describe, expect, it } from 'vitest';
import { daemonEnv } from '../../impl/start/node-options.ts';

describe('daemonEnv', () => {
  it('passes an environment without NODE_OPTIONS through unchanged (a copy)', () => {
    const env = { PATH: '/bin', QIDENT: '3' };
    const r = daemonEnv(env);
    expect(r).toEqual({ env, dropped: [] });
    expect(r.env).not.toBe(env);
  });

  it('keeps the heap sizes, in either spelling, and drops the rest', () => {
    const r = daemonEnv({ PATH: '/bin', NODE_OPTIONS: ' --perf-basic-prof  --max-old-space-size=256 --max_semi_space_size=4 --require /tmp/x.js' });
    expect(r.env).toEqual({ PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=256 --max_semi_space_size=4' });
    expect(r.dropped).toEqual(['--perf-basic-prof', '--require', '/tmp/x.js']);
  });

  it('removes NODE_OPTIONS when nothing in it may pass', () => {
    expect(daemonEnv({ NODE_OPTIONS: '--perf-prof --max-old-space-size=big' })).toEqual({ env: {}, dropped: ['--perf-prof', '--max-old-space-size=big'] });
    expect(daemonEnv({ NODE_OPTIONS: '' })).toEqual({ env: {}, dropped: [] });
  });
});
