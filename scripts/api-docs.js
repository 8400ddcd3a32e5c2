#!/usr/bin/env node
// Builds docs/api.md from the TSDoc of every export of the package's entry
// points (`uring`, `uring/fs`, `uring/net`, `uring/http`), with the TypeScript compiler
// API. `collect()` is also what test/unit/docs.test.ts uses to fail on an
// export, or a public member of an exported class or interface, that has no
// documentation. Usage: `npm run docs` (writes the file) or
// `node scripts/api-docs.js --check` (lists what lacks TSDoc, exit 1 if any).
'use strict';
const ts = require('typescript');
const { existsSync, writeFileSync, mkdirSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const ENTRIES = [
  ['uring', 'src/index.ts'],
  ['uring/fs', 'src/fs/index.ts'],
  ['uring/net', 'src/net/index.ts'],
  ['uring/http', 'src/http/index.ts'],
];

function compilerOptions() {
  const file = ts.findConfigFile(root, ts.sys.fileExists, 'tsconfig.json');
  const { config } = ts.readConfigFile(file, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config, ts.sys, root).options;
}

function text(parts) {
  return ts.displayPartsToString(parts || []).trim();
}

function tagsOf(sym, checker) {
  const out = { throws: [], examples: [], internal: false, deprecated: undefined };
  for (const t of sym.getJsDocTags(checker)) {
    const body = text(t.text);
    if (t.name === 'throws') out.throws.push(body);
    else if (t.name === 'example') out.examples.push(body);
    else if (t.name === 'internal') out.internal = true;
    else if (t.name === 'deprecated') out.deprecated = body;
  }
  return out;
}

function memberName(sym) {
  const n = sym.getName();
  const m = /^__@(\w+)@\d+$/.exec(n);
  return m ? `[Symbol.${m[1]}]` : n;
}

// Members declared by the platform (Error.stack, Error.cause, ...) are not ours to document.
function isOwnDeclaration(d) {
  return !relative(join(root, 'src'), d.getSourceFile().fileName).startsWith('..');
}

// A constant without its own comment, in a run of adjacent constant
// declarations (no blank line between), shares the comment that heads the run.
function groupDoc(decl) {
  const stmt = decl.parent && decl.parent.parent;
  if (!stmt || !ts.isVariableStatement(stmt) || !ts.isSourceFile(stmt.parent)) return '';
  const sf = stmt.parent;
  const line = (pos) => sf.getLineAndCharacterOfPosition(pos).line;
  let k = sf.statements.indexOf(stmt);
  let cur = stmt;
  while (k > 0) {
    const prev = sf.statements[--k];
    if (!ts.isVariableStatement(prev) || line(prev.getEnd()) !== line(cur.getStart(sf)) - 1) return '';
    const jsdoc = ts.getJSDocCommentsAndTags(prev);
    if (jsdoc.length) return ts.getTextOfJSDocComment(jsdoc[jsdoc.length - 1].comment) || '';
    cur = prev;
  }
  return '';
}

function isPublicMember(sym) {
  const name = sym.getName();
  if (name.startsWith('_') && !name.startsWith('__@')) return false;
  if (name.startsWith('#') || name === 'prototype') return false;
  const d = sym.declarations && sym.declarations[0];
  if (!d || !isOwnDeclaration(d)) return false;
  const flags = ts.getCombinedModifierFlags(d);
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0 && !ts.isPrivateIdentifier(d.name || d);
}

const printer = ts.createPrinter({ removeComments: true });

function printed(node) {
  return printer.printNode(ts.EmitHint.Unspecified, node, node.getSourceFile()).trim();
}

function memberSignature(sym, checker, decl) {
  const type = checker.getTypeOfSymbolAtLocation(sym, decl);
  const name = memberName(sym);
  if (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl)) {
    return type.getCallSignatures().map((s) => `${name}${checker.signatureToString(s, undefined, ts.TypeFormatFlags.NoTruncation)}`).join('\n');
  }
  if (ts.isGetAccessorDeclaration(decl)) return `get ${name}(): ${checker.typeToString(type)}`;
  const ro = ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Readonly ? 'readonly ' : '';
  const opt = sym.flags & ts.SymbolFlags.Optional ? '?' : '';
  return `${ro}${name}${opt}: ${checker.typeToString(type, decl, ts.TypeFormatFlags.NoTruncation)}`;
}

