import request from 'supertest';
import { BODY_LIMITS } from '../src/app.setup';
import { startApp, TestApp } from './support/app';
import { createUser } from './support/fixtures';
import { bearer, signToken } from './support/tokens';

interface Operation {
  'x-body-limit-bytes'?: number;
  security?: Array<Record<string, string[]>>;
  responses: Record<
    string,
    { description?: string; content?: Record<string, { schema?: { $ref?: string } }> }
  >;
  requestBody?: {
    description?: string;
    content: Record<string, { examples?: object; schema?: object }>;
  };
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
    securitySchemes: Record<string, { type: string; scheme?: string }>;
  };
}
interface ExpressLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
}

// Not API routes: the OpenAPI UI itself, and the demo page, its script and icon (mounted only
// where enabled; test/demo.e2e-spec.ts covers them). The demo's users and token routes are API.
const NOT_API = /^\/(docs|demo\/inbox\.js$|favicon\.ico$|$)/;
// Middleware a module mounts for every path shows up as a wildcard route.
const WILDCARD = /\*/;
// Routes anyone may call: the load balancer's probe and the Prometheus scrape target.
const PUBLIC = new Set(['GET /health', 'GET /metrics']);
// Development only, for this machine only, and without a token (they are how the demo gets one).
const DEMO_ERRORS: Record<string, string[]> = {
  'GET /demo/users': ['403', '429', '503'],
  'POST /demo/token': ['400', '403', '404', '413', '429', '503'],
};
const ERROR_SCHEMA = '#/components/schemas/ErrorResponseDto';
// Creates (201) or updates (200): the one route with two success statuses.
const USERS_PUT = 'PUT /notifications/api/users/{id}';

/** "METHOD /path" for every route the app's Express router really serves. */
function servedRoutes(app: TestApp): string[] {
  const express = app.app.getHttpAdapter().getInstance() as { router: { stack: ExpressLayer[] } };
  return express.router.stack.flatMap(({ route }) => {
    if (!route) return [];
    return (Array.isArray(route.path) ? route.path : [route.path])
      .filter((path) => !NOT_API.test(path) && !WILDCARD.test(path))
      .flatMap((path) =>
        Object.keys(route.methods)
          .filter((method) => route.methods[method] && method !== '_all')
          .map(
            (method) =>
              `${method.toUpperCase()} ${path.replace(/\/$/, '').replace(/\/:(\w+)/g, '/{$1}') || '/'}`,
          ),
      );
  });
}

function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

function operation(document: OpenApiDocument, route: string): Operation {
  const [method, path] = route.split(' ');
  return document.paths[path][method.toLowerCase()];
}

/** The error statuses the contract gives a route. */
function expectedErrors(route: string): string[] {
  if (route === 'GET /health') return ['503'];
  if (DEMO_ERRORS[route]) return DEMO_ERRORS[route];
  if (PUBLIC.has(route)) return [];
  const errors = ['400', '401', '429', '503'];
  if (route.startsWith('POST ') || route.startsWith('PUT ')) errors.push('413');
  if (route === USERS_PUT) errors.push('403');
  if (route === 'POST /notifications/api/send') errors.push('403', '409', '422');
  return errors.sort();
}

