// Not built yet: see the open issue that owns `attach`.
export async function run(_argv: string[]): Promise<number> {
  console.error('lambda-otel-relay attach: not available in this build yet');
  return 1;
}
