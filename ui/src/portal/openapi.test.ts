import { describe, expect, it } from 'vitest';
import {
  PLACEHOLDER_HOST,
  buildOperations,
  curlFor,
  documentFileName,
  groupByTag,
  parseDocument,
  schemaType,
  serverUrl,
  shellQuote,
  UNTAGGED,
} from './openapi';

const doc = {
  openapi: '3.0.3',
  servers: [{ url: 'https://{region}.api.example.com/v1/', variables: { region: { default: 'eu' } } }],
  tags: [{ name: 'profiles' }, { name: 'users' }],
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, key: { type: 'apiKey', in: 'header', name: 'X-Key' } },
    parameters: { Id: { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } } },
    schemas: { User: { type: 'object', properties: { name: { type: 'string', example: 'Ada' }, age: { type: 'integer' } } } },
  },
  security: [{ bearer: [] }],
  paths: {
    '/users': {
      get: {
        tags: ['users'],
        summary: 'List users',
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', format: 'int32' } },
          { name: 'tenant', in: 'query', required: true, schema: { type: 'string' } },
        ],
        responses: { '200': { description: 'OK' }, '401': { description: 'No' } },
      },
      post: {
        tags: ['users'],
        security: [{ key: [] }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/User' } } } },
        responses: { '201': { description: 'Created' } },
      },
    },
    '/users/{id}': {
      parameters: [{ $ref: '#/components/parameters/Id' }],
      get: { tags: ['profiles'], operationId: 'getUser', responses: { '200': { $ref: '#/components/responses/Nope' } } },
      delete: { responses: {} },
    },
  },
};

describe('parseDocument', () => {
  it('accepts an object, JSON text and YAML text', () => {
    expect(parseDocument(doc)?.doc).toBe(doc);
    expect(parseDocument(doc)?.format).toBe('json');
    const fromText = parseDocument(JSON.stringify(doc));
    expect(fromText?.doc).toEqual(doc);
    const yaml = parseDocument('openapi: 3.0.0\ninfo: {}\n');
    expect(yaml).toEqual({ doc: null, text: 'openapi: 3.0.0\ninfo: {}\n', format: 'yaml' });
    expect(parseDocument('{ not json')?.doc).toBeNull();
    expect(parseDocument(null)).toBeNull();
    expect(parseDocument('')).toBeNull();
  });
});

describe('buildOperations', () => {
  const ops = buildOperations(null, doc);

  it('lists the document operations with path-level parameters merged and refs resolved', () => {
    expect(ops.map((o) => `${o.method} ${o.path}`)).toEqual(['GET /users', 'POST /users', 'GET /users/{id}', 'DELETE /users/{id}']);
    const get = ops[2]!;
    expect(get.operationId).toBe('getUser');
    expect(get.parameters).toEqual([
      expect.objectContaining({ name: 'id', in: 'path', required: true, type: 'string (uuid)' }),
    ]);
    expect(ops[0]!.parameters.map((p) => `${p.name}:${p.type}:${p.required}`)).toEqual([
      'limit:integer (int32):false',
      'tenant:string:true',
    ]);
    expect(ops[0]!.responses).toEqual([
      { code: '200', description: 'OK', contentTypes: [] },
      { code: '401', description: 'No', contentTypes: [] },
    ]);
    expect(ops[1]!.body).toMatchObject({ required: true, contentTypes: ['application/json'], type: 'User' });
    expect(ops[1]!.body?.example).toEqual({ name: 'Ada', age: 0 });
  });

  it('prefers the server list and enriches it from the document', () => {
    const server = buildOperations([{ method: 'get', path: '/users', summary: 'From server', tags: ['x'] }], doc);
    expect(server).toHaveLength(1);
    expect(server[0]!.method).toBe('GET');
    expect(server[0]!.summary).toBe('From server');
    expect(server[0]!.tags).toEqual(['x']);
    expect(server[0]!.parameters).toHaveLength(2);
  });

  it('works without a document', () => {
    const bare = buildOperations([{ method: 'POST', path: '/x' }], null);
    expect(bare[0]).toMatchObject({ method: 'POST', path: '/x', parameters: [], responses: [], body: null });
  });

  it('groups by first tag, document tag order first, untagged last', () => {
    const groups = groupByTag(ops, doc);
    expect(groups.map((g) => [g.tag, g.operations.length])).toEqual([
      ['profiles', 1],
      ['users', 2],
      [UNTAGGED, 1],
    ]);
  });
});

describe('schemaType', () => {
  it('describes schemas briefly', () => {
    expect(schemaType(doc, { type: 'array', items: { $ref: '#/components/schemas/User' } })).toBe('array of User');
    expect(schemaType(doc, { enum: ['a', 'b'] })).toBe('enum (a, b)');
    expect(schemaType(doc, { type: ['string', 'null'] })).toBe('string');
    expect(schemaType(doc, { oneOf: [{ type: 'string' }, { type: 'integer' }] })).toBe('string | integer');
  });
});

describe('curl', () => {
  const ops = buildOperations(null, doc);
  const base = serverUrl(doc);

  it('uses servers[0] with variables filled in', () => {
    expect(base).toBe('https://eu.api.example.com/v1');
    expect(serverUrl(null)).toBe(PLACEHOLDER_HOST);
    expect(serverUrl({ servers: [{ url: '/relative' }] })).toBe(`${PLACEHOLDER_HOST}/relative`);
  });

  it('builds a GET with required query parameters and bearer auth', () => {
    expect(curlFor(ops[0]!, base)).toBe(
      [
        "curl --globoff 'https://eu.api.example.com/v1/users?tenant={tenant}'",
        "-H 'Accept: application/json'",
        '-H "Authorization: Bearer $TOKEN"',
      ].join(' \\\n  '),
    );
  });

  it('builds a POST with a JSON example body and an API key header', () => {
    const c = curlFor(ops[1]!, base);
    expect(c.startsWith("curl -X POST 'https://eu.api.example.com/v1/users'")).toBe(true);
    expect(c).toContain('-H "X-Key: $API_KEY"');
    expect(c).toContain("-H 'Content-Type: application/json'");
    expect(c).toContain(`-d '{\n  "name": "Ada",\n  "age": 0\n}'`);
  });

  it('keeps path parameters as placeholders with globbing off', () => {
    const c = curlFor(ops[3]!, base);
    expect(c.split(' \\\n  ')[0]).toBe("curl --globoff -X DELETE 'https://eu.api.example.com/v1/users/{id}'");
  });

  it('quotes single quotes for the shell', () => {
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    const op = buildOperations([{ method: 'GET', path: "/a'b" }], null)[0]!;
    expect(curlFor(op, 'https://h')).toContain("'https://h/a'\\''b'");
  });
});

describe('documentFileName', () => {
  it('makes a safe file name', () => {
    expect(documentFileName('Payments API', '1.2.0', 'json')).toBe('payments-api-1.2.0.openapi.json');
    expect(documentFileName('<img src=x>', '1', 'yaml')).toBe('img-src-x-1.openapi.yaml');
  });
});
