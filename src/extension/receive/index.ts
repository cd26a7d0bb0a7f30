// Public surface of receive/: the OTLP/HTTP and OTLP/gRPC receivers and the ingest step they share.
export { GRPC_PATHS, type GrpcReceiverOptions, startGrpcReceiver } from './grpc.js';
export { type HttpReceiverOptions, type Receiver, startHttpReceiver } from './http.js';
export { Ingest, type IngestResult } from './ingest.js';
export { InflightBodies } from './refusal.js';
