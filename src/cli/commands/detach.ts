// Not built yet: see the open issue that owns `detach`.
export async function run(_argv: string[]): Promise<number> {
  console.error('lambda-otel-relay detach: not available in this build yet');
  return 1;
}
