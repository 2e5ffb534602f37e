import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import type { AppConfig } from './config/app.config';
import { AllExceptionsFilter } from './common/http/all-exceptions.filter';
import { ERROR_CODES } from './common/errors/error-codes';
import { accessLog } from './metrics/access-log.middleware';
import { EnvelopeInterceptor } from './common/http/envelope.interceptor';
import { jsonBody } from './common/http/json-body.middleware';
import { corsMiddleware } from './common/http/cors.middleware';
import { API_HEADERS, requestContext, securityHeaders } from './common/http/request-context.middleware';
import { createValidationPipe } from './common/http/validation';
import { applyApiConventions, operationId } from './common/openapi/openapi-conventions';
import { routeHeaders } from './common/openapi/route-headers';
import { StrictQueryInterceptor } from './common/http/strict-query';
import { RefusePrototypeFieldsInterceptor } from './common/http/prototype-fields.interceptor';
import { JsonLogger } from './common/logging/json-logger';
import { registerConfiguredSecrets, urlPassword } from './common/logging/redact';
import { isDatabaseUnavailable } from './database/database-errors';
import { openDatabase } from './database/database';
import { ENTITIES } from './entities';
import { MetricsService } from './metrics/metrics.service';
import { METRICS_TOKEN_SECURITY } from './metrics/metrics.controller';
import { InstanceAuthGuard } from './auth/instance-auth.guard';
import { VERIFY_PATH, verifyHandler } from './hot-path/verify.handler';
import proxyaddr from 'proxy-addr';
import { installHotPath } from './hot-path/hot-path.lane';
import { RefusalPacer } from './hot-path/refusal-pacer';
import { VerifyAnswer } from './hot-path/verify.answer';
import { verifyLaneRoute } from './hot-path/verify.lane';
import { MicaKeyGuard } from './auth/mica-key.guard';
import { MICA_HEALTH_PATH, micaHealthHandler } from './mica/health/mica-health.handler';
import { MicaHealthService } from './mica/health/mica-health.service';
import { micaPagesHandler } from './pages/pages.handler';
import {
  GITHUB_SIGNATURE_SECURITY,
  SECRET_SCANNING_BODY_LIMIT_BYTES,
  SECRET_SCANNING_PATH,
  SECRET_SCANNING_SECURITY,
} from './secret-scanning/secret-scanning.constants';
import { ADMIN_SECURITY, INSTANCE_KEY_SECURITY, MANAGEMENT_TOKEN_SECURITY, MICA_KEY_SECURITY } from './auth/auth.decorators';

export const API_PREFIX = 'api';

export function buildOpenApiDocument(app: NestExpressApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Trusset key service')
    .setDescription(
      'Instances and their API keys, MiCA Register developer accounts and data, and the key checks the platform relies on. ' +
        'Every JSON answer is an envelope: `{success, data, metadata}` or `{success: false, error: {code, message, details?}, metadata}`.',
    )
    .setVersion('1.0')
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'ADMIN_TOKEN, or an operator token (`trusset_admin_` + 64 hex) holding the scope the operation names',
      },
      ADMIN_SECURITY,
    )
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'MiCA API key (`trusset_mica_` + 48 hex)' },
      MICA_KEY_SECURITY,
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'MiCA management token (64 hex)' }, MANAGEMENT_TOKEN_SECURITY)
    .addApiKey(
      { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'Instance API key (`trusset_{instanceRef}_` + 64 hex)' },
      INSTANCE_KEY_SECURITY,
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'SECRET_SCANNING_TOKEN' }, SECRET_SCANNING_SECURITY)
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'Github-Public-Key-Signature',
        description: "GitHub's ECDSA signature of the body, with Github-Public-Key-Identifier",
      },
      GITHUB_SIGNATURE_SECURITY,
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN, when the deployment sets one' }, METRICS_TOKEN_SECURITY)
    // The local default; a generated client is given the deployment's own base URL.
    .addServer('http://127.0.0.1:3000', 'The service on its default port (deployments serve the same paths under their own origin)')
    .setLicense('Proprietary', '')
    .build();
  const document = SwaggerModule.createDocument(app, config, { operationIdFactory: operationId });
  return applyApiConventions(documentBodyFailures(document), routeHeaders(app, API_PREFIX));
}

/**
 * jsonBody (below) reads the body of every POST, PUT, PATCH and DELETE before any route runs, so
 * each of them can answer 400 (not JSON), 413 and 415 even when it takes no body itself: documented
 * here, once, rather than on each operation.
 */