describe('OpenAPI document', () => {
  let app: TestApp;
  let document: OpenApiDocument;

  beforeAll(async () => {
    app = await startApp();
    const response = await request(app.url).get('/docs-json').expect(200);
    document = response.body as OpenApiDocument;
  });
  afterAll(() => app.close());

  it('documents exactly the routes the app serves', () => {
    const served = servedRoutes(app);
    expect(served).toContain('GET /notifications/api/list');
    expect(served).toContain('POST /demo/token');
    expect([...new Set(documentedRoutes(document))].sort()).toEqual([...new Set(served)].sort());
  });

  it('serves the UI at /docs', async () => {
    const response = await request(app.url).get('/docs').redirects(1).expect(200);
    expect(response.text).toContain('swagger-ui');
  });

  it('declares bearer JWT auth, and requires it on every route but the public ones', () => {
    expect(Object.values(document.components.securitySchemes)).toContainEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer' }),
    );
    const schemes = Object.keys(document.components.securitySchemes);
    for (const route of documentedRoutes(document)) {
      const security = operation(document, route).security ?? [];
      const bearer = security.some((requirement) =>
        Object.keys(requirement).some((name) => schemes.includes(name)),
      );
      expect({ route, bearer }).toEqual({
        route,
        bearer: !PUBLIC.has(route) && !DEMO_ERRORS[route],
      });
    }
  });

  it('declares each route’s error responses with the Nest error shape', () => {
    for (const route of documentedRoutes(document)) {
      const { responses } = operation(document, route);
      const errors = Object.keys(responses)
        .filter((status) => /^[45]\d\d$/.test(status))
        .sort();
      expect({ route, errors }).toEqual({ route, errors: expectedErrors(route) });
      if (route === 'GET /health') continue;
      for (const status of errors) {
        expect({
          route,
          status,
          schema: responses[status].content?.['application/json'].schema,
        }).toEqual({ route, status, schema: { $ref: ERROR_SCHEMA } });
      }
    }
    expect(document.components.schemas.ErrorResponseDto.required?.sort()).toEqual([
      'error',
      'message',
      'statusCode',
    ]);
  });

  it('gives every request body and success response a schema, and bodies examples', () => {
    for (const route of documentedRoutes(document)) {
      const { responses, requestBody } = operation(document, route);
      const success = Object.keys(responses).filter((status) => /^2\d\d$/.test(status));
      expect({ route, success: success.length }).toEqual({
        route,
        success: route === USERS_PUT ? 2 : 1,
      });
      expect(Object.values(responses[success[0]].content ?? {})[0]?.schema).toBeDefined();
      if (route.startsWith('POST ') || route.startsWith('PUT ')) {
        const body = requestBody?.content['application/json'];
        expect({
          route,
          schema: body?.schema !== undefined,
          examples: body?.examples !== undefined,
        }).toEqual({ route, schema: true, examples: true });
      }
    }
  });

  it('describes the error bodies the app really sends', async () => {
    const shape = Object.keys(document.components.schemas.ErrorResponseDto.properties!).sort();
    const needToken = (route: string) => !PUBLIC.has(route) && !DEMO_ERRORS[route];
    for (const route of documentedRoutes(document).filter(needToken)) {
      const [method, path] = route.split(' ');
      const response = await request(app.url)[method.toLowerCase() as 'get' | 'post' | 'put'](
        `${path}/`,
      );
      expect({ route, status: response.status }).toEqual({ route, status: 401 });
      expect(Object.keys(response.body).sort()).toEqual(shape);
    }
  });

  it('states each body route’s limit (at most 1 MiB) where it documents the body and the 413', () => {
    const withBody = documentedRoutes(document).filter((route) => /^(POST|PUT|PATCH) /.test(route));
    expect(withBody).toContain('POST /notifications/api/send');
    for (const route of withBody) {
      const limit = operation(document, route)['x-body-limit-bytes'];
      expect({ route, limit }).toEqual({ route, limit: expect.any(Number) });
      expect(limit).toBeLessThanOrEqual(1024 * 1024);
      const kib = `${limit! / 1024} KiB`;
      const { requestBody, responses } = operation(document, route);
      expect(requestBody?.description).toContain(`at most ${kib}`);
      expect(requestBody?.description).toMatch(/32 levels.*1000 keys.*10000 elements/);
      expect(responses['413'].description).toContain(kib);
    }
  });

  it('enforces the stated limits: the limit is read, one byte more is 413', async () => {
    const staff = signToken(await createUser(app, { staff: true }));
    for (const { method, path, bytes } of BODY_LIMITS) {
      const limit = operation(document, `${method} ${path}`)['x-body-limit-bytes'];
      expect({ path, limit }).toEqual({ path, limit: bytes });
      // An object of whitespace: read and parsed, then refused by validation, not by size.
      const exact = '{' + ' '.repeat(bytes - 2) + '}';
      const agent = request(app.url);
      const send = method === 'PUT' ? agent.put.bind(agent) : agent.post.bind(agent);
      const call = (body: string) =>
        send(path).set(bearer(staff)).set('Content-Type', 'application/json').send(body);
      expect({ path, status: (await call(exact)).status }).toEqual({ path, status: 400 });
      expect({ path, status: (await call(exact + ' ')).status }).toEqual({ path, status: 413 });
    }
  });

  it('GET /docs serves the OpenAPI UI', async () => {
    await request(app.url)
      .get('/docs')
      .expect(200)
      .expect('Content-Type', /text\/html/);
  });

  it('GET /docs-json is the OpenAPI document with the three routes', async () => {
    const { body } = await request(app.url)
      .get('/docs-json')
      .expect(200)
      .expect('Content-Type', /application\/json/);
    expect(body.openapi).toMatch(/^3\./);
    expect(Object.keys(body.paths['/notifications/api/list'])).toEqual(['get']);
    expect(Object.keys(body.paths['/notifications/api/mark-read'])).toEqual(['post']);
    expect(Object.keys(body.paths['/notifications/api/send'])).toEqual(['post']);
    expect(body.paths['/notifications/api/mark-read'].post.responses).toHaveProperty('200');
    expect(body.paths['/notifications/api/send'].post.responses).toHaveProperty('201');
  });
});
