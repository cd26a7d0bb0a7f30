import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KAFKA_SCRAM, sharedKafka } from '../../helpers/kafka.js';

describe('kafka peer', () => {
  it('accepts an idempotent produce on both listeners', async () => {
    const broker = await sharedKafka();
    for (const [brokers, sasl] of [
      [broker.bootstrap, undefined],
      [broker.saslBootstrap, { mechanism: 'scram-sha-512' as const, ...KAFKA_SCRAM }],
    ] as const) {
      const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING, ...(sasl && { sasl }) });
      const p = kafka.producer({ idempotent: true });
      await p.connect();
      const [r] = await p.send({ topic: 'peer-check', acks: -1, messages: [{ value: 'x' }] });
      await p.disconnect();
      expect(r?.errorCode).toBe(0);
    }
  });
});
