// The example function deployed by infra/app.ts (CDK) and serverless.yml: an API handler with the
// relay's middy middleware and one span of its own. Its telemetry goes to the relay extension on
// loopback; the extension batches it and exports it to OTEL_EXPORTER_OTLP_ENDPOINT.
import middy from '@middy/core';
import { trace } from '@opentelemetry/api';
import { otelRelay } from 'lambda-otel-relay/middleware';

const tracer = trace.getTracer('orders-api');

async function getOrder(event) {
  const id = event?.pathParameters?.id ?? 'demo';
  return tracer.startActiveSpan('load order', async (span) => {
    try {
      span.setAttribute('order.id', id);
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      };
    } finally {
      span.end();
    }
  });
}

export const handler = middy(getOrder).use(otelRelay());
