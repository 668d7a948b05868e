// Regenerates docs/config.md from the zod schema (run after `npm run build`).
import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../dist/src/config/reference.js';
writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference());
process.stdout.write('wrote docs/config.md\n');
