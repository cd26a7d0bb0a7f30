// The processors as one separately shipped module, loaded through the destinations' loader file so
// that the layer build puts them (and the protobuf decoder they need) beside the extension bundle
// instead of inside it: the default cold start never parses them.
export { withProcessors } from '../../processors/delivery.js';
export { createProcessors } from '../../processors/index.js';
