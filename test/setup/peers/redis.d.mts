export function ensureRedis(opts?: { verbose?: boolean }): Promise<string>;
