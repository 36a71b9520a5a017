import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The repository carries its own design notes (docs/README.md): code, comments, tests and output cite only
 * files in the repository. This test reads every file git would commit (tracked, or untracked and not
 * ignored) and fails on
 * - a reference to the design notes or fact sheets that were once kept outside the repository, or to a path
 *   on a developer's machine;
 * - a citation `docs/<file>.md §N` whose file or numbered section does not exist;
 * - a relative Markdown link in docs/ or the README whose target does not exist;
 * - a repository path the docs name in backticks that does not exist (a file moved, its docs not updated).
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * Names of files that are not in the repository. Built from parts so that this file does not match itself.
 * A plain `DESIGN_GUIDELINES.md` (aws-cdk's) or an AWS URL with `/reference/` in it does not match.
 */
const OUTSIDE_REFERENCES: readonly RegExp[] = [
  new RegExp(`\\b${'refer' + 'ence'}/[\\w-]+\\.md\\b`),
  new RegExp(`\\b(?:${['DESIGN', 'STYLE'].join('|')})\\.md\\b`),
  new RegExp(`\\b(?:${['aws' + '-facts', 'seed-and' + '-training'].join('|')})`),
  // a bare name; the repository's own docs/ may hold files of the same name.
  new RegExp(`(?<![\\w/])(?:${['tool' + 'chain', 'anchors'].join('|')})\\.md\\b`),
  new RegExp(`kept beside the ${'repository'}`),
  new RegExp(`(?:^|[\\s'"\`(])/${'work'}/`),
];

/** Captured output of a local run (paths of the machine that recorded it), not a reference. */
const RECORDED_OUTPUT = /(^|\/)fixtures\/[^/]+\.log$/;

function repositoryFiles(): string[] {
  let listing: string;
  try {
    listing = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    throw new Error(
      `test/docs/references.test.ts lists the repository's files with git, which failed: ${String(error)}`,
    );
  }
  return listing
    .split('\0')
    .filter((file) => file !== '' && fs.existsSync(path.join(REPO_ROOT, file)))
    .filter((file) => fs.statSync(path.join(REPO_ROOT, file)).isFile());
}

function readText(file: string): string | undefined {
  const bytes = fs.readFileSync(path.join(REPO_ROOT, file));
  // binary files (images, parquet, archives) hold no references.
  if (bytes.subarray(0, 8000).includes(0)) return undefined;
  return bytes.toString('utf8');
}

/** `file:line: text` for every line of `text` that names a file outside the repository. */
export function outsideReferences(file: string, text: string): string[] {
  if (RECORDED_OUTPUT.test(file)) return [];
  const found: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (OUTSIDE_REFERENCES.some((pattern) => pattern.test(line))) found.push(`${file}:${index + 1}: ${line.trim()}`);
  });
  return found;
}

/** A citation of a docs file: its path and the section numbers after it (`§2`, `§3–§4`, `§1, §2 and §4`). */
const CITATION = /(?<![\w./-])docs\/([\w/-]+\.md)((?:\s*(?:,|and)?\s*§\d+(?:\s*[–-]\s*§?\d+)?)*)/g;

/** `file:line: docs/x.md §N: why` for every citation whose file or section does not exist. */
export function brokenCitations(file: string, text: string, readDoc: (doc: string) => string | undefined): string[] {
  const broken: string[] = [];
  text.split('\n').forEach((line, index) => {
    for (const match of line.matchAll(CITATION)) {
      const doc = `docs/${match[1]}`;
      const where = `${file}:${index + 1}: ${match[0].trim()}`;
      const content = readDoc(doc);
      if (content === undefined) {
        broken.push(`${where}: ${doc} does not exist`);
        continue;
      }
      const sections = [...match[2].matchAll(/\d+/g)].map((n) => n[0]);
      for (const section of sections) {
        if (!new RegExp(`^## ${section}\\. `, 'm').test(content)) {
          broken.push(`${where}: ${doc} has no section "## ${section}. ..."`);
        }
      }
    }
  });
  return broken;
}

/** `file: target` for every relative Markdown link whose target does not exist. */
export function brokenLinks(file: string, text: string, exists: (target: string) => boolean): string[] {
  const broken: string[] = [];
  for (const match of text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)) {
    const target = match[1];
    if (/^[a-z]+:/i.test(target)) continue;
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
    if (!exists(resolved)) broken.push(`${file}: ${target} (${resolved}) does not exist`);
  }
  return broken;
}

/** A repository path written in backticks, e.g. `lib/constructs/deploy/` or `training-code/requirements.txt`. */
const REPO_PATH = /`((?:lib|test|bin|training-code|recipes|docs|\.ci)\/[\w./-]*)`/g;

/** `file: path` for every backticked repository path of `text` that does not exist. */
export function missingPaths(file: string, text: string, exists: (target: string) => boolean): string[] {
  return [...text.matchAll(REPO_PATH)]
    .map((match) => match[1])
    .filter((target) => !exists(target.replace(/\/$/, '')))
    .map((target) => `${file}: ${target} does not exist`);
}