function documentBodyFailures(document: OpenAPIObject): OpenAPIObject {
  const failures: Array<[string, string]> = [
    ['400', '`VALIDATION_ERROR`: the body is not valid JSON (or, for operations with a body, fails validation).'],
    ['413', '`PAYLOAD_TOO_LARGE`: the body is over BODY_LIMIT_BYTES.'],
    ['415', '`UNSUPPORTED_MEDIA_TYPE`: the body is not JSON.'],
  ];
  for (const item of Object.values(document.paths)) {
    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      for (const [status, description] of failures) {
        operation.responses[status] ??= {
          description,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponseDto' } } },
        };
      }
    }
  }
  return document;
}

/** Answers malformed HTTP (oversized headers, bad framing) in the envelope instead of Node's bare text. */
function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') return socket.destroy();
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 'REQUEST_HEADER_FIELDS_TOO_LARGE' : 'VALIDATION_ERROR';
    const { status, message } = ERROR_CODES[code];
    const requestId = randomUUID();
    const body = JSON.stringify({ success: false, error: { code, message }, metadata: { requestId, timestamp: new Date().toISOString() } });
    // Express never sees these requests, so the security headers its middleware adds are written here.
    const security = Object.entries(API_HEADERS)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(
      `HTTP/1.1 ${status} ${code === 'VALIDATION_ERROR' ? 'Bad Request' : 'Request Header Fields Too Large'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\n${security}Connection: close\r\n\r\n${body}`,
    );
  });
}

/** The production HTTP pipeline; main.ts and every test build the app through this. */
export function configureApp(app: NestExpressApplication, config: AppConfig): NestExpressApplication {
  const logger = app.get(JsonLogger);
  app.disable('x-powered-by');
  app.set('trust proxy', config.http.trustProxy);
  app.set('etag', false);
  app.use(requestContext);
  app.use(securityHeaders);
  app.use(accessLog(logger, app.get(MetricsService)));
  // Before any route or body rule, so a preflight (and every answer to an allowed origin) carries the CORS headers.
  app.use(corsMiddleware(config.http.corsOrigins));
  // The MiCA developer pages (SPEC §18), outside the /api prefix, with their own CSP.
  app.use(micaPagesHandler());
  // Secret-scanning reports are signed over their exact bytes and batch up to 1,000 tokens.
  app.use(SECRET_SCANNING_PATH, jsonBody(SECRET_SCANNING_BODY_LIMIT_BYTES, { keepRawBody: true }));
  app.use(jsonBody(config.http.bodyLimitBytes));
  // The key checks every platform request goes through, answered ahead of Nest's router.
  // The raw lane sees the request before Express: the same trust-proxy rule gives it the same client address.
  const trustProxy = app.getHttpAdapter().getInstance().get('trust proxy fn') as (addr: string, i: number) => boolean;
  const pacer = new RefusalPacer(config.auth.refusalPaceMs, config.auth.refusalFloodPerSecond);
  const verify = new VerifyAnswer(
    app.get(InstanceAuthGuard),
    logger,
    (req) => proxyaddr(req, trustProxy),
    pacer,
    app.get(MetricsService).refusalsPaced,
  );
  app.use(VERIFY_PATH, verifyHandler(verify));
  app.use(MICA_HEALTH_PATH, micaHealthHandler(app.get(MicaKeyGuard), app.get(MicaHealthService), logger));
  app.setGlobalPrefix(API_PREFIX);
  app.useGlobalFilters(new AllExceptionsFilter(logger, isDatabaseUnavailable));
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalInterceptors(new RefusePrototypeFieldsInterceptor(), new StrictQueryInterceptor(), new EnvelopeInterceptor());
  SwaggerModule.setup(`${API_PREFIX}/docs`, app, () => buildOpenApiDocument(app), { jsonDocumentUrl: `${API_PREFIX}/docs-json` });
  answerClientErrors(app.getHttpServer());
  // Last: it wraps the request listener Express registered, taking the plain key checks first.
  installHotPath(app.getHttpServer(), { [VERIFY_PATH]: verifyLaneRoute(verify) }, app.get(MetricsService), logger);
  return app;
}

/** Opens the database, builds the module graph and applies configureApp. */
export async function createApp(config: AppConfig, logger = new JsonLogger(config.log.level)): Promise<NestExpressApplication> {
  registerConfiguredSecrets([config.auth.adminToken, urlPassword(config.database.url), urlPassword(config.redisUrl)]);
  const database = await openDatabase(config, logger, { entities: ENTITIES });
  try {
    const app = await NestFactory.create<NestExpressApplication>(AppModule.register({ config, logger, database }), {
      logger,
      bodyParser: false,
      abortOnError: false,
    });
    return configureApp(app, config);
  } catch (e) {
    await database.close();
    throw e;
  }
}
