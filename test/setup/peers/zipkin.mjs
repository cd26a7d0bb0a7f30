// Zipkin server (exec jar from Maven Central, in-memory storage), the peer of the zipkin destination.
// Fetched with `mvn dependency:get` into Maven's local repository, then copied into the peer cache.
import { copyFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { cacheDir, ensureCached, runStep, shortHash } from '../peers.mjs';

export const ZIPKIN_VERSION = '3.5.1';
const ARTIFACT = `io.zipkin:zipkin-server:${ZIPKIN_VERSION}:jar:exec`;

/** @returns {Promise<{ jar: string, java: string }>} */
export async function ensureZipkin({ verbose = false } = {}) {
  const dir = join(cacheDir(), `zipkin-${shortHash(ARTIFACT)}`);
  const jar = join(dir, `zipkin-server-${ZIPKIN_VERSION}-exec.jar`);
  const java = process.env.JAVA ?? 'java';
  await ensureCached(dir, 20 * 60_000, async () => {
    console.log(`peers: fetching ${ARTIFACT} into ${dir}`);
    await runStep(java, ['-version'], { timeoutMs: 30_000, label: 'java -version (Java 17+ runs Zipkin)' });
    const repo = process.env.MAVEN_REPO_LOCAL ?? join(homedir(), '.m2/repository');
    await runStep(
      'mvn',
      [
        '-B',
        '-q',
        `-Dmaven.repo.local=${repo}`,
        'dependency:get',
        `-Dartifact=${ARTIFACT}`,
        '-Dtransitive=false',
      ],
      {
        timeoutMs: 15 * 60_000,
        verbose,
        label: `mvn dependency:get ${ARTIFACT}`,
      },
    );
    copyFileSync(
      join(repo, `io/zipkin/zipkin-server/${ZIPKIN_VERSION}/zipkin-server-${ZIPKIN_VERSION}-exec.jar`),
      jar,
    );
  });
  return { jar, java };
}
