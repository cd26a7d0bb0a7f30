export const PUSHGATEWAY_VERSION: string;
export function ensurePushgateway(opts?: { verbose?: boolean }): Promise<string>;
