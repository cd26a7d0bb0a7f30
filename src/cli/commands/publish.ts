// `lambda-otel-relay publish`: publish the packaged layer.zip as a new layer version, in one region
// or several, and print each version's ARN.
import { resolve } from 'node:path';
import { type CommandDeps, parse, processIo } from '../lambda/cli.js';
import { DEFAULT_LAYER_NAME, type LayerGrant, publishLayer } from '../lambda/layers.js';
import { openSession } from '../lambda/session.js';
import { packagedLayerZip } from '../package/index.js';
import { UsageError } from '../usage.js';

const HELP = `usage: lambda-otel-relay publish [options]

Publishes the layer this package ships (its dist/layer.zip, wherever the package is installed) as a
new version of a Lambda layer, compatible with nodejs20.x, nodejs22.x and nodejs24.x on x86_64 and
arm64, and prints the version ARN on stdout, one line per region.

  --zip PATH              another layer zip (default: the package's dist/layer.zip)
  --layer-name NAME       the layer (default: ${DEFAULT_LAYER_NAME})
  --description TEXT      the version's description
  --grant-account ID      let this AWS account use the version (repeatable)
  --grant-organization ID let every account of this AWS Organization (o-...) use it (repeatable)
  --public                let every AWS account use it
  --region REGION         AWS region (default: AWS_REGION / profile); repeat, or give a comma-separated
                          list, to publish the same zip to several regions in one run`;

const options = {
  region: { type: 'string', multiple: true },
  zip: { type: 'string' },
  'layer-name': { type: 'string' },
  description: { type: 'string' },
  'grant-account': { type: 'string', multiple: true },
  'grant-organization': { type: 'string', multiple: true },
  public: { type: 'boolean' },
} as const;

export async function publish(argv: string[], deps: CommandDeps): Promise<number> {
  const { values, positionals } = parse(argv, options, HELP);
  if (values.help) {
    deps.io.out(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}\n\n${HELP}`);
  const layerName = values['layer-name'] ?? DEFAULT_LAYER_NAME;
  if (!/^[A-Za-z0-9_-]{1,140}$/.test(layerName)) {
    throw new UsageError(`--layer-name ${layerName}: use letters, digits, - and _ (at most 140)`);
  }
  const grants: LayerGrant[] = [];
  for (const account of values['grant-account'] ?? []) {
    if (!/^\d{12}$/.test(account))
      throw new UsageError(`--grant-account ${account} is not a 12-digit account id`);
    grants.push({ account });
  }
  for (const organization of values['grant-organization'] ?? []) {
    if (!/^o-[a-z0-9]{10,32}$/.test(organization)) {
      throw new UsageError(`--grant-organization ${organization} is not an organization id (o-...)`);
    }
    grants.push({ organization });
  }
  if (values.public) grants.push({ public: true });

  const regions = (values.region ?? [])
    .flatMap((r) => r.split(','))
    .map((r) => r.trim())
    .filter(Boolean);
  for (const region of regions) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
      throw new UsageError(`--region ${region} is not an AWS region`);
  }
  const zipPath = resolve(values.zip ?? packagedLayerZip());
  const shared = grants.map((g) =>
    'account' in g
      ? `account ${g.account}`
      : 'organization' in g
        ? `organization ${g.organization}`
        : 'everyone',
  );
  // One region after the other: a failure names its region, and the ARNs printed before it stand.
  for (const region of regions.length > 0 ? [...new Set(regions)] : [undefined]) {
    const session = await openSession({ region, clock: deps.clock });
    const published = await publishLayer(session, {
      zipPath,
      layerName,
      description: values.description,
      grants,
    });
    deps.io.err(
      `published ${zipPath} (${published.codeSize} bytes) as ${layerName} version ${published.version} in ` +
        `${session.region}${shared.length ? `, usable by ${shared.join(', ')}` : ''}`,
    );
    // Only ARNs on stdout, so `ARN=$(lambda-otel-relay publish)` works.
    deps.io.out(published.layerVersionArn);
  }
  return 0;
}

export function run(argv: string[]): Promise<number> {
  return publish(argv, { io: processIo });
}
