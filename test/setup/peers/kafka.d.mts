export const KAFKA_VERSION: string;
export function kafkaDir(): string;
export function ensureKafka(opts?: { verbose?: boolean }): Promise<{ dir: string; classpath: string }>;
