import * as fs from 'node:fs';
import * as path from 'node:path';
import { RECIPE_JSON_SCHEMA_PATH, renderRecipeJsonSchema } from '../lib/config/recipe-json-schema';

// `npm run schema`: writes the recipe JSON Schema for editors (test/config/recipe-json-schema.test.ts fails when
// the committed file differs from what this writes).
const target = path.resolve(__dirname, '..', RECIPE_JSON_SCHEMA_PATH);
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.writeFileSync(target, renderRecipeJsonSchema());
process.stdout.write(`wrote ${RECIPE_JSON_SCHEMA_PATH}\n`);
