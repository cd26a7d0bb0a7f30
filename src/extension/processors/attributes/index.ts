// attributes: adds resource attributes and renames attribute keys on resources, scopes and items.
// Removes no item, so it counts nothing.
import type { KeyValueJson } from '../../destinations/model.js';
import { type SettingContext, settingReader } from '../../destinations/read.js';
import { DecodedBatch } from '../items.js';
import { pairs } from '../parse.js';
import { ATTRIBUTES_ADD, ATTRIBUTES_RENAME } from '../settings.js';
import type { Processor, Signal } from '../types.js';

type WithAttributes = { attributes?: KeyValueJson[] };

function rename(h: WithAttributes, renames: Map<string, string>): void {
  if (!h.attributes) return;
  const out = new Map<string, KeyValueJson>();
  for (const kv of h.attributes) {
    const key = renames.get(kv.key) ?? kv.key;
    // A renamed key replaces an attribute already holding the new name.
    out.set(key, { key, value: kv.value });
  }
  h.attributes = [...out.values()];
}

export function createAttributesProcessor(ctx: SettingContext, signals: ReadonlySet<Signal>): Processor {
  const read = settingReader(ctx);
  const add = pairs(read(ATTRIBUTES_ADD), ATTRIBUTES_ADD);
  const renames = new Map(pairs(read(ATTRIBUTES_RENAME), ATTRIBUTES_RENAME));
  return {
    name: 'attributes',
    signals,
    async process(batch) {
      if (add.length === 0 && renames.size === 0) return { batch, filtered: 0 };
      const d = await DecodedBatch.of(batch);
      for (const r of d.resources()) {
        rename(r, renames);
        const attrs = (r.attributes ?? []).filter((kv) => !add.some(([k]) => k === kv.key));
        for (const [key, value] of add) attrs.push({ key, value: { stringValue: value } });
        r.attributes = attrs;
      }
      if (renames.size > 0) {
        for (const s of d.scopes()) rename(s, renames);
        d.retain((v) => {
          rename(v.item, renames);
          return true;
        });
      }
      return { batch: d.toBatch(0), filtered: 0 };
    },
  };
}
