import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  discoverExtensions,
  EXTENSION_EXCLUDED_VARIABLES,
  expandEmulatorHost,
  extensionVariables,
  mergeLayers,
  runtimeVariables,
} from '../../../src/local/layout.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'layout-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('mergeLayers', () => {
  it('lays later layers over earlier ones and merges shared directories', () => {
    const a = tree({ 'extensions/one': 'a1', 'lib/shared.txt': 'from a', 'lib/only-a.txt': 'a' });
    const b = tree({ 'extensions/two': 'b2', 'lib/shared.txt': 'from b' });
    const opt = join(tree({}), 'opt');
    mergeLayers([a, b], opt);
    expect(readFileSync(join(opt, 'lib/shared.txt'), 'utf8')).toBe('from b');
    expect(readFileSync(join(opt, 'lib/only-a.txt'), 'utf8')).toBe('a');
    expect(discoverExtensions(opt).map((e) => e.name)).toEqual(['one', 'two']);
    // Files are links into the layers, not copies.
    expect(realpathSync(join(opt, 'extensions/two'))).toBe(realpathSync(join(b, 'extensions/two')));
  });

  it('fails clearly for a layer that is not a directory', () => {
    const opt = join(tree({}), 'opt');
    expect(() => mergeLayers(['/nonexistent/layer'], opt)).toThrow(/not a directory/);
  });
});

describe('discoverExtensions', () => {
  it('lists top-level files alphabetically and skips directories', () => {
    const opt = tree({ 'extensions/zeta': '', 'extensions/alpha': '', 'extensions/sub/inner': '' });
    chmodSync(join(opt, 'extensions/zeta'), 0o755);
    expect(discoverExtensions(opt).map((e) => e.name)).toEqual(['alpha', 'zeta']);
  });

  it('finds nothing when /opt/extensions is absent', () => {
    expect(discoverExtensions(tree({}))).toEqual([]);
  });
});

describe('variables', () => {
  const inputs = {
    functionName: 'fn',
    functionVersion: '$LATEST',
    memoryMb: 512,
    region: 'eu-west-1',
    initializationType: 'on-demand',
    runtimeApi: '127.0.0.1:1234',
    codeDir: '/code',
    optDir: '/opt-x',
    tmpDir: '/tmp-x',
    handler: 'index.handler',
    nodePath: '/nodes/v22/bin/node',
    nodeMajor: 22,
    runtimeDir: '/rt',
    customer: { NODE_OPTIONS: '--enable-source-maps', _PRIVATE: 'x', AWS_LAMBDA_RUNTIME_API: 'evil' },
    logStreamName: '2026/01/01/[$LATEST]abc',
    emulatorHost: '169.254.200.1',
  };

  it('puts the chosen node first on PATH and keeps the platform variables over customer ones', () => {
    const env = runtimeVariables(inputs);
    expect(env.PATH?.split(':')[0]).toBe('/nodes/v22/bin');
    expect(env.AWS_LAMBDA_RUNTIME_API).toBe('127.0.0.1:1234');
    expect(env.TMPDIR).toBe('/tmp-x');
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE).toBe('512');
    expect(env.AWS_EXECUTION_ENV).toBe('AWS_Lambda_nodejs22.x');
    expect(env.NODE_PATH?.split(':')[0]).toBe('/opt-x/nodejs/node22/node_modules');
  });

  it('strips the documented variables and every _-prefixed one for extensions', () => {
    const ext = extensionVariables({ ...runtimeVariables(inputs), AWS_LAMBDA_MAX_CONCURRENCY: '4' });
    for (const k of EXTENSION_EXCLUDED_VARIABLES) expect(ext[k], k).toBeUndefined();
    expect(ext._PRIVATE).toBeUndefined();
    expect(ext.AWS_LAMBDA_MAX_CONCURRENCY).toBeUndefined();
    expect(ext.NODE_OPTIONS).toBe('--enable-source-maps');
    expect(ext.AWS_LAMBDA_RUNTIME_API).toBe('127.0.0.1:1234');
    expect(ext.OTEL_RELAY_EMULATOR_HOST).toBe('169.254.200.1');
  });
});

describe('expandEmulatorHost', () => {
  it('puts the host address where a customer value names OTEL_RELAY_EMULATOR_HOST', () => {
    expect(
      expandEmulatorHost(
        {
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://$OTEL_RELAY_EMULATOR_HOST:4318',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell-like form, on purpose
          B: '${OTEL_RELAY_EMULATOR_HOST}/$OTEL_RELAY_EMULATOR_HOSTNAME',
          C: 'plain',
        },
        '169.254.200.1',
      ),
    ).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://169.254.200.1:4318',
      B: '169.254.200.1/$OTEL_RELAY_EMULATOR_HOSTNAME',
      C: 'plain',
    });
  });
});
