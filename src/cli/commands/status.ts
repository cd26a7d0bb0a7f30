// Not built yet: see the open issue that owns `status`.
export async function run(_argv: string[]): Promise<number> {
  console.error('lambda-otel-relay status: not available in this build yet');
  return 1;
}
