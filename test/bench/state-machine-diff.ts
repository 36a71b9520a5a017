/**
 * Before/after check of a refactoring of the REGISTER and DEPLOY state machines: writes each state machine
 * definition of the deployment stack (the test fixture's and the real app's) in two forms, plus the rest of
 * the template, so that two checkouts can be compared with `diff -r`.
 *
 *   git worktree add --detach /tmp/base <base commit> && ln -s "$PWD/node_modules" /tmp/base/node_modules
 *   cp test/bench/state-machine-diff.ts /tmp/base/test/bench/
 *   (cd /tmp/base && npx tsx test/bench/state-machine-diff.ts /tmp/before)
 *   npx tsx test/bench/state-machine-diff.ts /tmp/after && diff -r /tmp/before /tmp/after
 *   git worktree remove --force /tmp/base
 *
 * Files per state machine: `<stack>.<id>.asl.json`, the DefinitionString as synthesized (CloudFormation
 * tokens shown as `@@{...}@@`), and `<stack>.<id>.canonical.json`, the same with the `States` map sorted by
 * name. The order of the `States` map carries no meaning in Amazon States Language, and CDK writes it in
 * the order the transitions were added, so a restructured construct changes the first file alone when the
 * machine is the same. `<stack>.rest.json` is the template without the definitions (IAM policies included).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildDeploymentStack } from '../deploy/support';
import { synthApp, type TemplateJson } from '../support/template';

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** The DefinitionString as text, its CloudFormation tokens (Ref, Fn::GetAtt, ...) written as `@@{...}@@`. */
function definitionText(definition: unknown): string {
  const join = (definition as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const parts = join ? join[1] : [definition];
  return parts
    .map((part) => (typeof part === 'string' ? part : `@@${JSON.stringify(part).replace(/"/g, "'")}@@`))
    .join('');
}

function sortStates(asl: Record<string, unknown>): Record<string, unknown> {
  const states = asl.States as Record<string, unknown>;
  const sorted = Object.fromEntries(
    Object.keys(states)
      .sort()
      .map((name) => [name, states[name]]),
  );
  return { ...asl, States: sorted };
}

function write(out: string, stackName: string, template: TemplateJson): void {
  const resources = structuredClone(template.Resources ?? {}) as Record<string, Resource>;
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine' || !resource.Properties) continue;
    const asl = JSON.parse(definitionText(resource.Properties.DefinitionString)) as Record<string, unknown>;
    fs.writeFileSync(path.join(out, `${stackName}.${id}.asl.json`), `${JSON.stringify(asl, null, 1)}\n`);
    fs.writeFileSync(
      path.join(out, `${stackName}.${id}.canonical.json`),
      `${JSON.stringify(sortStates(asl), null, 1)}\n`,
    );
    resource.Properties.DefinitionString = '(see the .asl.json file)';
  }
  fs.writeFileSync(
    path.join(out, `${stackName}.rest.json`),
    `${JSON.stringify({ ...template, Resources: resources }, null, 1)}\n`,
  );
}

const out = process.argv[2];
if (!out) {
  console.error('usage: npx tsx test/bench/state-machine-diff.ts <output directory>');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
write(out, 'fixture', buildDeploymentStack().template as TemplateJson);
for (const [name, template] of Object.entries(synthApp().templates)) {
  if (name.endsWith('-deployment')) write(out, `app-${name}`, template);
}
console.log(`wrote ${fs.readdirSync(out).length} files to ${out}`);
