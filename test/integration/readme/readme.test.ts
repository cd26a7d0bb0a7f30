// Keeps README.md and docs/ honest against the code: the variables its tables document are the ones the
// extension reads, with the defaults it uses; every variable the extension reads is documented; the
// "not read" claims of Limitations are still true; every CLI command and option it shows exists; every
// `npm run` script exists; every relative link and anchor resolves. A README change that the code does
// not back (or a code change the README does not follow) fails here with the name of what differs.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/extension/settings/index.js';

const root = resolve(import.meta.dirname, '../../..');
/** README.md and every page of docs/, by path relative to the repository. */
const pages = new Map<string, string>(
  [
    'README.md',
    ...readdirSync(join(root, 'docs'), { recursive: true, encoding: 'utf8' }).map((f) => `docs/${f}`),
  ]
    .filter((f) => f.endsWith('.md'))
    .map((f) => [f, readFileSync(join(root, f), 'utf8')]),
);
/** All of the documentation as one text (a name documented on any page counts). */
const readme = [...pages.values()].join('\n');
const CLI = join(root, 'dist/cli.mjs');

type Env = Record<string, string | undefined>;

/** The headings of a markdown text outside fenced code (a `# comment` in a shell block is none). */
function headings(text: string): { level: number; title: string; at: number }[] {
  const out: { level: number; title: string; at: number }[] = [];
  let fenced = false;
  let at = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^(#+) (.+)$/.exec(line);
    if (m) out.push({ level: m[1]?.length ?? 1, title: m[2] ?? '', at });
    at += line.length + 1;
  }
  return out;
}

/**
 * The text under the heading `title` on whichever page has it (a page's `# title` is the whole page),
 * up to the next heading of the same or a higher level, or a failure naming it.
 */
function section(title: string): string {
  // A page titled so wins over a subsection of that name elsewhere.
  const ranked = [...pages.values()].sort(
    (a, b) => Number(b.startsWith(`# ${title}\n`)) - Number(a.startsWith(`# ${title}\n`)),
  );
  for (const text of ranked) {
    const hs = headings(text);
    const i = hs.findIndex((h) => h.title === title);
    const h = hs[i];
    if (!h) continue;
    const next = hs.slice(i + 1).find((n) => n.level <= h.level);
    return text.slice(h.at, next?.at);
  }
  throw new Error(`no page of README.md or docs/ has a "${title}" heading`);
}

/** Pipe tables of a markdown text: header cells and rows of cells (escaped `\|` stays inside a cell). */
function tables(md: string): { header: string[]; rows: string[][] }[] {
  const out: { header: string[]; rows: string[][] }[] = [];
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  const lines = md.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]?.trim().startsWith('|') || !/^\s*\|\s*-/.test(lines[i + 1] ?? '')) continue;
    const table = { header: cells(lines[i] ?? ''), rows: [] as string[][] };
    for (i += 2; lines[i]?.trim().startsWith('|'); i++) table.rows.push(cells(lines[i] ?? ''));
    out.push(table);
  }
  return out;
}

const backticked = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
const ENV_NAME = /^[A-Z][A-Z0-9_]*(<SIGNAL>[A-Z0-9_]*)?$/;

/** The extension's config, as one comparable value. */
function load(env: Env): { value: string; problems: string[] } {
  const { config, problems } = loadConfig(env);
  return { value: JSON.stringify(config), problems };
}

// S3 settings are only read when the S3 spill is on, so every probe runs with it on.
const BASE: Env = { OTEL_RELAY_FALLBACK_S3_URI: 's3://readme-bucket/prefix' };

/** Whether the config loaders react to `name` (a changed config, or a problem that names it). */
function configReads(name: string): boolean {
  const base = load(BASE);
  for (const probe of ['x-readme-probe', '12345', 'true']) {
    const r = load({ ...BASE, [name]: probe });
    if (r.value !== base.value || r.problems.some((p) => p.includes(name))) return true;
  }
  return false;
}

/** Every `.ts` file under a src/ folder, comments removed (a name in a comment is not a read). */
function sourceWithoutComments(folder: string): string {
  const files = readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  );
  return files
    .map((f) =>
      readFileSync(join(root, folder, f), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1'),
    )
    .join('\n');
}

