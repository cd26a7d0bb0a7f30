// Types for collector-layer.mjs (plain JavaScript: deps.mjs runs it before anything is built).
export const SOURCE_SETTING: string;
export const MODULE_SUBSTITUTES: Array<[string, string]>;
export function collectorLayerSource(): string | undefined;
export function collectorLayerSkipReason(): string | undefined;
export function collectorLayerDir(source?: string): string;
export function ensureCollectorLayer(opts?: { verbose?: boolean }): Promise<string>;
export function prepareCollectorLayer(opts?: { verbose?: boolean }): Promise<string | { skipped: string }>;
