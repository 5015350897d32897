/*
 * Reading an API's OpenAPI document for the API page: which operations it
 * has (grouped by tag), each one's parameters, request body and responses,
 * and a ready-to-paste curl line.  The document arrives as a JSON object, or
 * as a string holding JSON or YAML; YAML is shown as text only (no YAML
 * parser in the bundle), so operations then come from the server's derived
 * `operations` list alone.  Everything here is pure and defensive: documents
 * are user content and may be incomplete or wrong.
 */
import type { Operation } from '../shared/types';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

export interface ParsedDocument {
  /* The document as an object when it is one or is JSON text. */
  doc: Obj | null;
  /* The text to show and download. */
  text: string;
  format: 'json' | 'yaml';
}

/* Normalise the `openapi` field; null when the API has no document. */
export function parseDocument(openapi: unknown): ParsedDocument | null {
  if (openapi === null || openapi === undefined || openapi === '') return null;
  if (typeof openapi === 'string') {
    const trimmed = openapi.trim();
    if (trimmed.startsWith('{')) {
      try {
        const parsed: unknown = JSON.parse(trimmed);
        if (isObj(parsed)) return { doc: parsed, text: openapi, format: 'json' };
      } catch {
        /* not JSON after all: show as text */
      }
      return { doc: null, text: openapi, format: 'json' };
    }
    return { doc: null, text: openapi, format: 'yaml' };
  }
  if (isObj(openapi)) return { doc: openapi, text: JSON.stringify(openapi, null, 2), format: 'json' };
  return null;
}

/* Follow a local "#/components/…" reference (a few levels deep at most). */
export function deref(doc: Obj | null, value: unknown, depth = 0): unknown {
  if (!isObj(value) || typeof value.$ref !== 'string' || !doc || depth > 8) return value;
  const ref = value.$ref;
  if (!ref.startsWith('#/')) return value;
  let cur: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObj(cur)) return value;
    cur = cur[key];
  }
  return cur === undefined ? value : deref(doc, cur, depth + 1);
}

/* A short type label for a schema: "string", "integer (int64)", "array of User", "User". */
export function schemaType(doc: Obj | null, schema: unknown): string {
  if (!isObj(schema)) return '';
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').pop() ?? '';
  const s = schema;
  if (Array.isArray(s.enum)) return `enum (${s.enum.map((v) => String(v)).join(', ')})`;
  const t = Array.isArray(s.type) ? s.type.filter((x) => x !== 'null').join(' | ') : str(s.type);
  if (t === 'array') {
    const items = schemaType(doc, s.items);
    return items ? `array of ${items}` : 'array';
  }
  if (t) return s.format ? `${t} (${String(s.format)})` : t;
  for (const k of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (Array.isArray(s[k])) return (s[k] as unknown[]).map((x) => schemaType(doc, x)).filter(Boolean).join(k === 'allOf' ? ' & ' : ' | ');
  }
  if (isObj(s.properties)) return 'object';
  return '';
}

export interface ParamInfo {
  name: string;
  in: string;
  required: boolean;
  type: string;
  description: string;
  deprecated: boolean;
  example?: unknown;
}

export interface ResponseInfo {
  code: string;
  description: string;
  contentTypes: string[];
}

export interface BodyInfo {
  required: boolean;
  description: string;
  contentTypes: string[];
  type: string;
  example?: unknown;
}

export type SecurityKind = { kind: 'bearer' } | { kind: 'basic' } | { kind: 'header'; name: string } | { kind: 'query'; name: string };

export interface OperationInfo {
  method: string;
  path: string;
  operationId: string;
  summary: string;
  description: string;
  tags: string[];
  deprecated: boolean;
  parameters: ParamInfo[];
  body: BodyInfo | null;
  responses: ResponseInfo[];
  security: SecurityKind[];
}

