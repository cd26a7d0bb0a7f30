import { describe, expect, it } from 'vitest';
import { readKafkaConfig } from '../../../src/extension/destinations/kafka/config.js';
import { readPostgresConfig } from '../../../src/extension/destinations/postgres/config.js';
import {
  insertStatement,
  rowsPerStatement,
  SPAN_COLUMNS,
} from '../../../src/extension/destinations/postgres/schema.js';
import { readRedisConfig } from '../../../src/extension/destinations/redis/config.js';
import { encodeCommand, parseReply, RespError } from '../../../src/extension/destinations/redis/resp.js';

describe('kafka settings', () => {
  it("defaults to the collector's Kafka conventions, acks=all and no SASL", () => {
    // Act
    const problems: string[] = [];
    const c = readKafkaConfig({ OTEL_RELAY_KAFKA_BROKERS: 'b1:9092, b2:9092' }, problems);
    // Assess
    expect(c.brokers).toEqual(['b1:9092', 'b2:9092']);
    expect(c.topics).toEqual({ traces: 'otlp_spans', metrics: 'otlp_metrics', logs: 'otlp_logs' });
    expect(c.acks).toBe(-1);
    expect(c.sasl).toBeUndefined();
    expect(c.tls).toBe(false);
    expect(problems).toEqual([]);
  });

  it('refuses to start without brokers, with brokers that are not host:port, or SCRAM without a password', () => {
    expect(() => readKafkaConfig({}, [])).toThrow(
      /OTEL_RELAY_KAFKA_BROKERS is not set: the kafka destination cannot start/,
    );
    expect(() => readKafkaConfig({ OTEL_RELAY_KAFKA_BROKERS: 'b1' }, [])).toThrow(/b1 is not host:port/);
    expect(() =>
      readKafkaConfig(
        { OTEL_RELAY_KAFKA_BROKERS: 'b1:9096', OTEL_RELAY_KAFKA_SASL_MECHANISM: 'scram-sha-512' },
        [],
      ),
    ).toThrow(/needs OTEL_RELAY_KAFKA_SASL_USERNAME and OTEL_RELAY_KAFKA_SASL_PASSWORD/);
  });

  it('warns that MSK IAM without TLS will be refused, and never quotes the SASL password', () => {
    // Act
    const problems: string[] = [];
    readKafkaConfig(
      { OTEL_RELAY_KAFKA_BROKERS: 'b:9098', OTEL_RELAY_KAFKA_SASL_MECHANISM: 'AWS-MSK-IAM' },
      problems,
    );
    const bad: string[] = [];
    readKafkaConfig(
      {
        OTEL_RELAY_KAFKA_BROKERS: 'b:9098',
        OTEL_RELAY_KAFKA_TIMEOUT: 'soon',
        OTEL_RELAY_KAFKA_SASL_PASSWORD: 'hunter2',
      },
      bad,
    );
    // Assess
    expect(problems).toEqual([expect.stringMatching(/aws-msk-iam without OTEL_RELAY_KAFKA_TLS=true/)]);
    expect(bad).toEqual([expect.stringMatching(/OTEL_RELAY_KAFKA_TIMEOUT=soon is not a whole number/)]);
    expect(bad.join()).not.toContain('hunter2');
  });
});

describe('redis settings', () => {
  it('reads user, password, database and TLS from the URL, and never shows the password', () => {
    // Act
    const c = readRedisConfig({ OTEL_RELAY_REDIS_URL: 'rediss://relay:p%40ss@cache.example:6380/2' }, []);
    // Assess
    expect(c).toMatchObject({
      host: 'cache.example',
      port: 6380,
      db: 2,
      username: 'relay',
      password: 'p@ss',
    });
    expect(c.tls).toEqual({});
    expect(c.display).toBe('rediss://cache.example:6380');
    expect(() => readRedisConfig({ OTEL_RELAY_REDIS_URL: 'http://x:1' }, [])).toThrow(
      /redis:\/\/ or rediss:\/\//,
    );
    expect(() => readRedisConfig({ OTEL_RELAY_REDIS_URL: 'redis://:secret@' }, [])).not.toThrow(/secret/);
  });
});

describe('postgres settings and statements', () => {
  it('reads the URL and warns once that IAM auth without a CA file does not verify the server', () => {
    // Act
    const problems: string[] = [];
    const c = readPostgresConfig(
      {
        OTEL_RELAY_POSTGRES_URL: 'postgres://writer@db.example:5433/tel',
        OTEL_RELAY_POSTGRES_IAM_AUTH: 'true',
      },
      problems,
    );
    // Assess
    expect(c).toMatchObject({
      host: 'db.example',
      port: 5433,
      user: 'writer',
      database: 'tel',
      ssl: 'require',
    });
    expect(problems).toEqual([expect.stringMatching(/without verifying the server certificate/)]);
    expect(() => readPostgresConfig({ OTEL_RELAY_POSTGRES_URL: 'postgres://db.example/x' }, [])).toThrow(
      /names no user/,
    );
  });

  it('writes one multi-row INSERT with a placeholder per cell, jsonb through text, ON CONFLICT DO NOTHING', () => {
    // Act
    const sql = insertStatement('otel_spans', SPAN_COLUMNS, 2);
    // Assess
    expect(sql.startsWith('INSERT INTO otel_spans (trace_id, span_id,')).toBe(true);
    expect(sql).toContain('$16::text::jsonb), ($17, $18,');
    expect(sql.endsWith('$32::text::jsonb) ON CONFLICT DO NOTHING')).toBe(true);
    expect(rowsPerStatement(SPAN_COLUMNS) * SPAN_COLUMNS.length).toBeLessThanOrEqual(65_535);
  });
});

describe('RESP', () => {
  it('encodes commands as arrays of bulk strings, binary-safe', () => {
    expect(encodeCommand(['XADD', 's', '*', 'data', new Uint8Array([0, 13, 10])]).toString('latin1')).toBe(
      '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$4\r\ndata\r\n$3\r\n\x00\r\n\r\n',
    );
  });

  it('parses every reply type, and waits for a reply that is not complete yet', () => {
    // Prepare
    const wire = Buffer.from(
      '+OK\r\n-WRONGPASS invalid\r\n:42\r\n$4\r\na\r\nb\r\n$-1\r\n*2\r\n$1\r\nx\r\n:1\r\n',
    );
    // Act
    const replies: unknown[] = [];
    let pos = 0;
    for (;;) {
      const r = parseReply(wire, pos);
      if (!r) break;
      replies.push(r.reply);
      pos = r.next;
    }
    // Assess
    expect(pos).toBe(wire.length);
    expect(replies[0]).toBe('OK');
    expect(replies[1]).toBeInstanceOf(RespError);
    expect((replies[1] as RespError).code).toBe('WRONGPASS');
    expect(replies[2]).toBe(42);
    expect((replies[3] as Buffer).toString('latin1')).toBe('a\r\nb');
    expect(replies[4]).toBeNull();
    expect(replies[5]).toEqual([Buffer.from('x'), 1]);
    expect(parseReply(Buffer.from('$5\r\nab'), 0)).toBeUndefined();
    expect(parseReply(Buffer.from('*2\r\n:1\r\n'), 0)).toBeUndefined();
  });
});
