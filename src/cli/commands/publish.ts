// Not built yet: see the open issue that owns `publish`.
export async function run(_argv: string[]): Promise<number> {
  console.error('lambda-otel-relay publish: not available in this build yet');
  return 1;
}