function paramInfo(doc: Obj | null, raw: unknown): ParamInfo | null {
  const p = deref(doc, raw);
  if (!isObj(p) || typeof p.name !== 'string') return null;
  const where = str(p.in) ?? 'query';
  const schema = deref(doc, p.schema);
  return {
    name: p.name,
    in: where,
    required: where === 'path' || p.required === true,
    type: schemaType(doc, p.schema) || (isObj(p.content) ? Object.keys(p.content).join(', ') : ''),
    description: str(p.description) ?? '',
    deprecated: p.deprecated === true,
    example: p.example ?? (isObj(schema) ? (schema.example ?? schema.default) : undefined),
  };
}

/* An example value for a schema: its example/default, else a skeleton (depth-limited). */
export function exampleFor(doc: Obj | null, rawSchema: unknown, depth = 0): unknown {
  const s = deref(doc, rawSchema);
  if (!isObj(s) || depth > 4) return null;
  if (s.example !== undefined) return s.example;
  if (s.default !== undefined) return s.default;
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[0];
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== 'null') : s.type;
  if (Array.isArray(s.allOf)) {
    const merged: Obj = {};
    for (const part of s.allOf) {
      const ex = exampleFor(doc, part, depth + 1);
      if (isObj(ex)) Object.assign(merged, ex);
    }
    return merged;
  }
  for (const k of ['oneOf', 'anyOf'] as const) {
    if (Array.isArray(s[k]) && s[k].length) return exampleFor(doc, s[k][0], depth + 1);
  }
  switch (t) {
    case 'string':
      return s.format === 'date-time' ? '2026-01-01T00:00:00Z' : s.format === 'uuid' ? '00000000-0000-0000-0000-000000000000' : 'string';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [exampleFor(doc, s.items, depth + 1)];
    default:
      if (isObj(s.properties)) {
        const out: Obj = {};
        for (const [k, v] of Object.entries(s.properties)) out[k] = exampleFor(doc, v, depth + 1);
        return out;
      }
      return t === 'object' ? {} : null;
  }
}

function bodyInfo(doc: Obj | null, raw: unknown): BodyInfo | null {
  const b = deref(doc, raw);
  if (!isObj(b)) return null;
  const content = isObj(b.content) ? b.content : {};
  const types = Object.keys(content);
  const jsonType = types.find((t) => /json/i.test(t)) ?? types[0];
  const media = jsonType ? deref(doc, content[jsonType]) : undefined;
  let example: unknown;
  let type = '';
  if (isObj(media)) {
    type = schemaType(doc, media.schema);
    if (media.example !== undefined) example = media.example;
    else if (isObj(media.examples)) {
      const first = deref(doc, Object.values(media.examples)[0]);
      if (isObj(first)) example = first.value;
    }
    if (example === undefined && media.schema !== undefined) example = exampleFor(doc, media.schema);
  }
  return { required: b.required === true, description: str(b.description) ?? '', contentTypes: types, type, example };
}

function responsesInfo(doc: Obj | null, raw: unknown): ResponseInfo[] {
  if (!isObj(raw)) return [];
  return Object.entries(raw)
    .map(([code, r]) => {
      const resp = deref(doc, r);
      const o = isObj(resp) ? resp : {};
      return {
        code,
        description: str(o.description) ?? '',
        contentTypes: isObj(o.content) ? Object.keys(o.content) : [],
      };
    })
    .sort((a, b) => a.code.localeCompare(b.code));
}

function securityInfo(doc: Obj | null, requirement: unknown): SecurityKind[] {
  if (!Array.isArray(requirement) || !doc) return [];
  const schemes = isObj(doc.components) && isObj(doc.components.securitySchemes) ? doc.components.securitySchemes : {};
  const first = requirement.find(isObj);
  if (!first) return [];
  const out: SecurityKind[] = [];
  for (const name of Object.keys(first)) {
    const s = deref(doc, schemes[name]);
    if (!isObj(s)) continue;
    const type = str(s.type);
    const scheme = str(s.scheme)?.toLowerCase();
    if (type === 'http' && scheme === 'basic') out.push({ kind: 'basic' });
    else if (type === 'http' || type === 'oauth2' || type === 'openIdConnect') out.push({ kind: 'bearer' });
    else if (type === 'apiKey' && typeof s.name === 'string') {
      if (s.in === 'header') out.push({ kind: 'header', name: s.name });
      else if (s.in === 'query') out.push({ kind: 'query', name: s.name });
    }
  }
  return out;
}

