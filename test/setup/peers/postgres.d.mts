export function ensurePostgres(opts?: { verbose?: boolean }): Promise<string>;
