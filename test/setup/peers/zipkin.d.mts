export const ZIPKIN_VERSION: string;
export function ensureZipkin(opts?: { verbose?: boolean }): Promise<{ jar: string; java: string }>;