function fromDocument(doc: Obj, method: string, path: string): Partial<OperationInfo> | null {
  const paths = isObj(doc.paths) ? doc.paths : null;
  const item = paths ? deref(doc, paths[path]) : null;
  if (!isObj(item)) return null;
  const op = item[method.toLowerCase()];
  if (!isObj(op)) return null;
  // Operation parameters override path-level ones with the same name+in.
  const byKey = new Map<string, ParamInfo>();
  for (const list of [item.parameters, op.parameters]) {
    if (!Array.isArray(list)) continue;
    for (const raw of list) {
      const p = paramInfo(doc, raw);
      if (p) byKey.set(`${p.in}:${p.name}`, p);
    }
  }
  const order = ['path', 'query', 'header', 'cookie'];
  const parameters = [...byKey.values()].sort((a, b) => order.indexOf(a.in) - order.indexOf(b.in));
  return {
    operationId: str(op.operationId),
    summary: str(op.summary),
    description: str(op.description) ?? '',
    tags: Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === 'string') : undefined,
    deprecated: op.deprecated === true,
    parameters,
    body: bodyInfo(doc, op.requestBody),
    responses: responsesInfo(doc, op.responses),
    security: securityInfo(doc, op.security ?? doc.security),
  };
}

/* Operations listed in the document itself, in document order. */
function documentOperations(doc: Obj): Operation[] {
  const out: Operation[] = [];
  if (!isObj(doc.paths)) return out;
  for (const [path, item] of Object.entries(doc.paths)) {
    const it = deref(doc, item);
    if (!isObj(it)) continue;
    for (const m of HTTP_METHODS) {
      if (isObj(it[m])) out.push({ method: m.toUpperCase(), path });
    }
  }
  return out;
}

/*
 * The operations to show: the server's derived list when it has one (it is
 * the source of truth for what the catalog indexed), enriched from the
 * document; else whatever the document lists.
 */
export function buildOperations(serverOps: Operation[] | null | undefined, doc: Obj | null): OperationInfo[] {
  const base = serverOps && serverOps.length > 0 ? serverOps : doc ? documentOperations(doc) : [];
  return base.map((op) => {
    const extra = doc ? fromDocument(doc, op.method, op.path) : null;
    return {
      method: op.method.toUpperCase(),
      path: op.path,
      operationId: op.operation_id || extra?.operationId || '',
      summary: op.summary || extra?.summary || '',
      description: extra?.description ?? '',
      tags: (op.tags && op.tags.length ? op.tags : extra?.tags) ?? [],
      deprecated: extra?.deprecated ?? false,
      parameters: extra?.parameters ?? [],
      body: extra?.body ?? null,
      responses: extra?.responses ?? [],
      security: extra?.security ?? [],
    };
  });
}

export const UNTAGGED = 'Other operations';

/* Operations grouped by their first tag, groups in first-seen order (document tag order first). */
export function groupByTag(ops: OperationInfo[], doc: Obj | null = null): Array<{ tag: string; operations: OperationInfo[] }> {
  const groups = new Map<string, OperationInfo[]>();
  if (doc && Array.isArray(doc.tags)) {
    for (const t of doc.tags) if (isObj(t) && typeof t.name === 'string') groups.set(t.name, []);
  }
  for (const op of ops) {
    const tag = op.tags[0] ?? UNTAGGED;
    const list = groups.get(tag) ?? [];
    list.push(op);
    groups.set(tag, list);
  }
  const out = [...groups.entries()].filter(([, list]) => list.length > 0).map(([tag, operations]) => ({ tag, operations }));
  // Untagged ones go last.
  out.sort((a, b) => Number(a.tag === UNTAGGED) - Number(b.tag === UNTAGGED));
  return out;
}

export const PLACEHOLDER_HOST = 'https://GATEWAY_HOST';

