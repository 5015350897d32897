#!/usr/bin/env node
// yaml2json.mjs — converts Portico's own YAML documents (docs/openapi.yaml)
// to JSON at build time, with no npm dependencies, so the binary can embed
// the JSON and serve /v1/openapi.json without converting at run time.
//
// usage: node scripts/yaml2json.mjs IN.yaml OUT.json
//
// It reads a strict SUBSET of YAML and refuses everything else with
// "file:line: reason", so what it accepts means the same to any YAML parser:
//   - block mappings (`key: value`, `key:` + an indented block) and block
//     sequences (`- item`, also directly under a key at the key's indent);
//   - plain, 'single-quoted' and "double-quoted" one-line scalars; plain
//     scalars resolve like YAML 1.2's core schema (null, true/false, numbers);
//   - block scalars `|`, `|-`, `>`, `>-`;
//   - flow sequences of scalars on one line (`[a, "b", 1]`) and the empty
//     flow collections `[]` and `{}`;
//   - `#` comments.
// Not accepted: anchors, aliases, tags, directives, several documents,
// complex keys, flow mappings with content, multi-line plain or quoted
// scalars, tabs in indentation, duplicate keys.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export class YamlSubsetError extends Error {
  constructor(line, message) {
    super(`${line}: ${message}`);
    this.line = line;
  }
}

const INT_RE = /^[-+]?[0-9]+$/;
const OCT_RE = /^0o[0-7]+$/;
const HEX_RE = /^0x[0-9a-fA-F]+$/;
const FLOAT_RE = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

// YAML 1.2 core schema resolution of a plain scalar.
function resolvePlain(s) {
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (s === 'true' || s === 'True' || s === 'TRUE') return true;
  if (s === 'false' || s === 'False' || s === 'FALSE') return false;
  if (INT_RE.test(s)) return Number(s);
  if (OCT_RE.test(s)) return parseInt(s.slice(2), 8);
  if (HEX_RE.test(s)) return parseInt(s.slice(2), 16);
  if (FLOAT_RE.test(s)) return Number(s);
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s) || /^\.(nan|NaN|NAN)$/.test(s))
    throw new Error('infinity and NaN have no JSON form');
  return s;
}

