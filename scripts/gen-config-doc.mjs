// Regenerates the generated references (run after `npm run build`): docs/config.md from the zod
// schema, docs/errors.md from the error registry.
import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../dist/src/config/reference.js';
import { renderErrorReference } from '../dist/src/errors/reference.js';
writeFileSync(new URL('../docs/config.md', import.meta.url), renderConfigReference());
writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorReference());
process.stdout.write('wrote docs/config.md, docs/errors.md\n');
