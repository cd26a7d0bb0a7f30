// Not built yet: see the open issue that owns `local`.
export async function run(_argv: string[]): Promise<number> {
  console.error('lambda-otel-relay local: not available in this build yet');
  return 1;
}
