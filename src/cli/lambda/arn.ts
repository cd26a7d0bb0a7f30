// Lambda ARNs the CLI reasons about. Layer identity is the ARN without its version: two versions of
// one layer are "the same layer", which is what makes an upgrade in place possible.

export interface LayerVersionRef {
  arn: string;
  /** arn:...:layer:NAME, the layer independent of version. */
  layerArn: string;
  region: string;
  account: string;
  name: string;
  version: number;
}

const LAYER_VERSION = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):layer:([A-Za-z0-9_-]+):(\d+)$/;

export function parseLayerVersionArn(arn: string): LayerVersionRef | undefined {
  const m = LAYER_VERSION.exec(arn);
  if (!m) return undefined;
  return {
    arn,
    layerArn: arn.slice(0, arn.lastIndexOf(':')),
    region: m[2]!,
    account: m[3]!,
    name: m[4]!,
    version: Number(m[5]),
  };
}

export interface FunctionArnRef {
  region: string;
  account: string;
  name: string;
  /** A version or alias (`:3`, `:live`), when the ARN names one. */
  qualifier: string | undefined;
}

const FUNCTION_ARN =
  /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)(?::([A-Za-z0-9$_-]+))?$/;

export function parseFunctionArn(value: string): FunctionArnRef | undefined {
  const m = FUNCTION_ARN.exec(value);
  return m ? { region: m[1]!, account: m[2]!, name: m[3]!, qualifier: m[4] } : undefined;
}

/** The qualifier of `name:qualifier` or of a qualified ARN; undefined for a plain name or ARN. */
export function functionQualifier(value: string): string | undefined {
  const arn = parseFunctionArn(value);
  if (arn) return arn.qualifier;
  if (value.startsWith('arn:')) return undefined;
  const colon = value.indexOf(':');
  return colon > 0 ? value.slice(colon + 1) : undefined;
}