// Reads a double-quoted scalar starting at s[0] === '"'; returns [value, rest].
function readDouble(s) {
  let out = '';
  let i = 1;
  for (;;) {
    if (i >= s.length) throw new Error('unterminated double-quoted string (multi-line strings are not supported)');
    const c = s[i];
    if (c === '"') return [out, s.slice(i + 1)];
    if (c !== '\\') {
      out += c;
      i++;
      continue;
    }
    const e = s[i + 1];
    const simple = { '"': '"', '\\': '\\', '/': '/', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', 0: '\0', ' ': ' ' };
    if (e in simple) {
      out += simple[e];
      i += 2;
    } else if (e === 'u' || e === 'x' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) throw new Error(`bad \\${e} escape`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 2 + n;
    } else {
      throw new Error(`unsupported escape \\${e ?? ''}`);
    }
  }
}

// Reads a single-quoted scalar starting at s[0] === "'"; returns [value, rest].
function readSingle(s) {
  let out = '';
  let i = 1;
  for (;;) {
    if (i >= s.length) throw new Error('unterminated single-quoted string (multi-line strings are not supported)');
    if (s[i] === "'") {
      if (s[i + 1] === "'") {
        out += "'";
        i += 2;
        continue;
      }
      return [out, s.slice(i + 1)];
    }
    out += s[i++];
  }
}

// After a quoted scalar or a flow collection only a comment may follow.
function expectEnd(rest) {
  const t = rest.trim();
  if (t !== '' && !t.startsWith('#')) throw new Error(`unexpected text after the value: ${t}`);
  if (t.startsWith('#') && rest.length > 0 && !/^\s/.test(rest)) throw new Error('a comment needs a space before #');
}

// A plain scalar: strips a trailing comment and checks it is plain-safe.
function readPlain(s, inFlow) {
  let text = s;
  const hash = text.search(/\s#/);
  if (hash >= 0) text = text.slice(0, hash);
  text = text.trim();
  if (/^[&*!%@`|>]/.test(text)) throw new Error(`unsupported YAML syntax (anchor, alias, tag or indicator): ${text}`);
  if (/^[?:-](\s|$)/.test(text)) throw new Error(`unsupported YAML syntax: ${text}`);
  if (/:(\s|$)/.test(text)) throw new Error(`a plain value may not contain ": " (quote it): ${text}`);
  if (inFlow && /[[\]{},]/.test(text)) throw new Error(`flow indicator in a flow item (quote it): ${text}`);
  if (!inFlow && /^[[{]/.test(text)) throw new Error(`unsupported flow collection: ${text}`);
  return resolvePlain(text);
}

// A one-line flow sequence of scalars: "[a, 'b', 1]".
function readFlowSeq(s) {
  const items = [];
  let rest = s.slice(1).trimStart();
  if (rest.startsWith(']')) {
    expectEnd(rest.slice(1));
    return items;
  }
  for (;;) {
    rest = rest.trimStart();
    let value;
    if (rest.startsWith('"')) [value, rest] = readDouble(rest);
    else if (rest.startsWith("'")) [value, rest] = readSingle(rest);
    else {
      const m = rest.match(/^[^,\]]*/);
      if (m[0].trim() === '') throw new Error('empty item in a flow sequence');
      if (/[[{]/.test(m[0])) throw new Error('nested flow collections are not supported');
      value = readPlain(m[0], true);
      rest = rest.slice(m[0].length);
    }
    items.push(value);
    rest = rest.trimStart();
    if (rest.startsWith(',')) {
      rest = rest.slice(1);
      continue;
    }
    if (rest.startsWith(']')) {
      expectEnd(rest.slice(1));
      return items;
    }
    throw new Error('unterminated flow sequence (it must close on the same line)');
  }
}

// Parses the text of a YAML document in the subset; returns the value.
export function parseYaml(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/).map((raw, idx) => {
    const m = raw.match(/^( *)(.*)$/);
    return { no: idx + 1, raw, indent: m[1].length, text: m[2].replace(/\s+$/, '') };
  });
  for (const l of lines) {
    if (/^ *\t/.test(l.raw) && l.text.trim() !== '') throw new YamlSubsetError(l.no, 'tab in indentation');
    if (l.indent === 0 && /^(---|\.\.\.|%)/.test(l.text)) throw new YamlSubsetError(l.no, 'directives and document markers are not supported');
  }
  const blank = (l) => l.text === '' || l.text.startsWith('#');
  let i = 0;
  const skipBlank = () => { while (i < lines.length && blank(lines[i])) i++; };
  const fail = (l, msg) => { throw new YamlSubsetError(l ? l.no : lines.length, msg); };
  const isSeqItem = (t) => t === '-' || t.startsWith('- ');

  // A block scalar whose header is on line `l` under parent indent `ind`.
  function blockScalar(header, l, ind) {
    const m = header.match(/^([|>])([-+]?)\s*(#.*)?$/);
    if (!m) fail(l, `unsupported block scalar header: ${header}`);
    const [, style, chomp] = m;
    const body = [];
    i++;
    let contentIndent = -1;
    while (i < lines.length) {
      const c = lines[i];
      if (c.text === '') {
        body.push('');
        i++;
        continue;
      }
      if (c.indent <= ind) break;
      if (contentIndent < 0) contentIndent = c.indent;
      if (c.indent < contentIndent) fail(c, 'block scalar line is less indented than its first line');
      if (style === '>' && c.indent > contentIndent) fail(c, 'more-indented lines in a folded (>) scalar are not supported');
      body.push(c.raw.slice(contentIndent).replace(/\s+$/, ''));
      i++;
    }
    let trailing = 0;
    while (body.length && body[body.length - 1] === '') {
      body.pop();
      trailing++;
    }
    let out;
    if (style === '|') {
      out = body.join('\n');
    } else {
      out = '';
      body.forEach((line, k) => {
        if (k === 0) out = line;
        else if (line === '') out += '\n';
        else if (body[k - 1] === '') out += line;
        else out += ' ' + line;
      });
    }
    if (body.length === 0) return '';
    if (chomp === '-') return out;
    if (chomp === '+') return out + '\n'.repeat(1 + trailing);
    return out + '\n';
  }

  // The value written after "key:" or "- " on line l (text s), parent indent ind.
  function inlineValue(s, l, ind) {
    try {
      if (s.startsWith('"') || s.startsWith("'")) {
        const [v, rest] = s.startsWith('"') ? readDouble(s) : readSingle(s);
        expectEnd(rest);
        i++;
        return v;
      }
      if (s.startsWith('|') || s.startsWith('>')) return blockScalar(s, l, ind);
      if (s.startsWith('[')) {
        const v = readFlowSeq(s);
        i++;
        return v;
      }
      if (s.startsWith('{')) {
        if (!/^\{\s*\}/.test(s)) throw new Error('flow mappings are not supported (only {})');
        expectEnd(s.replace(/^\{\s*\}/, ''));
        i++;
        return Object.create(null);
      }
      const v = readPlain(s, false);
      i++;
      return v;
    } catch (e) {
      if (e instanceof YamlSubsetError) throw e;
      return fail(l, e.message);
    }
  }

  // The node that follows a "key:" or "-" with nothing after it.
  function nestedOrNull(ind, allowSameIndentSeq) {
    skipBlank();
    if (i >= lines.length) return null;
    const l = lines[i];
    if (l.indent > ind) return block(l.indent);
    if (allowSameIndentSeq && l.indent === ind && isSeqItem(l.text)) return seq(ind);
    return null;
  }

  function block(ind) {
    skipBlank();
    const l = lines[i];
    if (isSeqItem(l.text)) return seq(ind);
    return map(ind);
  }

  function seq(ind) {
    const out = [];
    for (;;) {
      skipBlank();
      if (i >= lines.length) break;
      const l = lines[i];
      if (l.indent < ind) break;
      if (l.indent > ind) fail(l, 'unexpected indentation');
      if (!isSeqItem(l.text)) break;
      const after = l.text.slice(1);
      const rest = after.trimStart();
      if (rest === '' || rest.startsWith('#')) {
        i++;
        out.push(nestedOrNull(ind, false));
        continue;
      }
      const col = ind + 1 + (after.length - rest.length);
      if (isSeqItem(rest) || looksLikeKey(rest)) {
        // "- key: value" / "- - x": the rest is a node at column col.
        l.indent = col;
        l.text = rest;
        out.push(block(col));
        continue;
      }
      out.push(inlineValue(rest, l, ind));
    }
    return out;
  }

  function looksLikeKey(s) {
    if (s.startsWith('"') || s.startsWith("'")) {
      try {
        const [, rest] = s.startsWith('"') ? readDouble(s) : readSingle(s);
        return /^\s*:(\s|$)/.test(rest);
      } catch {
        return false;
      }
    }
    return /^[^#\s][^#]*?:(\s|$)/.test(s) && !s.startsWith('[') && !s.startsWith('{');
  }

  function map(ind) {
    const out = Object.create(null);
    for (;;) {
      skipBlank();
      if (i >= lines.length) break;
      const l = lines[i];
      if (l.indent < ind) break;
      if (l.indent > ind) fail(l, 'unexpected indentation');
      if (isSeqItem(l.text)) break;
      let key;
      let rest;
      try {
        if (l.text.startsWith('"') || l.text.startsWith("'")) {
          [key, rest] = l.text.startsWith('"') ? readDouble(l.text) : readSingle(l.text);
          const m = rest.match(/^\s*:(\s|$)/);
          if (!m) throw new Error('expected ":" after the key');
          rest = rest.slice(m[0].length);
        } else {
          const m = l.text.match(/^([^#]*?):(\s|$)/);
          if (!m) throw new Error(`expected "key: value", got: ${l.text}`);
          key = m[1].trim();
          if (key === '' || /^[?&*!|>%@`[\]{},-]/.test(key)) throw new Error(`unsupported key: ${key}`);
          rest = l.text.slice(m[0].length);
        }
      } catch (e) {
        if (e instanceof YamlSubsetError) throw e;
        fail(l, e.message);
      }
      if (Object.prototype.hasOwnProperty.call(out, key)) fail(l, `duplicate key: ${key}`);
      rest = rest.trimStart();
      if (rest === '' || rest.startsWith('#')) {
        i++;
        out[key] = nestedOrNull(ind, true);
      } else {
        out[key] = inlineValue(rest, l, ind);
      }
    }
    return out;
  }

  skipBlank();
  if (i >= lines.length) return null;
  const first = lines[i];
  if (first.indent !== 0) fail(first, 'the document must start at column 0');
  const root = looksLikeKey(first.text) || isSeqItem(first.text) ? block(0) : inlineValue(first.text, first, -1);
  skipBlank();
  if (i < lines.length) fail(lines[i], 'unexpected content (bad indentation?)');
  // Through JSON once: plain objects (and "__proto__" as an ordinary key).
  return JSON.parse(JSON.stringify(root));
}

function main(argv) {
  if (argv.length !== 2) {
    process.stderr.write('usage: node scripts/yaml2json.mjs IN.yaml OUT.json\n');
    return 2;
  }
  const [inPath, outPath] = argv;
  let doc;
  try {
    doc = parseYaml(readFileSync(inPath, 'utf8'));
  } catch (e) {
    process.stderr.write(`${inPath}:${e.message}\n`);
    return 1;
  }
  const tmp = `${outPath}.tmp`;
  writeFileSync(tmp, JSON.stringify(doc) + '\n');
  renameSync(tmp, outPath);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
