// The published type declarations of `lambda-otel-relay/middleware`, as a TypeScript user meets them:
// a consumer project outside this repository (the package linked into its node_modules) compiled by
// the real tsc, strict, as an ES module, as CommonJS, and with the legacy node10 resolution. Each
// consumer also holds `@ts-expect-error` lines, so types that collapsed to `any` fail the test.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
const tsc = join(root, 'node_modules/typescript/bin/tsc');
// A cold tsc over the OpenTelemetry declarations takes seconds alone, but CI runs the unit tests while
// the peers build in the background, and there it has taken over 50 s.
const TSC_DEADLINE_MS = 170_000;
const work = mkdtempSync(join(tmpdir(), 'otel-relay-dts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What every consumer checks, in either module format (no top-level await: CommonJS has none). */
const body = `
import type { TracerProvider } from '@opentelemetry/api';
import {
  type LambdaContext,
  type MiddyMiddleware,
  type OtelRelaySdk,
  otelRelay,
  setupOtelRelay,
  wrapHandler,
} from 'lambda-otel-relay/middleware';

interface OrderEvent { orderId: string }
interface OrderResult { statusCode: number; body: string }

export async function init(): Promise<TracerProvider> {
  const sdk: OtelRelaySdk = await setupOtelRelay({ serviceName: 'orders-api', signals: { metrics: false } });
  await sdk.forceFlush();
  // @ts-expect-error setupOtelRelay takes no unknown options
  await setupOtelRelay({ servicename: 'orders-api' });
  return sdk.tracerProvider;
}

export const handler = wrapHandler(
  async (event: OrderEvent, context: LambdaContext): Promise<OrderResult> => ({
    statusCode: 200,
    body: event.orderId + context.awsRequestId,
  }),
  { handoff: 'before-response', flushTimeoutMs: 500 },
);

export function invoke(context: LambdaContext): Promise<OrderResult> {
  // @ts-expect-error the wrapped handler keeps the event type of the handler
  void handler({ orderID: 'o-1' }, context);
  return handler({ orderId: 'o-1' }, context);
}

export const middleware: MiddyMiddleware<OrderEvent, OrderResult> = otelRelay<OrderEvent, OrderResult>({
  xray: true,
});
// @ts-expect-error handoff is 'after-response' or 'before-response'
otelRelay({ handoff: 'sometimes' });
`;

/** With middy itself: the middleware is accepted by middy's own `.use()` types (ESM only: middy 6 is). */
const withMiddy = `
import middy from '@middy/core';
export const orders = middy(async (event: OrderEvent): Promise<OrderResult> => ({ statusCode: 201, body: event.orderId }))
  .use(otelRelay());
`;

interface Consumer {
  name: string;
  type: 'module' | 'commonjs';
  compilerOptions: Record<string, unknown>;
  source: string;
}

/** Writes the consumer project and runs tsc on it; returns tsc's exit code, errors and listed files. */
async function compile(c: Consumer): Promise<{ code: number; errors: string[]; files: string[] }> {
  const dir = join(work, c.name);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  // The package as installed, plus the peers it and the consumer import.
  symlinkSync(root, join(dir, 'node_modules/lambda-otel-relay'), 'dir');
  for (const scope of ['@opentelemetry', '@middy', '@types'])
    symlinkSync(join(root, 'node_modules', scope), join(dir, 'node_modules', scope), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: c.name, type: c.type, private: true }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        lib: ['es2023'],
        // A Lambda function's project has the Node.js types; nothing else is assumed. skipLibCheck stays
        // off so that the declarations themselves are checked, not only their use.
        types: ['node'],
        ...c.compilerOptions,
      },
      files: ['consumer.ts'],
    }),
  );
  writeFileSync(join(dir, 'consumer.ts'), c.source);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [tsc, '-p', dir, '--listFiles'], {
      timeout: TSC_DEADLINE_MS,
    });
    return { code: 0, errors: [], files: stdout.split('\n') };
  } catch (err) {
    const e = err as { code?: number | null; killed?: boolean; stdout?: string };
    if (e.killed) return { code: -1, errors: [`tsc was stopped after ${TSC_DEADLINE_MS} ms`], files: [] };
    const lines = (e.stdout ?? String(err)).split('\n');
    return { code: e.code ?? -1, errors: lines.filter((l) => l.includes('error TS')), files: lines };
  }
}

/** The `index.d.ts` of lambda-otel-relay/middleware that tsc loaded, relative to dist/middleware. */
function entryLoaded(files: string[]): string[] {
  const prefix = join(root, 'dist/middleware/');
  return files
    .filter((f) => f.startsWith(prefix) && f.endsWith('/index.d.ts'))
    .map((f) => f.slice(prefix.length));
}

interface Case extends Consumer {
  /** The declaration tree tsc must have loaded, relative to dist/middleware. */
  expected: string;
}

const cases: Array<[string, Case]> = [
  [
    'an ES module consumer against the import types, middy included',
    {
      name: 'esm',
      type: 'module',
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext' },
      source: body + withMiddy,
      expected: 'esm/index.d.ts',
    },
  ],
  [
    'a CommonJS consumer against the require types',
    {
      name: 'cjs',
      type: 'commonjs',
      compilerOptions: { module: 'node16', moduleResolution: 'node16' },
      source: body,
      expected: 'cjs/index.d.ts',
    },
  ],
  [
    'a consumer on the node10 resolution, which reads typesVersions instead of exports',
    {
      name: 'node10',
      type: 'commonjs',
      compilerOptions: { module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true },
      source: body,
      expected: 'cjs/index.d.ts',
    },
  ],
];

describe('lambda-otel-relay/middleware type declarations', () => {
  it.each(cases)(
    'type-checks %s',
    async (_title, c) => {
      const r = await compile(c);
      expect(r.errors).toEqual([]);
      expect(r.code).toBe(0);
      expect(entryLoaded(r.files)).toEqual([c.expected]);
    },
    TSC_DEADLINE_MS + 10_000,
  );
});
