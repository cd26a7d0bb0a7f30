// `local --timeline <file.svg>`: one picture of a local run on one time axis. Invocations come from
// the emulator's results (init, the runtime's part, the post-runtime part, then frozen until the next
// one); flushes, exports and spills from the relay's own log lines, at the time each line states.
export {
  type RelayEventKind,
  type TimelineModel,
  TimelineRecorder,
} from './record.js';
export { renderTimeline } from './svg.js';