function describeMember(sym, checker, owner) {
  const decl = sym.declarations[0];
  const tags = tagsOf(sym, checker);
  const call = ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl) ? '()' : '';
  return {
    name: `${owner}.${memberName(sym)}${call}`,
    signature: memberSignature(sym, checker, decl),
    doc: text(sym.getDocumentationComment(checker)),
    throws: tags.throws, examples: tags.examples, internal: tags.internal,
  };
}

function classMembers(sym, checker, owner) {
  const members = [];
  const decl = sym.declarations.find((d) => ts.isClassDeclaration(d));
  const ctor = decl && decl.members.find((m) => ts.isConstructorDeclaration(m));
  if (ctor) {
    const csym = checker.getTypeOfSymbolAtLocation(sym, decl).getConstructSignatures()[0];
    const doc = ts.getJSDocCommentsAndTags(ctor).length ? text(csym.getDocumentationComment(checker)) : '';
    const throws = ts.getJSDocTags(ctor).filter((t) => t.tagName.text === 'throws').map((t) => ts.getTextOfJSDocComment(t.comment) || '');
    members.push({ name: `new ${owner}()`, signature: `new ${owner}${checker.signatureToString(csym, undefined, ts.TypeFormatFlags.NoTruncation)}`, doc, throws, examples: [], internal: ts.getJSDocTags(ctor).some((t) => t.tagName.text === 'internal') });
  }
  const statics = checker.getPropertiesOfType(checker.getTypeOfSymbolAtLocation(sym, decl))
    .filter((p) => p.getName() !== 'prototype' && isPublicMember(p));
  for (const p of statics) members.push({ ...describeMember(p, checker, owner), name: `${owner}.${memberName(p)} (static)` });
  const inst = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym)).filter(isPublicMember);
  for (const p of inst) members.push(describeMember(p, checker, owner));
  return members.filter((m) => !m.internal);
}

function interfaceMembers(sym, checker, owner) {
  return checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(sym)).filter(isPublicMember)
    .map((p) => describeMember(p, checker, owner)).filter((m) => !m.internal);
}

function describeExport(exp, checker, modName) {
  const sym = exp.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exp) : exp;
  const name = exp.getName();
  const decl = sym.declarations && sym.declarations[0];
  const tags = tagsOf(sym, checker);
  const entry = {
    module: modName, name, kind: 'value', signature: '', doc: text(sym.getDocumentationComment(checker)),
    throws: tags.throws, examples: tags.examples, internal: tags.internal, members: [],
    file: decl ? relative(root, decl.getSourceFile().fileName) : '',
  };
  if (!decl) return entry;
  if (ts.isSourceFile(decl) || ts.isModuleDeclaration(decl)) {
    entry.kind = 'namespace';
    entry.signature = `namespace ${name}`;
    if (!entry.doc && ts.isSourceFile(decl)) {
      // A namespace re-export takes the doc of its `export * as` statement.
      const stmt = exp.declarations && exp.declarations[0];
      const jsdoc = stmt && ts.getJSDocCommentsAndTags(stmt.parent && ts.isExportDeclaration(stmt.parent) ? stmt.parent : stmt);
      if (jsdoc && jsdoc.length) entry.doc = ts.getTextOfJSDocComment(jsdoc[0].comment) || '';
    }
    entry.members = checker.getExportsOfModule(sym).map((m) => {
      const d = describeExport(m, checker, modName);
      return { name: `${name}.${d.name}`, signature: d.signature, doc: d.doc, throws: d.throws, examples: d.examples, internal: d.internal };
    }).filter((m) => !m.internal);
  } else if (ts.isClassDeclaration(decl)) {
    entry.kind = 'class';
    const heritage = (decl.heritageClauses || []).map((h) => printed(h)).join(' ');
    entry.signature = `class ${name}${heritage ? ` ${heritage}` : ''}`;
    entry.members = classMembers(sym, checker, name);
  } else if (ts.isInterfaceDeclaration(decl)) {
    entry.kind = 'interface';
    const heritage = (decl.heritageClauses || []).map((h) => printed(h)).join(' ');
    entry.signature = `interface ${name}${heritage ? ` ${heritage}` : ''}`;
    entry.members = interfaceMembers(sym, checker, name);
  } else if (ts.isTypeAliasDeclaration(decl)) {
    entry.kind = 'type';
    entry.signature = printed(decl).replace(/^export\s+/, '');
  } else if (ts.isFunctionDeclaration(decl)) {
    entry.kind = 'function';
    const type = checker.getTypeOfSymbolAtLocation(sym, decl);
    entry.signature = type.getCallSignatures().map((s) => `function ${name}${checker.signatureToString(s, undefined, ts.TypeFormatFlags.NoTruncation)}`).join('\n');
  } else {
    entry.kind = 'const';
    if (!entry.doc) entry.doc = groupDoc(decl);
    const type = checker.getTypeOfSymbolAtLocation(sym, decl);
    entry.signature = `const ${name}: ${checker.typeToString(type, decl, ts.TypeFormatFlags.NoTruncation)}`;
  }
  return entry;
}

