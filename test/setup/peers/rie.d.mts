// Types for rie.mjs (plain JavaScript: deps.mjs runs it before anything is built).
export const RIE_MODULE: string;
export const RIE_VERSION: string;
export function rieDir(): string;
export function ensureRie(opts?: { verbose?: boolean }): Promise<string>;
