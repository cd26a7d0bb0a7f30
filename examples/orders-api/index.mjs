// Example function: an orders API behind API Gateway (HTTP API), traced with the middy middleware.
// It makes two user spans, counts orders with a metric and writes a log record; all of it is sent to
// the otel-relay extension over loopback and batched there.
//
// `lambda-otel-relay/middleware` resolves to dist/middleware/ of this repository (package
// self-reference); deploy it bundled (esbuild), as `lambda-otel-relay demo` and the tests do.
import middy from '@middy/core';
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { otelRelay, setupOtelRelay } from 'lambda-otel-relay/middleware';

// Set up the SDK before making instruments: a meter taken before a meter provider is registered stays
// a no-op. (Without this line, otelRelay() would still set up traces and logs on its own.)
await setupOtelRelay();

const tracer = trace.getTracer('orders-api');
const ordersPlaced = metrics.getMeter('orders-api').createCounter('orders.placed', {
  description: 'Orders accepted by the API',
});
const logger = logs.getLogger('orders-api');

const PRICES = { 'A-1': 1250, 'B-2': 499, 'C-3': 9900 };

async function placeOrder(event) {
  const order = JSON.parse(event.body ?? '{}');
  const items = Array.isArray(order.items) ? order.items : [];

  const invalid = tracer.startActiveSpan('validate-order', (span) => {
    span.setAttribute('order.items', items.length);
    const unknown = items.filter((sku) => !(sku in PRICES));
    if (unknown.length > 0)
      span.setStatus({ code: SpanStatusCode.ERROR, message: `unknown sku ${unknown[0]}` });
    span.end();
    return unknown;
  });
  if (items.length === 0 || invalid.length > 0) {
    return { statusCode: 400, body: JSON.stringify({ error: 'unknown or missing items', invalid }) };
  }

  const totalCents = await tracer.startActiveSpan('price-order', async (span) => {
    // Stands in for a call to a pricing service.
    await new Promise((resolve) => setTimeout(resolve, 2));
    const total = items.reduce((sum, sku) => sum + PRICES[sku], 0);
    span.setAttribute('order.total_cents', total);
    span.end();
    return total;
  });

  const orderId = `ord-${Date.now().toString(36)}`;
  ordersPlaced.add(1, { 'order.channel': 'api' });
  logger.emit({
    severityNumber: SeverityNumber.INFO,
    severityText: 'INFO',
    body: `order ${orderId} placed`,
    attributes: { 'order.id': orderId, 'order.total_cents': totalCents },
  });
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  return { statusCode: 201, body: JSON.stringify({ orderId, totalCents, traceId }) };
}

// otelRelay() first, so the handler's spans join the invocation trace.
export const handler = middy(placeOrder).use(otelRelay());
