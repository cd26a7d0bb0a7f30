// redact: removes or hashes attributes whose key matches a pattern (PII), on resources, scopes and
// items (span events and links included). Removes no item, so it counts nothing.
import { createHash } from 'node:crypto';
import type { AnyValueJson, KeyValueJson } from '../../destinations/model.js';
import { type SettingContext, settingReader } from '../../destinations/read.js';
import { DecodedBatch } from '../items.js';
import { regexList } from '../parse.js';
import { REDACT_KEYS, REDACT_MODE, REDACT_SALT } from '../settings.js';
import type { Processor, Signal } from '../types.js';

export interface RedactRules {
  keys: RegExp[];
  mode: 'remove' | 'hash';
  salt: string;
}

export function redactRules(ctx: SettingContext): RedactRules {
  const read = settingReader(ctx);
  return {
    keys: regexList(read(REDACT_KEYS), REDACT_KEYS, 'i'),
    mode: read(REDACT_MODE),
    salt: read(REDACT_SALT) ?? '',
  };
}

const HASHED = /^sha256:[0-9a-f]{64}$/;

function hashValue(v: AnyValueJson | undefined, salt: string): AnyValueJson {
  // A batch kept for a later flush passes the processors again: a value hashed already stays as it is.
  if (v?.stringValue !== undefined && HASHED.test(v.stringValue)) return v;
  const text = JSON.stringify(v ?? {});
  return { stringValue: `sha256:${createHash('sha256').update(salt).update(text).digest('hex')}` };
}

/** Redacts one attribute list in place; returns how many attributes were touched. */
export function redactList(list: KeyValueJson[] | undefined, rules: RedactRules): KeyValueJson[] | undefined {
  if (!list) return list;
  const out: KeyValueJson[] = [];
  for (const kv of list) {
    if (!rules.keys.some((r) => r.test(kv.key))) out.push(kv);
    else if (rules.mode === 'hash') out.push({ key: kv.key, value: hashValue(kv.value, rules.salt) });
  }
  return out;
}

type WithAttributes = { attributes?: KeyValueJson[] };
function redactHolder(h: WithAttributes | undefined, rules: RedactRules): void {
  if (h?.attributes) h.attributes = redactList(h.attributes, rules);
}

export function createRedactProcessor(ctx: SettingContext, signals: ReadonlySet<Signal>): Processor {
  const rules = redactRules(ctx);
  return {
    name: 'redact',
    signals,
    async process(batch) {
      if (rules.keys.length === 0) return { batch, filtered: 0 };
      const d = await DecodedBatch.of(batch);
      for (const r of d.resources()) redactHolder(r, rules);
      for (const s of d.scopes()) redactHolder(s, rules);
      d.retain((v) => {
        redactHolder(v.item, rules);
        for (const e of (v.item.events ?? []) as WithAttributes[]) redactHolder(e, rules);
        for (const l of (v.item.links ?? []) as WithAttributes[]) redactHolder(l, rules);
        // Exemplars carry filtered attributes of a metric measurement.
        for (const x of (v.item.exemplars ?? []) as Array<{ filteredAttributes?: KeyValueJson[] }>)
          x.filteredAttributes = redactList(x.filteredAttributes, rules);
        return true;
      });
      return { batch: d.toBatch(0), filtered: 0 };
    },
  };
}
