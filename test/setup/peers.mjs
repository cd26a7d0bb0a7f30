// Prepares the real peers the tests run against. Filled in by the foundation work.
export async function preparePeers() {}
