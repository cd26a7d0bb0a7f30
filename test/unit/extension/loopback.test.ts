// Regression: an endpoint spelled http://[::ffff:127.0.0.1]:4318 was not recognised as the relay
// itself, so the relay exported to its own receiver and the buffer doubled on every flush.
import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../../src/extension/lifecycle/loopback.js';

describe('isLoopbackHost', () => {
  it('recognises every spelling of this machine in a URL', () => {
    for (const url of [
      'http://localhost:4318',
      'http://LOCALHOST:4318',
      'http://api.localhost:4318',
      'http://127.0.0.1:4318',
      'http://127.1:4318',
      'http://0x7f.0.0.1:4318',
      'http://0.0.0.0:4318',
      'http://[::1]:4318',
      'http://[::]:4318',
      'http://[::ffff:127.0.0.1]:4318',
      'http://[::ffff:7f00:1]:4318',
      'http://[::ffff:0.0.0.0]:4318',
    ])
      expect(isLoopbackHost(new URL(url).hostname), url).toBe(true);
  });

  it('leaves other hosts alone', () => {
    for (const url of [
      'http://10.0.0.1:4318',
      'http://[::ffff:10.0.0.1]:4318',
      'http://collector:4318',
      'http://[2001:db8::1]:4318',
    ])
      expect(isLoopbackHost(new URL(url).hostname), url).toBe(false);
  });
});