/** Every export of every present entry point, with its members and TSDoc. */
function collect() {
  const present = ENTRIES.filter(([, f]) => existsSync(join(root, f)));
  const program = ts.createProgram(present.map(([, f]) => join(root, f)), compilerOptions());
  const checker = program.getTypeChecker();
  const modules = [];
  for (const [modName, file] of present) {
    const sf = program.getSourceFile(join(root, file));
    const msym = checker.getSymbolAtLocation(sf);
    const exports = msym ? checker.getExportsOfModule(msym) : [];
    modules.push({ name: modName, file, exports: exports.map((e) => describeExport(e, checker, modName)).filter((e) => !e.internal) });
  }
  return modules;
}

/** Names (`Ring`, `Ring.read`, `constants.Op`) that have no TSDoc. */
function undocumented(modules) {
  const out = [];
  for (const m of modules) {
    for (const e of m.exports) {
      if (!e.doc) out.push(`${m.name}: ${e.name} (${e.file})`);
      for (const mem of e.members) if (!mem.doc) out.push(`${m.name}: ${mem.name} (${e.file})`);
    }
  }
  return out;
}

function anchor(s) {
  return s.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}

function block(lines, item) {
  if (item.signature) lines.push('```ts', item.signature, '```', '');
  if (item.doc) lines.push(item.doc);
  for (const t of item.throws) lines.push('', `**Throws:** ${t}`);
  for (const ex of item.examples) {
    lines.push('', '**Example:**', '');
    lines.push(/^```/.test(ex) ? ex : ['```ts', ex, '```'].join('\n'));
  }
  lines.push('');
}

/** docs/api.md as a string. */
function render(modules) {
  const lines = ['# API reference', '',
    'Generated from the TSDoc of every export by `npm run docs`; edit the comments in `src/`, not this file.', ''];
  for (const m of modules) {
    lines.push(`- [\`${m.name}\`](#${anchor(m.name)}): ${m.exports.map((e) => `[${e.name}](#${anchor(`${e.kind} ${e.name}`)})`).join(', ')}`);
  }
  lines.push('');
  for (const m of modules) {
    lines.push(`## ${m.name}`, '', `\`import { ... } from '${m.name}'\``, '');
    for (const e of m.exports) {
      lines.push(`### ${e.kind} ${e.name}`, '');
      block(lines, e);
      for (const mem of e.members) {
        lines.push(`#### ${mem.name}`, '');
        block(lines, mem);
      }
    }
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n');
}

module.exports = { collect, undocumented, render, ENTRIES };

if (require.main === module) {
  const modules = collect();
  const missing = undocumented(modules);
  if (process.argv.includes('--check')) {
    for (const m of missing) console.log(m);
    process.exit(missing.length ? 1 : 0);
  }
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'api.md'), render(modules));
  const n = modules.reduce((k, m) => k + m.exports.length, 0);
  console.log(`docs/api.md: ${n} exports from ${modules.map((m) => m.name).join(', ')}`);
  if (missing.length) console.warn(`${missing.length} without TSDoc (node scripts/api-docs.js --check lists them)`);
}
