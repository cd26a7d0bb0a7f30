export const PROMETHEUS_VERSION: string;
export function ensurePrometheus(opts?: { verbose?: boolean }): Promise<string>;