/* Base URL from servers[0] (variables filled with defaults); a placeholder when absent or relative. */
export function serverUrl(doc: Obj | null): string {
  const servers = doc && Array.isArray(doc.servers) ? doc.servers : [];
  const first = servers.find(isObj);
  let url = first ? str(first.url) : undefined;
  if (!url) return PLACEHOLDER_HOST;
  if (first && isObj(first.variables)) {
    for (const [k, v] of Object.entries(first.variables)) {
      if (isObj(v) && v.default !== undefined) url = url.split(`{${k}}`).join(String(v.default));
    }
  }
  url = url.replace(/\/+$/, '');
  if (/^https?:\/\//i.test(url)) return url;
  if (url.startsWith('/')) return PLACEHOLDER_HOST + url;
  return PLACEHOLDER_HOST;
}

/* Quote for a POSIX shell: 'it'\''s'. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

const headerName = (s: string) => s.replace(/[^A-Za-z0-9!#$%&'*+.^_`|~-]/g, '');

/*
 * A curl command for an operation.  Path parameters stay as {name} (hence
 * --globoff), required query and header parameters get placeholders, a JSON
 * body gets the documented example or a skeleton, and credentials come from
 * environment variables ($TOKEN, $API_KEY) so nothing secret is pasted.
 */
export function curlFor(op: OperationInfo, base: string): string {
  const lines: string[] = [];
  let url = base.replace(/\/+$/, '') + (op.path.startsWith('/') ? op.path : `/${op.path}`);
  const query: string[] = [];
  const headers: string[] = ['Accept: application/json'];
  for (const p of op.parameters) {
    if (!p.required) continue;
    const value = p.example !== undefined && p.example !== null && typeof p.example !== 'object' ? String(p.example) : `{${p.name}}`;
    if (p.in === 'path' && p.example !== undefined && p.example !== null && typeof p.example !== 'object') {
      url = url.split(`{${p.name}}`).join(encodeURIComponent(String(p.example)));
    } else if (p.in === 'query') {
      query.push(`${encodeURIComponent(p.name)}=${value}`);
    } else if (p.in === 'header') {
      headers.push(`${headerName(p.name)}: ${value}`);
    }
  }
  for (const s of op.security) {
    if (s.kind === 'query') query.push(`${encodeURIComponent(s.name)}=$API_KEY`);
  }
  if (query.length) url += `?${query.join('&')}`;

  const first = ['curl'];
  if (url.includes('{') || url.includes('[')) first.push('--globoff');
  if (op.method !== 'GET') first.push('-X', op.method);
  // A URL holding $API_KEY must be double-quoted for the shell to expand it.
  first.push(url.includes('$API_KEY') ? `"${url.replace(/(["\\`])/g, '\\$1')}"` : shellQuote(url));
  lines.push(first.join(' '));

  for (const h of headers) lines.push(`-H ${shellQuote(h)}`);
  for (const s of op.security) {
    if (s.kind === 'bearer') {
      lines.push('-H "Authorization: Bearer $TOKEN"');
    } else if (s.kind === 'basic') {
      lines.push('-u "$USERNAME:$PASSWORD"');
    } else if (s.kind === 'header') {
      lines.push(`-H "${headerName(s.name)}: $API_KEY"`);
    }
  }
  if (op.body) {
    const ct = op.body.contentTypes.find((t) => /json/i.test(t)) ?? op.body.contentTypes[0] ?? 'application/json';
    lines.push(`-H ${shellQuote(`Content-Type: ${ct}`)}`);
    const example = op.body.example;
    if (example !== undefined && example !== null) {
      const body = typeof example === 'string' && !/json/i.test(ct) ? example : JSON.stringify(example, null, 2);
      lines.push(`-d ${shellQuote(body)}`);
    } else {
      lines.push(`-d ${shellQuote('{}')}`);
    }
  }
  return lines.join(' \\\n  ');
}

/* A file name for downloading the document: "payments-api-1.2.0.openapi.json". */
export function documentFileName(name: string, version: string, format: 'json' | 'yaml'): string {
  const slug = `${name}-${version}`
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80);
  return `${slug || 'api'}.openapi.${format}`;
}
