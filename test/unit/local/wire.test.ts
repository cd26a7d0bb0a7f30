import { describe, expect, it } from 'vitest';
import { normaliseErrorType, parseRegistration, toInvocationError } from '../../../src/local/wire.js';

describe('parseRegistration', () => {
  it('accepts a missing body, an empty event list, and deduplicates events', () => {
    expect(parseRegistration('')).toEqual({ events: [] });
    expect(parseRegistration('{"events":[]}')).toEqual({ events: [] });
    expect(parseRegistration('{"events":["INVOKE","SHUTDOWN","INVOKE"]}')).toEqual({
      events: ['INVOKE', 'SHUTDOWN'],
    });
  });

  it.each([
    ['{"events":', 'InvalidRequestFormat'],
    ['[1,2]', 'InvalidRequestFormat'],
    ['{"events":[],"configurationKeys":["x"]}', 'InvalidRequestFormat'],
    ['{"events":["RESTORE"]}', 'Extension.InvalidEventType'],
    ['{"events":"INVOKE"}', 'Extension.InvalidEventType'],
  ])('rejects %s with %s', (body, errorType) => {
    expect(parseRegistration(body)).toMatchObject({ errorType });
  });
});

describe('normaliseErrorType', () => {
  it('keeps Runtime.* and Function.* types and turns anything else into Runtime.Unknown', () => {
    expect(normaliseErrorType('Runtime.ImportModuleError')).toBe('Runtime.ImportModuleError');
    expect(normaliseErrorType('Function.ResponseSizeTooLarge')).toBe('Function.ResponseSizeTooLarge');
    expect(normaliseErrorType('TypeError')).toBe('Runtime.Unknown');
    expect(normaliseErrorType(undefined)).toBe('Runtime.Unknown');
  });
});

describe('toInvocationError', () => {
  it('reads the NodeRIC error body (trace) and the documented one (stackTrace)', () => {
    expect(toInvocationError({ errorType: 'E', errorMessage: 'm', trace: ['a'] }, undefined)).toEqual({
      errorType: 'E',
      errorMessage: 'm',
      trace: ['a'],
    });
    expect(toInvocationError({ errorMessage: 'm', stackTrace: ['b'] }, 'Runtime.Unknown')).toEqual({
      errorType: 'Runtime.Unknown',
      errorMessage: 'm',
      trace: ['b'],
    });
    expect(toInvocationError('plain text', undefined)).toEqual({
      errorType: 'Runtime.Unknown',
      errorMessage: 'plain text',
    });
  });
});