const extensionSource = sourceWithoutComments('src/extension') + sourceWithoutComments('src/aws');

/** Every variable name the extension's config loaders look up, recorded through a Proxy. */
function variablesLookedUp(): Set<string> {
  const seen = new Set<string>();
  const env = new Proxy(BASE, {
    get(target, key) {
      if (typeof key === 'string') seen.add(key);
      return target[key as string];
    },
  });
  loadConfig(env);
  return seen;
}

/** What the extension reads: config lookups plus OTEL_* names in its (comment-free) source. */
function extensionReads(): Set<string> {
  const names = variablesLookedUp();
  for (const m of extensionSource.matchAll(/\bOTEL_[A-Z0-9_]*[A-Z0-9]\b/g)) names.add(m[0]);
  return new Set([...names].filter((n) => n.startsWith('OTEL_')));
}

/** Variables named in a bold lead of Limitations that says "not read" (e.g. **`X` is not read yet.**). */
function notReadClaims(): string[] {
  return [...section('Limitations').matchAll(/\*\*([^*]+)\*\*/g)]
    .map((m) => m[1] ?? '')
    .filter((lead) => /not read/i.test(lead))
    .flatMap((lead) => backticked(lead).filter((n) => ENV_NAME.test(n)));
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Shell commands of the README's `sh` blocks, with backslash continuations joined. */
function shellCommands(): string[] {
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.flatMap((b) =>
    b
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((l) => l.replace(/\s#.*$/, '').trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
}

/** Long (`--name`) and short (`-f`) options named in a text. */
function optionsIn(text: string): Set<string> {
  return new Set([...text.matchAll(/(?<![\w-])(?:--[a-z][a-z0-9-]*|-[a-zA-Z](?![\w-]))/g)].map((m) => m[0]));
}

/** Where the README describes one command's options, and that text. */
function documentedOptionsOf(command: string): { where: string; text: string } {
  const firstColumn = (title: string, header: string) => {
    const table = tables(section(title)).find((t) => t.header[0] === header);
    if (!table) throw new Error(`README section "${title}" has no table headed "${header}"`);
    return table.rows.map((r) => r[0] ?? '').join(' ');
  };
  switch (command) {
    case 'local':
      return {
        where: 'the emulator options table',
        text: firstColumn('The local Lambda emulator', 'option'),
      };
    case 'demo':
      return { where: 'the two commands (README)', text: section('The two commands') };
    case 'replay':
      return { where: 'the Replay section', text: section('Replay') };
    default:
      return {
        where: `the \`${command}\` option table (Deployment)`,
        text: firstColumn('Deployment', `\`${command}\` option`),
      };
  }
}

// The settings tables are generated from the registry (docs/configuration.md) and checked in
// test/unit/settings/registry.test.ts.
describe('README: configuration tables', () => {
  it('deploys only variables the extension reads, or that Limitations says it does not read yet', () => {
    const deployment = tables(section('Deployment')).find((t) => t.header[1] === 'set from');
    expect(deployment).toBeDefined();
    const names = (deployment?.rows ?? []).flatMap((r) =>
      backticked(r[0] ?? '').filter((n) => ENV_NAME.test(n)),
    );
    expect(names.length).toBeGreaterThan(3);
    const reads = extensionReads();
    const admitted = new Set(notReadClaims());
    const dangling = names.filter((n) => !reads.has(n) && !configReads(n) && !admitted.has(n));
    expect(dangling, 'set by the deployment tools but read by nothing in src/extension').toEqual([]);
  });

  it('keeps the "not read" claims of Limitations true', () => {
    // Only the claims that exist are checked: a README with no such limitation is fine.
    const claimed = notReadClaims();
    const reads = extensionReads();
    const nowRead = claimed.filter((n) => reads.has(n) || configReads(n));
    expect(nowRead, 'Limitations says these are not read, but src/extension reads them now').toEqual([]);
  });
});

describe('README: self-telemetry', () => {
  it('names every otel_relay.* metric the extension emits', () => {
    const emitted = new Set(
      [...extensionSource.matchAll(/'(otel_relay\.[a-z_.]+)'/g)].map((m) => m[1] ?? ''),
    );
    expect(emitted.size).toBeGreaterThan(5);
    // The README writes families as otel_relay.items.{received,exported}: expand them.
    const named = new Set<string>();
    for (const m of readme.matchAll(/otel_relay\.([a-z_.]*)(?:\{([a-z_,]+)\})?/g))
      for (const leaf of m[2]?.split(',') ?? ['']) named.add(`otel_relay.${m[1]}${leaf}`);
    expect([...emitted].filter((name) => !named.has(name))).toEqual([]);
  });
});

describe('README: commands', () => {
  it('names only CLI commands that exist, and each answers --help', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    const known = new Set([...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]));
    expect(known.size).toBeGreaterThan(5);
    const named = new Set([...readme.matchAll(/lambda-otel-relay ([a-z][a-z-]*)/g)].map((m) => m[1] ?? ''));
    expect([...named].filter((c) => !known.has(c))).toEqual([]);
    for (const c of known) expect((await run([c ?? '', '--help'])).code, `${c} --help`).toBe(0);
  });

  it('shows only options that each command has in its shell examples', async () => {
    const helpOf = new Map<string, string>();
    const unknown: string[] = [];
    const check = async (command: string, options: string[], where: string) => {
      if (!helpOf.has(command)) helpOf.set(command, (await run([command, '--help'])).stdout);
      for (const o of options)
        if (!new RegExp(`${o}\\b`).test(helpOf.get(command) ?? ''))
          unknown.push(`${command} ${o} (${where})`);
    };
    const options = (text: string) => [...text.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((m) => m[0]);
    let commands = 0;
    for (const line of shellCommands()) {
      const m = /(?:lambda-otel-relay|dist\/cli\.mjs|npm run) ([a-z]+)(?: --)?(.*)$/.exec(line);
      if (!m?.[1] || (line.includes('npm run') && m[1] !== 'demo')) continue;
      commands++;
      await check(m[1], options(m[2] ?? ''), line);
    }
    expect(commands).toBeGreaterThan(8);
    expect(unknown).toEqual([]);
  });

  it('documents, for every command, exactly the options its --help lists', async () => {
    const help = await run(['--help']);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1] ?? '');
    expect(commands.length).toBeGreaterThan(5);
    const differences: string[] = [];
    for (const command of commands) {
      const fromHelp = optionsIn((await run([command, '--help'])).stdout);
      expect(fromHelp.size, `${command} --help`).toBeGreaterThan(2);
      const { where, text } = documentedOptionsOf(command);
      const inReadme = optionsIn(text);
      for (const o of fromHelp)
        if (!inReadme.has(o)) differences.push(`${command} ${o}: in --help, not in ${where}`);
      for (const o of inReadme)
        if (!fromHelp.has(o)) differences.push(`${command} ${o}: in ${where}, not in --help`);
    }
    expect(differences).toEqual([]);
  });

  it('names only npm scripts that package.json has', () => {
    const scripts = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts);
    const named = [...readme.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1] ?? '');
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((s) => !scripts.includes(s))).toEqual([]);
  });
});

describe('README: links', () => {
  it('has only relative links and anchors that resolve, on every page', () => {
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const anchorsOf = (text: string) =>
      new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1] ?? '')));
    const broken: string[] = [];
    let links = 0;
    for (const [path, text] of pages) {
      for (const target of [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '')) {
        links++;
        if (/^https?:\/\//.test(target)) continue;
        const [file = '', anchor] = target.split('#');
        const resolved = file === '' ? path : join(path, '..', file);
        if (!existsSync(join(root, resolved))) broken.push(`${path}: ${target}`);
        else if (
          anchor &&
          resolved.endsWith('.md') &&
          !anchorsOf(pages.get(resolved) ?? readFileSync(join(root, resolved), 'utf8')).has(anchor)
        )
          broken.push(`${path}: ${target}`);
      }
    }
    expect(links).toBeGreaterThan(5);
    expect(broken).toEqual([]);
  });
});
