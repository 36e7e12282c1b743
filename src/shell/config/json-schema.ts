/**
 * The config's JSON Schema, generated from the same zod schema the loader uses, so editors
 * (yaml-language-server) validate the file as it is typed. `npm run schema` writes it to
 * config/rolemap.schema.json; a test checks the committed file is up to date.
 */
import { z } from 'zod';
import { configSchema } from './schema.js';

export function configJsonSchema(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', target: 'draft-2020-12' });
  // Top-level `x-` keys are ignored by the loader (anchors for merge keys); say so to editors too.
  const withExtensions = { ...schema, title: 'rolemap configuration', patternProperties: { '^x-': {} } };
  return `${JSON.stringify(withExtensions, null, 2)}\n`;
}
