// Where the console and emf destinations write: the extension's stdout, which Lambda sends to the
// function's CloudWatch Logs stream. One write per line keeps lines whole (Lambda splits log events
// on newlines).
export type LineSink = (line: string) => void;

export const stdoutSink: LineSink = (line) => {
  process.stdout.write(`${line}\n`);
};
