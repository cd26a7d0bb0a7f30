// One Lambda client per command run. The SDK resolves credentials and the endpoint the standard way
// (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_LAMBDA, profiles); the region is checked up front because
// every ARN check below compares against it.
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { UsageError } from '../usage.js';
import { type Clock, systemClock } from './clock.js';
import { type LambdaSdk, loadLambdaSdk } from './sdk.js';

export interface LambdaSession {
  sdk: LambdaSdk;
  client: LambdaClient;
  region: string;
  clock: Clock;
}

export interface SessionOptions {
  region?: string | undefined;
  clock?: Clock | undefined;
  /** Overrides for tests; normally the SDK reads everything from the environment. */
  client?: LambdaClient | undefined;
}

export async function openSession(options: SessionOptions): Promise<LambdaSession> {
  const sdk = await loadLambdaSdk();
  const client = options.client ?? new sdk.LambdaClient(options.region ? { region: options.region } : {});
  let region: string;
  try {
    region = await client.config.region();
  } catch (cause) {
    throw new UsageError('no AWS region: pass --region or set AWS_REGION', { cause });
  }
  if (!region) throw new UsageError('no AWS region: pass --region or set AWS_REGION');
  return { sdk, client, region, clock: options.clock ?? systemClock };
}
