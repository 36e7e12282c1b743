/** `npm run schema`: writes config/rolemap.schema.json from the config's zod schema. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../src/shell/config/json-schema.js';

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'config', 'rolemap.schema.json');
writeFileSync(out, configJsonSchema());
console.log(`wrote ${out}`);
