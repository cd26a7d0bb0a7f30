export const JAEGER_VERSION: string;
export function ensureJaeger(opts?: { verbose?: boolean }): Promise<string>;
