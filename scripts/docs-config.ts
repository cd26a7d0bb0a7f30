// Re-renders the settings tables of docs/configuration.md from the registry (`npm run docs:config`).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationPage } from '../src/extension/settings/docs.js';

const path = join(import.meta.dirname, '..', 'docs', 'configuration.md');
const { page, missing } = renderConfigurationPage(readFileSync(path, 'utf8'));
writeFileSync(path, page);
if (missing.length > 0) {
  console.error(`docs/configuration.md has no <!-- settings: ... --> region for: ${missing.join(', ')}`);
  process.exitCode = 1;
} else console.log(`wrote ${path}`);
