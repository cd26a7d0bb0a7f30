import { propagation, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import {
  extractParentContext,
  linksFromMessages,
  parseTraceparent,
  parseXRayHeader,
} from '../../../src/middleware/propagation.js';
import { PARENT_SPAN_ID, TRACE_ID, TRACEPARENT, traceparentFor } from '../../fixtures/middleware/events.js';

describe('parseTraceparent', () => {
  it('parses a sampled W3C traceparent with its tracestate', () => {
    const ctx = parseTraceparent(TRACEPARENT, 'vendor=abc');
    expect(ctx).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_SPAN_ID, traceFlags: 1, isRemote: true });
    expect(ctx?.traceState?.get('vendor')).toBe('abc');
  });

  it('rejects malformed, all-zero and version-ff headers', () => {
    for (const bad of [
      'garbage',
      `00-${'0'.repeat(32)}-${PARENT_SPAN_ID}-01`,
      `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
      `ff-${TRACE_ID}-${PARENT_SPAN_ID}-01`,
      `00-${TRACE_ID}-${PARENT_SPAN_ID}-01-extra`,
      '',
      undefined,
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  it('accepts a future version with extra fields', () => {
    expect(parseTraceparent(`01-${TRACE_ID}-${PARENT_SPAN_ID}-00-more`)?.traceFlags).toBe(TraceFlags.NONE);
  });
});

describe('parseXRayHeader', () => {
  it('turns Root and Parent into a W3C trace and span id', () => {
    const ctx = parseXRayHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1');
    expect(ctx).toMatchObject({
      traceId: '5759e988bd862e3fe1be46a994272793',
      spanId: '53995c3f42cd8ad8',
      traceFlags: TraceFlags.SAMPLED,
    });
  });

  it('returns nothing without a Parent or with a malformed Root', () => {
    expect(parseXRayHeader('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1')).toBeUndefined();
    expect(parseXRayHeader('Root=2-x-y;Parent=53995c3f42cd8ad8')).toBeUndefined();
  });
});

describe('extractParentContext', () => {
  it('uses its own W3C parser when no propagator is registered', () => {
    const ctx = extractParentContext({ traceparent: TRACEPARENT }, undefined);
    expect(trace.getSpanContext(ctx)?.traceId).toBe(TRACE_ID);
  });

  it('prefers the event headers over the X-Ray header', () => {
    const xray = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    expect(trace.getSpanContext(extractParentContext({ traceparent: TRACEPARENT }, xray))?.traceId).toBe(
      TRACE_ID,
    );
    expect(trace.getSpanContext(extractParentContext({}, xray))?.traceId).toBe(
      '5759e988bd862e3fe1be46a994272793',
    );
  });

  it('starts from the root context, not the active one, when nothing is carried', () => {
    expect(extractParentContext({}, undefined)).toBe(ROOT_CONTEXT);
    expect(extractParentContext(undefined, undefined)).toBe(ROOT_CONTEXT);
  });

  it('asks the registered propagator first', () => {
    const other = traceparentFor(7);
    propagation.setGlobalPropagator({
      inject: () => {},
      fields: () => ['x-custom'],
      extract: (ctx, carrier, getter) => {
        const v = getter.get(carrier, 'X-Custom');
        return typeof v === 'string' ? trace.setSpanContext(ctx, parseTraceparent(v)!) : ctx;
      },
    });
    try {
      const ctx = extractParentContext({ 'x-custom': other.header, traceparent: TRACEPARENT }, undefined);
      expect(trace.getSpanContext(ctx)?.traceId).toBe(other.traceId);
    } finally {
      propagation.disable();
    }
  });
});

describe('linksFromMessages', () => {
  const a = traceparentFor(1);
  const xray = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

  it('links each message that carries context, AWSTraceHeader included, and names the message', () => {
    const links = linksFromMessages(
      [{ traceparent: a.header, messageId: 'm-1' }, {}, { awsTraceHeader: xray, messageId: 'm-3' }],
      true,
    );
    expect(links.map((l) => l.context.spanId)).toEqual([a.spanId, '53995c3f42cd8ad8']);
    expect(links.map((l) => l.attributes?.['messaging.message.id'])).toEqual(['m-1', 'm-3']);
  });

  it('prefers the AWSTraceHeader system attribute over a traceparent message attribute', () => {
    const links = linksFromMessages([{ awsTraceHeader: xray, traceparent: a.header }], true);
    expect(links.map((l) => l.context.traceId)).toEqual(['5759e988bd862e3fe1be46a994272793']);
    expect(linksFromMessages([{ traceparent: a.header }], false)).toEqual([]);
  });
});
