// The zero-code switch of attach/detach: AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-relay-handler makes the
// layer trace a function without code changes. Lambda runs one wrapper only, so a function that
// already has another one (ADOT, a vendor layer, the OpenTelemetry layer) is refused rather than
// overwritten; detach removes only our own value, so whatever was there before attach comes back.

export const EXEC_WRAPPER_ENV = 'AWS_LAMBDA_EXEC_WRAPPER';
/** Where the layer puts the wrapper script. */
export const ZERO_CODE_WRAPPER = '/opt/otel-relay-handler';

/** Throws (with `refuse`) when the function's environment names another wrapper. */
export function checkExecWrapper(
  functionName: string,
  environment: Readonly<Record<string, string>>,
  refuse: (message: string) => Error,
): void {
  const current = environment[EXEC_WRAPPER_ENV];
  if (current !== undefined && current !== '' && current !== ZERO_CODE_WRAPPER) {
    throw refuse(
      `${functionName} already has ${EXEC_WRAPPER_ENV}=${current}, and Lambda runs only one wrapper; ` +
        `zero-code needs ${EXEC_WRAPPER_ENV}=${ZERO_CODE_WRAPPER}. Remove the other wrapper (and its layer) ` +
        'first, or attach without --zero-code and use the middleware in code. Nothing was changed.',
    );
  }
}

/** True for the variable attach set for zero-code (detach removes it; another value is left alone). */
export function isZeroCodeWrapper(name: string, value: string): boolean {
  return name === EXEC_WRAPPER_ENV && value === ZERO_CODE_WRAPPER;
}
