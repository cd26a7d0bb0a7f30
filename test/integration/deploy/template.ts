// Reading a synthesized or packaged CloudFormation template, shared by the CDK app and serverless tests.
import { expect } from 'vitest';

export interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}

/** The one resource of `type` in the template (its logical id and body); fails when there are more or none. */
export function onlyResource(resources: Record<string, Resource>, type: string): [string, Resource] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Resource];
}
