// Publishing the layer and finding its versions.
import { readFile, stat } from 'node:fs/promises';
import type { Runtime } from '@aws-sdk/client-lambda';
import { UsageError } from '../usage.js';
import { parseLayerVersionArn } from './arn.js';
import { explainAwsError, LambdaCommandError } from './errors.js';
import type { LambdaSession } from './session.js';

export const DEFAULT_LAYER_NAME = 'lambda-otel-relay';
export const COMPATIBLE_RUNTIMES: Runtime[] = ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'];
export const COMPATIBLE_ARCHITECTURES = ['x86_64', 'arm64'] as const;

/** PublishLayerVersion takes at most 50 MB inline; the relay's zip is far below that. */
const MAX_INLINE_ZIP = 50 * 1024 * 1024;

/** Who may use the published version: accounts, an organization, or everyone. */
export type LayerGrant = { account: string } | { organization: string } | { public: true };

export interface PublishRequest {
  zipPath: string;
  layerName: string;
  description?: string | undefined;
  grants: LayerGrant[];
}

export interface PublishedLayer {
  layerVersionArn: string;
  version: number;
  codeSize: number;
}

export async function publishLayer(session: LambdaSession, req: PublishRequest): Promise<PublishedLayer> {
  let size: number;
  try {
    size = (await stat(req.zipPath)).size;
  } catch (cause) {
    throw new UsageError(`${req.zipPath} does not exist; build it first with \`npm run build:layer\``, {
      cause,
    });
  }
  if (size > MAX_INLINE_ZIP) {
    throw new UsageError(`${req.zipPath} is ${size} bytes; PublishLayerVersion takes at most 50 MB inline`);
  }
  const zip = await readFile(req.zipPath);
  let arn: string | undefined;
  let version: number | undefined;
  try {
    const res = await session.client.send(
      new session.sdk.PublishLayerVersionCommand({
        LayerName: req.layerName,
        Description: req.description,
        Content: { ZipFile: zip },
        CompatibleRuntimes: COMPATIBLE_RUNTIMES,
        CompatibleArchitectures: [...COMPATIBLE_ARCHITECTURES],
        LicenseInfo: 'Apache-2.0',
      }),
    );
    arn = res.LayerVersionArn;
    version = res.Version;
  } catch (err) {
    throw explainAwsError(err, {
      action: 'PublishLayerVersion',
      target: req.layerName,
      region: session.region,
    });
  }
  if (!arn || version === undefined) {
    throw new LambdaCommandError(`PublishLayerVersion for ${req.layerName} returned no version ARN`);
  }
  for (const grant of req.grants) {
    const [statementId, principal, organizationId] =
      'account' in grant
        ? [`account-${grant.account}`, grant.account, undefined]
        : 'organization' in grant
          ? [`org-${grant.organization}`, '*', grant.organization]
          : ['public', '*', undefined];
    try {
      await session.client.send(
        new session.sdk.AddLayerVersionPermissionCommand({
          LayerName: req.layerName,
          VersionNumber: version,
          StatementId: statementId,
          Action: 'lambda:GetLayerVersion',
          Principal: principal,
          OrganizationId: organizationId,
        }),
      );
    } catch (err) {
      const e = explainAwsError(err, {
        action: 'AddLayerVersionPermission',
        target: `${req.layerName}:${version}`,
        region: session.region,
      });
      throw new LambdaCommandError(`${e.message}; the version ${arn} was published without this grant`, {
        cause: err,
      });
    }
  }
  return { layerVersionArn: arn, version, codeSize: size };
}

/** The newest version of a layer in this region, or undefined when it has none. */
export async function latestLayerVersion(
  session: LambdaSession,
  layerName: string,
): Promise<string | undefined> {
  try {
    const res = await session.client.send(
      new session.sdk.ListLayerVersionsCommand({ LayerName: layerName, MaxItems: 50 }),
    );
    const versions = [...(res.LayerVersions ?? [])].sort((a, b) => (b.Version ?? 0) - (a.Version ?? 0));
    return versions[0]?.LayerVersionArn;
  } catch (err) {
    throw explainAwsError(err, { action: 'ListLayerVersions', target: layerName, region: session.region });
  }
}

/** Fails early, before touching any function, when the layer version cannot be read. */
export async function checkLayerVersion(session: LambdaSession, layerVersionArn: string): Promise<void> {
  const ref = parseLayerVersionArn(layerVersionArn);
  if (!ref)
    throw new UsageError(`--layer ${layerVersionArn} is not a layer version ARN (…:layer:NAME:VERSION)`);
  if (ref.region !== session.region) {
    throw new UsageError(
      `--layer ${layerVersionArn} is in ${ref.region} but this run uses ${session.region}; ` +
        'Lambda only attaches layers from the function’s region',
    );
  }
  try {
    await session.client.send(
      new session.sdk.GetLayerVersionCommand({ LayerName: ref.layerArn, VersionNumber: ref.version }),
    );
  } catch (err) {
    throw explainAwsError(err, {
      action: 'GetLayerVersion',
      target: layerVersionArn,
      region: session.region,
    });
  }
}
