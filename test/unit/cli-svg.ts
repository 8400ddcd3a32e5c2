// A small well-formedness check for the SVG charts the uring command draws.
import assert from 'node:assert/strict';

/** Checks that every tag opened in `svg` is closed in order: a small well-formedness check. */
export function assertWellFormedSvg(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, close, name, attrs, self] = m;
    assert.doesNotMatch(attrs!, /[<&](?![#a-z0-9]+;)/, `raw markup in attributes of <${name}>`);
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'every element is closed');
  const text = svg.replace(/<[^>]*>/g, '');
  assert.doesNotMatch(text, /[<>]|&(?!#\d+;|amp;|lt;|gt;)/, 'text content is escaped');
}