describe('references stay inside the repository', () => {
  const files = repositoryFiles();
  // this file's own examples name what the checks look for.
  const self = path.relative(REPO_ROOT, __filename);
  const others = files.filter((file) => file !== self);
  const readDoc = (doc: string) => (fs.existsSync(path.join(REPO_ROOT, doc)) ? readText(doc) : undefined);

  test('the repository holds the docs the code cites', () => {
    // GIVEN the repository WHEN listed THEN it has the design notes (the other checks would pass vacuously without them)
    for (const doc of ['docs/README.md', 'docs/architecture.md', 'docs/decisions.md', 'docs/facts/aws.md']) {
      expect(files).toContain(doc);
    }
    expect(files.length).toBeGreaterThan(100);
  });

  test('no file names a design note, fact sheet or path outside the repository', () => {
    // GIVEN every file git would commit WHEN scanned THEN none refers to a file outside the repository
    const self = path.relative(REPO_ROOT, __filename);
    const found = files
      .filter((file) => file !== self)
      .flatMap((file) => outsideReferences(file, readText(file) ?? ''));
    expect(found).toEqual([]);
  });

  test('every docs citation names an existing file and section', () => {
    // GIVEN every file WHEN its `docs/<file>.md §N` citations are resolved THEN each file and section exists
    const found = others.flatMap((file) => brokenCitations(file, readText(file) ?? '', readDoc));
    expect(found).toEqual([]);
  });

  test('every relative link of the docs and the README resolves', () => {
    // GIVEN the Markdown of docs/ and the README WHEN its relative links are resolved THEN each target exists
    const markdown = files.filter((file) => file === 'README.md' || (file.startsWith('docs/') && file.endsWith('.md')));
    expect(markdown.length).toBeGreaterThan(3);
    const exists = (target: string) => fs.existsSync(path.join(REPO_ROOT, target));
    expect(markdown.flatMap((file) => brokenLinks(file, readText(file) ?? '', exists))).toEqual([]);
  });

  test('every repository path the docs name exists', () => {
    // GIVEN docs/ WHEN its backticked repository paths are looked up THEN each exists (a moved file fails here)
    const docs = files.filter((file) => file.startsWith('docs/') && file.endsWith('.md'));
    const exists = (target: string) => fs.existsSync(path.join(REPO_ROOT, target));
    expect(docs.flatMap((file) => missingPaths(file, readText(file) ?? '', exists))).toEqual([]);
  });
});

describe('the checks find what they look for', () => {
  test('fails an outside note, a local path and the old README wording; passes AWS URLs and repo docs', () => {
    // GIVEN lines that cite files outside the repository WHEN scanned THEN each is found
    const outside = [
      `// see ${'refer' + 'ence'}/aws-facts.md §5.1`,
      `# background: ${'seed-and' + '-training'}.md`,
      `(${'DESIGN'}.md "A recipe")`,
      `notes are kept beside the ${'repository'}`,
      `cat /${'work'}/shared/notes.md`,
      `pinned as explained in ${'tool' + 'chain'}.md`,
    ];
    for (const line of outside) expect(outsideReferences('lib/x.ts', line)).toHaveLength(1);
    // AND lines that cite the repository's own docs or public URLs are not
    const inside = [
      '// docs/facts/aws.md §1',
      '@see https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html',
      'docs/DESIGN_GUIDELINES.md of aws-cdk',
      'docs/facts/toolchain.md §1',
    ];
    for (const line of inside) expect(outsideReferences('lib/x.ts', line)).toEqual([]);
    // AND a recorded log fixture is not scanned
    expect(outsideReferences('training-code/tests/fixtures/run.log', `/${'work'}/main/x.py`)).toEqual([]);
  });

  test('fails a citation of a missing docs file or section', () => {
    // GIVEN a docs file with sections 1 and 2 WHEN citations are resolved THEN only the missing ones are reported
    const readDoc = (doc: string) => (doc === 'docs/a.md' ? '# A\n\n## 1. One\n\n## 2. Two\n' : undefined);
    expect(brokenCitations('x.ts', '// docs/a.md §1 and docs/a.md §1–§2', readDoc)).toEqual([]);
    expect(brokenCitations('x.ts', '// docs/a.md §1, §3 and §4', readDoc)).toEqual([
      'x.ts:1: docs/a.md §1, §3 and §4: docs/a.md has no section "## 3. ..."',
      'x.ts:1: docs/a.md §1, §3 and §4: docs/a.md has no section "## 4. ..."',
    ]);
    expect(brokenCitations('x.ts', '// docs/b.md §1', readDoc)).toEqual([
      'x.ts:1: docs/b.md §1: docs/b.md does not exist',
    ]);
  });

  test('fails a backticked repository path that does not exist', () => {
    // GIVEN a text naming one existing and one missing path WHEN looked up THEN only the missing one is reported
    const exists = (target: string) => target === 'lib/iam';
    const text = 'action lists in `lib/iam/`, the plan in `lib/constructs/serving-plan.ts`, a key `models/`';
    expect(missingPaths('docs/x.md', text, exists)).toEqual([
      'docs/x.md: lib/constructs/serving-plan.ts does not exist',
    ]);
  });

  test('fails a relative link to a missing file; ignores URLs and anchors', () => {
    // GIVEN links WHEN resolved against docs/facts/ THEN only the missing relative target is reported
    const exists = (target: string) => target === 'docs/decisions.md';
    const text = '[d](../decisions.md#4-x) [u](https://example.com/a.md) [m](../missing.md)';
    expect(brokenLinks('docs/facts/aws.md', text, exists)).toEqual([
      'docs/facts/aws.md: ../missing.md (docs/missing.md) does not exist',
    ]);
  });
});
