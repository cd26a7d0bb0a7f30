// `lambda-otel-relay <command>`: a small dispatcher. Each command lives in its own module and is
// loaded only when asked for, so `local` does not pay for the AWS SDK that `publish` needs.
import { usageError } from './usage.js';

type CommandModule = { run(argv: string[]): Promise<number> };

const commands: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  local: {
    summary: 'run a handler and layers in the local Lambda emulator',
    load: () => import('./commands/local.js'),
  },
  demo: {
    summary: 'the quick-start demo: an example function, the built layer, an embedded collector',
    load: () => import('./commands/demo.js'),
  },
  replay: {
    summary: 're-send fallback data (S3 or spool) to a collector',
    load: () => import('./commands/replay.js'),
  },
  publish: {
    summary: 'publish dist/layer.zip as a Lambda layer version',
    load: () => import('./commands/publish.js'),
  },
  attach: {
    summary: 'add the layer (or upgrade it) on existing functions',
    load: () => import('./commands/attach.js'),
  },
  detach: {
    summary: 'remove the layer and its settings from functions',
    load: () => import('./commands/detach.js'),
  },
  status: {
    summary: 'show which functions run the layer, and with what settings',
    load: () => import('./commands/status.js'),
  },
};

function help(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return [
    'usage: lambda-otel-relay <command> [options]',
    '',
    'commands:',
    ...rows,
    '',
    'lambda-otel-relay <command> --help for its options',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(help());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`lambda-otel-relay: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    const ue = usageError(err);
    if (ue) {
      console.error(`lambda-otel-relay ${name}: ${ue.message}`);
      return 2;
    }
    console.error(`lambda-otel-relay ${name}: ${err instanceof Error ? err.message : String(err)}`);
    if (process.env.DEBUG && err instanceof Error) console.error(err.stack);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 1;
  },
);
