/**
 * A Hugging Face Hub on 127.0.0.1 answering exactly the requests `@huggingface/hub` makes for the CLI:
 *
 * - `GET /api/{models|datasets}/<id>/revision/<rev>?expand=...` → repo info with the commit `sha`;
 * - `GET /api/{models|datasets}/<id>/tree/<rev>?recursive=true` → files with size, git `oid` and, for LFS
 *   files, `lfs: {oid: <sha256>, size, pointerSize}`;
 * - `GET /<id>/resolve/<rev>/<path>` and `/datasets/<id>/resolve/...` → the bytes, honouring `Range`
 *   (the client probes with `bytes=0-0` and reads `Content-Range` and `ETag`).
 *
 * Tests can require a token, serve one corrupted byte, or drop the connection part-way through a file.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRepoFile {
  readonly content: Buffer;
  /** Kept in Git LFS (listed with `lfs.oid` = SHA-256). */
  readonly lfs?: boolean;
}

export interface FakeRepo {
  readonly type: 'model' | 'dataset';
  readonly name: string;
  readonly commit: string;
  /** Branches and tags that resolve to `commit`. @default ['main'] */
  readonly refs?: readonly string[];
  readonly files: Record<string, FakeRepoFile>;
  /** Answer 401 without `Authorization: Bearer <token>`. */
  readonly token?: string;
}

export function gitBlobOid(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export class FakeHub {
  readonly requests: string[] = [];
  /** Several entries under one id are several commits (each with its own refs). */
  private readonly repos = new Map<string, FakeRepo[]>();
  /** `<path>` → index of a byte served flipped. */
  readonly corrupt = new Map<string, number>();
  /** `<path>` → bytes served before the connection is dropped. */
  readonly dropAfter = new Map<string, number>();
  private server?: http.Server;
  url = '';

  /** Adds a commit of a repository; its refs move to it. */
  add(repo: FakeRepo): void {
    const key = `${repo.type}:${repo.name}`;
    const refs = new Set(repo.refs ?? ['main']);
    const older = (this.repos.get(key) ?? []).map((r) => ({
      ...r,
      refs: (r.refs ?? ['main']).filter((ref) => !refs.has(ref)),
    }));
    this.repos.set(key, [{ ...repo, refs: [...refs] }, ...older]);
  }

  /** Paths of the files whose bytes were requested (not the 0-0 probes). */
  downloads(): string[] {
    return this.requests
      .filter((r) => r.includes('/resolve/') && !r.endsWith(' bytes=0-0'))
      .map((r) => r.split(' ')[1]);
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private json(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private find(type: string, name: string, rev: string, req: http.IncomingMessage, res: http.ServerResponse) {
    const commits = this.repos.get(`${type}:${name}`);
    if (!commits) {
      this.json(res, 404, { error: 'Repository not found' });
      return undefined;
    }
    if (commits[0].token && req.headers.authorization !== `Bearer ${commits[0].token}`) {
      this.json(res, 401, { error: `Access to ${type} ${name} is restricted. You must have access to it.` });
      return undefined;
    }
    const repo = commits.find(
      (r) => rev === r.commit || (r.refs ?? []).includes(rev) || (rev === 'HEAD' && r === commits[0]),
    );
    if (!repo) {
      this.json(res, 404, { error: `Invalid rev id: ${rev}` });
      return undefined;
    }
    return repo;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    const pathname = url.pathname;
    this.requests.push(
      `${req.method} ${decodeURIComponent(pathname)}${req.headers.range ? ` ${req.headers.range}` : ''}`,
    );
    const seg = pathname.split('/').slice(1);
    // /api/{models|datasets}/<owner>/<name>/{revision|tree}/<rev>
    if (seg[0] === 'api' && (seg[1] === 'models' || seg[1] === 'datasets')) {
      const type = seg[1] === 'models' ? 'model' : 'dataset';
      const name = `${seg[2]}/${seg[3]}`;
      const rev = decodeURIComponent(seg[5] ?? '');
      const repo = this.find(type, name, rev, req, res);
      if (!repo) return;
      if (seg[4] === 'revision') {
        this.json(res, 200, {
          _id: `id-${name}`,
          id: name,
          sha: repo.commit,
          private: false,
          gated: repo.token ? 'manual' : false,
          downloads: 0,
          likes: 0,
          lastModified: '2025-08-05T00:00:00.000Z',
        });
        return;
      }
      if (seg[4] === 'tree' && url.searchParams.get('recursive') === 'true') {
        const dirs = new Set<string>();
        const entries: unknown[] = [];
        for (const [path, f] of Object.entries(repo.files).sort(([a], [b]) => a.localeCompare(b))) {
          const parts = path.split('/');
          for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
          const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(f.content)}\nsize ${f.content.length}\n`;
          entries.push({
            type: 'file',
            oid: gitBlobOid(f.lfs ? Buffer.from(pointer) : f.content),
            size: f.content.length,
            path,
            ...(f.lfs ? { lfs: { oid: sha256(f.content), size: f.content.length, pointerSize: pointer.length } } : {}),
          });
        }
        for (const d of dirs) entries.push({ type: 'directory', oid: 'f'.repeat(40), size: 0, path: d });
        this.json(res, 200, entries);
        return;
      }
      this.json(res, 400, { error: `the fake Hub does not serve ${pathname}${url.search}` });
      return;
    }
    // /<owner>/<name>/resolve/<rev>/<path...> or /datasets/<owner>/<name>/resolve/...
    const offset = seg[0] === 'datasets' ? 1 : 0;
    if (seg[offset + 2] === 'resolve') {
      const type = offset ? 'dataset' : 'model';
      const name = `${seg[offset]}/${seg[offset + 1]}`;
      const repo = this.find(type, name, decodeURIComponent(seg[offset + 3] ?? ''), req, res);
      if (!repo) return;
      const path = seg
        .slice(offset + 4)
        .map(decodeURIComponent)
        .join('/');
      const file = repo.files[path];
      if (!file) {
        res.writeHead(404, { 'X-Error-Code': 'EntryNotFound', 'Content-Type': 'text/plain' });
        res.end('Entry not found');
        return;
      }
      this.serveFile(req, res, path, file);
      return;
    }
    this.json(res, 404, { error: `the fake Hub does not serve ${pathname}` });
  }

  private serveFile(req: http.IncomingMessage, res: http.ServerResponse, path: string, file: FakeRepoFile): void {
    let body = file.content;
    const flip = this.corrupt.get(path);
    if (flip !== undefined) {
      body = Buffer.from(body);
      body[flip] ^= 0xff;
    }
    const total = body.length;
    const etag = `"${file.lfs ? sha256(file.content) : gitBlobOid(file.content)}"`;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    let start = 0;
    let end = total - 1;
    let status = 200;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), total - 1) : total - 1;
      status = 206;
    }
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(end - start + 1),
      'Accept-Ranges': 'bytes',
      ETag: etag,
      ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${total}` } : {}),
    };
    res.writeHead(status, headers);
    const slice = body.subarray(start, end + 1);
    const drop = this.dropAfter.get(path);
    if (drop !== undefined && status === 200) {
      res.write(slice.subarray(0, drop), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(slice);
  }
}
