/** A mistake in the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function usageError(err: unknown): UsageError | undefined {
  return err instanceof UsageError ? err : undefined;
}
