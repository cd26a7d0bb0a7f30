// The errors invoke() throws when the environment cannot take an invoke.
/** invoke() on managed instances when every runtime worker is busy. */
export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';
}

/** invoke() after shutdown(), dispose() or (managed instances) a crash that terminated the environment. */
export class EnvironmentTerminatedError extends Error {
  override readonly name = 'EnvironmentTerminatedError';
}
