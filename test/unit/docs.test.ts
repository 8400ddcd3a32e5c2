// Documentation checks: every export, and every public member of an exported
// class or interface, has TSDoc; the API reference renders from it; the docs
// index links every concept page.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
interface Item { name: string; doc: string; signature: string }
interface Entry extends Item { kind: string; members: Item[] }
interface ApiDocs {
  collect(): { name: string; exports: Entry[] }[];
  undocumented(modules: ReturnType<ApiDocs['collect']>): string[];
  render(modules: ReturnType<ApiDocs['collect']>): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const api = require(join(root, 'scripts', 'api-docs.js')) as ApiDocs;

describe('API documentation', () => {
  const modules = api.collect();

  it('every export of the public entry points has TSDoc, and so does every public member', () => {
    const missing = api.undocumented(modules);
    assert.deepEqual(missing, [], `add TSDoc to:\n  ${missing.join('\n  ')}`);
  });

  it('the reference lists every export with its signature', () => {
    const md = api.render(modules);
    const main = modules.find((m) => m.name === 'uring')!;
    for (const name of ['Ring', 'FixedFile', 'Probe', 'UringUnavailableError', 'RingOptions', 'constants']) {
      assert.ok(main.exports.some((e) => e.name === name), `uring exports ${name}`);
    }
    for (const e of main.exports) {
      assert.match(md, new RegExp(`^### ${e.kind} ${e.name}$`, 'm'));
      assert.ok(e.signature.length > 0, e.name);
    }
    const ring = main.exports.find((e) => e.name === 'Ring')!;
    assert.ok(ring.members.some((m) => m.name === 'Ring.read()'), 'public methods are listed');
    assert.ok(!ring.members.some((m) => /\._/.test(m.name)), 'internal members are not');
  });

  it('docs/README.md links every concept page', () => {
    const index = readFileSync(join(root, 'docs', 'README.md'), 'utf8');
    for (const page of ['rings.md', 'registered-files.md', 'fixed-buffers.md', 'linked-requests.md',
      'timeouts-and-cancellation.md', 'sqpoll.md', 'fallback.md', 'fs.md', 'net.md', 'troubleshooting.md', 'api.md']) {
      assert.match(index, new RegExp(`\\]\\(${page.replace('.', '\\.')}\\)`), page);
    }
    for (const page of ['rings.md', 'fallback.md', 'troubleshooting.md', 'api.md']) {
      assert.ok(existsSync(join(root, 'docs', page)), page);
    }
  });
});
