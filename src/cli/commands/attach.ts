// `lambda-otel-relay attach`: add the relay layer to functions, or upgrade the version they run,
// and set its environment. Running it twice changes nothing the second time.
import { type CommandDeps, parse, processInterrupt, processIo } from '../lambda/cli.js';
import { checkLayerVersion, DEFAULT_LAYER_NAME, latestLayerVersion } from '../lambda/layers.js';
import { planAttach } from '../lambda/plan.js';
import { openSession } from '../lambda/session.js';
import {
  type RelaySettings,
  requiredStatements,
  validateEndpoint,
  validateFlush,
  validateHeaders,
  validateS3Uri,
  validateSecretArn,
} from '../lambda/settings.js';
import { SELECTOR_HELP, updateFunctions, updateOptions, updateRequest } from '../lambda/update.js';
import { UsageError } from '../usage.js';

const HELP = `usage: lambda-otel-relay attach [FUNCTION...] [options]

Adds the relay layer to functions (or upgrades the version they have, in place), sets the relay's
environment variables (other variables are kept), and waits until Lambda has applied the update.
Each function's line is printed as it completes, then a summary; Ctrl-C starts no new update and
says which functions were left as they were. Values attach replaces are recorded on the function
(OTEL_RELAY_ATTACH_PREVIOUS) and put back by detach. A function that would have no endpoint, or
runs Node.js older than 20, is refused with the fix.

${SELECTOR_HELP}

layer:
  --layer ARN          the layer version to attach (default: newest version of --layer-name)
  --layer-name NAME    layer name used to find the newest version (default: ${DEFAULT_LAYER_NAME})

settings (each optional; unset ones keep the function's current value):
  --endpoint URL            OTEL_EXPORTER_OTLP_ENDPOINT, the collector the relay exports to (required
                            unless the function already has one)
  --headers K=V,...         OTEL_EXPORTER_OTLP_HEADERS, URL-encoded (visible in the console: prefer a secret)
  --headers-secret-arn ARN  OTEL_RELAY_HEADERS_SECRET_ARN: a secret (ARN or name) holding headers (K=V,... or JSON)
  --flush STRATEGY          OTEL_RELAY_FLUSH: adaptive | end | continuous | periodic:<ms> | periodic:<n>s
  --fallback-s3-uri URI     OTEL_RELAY_FALLBACK_S3_URI, s3://bucket/prefix/ for spilled data

  --dry-run            print what would change, change nothing
  --concurrency N      functions updated at once (default 4, at most 20)
  --json               one JSON line per function as it completes, then a summary line
  --any-runtime        allow non-Node.js runtimes (the function must ship Node.js itself)
  --zero-code          also set AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler: trace the function without
                       code changes (refused if it already has another wrapper; detach removes it)
  --timeout SECONDS    how long to wait for each update to apply (default 120)
  --region REGION      AWS region (default: AWS_REGION / profile)`;

const options = {
  ...updateOptions,
  endpoint: { type: 'string' },
  headers: { type: 'string' },
  'headers-secret-arn': { type: 'string' },
  flush: { type: 'string' },
  'fallback-s3-uri': { type: 'string' },
  'any-runtime': { type: 'boolean' },
  'zero-code': { type: 'boolean' },
} as const;

export async function attach(argv: string[], deps: CommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, options, HELP);
  if (values.help) {
    deps.io.out(HELP);
    return 0;
  }
  const { selector, apply, bulk } = updateRequest(values, positionals, HELP);
  if (values.headers !== undefined && values['headers-secret-arn'] !== undefined) {
    throw new UsageError('--headers and --headers-secret-arn are alternatives; pass one');
  }
  const settings: RelaySettings = {
    endpoint: values.endpoint === undefined ? undefined : validateEndpoint(values.endpoint),
    headers: values.headers === undefined ? undefined : validateHeaders(values.headers),
    headersSecretArn:
      values['headers-secret-arn'] === undefined
        ? undefined
        : validateSecretArn(values['headers-secret-arn']),
    flush: values.flush === undefined ? undefined : validateFlush(values.flush),
    fallbackS3Uri:
      values['fallback-s3-uri'] === undefined ? undefined : validateS3Uri(values['fallback-s3-uri']),
  };

  const session = await openSession({ region: values.region, clock: deps.clock });
  const layerName = values['layer-name'] ?? DEFAULT_LAYER_NAME;
  const layerVersionArn = values.layer ?? (await latestLayerVersion(session, layerName));
  if (!layerVersionArn) {
    throw new UsageError(
      `no version of layer ${layerName} in ${session.region}; publish one (lambda-otel-relay publish) or pass --layer`,
    );
  }
  await checkLayerVersion(session, layerVersionArn);

  const anyRuntime = values['any-runtime'] === true;
  const statements = requiredStatements(settings);
  if (statements.length > 0) {
    // The role is the function's own: attach does not change it. Without these the relay runs but
    // reads no headers (exports then fail auth) or cannot spill (data is kept in /tmp only).
    deps.io.err(
      `the roles of these functions must allow (add it if they do not):\n${JSON.stringify(
        { Version: '2012-10-17', Statement: statements },
        null,
        2,
      )}`,
    );
  }
  return updateFunctions(
    session,
    selector,
    (current) =>
      planAttach(current, layerVersionArn, settings, { anyRuntime, zeroCode: values['zero-code'] === true }),
    apply,
    deps.io,
    bulk,
    deps.interrupt,
  );
}

export function run(argv: string[]): Promise<number> {
  return attach(argv, { io: processIo, interrupt: processInterrupt() });
}
