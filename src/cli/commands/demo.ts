// Not built yet: see the open issue that owns `demo`.
export async function run(_argv: string[]): Promise<number> {
  console.error('lambda-otel-relay demo: not available in this build yet');
  return 1;
}
