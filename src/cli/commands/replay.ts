// Not built yet: see the open issue that owns `replay`.
export async function run(_argv: string[]): Promise<number> {
  console.error('lambda-otel-relay replay: not available in this build yet');
  return 1;
}
