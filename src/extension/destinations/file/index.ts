// The file destination: OTLP/JSON lines or length-prefixed OTLP protobuf appended to a file (an EFS
// mount, /tmp), rotated at a size and capped in number of files. Loaded only when selected.
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Signal } from '../../export/types.js';
import { decode } from '../model.js';
import { DestinationSettingError, settingReader } from '../read.js';
import type { Destination, DestinationContext, DestinationModule } from '../types.js';
import { FILE_FORMAT, FILE_MAX_BACKUPS, FILE_MAX_BYTES, FILE_PATH } from './settings.js';

export function createDestination(ctx: DestinationContext): Destination {
  const read = settingReader(ctx);
  const template = read(FILE_PATH);
  if (!template)
    throw new DestinationSettingError(
      `${FILE_PATH.name} is required for the file destination; nothing is written until it is set`,
    );
  const format = read(FILE_FORMAT);
  if (format === 'proto' && !template.includes('{signal}'))
    throw new DestinationSettingError(
      `${FILE_PATH.name} must contain {signal} with ${FILE_FORMAT.name}=proto: protobuf requests of different signals cannot share a file`,
    );
  const maxBytes = read(FILE_MAX_BYTES);
  const backups = read(FILE_MAX_BACKUPS);
  const instance = randomUUID();
  const sizes = new Map<string, number>();

  const pathFor = (signal: Signal) =>
    template.replaceAll('{signal}', signal).replaceAll('{instance}', instance);

  async function rotate(path: string): Promise<void> {
    await rm(`${path}.${backups}`, { force: true });
    for (let i = backups - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {});
    if (backups > 0) await rename(path, `${path}.1`);
    else await rm(path, { force: true });
  }

  return {
    name: 'file',
    signals: new Set(['traces', 'metrics', 'logs']),
    async export(signal, body) {
      const path = pathFor(signal);
      let record: Uint8Array;
      if (format === 'json') record = Buffer.from(`${JSON.stringify(await decode(signal, body))}\n`);
      else {
        record = new Uint8Array(4 + body.length);
        new DataView(record.buffer).setUint32(0, body.length, false);
        record.set(body, 4);
      }
      try {
        let size = sizes.get(path);
        if (size === undefined) {
          await mkdir(dirname(path), { recursive: true });
          size = await stat(path).then(
            (s) => s.size,
            () => 0,
          );
        }
        if (size > 0 && size + record.length > maxBytes) {
          await rotate(path);
          size = 0;
        }
        await appendFile(path, record);
        sizes.set(path, size + record.length);
        return { kind: 'success' };
      } catch (err) {
        sizes.delete(path);
        return { kind: 'retryable', reason: `file: could not append to ${path}: ${(err as Error).message}` };
      }
    },
    resetConnections() {},
    close() {},
  };
}

export default { createDestination } satisfies DestinationModule;
