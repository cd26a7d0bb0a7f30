// The container credentials endpoint has no real counterpart here, so a loopback server plays it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AwsCredentialsError,
  credentialsFromEnv,
  defaultCredentialProvider,
} from '../../../src/aws/index.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function endpoint(handler: (auth: string | undefined) => [number, unknown]) {
  let hits = 0;
  server = createServer((req, res) => {
    hits++;
    const [status, body] = handler(req.headers.authorization);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { uri: `http://127.0.0.1:${port}/2021-04-23/credentials`, hits: () => hits };
}

describe('credentials', () => {
  it('reads the standard variables, session token included', () => {
    expect(
      credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c' }),
    ).toEqual({
      accessKeyId: 'a',
      secretAccessKey: 'b',
      sessionToken: 'c',
    });
    expect(credentialsFromEnv({ AWS_ACCESS_KEY_ID: 'a' })).toBeUndefined();
  });

  it('fetches from the container endpoint with the authorization token and caches until near expiry', async () => {
    let t = Date.parse('2026-11-21T08:00:00Z');
    const ep = await endpoint((auth) =>
      auth === 'Bearer tok'
        ? [200, { AccessKeyId: 'AK', SecretAccessKey: 'SK', Token: 'TK', Expiration: '2026-11-21T09:00:00Z' }]
        : [401, {}],
    );
    const provider = defaultCredentialProvider(
      { AWS_CONTAINER_CREDENTIALS_FULL_URI: ep.uri, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'Bearer tok' },
      () => t,
    );
    expect(await provider()).toEqual({
      accessKeyId: 'AK',
      secretAccessKey: 'SK',
      sessionToken: 'TK',
      expiration: Date.parse('2026-11-21T09:00:00Z'),
    });
    await provider();
    expect(ep.hits()).toBe(1);
    t = Date.parse('2026-11-21T08:56:00Z');
    await provider();
    expect(ep.hits()).toBe(2);
  });

  it('says what is missing when there is no credential source', async () => {
    await expect(defaultCredentialProvider({})()).rejects.toThrow(AwsCredentialsError);
  });

  it('reports an endpoint that refuses the token', async () => {
    const ep = await endpoint(() => [403, {}]);
    await expect(
      defaultCredentialProvider({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: ep.uri,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'x',
      })(),
    ).rejects.toThrow(/answered HTTP 403/);
  });
});
