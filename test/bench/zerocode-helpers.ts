// What the zero-code bench needs from the TypeScript helpers, bundled by the bench before it runs.
export { LambdaEnvironment } from '../../src/local/index.js';
export { startMotoServer } from '../helpers/moto.js';
export { freePort } from '../helpers/ports.js';
