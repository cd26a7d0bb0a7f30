export function ensureGoBinary(spec: {
  name: string;
  module: string;
  pkg: string;
  version: string;
  tags?: string[];
  verbose?: boolean;
  timeoutMs?: number;
}): Promise<string>;
