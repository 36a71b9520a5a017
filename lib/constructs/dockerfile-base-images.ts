import * as fs from 'node:fs';
import { parseEcrImageUri } from './training-image';

/** An Amazon ECR image a Dockerfile builds FROM (by default), split into its parts. */
export interface EcrBaseImage {
  readonly uri: string;
  readonly account: string;
  readonly region: string;
  readonly repository: string;
}

/**
 * The Amazon ECR images `dockerfile` starts FROM, with `ARG` defaults substituted (`ARG BASE_IMAGE=<uri>`,
 * `FROM ${BASE_IMAGE}`). Such a pull needs a registry login; images outside ECR (public registries) need
 * none and are not returned. A FROM whose argument has no default cannot be resolved and is an error.
 */
export function ecrBaseImages(dockerfile: string): EcrBaseImage[] {
  const text = fs.readFileSync(dockerfile, 'utf8');
  const args = new Map<string, string>();
  const images: EcrBaseImage[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/i.exec(line);
    if (arg) {
      args.set(arg[1], arg[2].replace(/^"(.*)"$/, '$1'));
      return;
    }
    const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/i.exec(line);
    if (!from) return;
    const uri = from[1].replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, name: string) => {
      const value = args.get(name);
      if (value === undefined) {
        throw new Error(
          `${dockerfile}:${i + 1}: FROM uses \${${name}}, which has no ARG default; write "ARG ${name}=<image>" above it`,
        );
      }
      return value;
    });
    // a stage name from an earlier `FROM ... AS name` or a public image: no ECR login needed.
    try {
      images.push({ uri, ...parseEcrImageUri(uri) });
    } catch {
      /* not an ECR image */
    }
  });
  return images;
}
