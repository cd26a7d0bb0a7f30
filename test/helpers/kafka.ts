// A real Apache Kafka broker (KRaft, one node) on loopback. `sharedKafka()` starts one broker per test
// run (a JVM takes seconds to start; every kafka test file shares it and tells its data apart by
// topic and id), `startKafka()` starts a private one for a test that stops it mid-run.
// Listeners: PLAINTEXT, and SASL_PLAINTEXT with SCRAM-SHA-512 (user `relay`) and OAUTHBEARER (the
// broker's unsecured-JWT validator: checks the SASL exchange, not a signature).
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureKafka } from '../setup/peers/kafka.mjs';
import { cacheDir, ensureCached } from '../setup/peers.mjs';
import { PeerProcess, pollUntil } from './peer-process.js';
import { freePort } from './ports.js';

export const KAFKA_SCRAM = { username: 'relay', password: 'relay-secret' } as const;

export interface KafkaBroker {
  /** `127.0.0.1:PORT` of the PLAINTEXT listener. */
  bootstrap: string;
  /** `127.0.0.1:PORT` of the SASL_PLAINTEXT listener (SCRAM-SHA-512, OAUTHBEARER). */
  saslBootstrap: string;
  stop(): Promise<void>;
  logs(): string;
}

interface BrokerFiles {
  dir: string;
  ports: { plain: number; sasl: number; controller: number };
  args: string[];
}

const JVM = ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

async function prepareBroker(): Promise<BrokerFiles> {
  const { classpath } = await ensureKafka();
  const dir = mkdtempSync(join(tmpdir(), 'relay-kafka-'));
  const ports = { plain: await freePort(), sasl: await freePort(), controller: await freePort() };
  const props = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${ports.controller}`,
    `listeners=PLAINTEXT://127.0.0.1:${ports.plain},SASL_PLAINTEXT://127.0.0.1:${ports.sasl},CONTROLLER://127.0.0.1:${ports.controller}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${ports.plain},SASL_PLAINTEXT://127.0.0.1:${ports.sasl}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    'sasl.enabled.mechanisms=SCRAM-SHA-512,OAUTHBEARER',
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";',
    `log.dirs=${join(dir, 'data')}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'auto.create.topics.enable=true',
    'group.initial.rebalance.delay.ms=0',
  ];
  writeFileSync(join(dir, 'server.properties'), `${props.join('\n')}\n`);
  writeFileSync(
    join(dir, 'log4j2.properties'),
    [
      'rootLogger.level=WARN',
      'rootLogger.appenderRef.stdout.ref=STDOUT',
      'appender.stdout.type=Console',
      'appender.stdout.name=STDOUT',
      'appender.stdout.layout.type=PatternLayout',
      'appender.stdout.layout.pattern=[%d] %p %m (%c)%n',
      'logger.server.name=kafka.server.KafkaRaftServer',
      'logger.server.level=INFO',
    ].join('\n'),
  );
  const args = [...JVM, `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, '-cp', classpath];
  const format = new PeerProcess({
    name: 'kafka-storage-format',
    command: 'java',
    args: [
      ...args,
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id',
      'relaytestcluster000000',
      '--config',
      join(dir, 'server.properties'),
      '--add-scram',
      `SCRAM-SHA-512=[name=${KAFKA_SCRAM.username},password=${KAFKA_SCRAM.password}]`,
    ],
  });
  const exit = await format.waitForExit(120_000);
  if (exit.code !== 0) throw format.failure('failed to format the KRaft log directory');
  return { dir, ports, args: [...args, 'kafka.Kafka', join(dir, 'server.properties')] };
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.setTimeout(1_000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

const READY = /Kafka Server started/;
const START_TIMEOUT_MS = 120_000;

/** A private broker for one test (e.g. one that is killed mid-run). */
export async function startKafka(): Promise<KafkaBroker> {
  const files = await prepareBroker();
  const proc = new PeerProcess({ name: 'kafka', command: 'java', args: files.args });
  try {
    await proc.waitForOutput(READY, START_TIMEOUT_MS);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    bootstrap: `127.0.0.1:${files.ports.plain}`,
    saslBootstrap: `127.0.0.1:${files.ports.sasl}`,
    async stop() {
      await proc.stop(10_000);
      rmSync(files.dir, { recursive: true, force: true });
    },
    logs: () => proc.logs(),
  };
}

interface SharedState {
  pid: number;
  dir: string;
  ports: BrokerFiles['ports'];
  /** The test run that started it; the run's global teardown stops it. */
  run: string;
}

const sharedStateFile = (): string => join(cacheDir(), 'kafka-shared', 'state.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The broker shared by every kafka test of this run: started by the first caller (serialised by a
 * lock directory), detached so it outlives the test file, and stopped by the run's global teardown
 * (`stopSharedKafka`). A broker left by a run that died is reused while it answers.
 */
export async function sharedKafka(): Promise<KafkaBroker> {
  const stateFile = sharedStateFile();
  mkdirSync(join(cacheDir(), 'kafka-shared'), { recursive: true });
  const read = (): SharedState | undefined =>
    existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as SharedState) : undefined;
  const usable = async (s: SharedState | undefined): Promise<boolean> =>
    s !== undefined && alive(s.pid) && (await tcpOpen(s.ports.plain));
  let state = read();
  if (!(await usable(state))) {
    // ensureCached's lock serialises the start; its marker is removed so the next dead broker restarts.
    const slot = join(cacheDir(), 'kafka-shared', `broker-${process.env.RELAY_TEST_RUN ?? 'manual'}`);
    rmSync(join(slot, '.ready'), { force: true });
    await ensureCached(slot, START_TIMEOUT_MS + 60_000, async () => {
      const current = read();
      if (await usable(current)) return;
      if (current && alive(current.pid)) process.kill(current.pid, 'SIGKILL');
      const files = await prepareBroker();
      const log = join(files.dir, 'broker.log');
      const fd = openSync(log, 'a');
      const child = spawn('java', files.args, { detached: true, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      child.unref();
      const pid = child.pid;
      if (pid === undefined) throw new Error('kafka: the shared broker could not be started (no pid)');
      await pollUntil(
        `shared kafka broker (log ${log})`,
        async () => {
          if (!alive(pid)) throw new Error(`kafka exited:\n${readFileSync(log, 'utf8').slice(-3000)}`);
          return READY.test(readFileSync(log, 'utf8'));
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 250 },
      );
      const s: SharedState = {
        pid,
        dir: files.dir,
        ports: files.ports,
        run: process.env.RELAY_TEST_RUN ?? 'manual',
      };
      writeFileSync(stateFile, JSON.stringify(s));
    });
    state = read();
    if (!state || !(await usable(state))) throw new Error('kafka: the shared broker is not answering');
  }
  const s = state as SharedState;
  return {
    bootstrap: `127.0.0.1:${s.ports.plain}`,
    saslBootstrap: `127.0.0.1:${s.ports.sasl}`,
    // Shared: a test file never stops it; the run's teardown does.
    async stop() {},
    logs: () =>
      existsSync(join(s.dir, 'broker.log')) ? readFileSync(join(s.dir, 'broker.log'), 'utf8') : '',
  };
}

/** Stops the shared broker if this run started it (the global teardown calls this). */
export function stopSharedKafka(run: string): void {
  const stateFile = sharedStateFile();
  if (!existsSync(stateFile)) return;
  const s = JSON.parse(readFileSync(stateFile, 'utf8')) as SharedState;
  if (s.run !== run) return;
  if (alive(s.pid)) process.kill(s.pid, 'SIGKILL');
  rmSync(s.dir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
}
