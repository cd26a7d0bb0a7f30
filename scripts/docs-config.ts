// Writes docs/configuration.md from the settings registry (`npm run docs:config`).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigurationPage } from '../src/extension/settings/docs.js';

const page = join(import.meta.dirname, '..', 'docs', 'configuration.md');
writeFileSync(page, renderConfigurationPage());
console.log(`wrote ${page}`);
