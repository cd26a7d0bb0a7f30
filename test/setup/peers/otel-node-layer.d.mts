// Types for otel-node-layer.mjs (plain JavaScript: deps.mjs runs it before anything is built).
export function otelNodeLayerSource(): string | undefined;
export function otelNodeLayerSkipReason(): string | undefined;
export function ensureOtelNodeLayer(opts?: { verbose?: boolean }): Promise<string>;
export function prepareOtelNodeLayer(opts?: { verbose?: boolean }): Promise<string | { skipped: string }>;
