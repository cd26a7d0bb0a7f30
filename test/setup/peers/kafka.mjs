// Apache Kafka (KRaft, one node) for the kafka destination's tests: the broker's runtime classpath,
// resolved from Maven Central with Maven into the cache, run on the machine's Java 17 as `kafka.Kafka`.
// No Docker and no tarball: the same artifacts a Maven build of the broker pulls. The cache key is a
// hash of the pom below, so changing the version or a dependency rebuilds the entry.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ensureCached, runStep } from '../peers.mjs';

/** The broker version; 4.x brokers need Java 17, which is what this machine and CI have. */
export const KAFKA_VERSION = '4.1.1';

// log4j-slf4j-impl binds the broker's slf4j logging to log4j2, so it prints "Kafka Server started"
// (the readiness line the test helper waits for) and its errors.
const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lambda-otel-relay.test</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
`;

/** The cache entry for the current pom (it may not exist yet). */
export function kafkaDir() {
  const hash = createHash('sha256').update(POM).digest('hex').slice(0, 12);
  return join(cacheDir(), `kafka-${hash}`);
}

/**
 * Resolves the broker's runtime classpath into the cache unless it is there; returns the java
 * classpath (`<dir>/libs/*`). Fails loudly without Java or Maven.
 */
export async function ensureKafka({ verbose = false } = {}) {
  const dir = kafkaDir();
  await ensureCached(dir, 20 * 60_000, async () => {
    console.log(`peers: resolving Apache Kafka ${KAFKA_VERSION} from Maven Central into ${dir}`);
    await runStep('java', ['-version'], {
      timeoutMs: 30_000,
      label: 'java -version (Java 17 runs the broker)',
    });
    writeFileSync(join(dir, 'pom.xml'), POM);
    await runStep(
      'mvn',
      [
        '-B',
        '-q',
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${join(dir, 'libs')}`,
      ],
      {
        cwd: dir,
        timeoutMs: 15 * 60_000,
        verbose,
        label: `mvn dependency:copy-dependencies (kafka_2.13 ${KAFKA_VERSION})`,
      },
    );
    const jars = existsSync(join(dir, 'libs')) ? readdirSync(join(dir, 'libs')) : [];
    if (!jars.includes(`kafka_2.13-${KAFKA_VERSION}.jar`)) {
      throw new Error(`peers: Maven did not bring kafka_2.13-${KAFKA_VERSION}.jar into ${dir}/libs`);
    }
  });
  return { dir, classpath: join(dir, 'libs', '*') };
}
