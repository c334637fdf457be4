import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { BerthError, toBerthError } from '../core/errors.js';
import { BearerAuth } from './auth.js';
import { DataCollector } from './data-collector.js';
import { AdmissionQueue, type Deadline, DeadlineSweeper, type QueuedRequest } from './limits.js';
import { ScoringMetrics } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { errorReply, JSON_TYPE, jsonReply, type Reply, TEXT_TYPE, writeReply } from './routes/http-reply.js';
import type { PostRequestInfo, PostRoute } from './routes/post-route.js';
import { readBody } from './routes/read-body.js';
import { RequestLog } from './routes/request-log.js';
import { ScoreRoute, stackOf } from './routes/score-route.js';
import type { Runtime } from './runtime.js';
import { isThenable } from './runtimes/direct-runtime.js';
import { toJsonSchema } from './schema-from-sample.js';
import { RETRY_AFTER_SECONDS, withServeDefaults } from './serve-defaults.js';
import type { ServedModel, ServeSpec, ServingLimits } from './serve-spec.js';
import { parseV2Path, V2_ROUTE_LABELS, V2Routes } from './v2/v2-routes.js';

/** Callbacks the supervisor plugs in (stall watchdog, cluster-wide metrics, replica counts). */
export interface ScoringServerHooks {
  /**
   * A scoring request got a slot and starts (its body is read, then run); `v2` = an Open Inference
   * Protocol route. Returns a token handed back to `onRequestEnd`.
   */
  onRequestStart?(socket: Socket, v2: boolean): number;
  /** That request was answered (or its client went away); `token` is what `onRequestStart` returned. */
  onRequestEnd?(token: number): void;
  /** Cluster-aggregated metrics text for `GET /metrics`; default = this process's registry. */
  metricsText?(): Promise<string>;
  replicaCounts?(): { desired: number; ready: number };
  /** Replicas replaced since start, for `berth_replica_restarts` (default 0). */
  replicaRestarts?(): number;
}

export interface ScoringServerOptions {
  spec: ServeSpec;
  runtime: Runtime;
  log: Logger;
  hooks?: ScoringServerHooks;
}

export interface ScoringServer {
  /** Not listening yet: the caller listens (or hands it connections). */
  server: Server | HttpsServer;
  /** `/health/ready` and `/v2/health/ready` answer 200 only after `setReady(true)`. */
  setReady(ready: boolean): void;
  /**
   * Stops accepting connections, answers in-flight requests with `Connection: close`, closes idle
   * keep-alive connections and flushes collected data; resolves when nothing is in flight or after
   * `timeoutMs`.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Scoring requests running or queued now. */
  inFlight(): number;
  /** This server's metrics (`metrics.text()` is the `/metrics` text; prom-client loads on first use). */
  metrics: ScoringMetrics;
}

const SERVER_VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;
const HEALTHY: Reply = { status: 200, body: 'Healthy', contentType: TEXT_TYPE };
const LIVE: Reply = jsonReply(200, { live: true });
const READY: Reply = jsonReply(200, { ready: true });
/** nginx's "client closed request", logged when a client left before its answer. */
const CLIENT_CLOSED = 499;

/**
 * Creates the data plane of one replica on node:http (https when `spec.tls` is set): `POST /score`,
 * `GET /swagger.json`, health, `GET /metrics` and the Open Inference Protocol under `/v2`
 * (routes and statuses: docs/serving.md). It does not listen and does not load the runtime: the
 * caller loads it, then listens on spec.host:spec.port, then calls `setReady(true)`.
 *
 * @example
 * const runtime = await createRuntime({ config, models, log, limits });
 * await runtime.load();
 * const scoring = createScoringServer({ spec, runtime, log });
 * scoring.server.listen(spec.port, spec.host, () => scoring.setReady(true));
 */
export function createScoringServer(options: ScoringServerOptions): ScoringServer {
  const core = new ScoringServerCore(options);
  return {
    server: core.server,
    setReady: (ready) => {
      core.ready = ready;
    },
    drain: (timeoutMs) => core.drain(timeoutMs),
    inFlight: () => core.admission.running + core.admission.queued,
    metrics: core.metrics,
  };
}

class ScoringServerCore {
  readonly server: Server | HttpsServer;
  readonly admission: AdmissionQueue;
  readonly deadlines: DeadlineSweeper;
  readonly metrics: ScoringMetrics;
  readonly limits: ServingLimits;
  readonly log: Logger;
  readonly debug: boolean;
  /** The hooks' request start/end, or undefined (called directly: they run on every request). */
  readonly watch: Required<Pick<ScoringServerHooks, 'onRequestStart' | 'onRequestEnd'>> | undefined;
  ready = false;
  draining = false;
  private readonly spec: ServeSpec;
  private readonly runtime: Runtime;
  private readonly hooks: ScoringServerHooks;
  private readonly auth: BearerAuth;
  private readonly scoreRoute: ScoreRoute;
  private readonly v2: V2Routes;
  private readonly collector: DataCollector | undefined;
  private readonly requestLog: RequestLog;
  private readonly idPrefix = `${randomBytes(4).toString('hex')}-`;
  private idCounter = 0;
  private swagger: Reply | undefined;
  private drainWaiters: (() => void)[] = [];

  constructor(options: ScoringServerOptions) {
    const { spec, runtime, log } = options;
    this.spec = spec;
    this.runtime = runtime;
    this.log = log;
    this.requestLog = new RequestLog(log);
    this.hooks = options.hooks ?? {};
    const { onRequestStart, onRequestEnd } = this.hooks;
    this.watch =
      onRequestStart !== undefined && onRequestEnd !== undefined
        ? { onRequestStart, onRequestEnd }
        : undefined;
    this.debug = spec.debug === true;
    this.limits = withServeDefaults(spec.limits);
    this.auth = new BearerAuth(spec.keys ?? []);
    this.admission = new AdmissionQueue(
      this.limits.maxConcurrentRequestsPerContainer,
      this.limits.maxQueueWaitMs,
    );
    // expiries fire at most a tenth of the timeout late (5 ms .. 100 ms)
    this.deadlines = new DeadlineSweeper(
      Math.min(100, Math.max(5, Math.floor(this.limits.scoringTimeoutMs / 10))),
    );
    this.metrics = new ScoringMetrics(spec.name, {
      inFlight: () => this.admission.running + this.admission.queued,
      queued: () => this.admission.queued,
      replicaCounts: this.hooks.replicaCounts?.bind(this.hooks),
      replicaRestarts: this.hooks.replicaRestarts?.bind(this.hooks),
    });
    this.collector = spec.dataCollectionDir ? new DataCollector(spec.dataCollectionDir, log) : undefined;
    this.scoreRoute = new ScoreRoute(runtime, this.collector);
    this.v2 = new V2Routes(spec, runtime, SERVER_VERSION);
    const handler = (req: IncomingMessage, res: ServerResponse): void => this.handle(req, res);
    this.server = spec.tls
      ? createHttpsServer(
          { cert: readFileSync(spec.tls.certFile), key: readFileSync(spec.tls.keyFile) },
          handler,
        )
      : createHttpServer(handler);
    this.server.on('close', () => this.requestLog.flush());
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method;
    const url = req.url as string;
    if (method === 'POST') {
      if (url === '/score') {
        this.post(req, res, this.scoreRoute, undefined);
        return;
      }
      this.postOther(req, res, pathOf(url));
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      this.get(req, res, pathOf(url));
      return;
    }
    this.answer(req, res, 'unknown', performance.now(), this.notFound(method, url));
  }

  private get(req: IncomingMessage, res: ServerResponse, path: string): void {
    const t0 = performance.now();
    switch (path) {
      case '/':
        this.answer(req, res, '/', t0, HEALTHY);
        return;
      case '/health/live':
        this.answer(req, res, path, t0, LIVE);
        return;
      case '/health/ready':
        this.answer(req, res, path, t0, this.ready ? READY : this.notReady());
        return;
      case '/swagger.json':
        this.answer(req, res, path, t0, this.swaggerReply());
        return;
      case '/metrics':
        if (!this.authorized(req)) this.answer(req, res, path, t0, this.unauthorized());
        else this.metricsReply().then((reply) => this.answer(req, res, path, t0, reply));
        return;
    }
    if (path === '/v2' || path.startsWith('/v2/')) {
      this.v2Get(req, res, path, t0);
      return;
    }
    this.answer(req, res, 'unknown', t0, this.notFound(req.method, path));
  }

  private v2Get(req: IncomingMessage, res: ServerResponse, path: string, t0: number): void {
    const p = parseV2Path(path);
    const route = V2_ROUTE_LABELS[p.kind];
    switch (p.kind) {
      case 'live':
        this.answer(req, res, route, t0, LIVE);
        return;
      case 'ready':
        this.answer(
          req,
          res,
          route,
          t0,
          this.ready ? READY : this.v2Error(503, 'The server is not ready yet.'),
        );
        return;
      case 'server':
        this.answer(
          req,
          res,
          route,
          t0,
          this.authorized(req) ? this.v2.serverMetadata() : this.v2Unauthorized(),
        );
        return;
      case 'model':
      case 'model-ready': {
        const model = this.v2.findModel(p.name, p.version);
        if (!isServedModel(model)) {
          this.answer(req, res, route, t0, model);
          return;
        }
        if (p.kind === 'model-ready') {
          this.answer(req, res, route, t0, this.v2.modelReady(model, this.ready));
          return;
        }
        this.answer(
          req,
          res,
          route,
          t0,
          this.authorized(req) ? this.v2.modelMetadata(model) : this.v2Unauthorized(),
        );
        return;
      }
      default:
        this.answer(req, res, route, t0, this.v2Error(404, `No V2 route ${req.method} ${path}.`));
    }
  }

  private postOther(req: IncomingMessage, res: ServerResponse, path: string): void {
    if (path === '/score') {
      this.post(req, res, this.scoreRoute, undefined);
      return;
    }
    if (path.startsWith('/v2/')) {
      const p = parseV2Path(path);
      if (p.kind === 'infer') {
        const model = this.v2.findModel(p.name, p.version);
        if (isServedModel(model)) this.post(req, res, this.v2, model);
        else this.answer(req, res, V2_ROUTE_LABELS.infer, performance.now(), model, true);
        return;
      }
      this.answer(
        req,
        res,
        'unknown',
        performance.now(),
        this.v2Error(404, `No V2 route POST ${path}.`),
        true,
      );
      return;
    }
    this.answer(req, res, 'unknown', performance.now(), this.notFound('POST', path), true);
  }

  /** Admission, then body, then the route's handler with the scoring timeout. */
  private post(
    req: IncomingMessage,
    res: ServerResponse,
    route: PostRoute,
    model: ServedModel | undefined,
  ): void {
    const t0 = performance.now();
    const headers = req.headers;
    if (this.auth.enabled && !this.auth.check(headers.authorization)) {
      const reply = route.error(unauthorizedError(), false);
      this.answer(req, res, route.route, t0, reply, true);
      return;
    }
    const length = headers['content-length'];
    if (length !== undefined && Number(length) > this.limits.maxBodyBytes) {
      this.answer(req, res, route.route, t0, route.error(this.tooLarge(), false), true);
      return;
    }
    const exchange = new Exchange(
      this,
      req,
      res,
      route,
      model,
      t0,
      this.requestId(req),
      headers['content-type'],
    );
    if (this.admission.enter(exchange)) {
      exchange.start();
    } else if (!exchange.done) {
      res.once('close', () => exchange.clientLeftQueue());
    }
  }

  /** Releases a slot taken by an exchange. */
  release(token: number): void {
    this.admission.leave();
    if (this.watch !== undefined) this.watch.onRequestEnd(token);
    if (
      this.draining &&
      this.drainWaiters.length > 0 &&
      this.admission.running + this.admission.queued === 0
    ) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  cancelQueued(request: QueuedRequest): void {
    this.admission.cancel(request);
  }

  /** Writes a reply of a request handled outside the admission queue, then counts and logs it. */
  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    t0: number,
    reply: Reply,
    unread = false,
  ): void {
    const requestId = this.requestId(req);
    writeReply(res, reply, idHeader(req, reply, requestId), this.draining || (unread && !req.complete));
    this.record(req.method, route, reply.status, t0, requestId, reply);
  }

  /** Counts and logs one answered request. */
  record(
    method: string | undefined,
    route: string,
    status: number,
    t0: number,
    requestId: string,
    reply?: Reply,
  ): void {
    const ms = performance.now() - t0;
    this.metrics.observe(route, status, ms / 1000);
    if (status >= 400 && reply !== undefined) this.metrics.error(route, errorCodeOf(reply, status));
    this.requestLog.add(requestId, method, route, status, Math.round(ms * 100) / 100);
  }

  requestId(req: IncomingMessage): string {
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && given.length > 0 && given.length <= 200) return given;
    return this.idPrefix + (++this.idCounter).toString(36);
  }

  authorized(req: IncomingMessage): boolean {
    return !this.auth.enabled || this.auth.check(req.headers.authorization);
  }

  tooLarge(): BerthError {
    return new BerthError(
      'BODY_TOO_LARGE',
      `The request body is larger than the limit of ${this.limits.maxBodyBytes} bytes (maxBodyBytes).`,
      { hint: 'Send smaller batches, or raise the limit (berth serve --max-body-bytes).' },
    );
  }

  overloaded(): BerthError {
    return new BerthError(
      'OVERLOADED',
      `The service is busy: ${this.limits.maxConcurrentRequestsPerContainer} requests are in flight and none finished within ${this.limits.maxQueueWaitMs} ms (maxQueueWaitMs).`,
      {
        hint: `Retry after ${RETRY_AFTER_SECONDS} s, add replicas, or raise maxConcurrentRequestsPerContainer.`,
      },
    );
  }

  timedOut(): BerthError {
    return new BerthError(
      'SCORING_TIMEOUT',
      `Scoring took longer than ${this.limits.scoringTimeoutMs} ms (scoringTimeoutMs).`,
      { hint: 'Make run() faster, send smaller batches, or raise scoringTimeoutMs.' },
    );
  }

  private notFound(method: string | undefined, path: string): Reply {
    const hint = path === '/score' ? ' Score with POST /score.' : '';
    return errorReply(404, 'ROUTE_NOT_FOUND', `No route ${method} ${path}.${hint} See GET /swagger.json.`);
  }

  private notReady(): Reply {
    return errorReply(503, 'NOT_READY', 'The service has not finished loading (init) on every replica yet.', {
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    });
  }

  private unauthorized(): Reply {
    const err = unauthorizedError();
    return errorReply(err.status, err.code, err.message);
  }

  private v2Unauthorized(): Reply {
    return this.v2Error(401, unauthorizedError().message);
  }

  private v2Error(status: number, message: string): Reply {
    return { status, body: JSON.stringify({ error: message }), contentType: JSON_TYPE };
  }

  private swaggerReply(): Reply {
    if (this.swagger) return this.swagger;
    const schema = this.runtime.schema();
    const doc = buildOpenApiDocument({
      title: this.spec.name,
      version: this.spec.models.map((m) => `${m.name}:${m.version}`).join(', ') || '1',
      description: this.spec.inferenceConfig.description,
      input: schema?.input !== undefined ? toJsonSchema(schema.input) : undefined,
      output: schema?.output !== undefined ? toJsonSchema(schema.output) : undefined,
      authEnabled: this.auth.enabled,
      tensors: this.runtime.v2Metadata?.(),
    });
    this.swagger = jsonReply(200, doc);
    return this.swagger;
  }

  private async metricsReply(): Promise<Reply> {
    try {
      const text = this.hooks.metricsText ? await this.hooks.metricsText() : await this.metrics.text();
      return { status: 200, body: text, contentType: this.metrics.contentType };
    } catch (err) {
      this.log.error({ err }, 'metrics collection failed');
      return errorReply(500, 'INTERNAL', `Metrics could not be collected: ${(err as Error).message}`);
    }
  }

  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    if (this.admission.running + this.admission.queued > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        this.drainWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.server.closeIdleConnections();
    this.requestLog.flush();
    await this.collector?.close();
  }
}

/** One POST request from admission to answer: reads the body, runs the route, enforces the timeout. */
class Exchange implements QueuedRequest, PostRequestInfo, Deadline {
  done = false;
  private admitted = false;
  private timed = false;
  deadline = 0.5;
  deadlinePrev: Deadline | null = null;
  deadlineNext: Deadline | null = null;
  /** What the request-start hook returned, for the end hook. */
  private token = -1;

  constructor(
    private readonly core: ScoringServerCore,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: PostRoute,
    readonly model: ServedModel | undefined,
    private readonly t0: number,
    readonly requestId: string,
    readonly contentType: string | undefined,
  ) {}

  start(): void {
    this.admitted = true;
    if (this.done) {
      // its client left while it was queued
      this.core.release(this.token);
      return;
    }
    const watch = this.core.watch;
    if (watch !== undefined)
      this.token = watch.onRequestStart(this.req.socket, this.route.route !== '/score');
    readBody(this.req, this.core.limits.maxBodyBytes, (raw, tooLarge, aborted) =>
      this.onBody(raw, tooLarge, aborted),
    );
  }

  overloaded(): void {
    this.finish(
      this.route.error(this.core.overloaded(), false, { 'Retry-After': String(RETRY_AFTER_SECONDS) }),
      true,
    );
  }

  clientLeftQueue(): void {
    if (this.admitted || this.done) return;
    this.done = true;
    this.core.cancelQueued(this);
    this.core.record(this.req.method, this.route.route, CLIENT_CLOSED, this.t0, this.requestId);
  }

  private onBody(raw: Buffer | undefined, tooLarge: boolean, aborted: boolean): void {
    if (aborted || raw === undefined) {
      if (tooLarge) this.finish(this.route.error(this.core.tooLarge(), false), true);
      else this.leave(CLIENT_CLOSED);
      return;
    }
    let result: unknown;
    try {
      result = this.route.handle(raw, this);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (!isThenable(result)) {
      this.succeed(result);
      return;
    }
    this.deadline = performance.now() + this.core.limits.scoringTimeoutMs;
    this.timed = true;
    this.core.deadlines.add(this);
    result.then(
      (value) => this.succeed(value),
      (err: unknown) => this.fail(err),
    );
  }

  private succeed(value: unknown): void {
    if (this.done) return;
    let reply: Reply;
    try {
      reply = this.route.reply(value);
    } catch (err) {
      this.fail(err);
      return;
    }
    this.finish(reply, false);
  }

  fail(err: unknown): void {
    if (this.done) return;
    const error = toBerthError(err, 'SCORING_FAILED');
    if (error.status >= 500) {
      this.core.log.error(
        {
          reqId: this.requestId,
          route: this.route.route,
          code: error.code,
          err: error.cause ?? error,
          stack: stackOf(error),
        },
        error.message,
      );
    }
    this.finish(this.route.error(error, this.core.debug), false);
  }

  expire(): void {
    this.timed = false;
    if (this.done) return;
    this.core.log.warn({ reqId: this.requestId, route: this.route.route }, 'scoring timed out');
    this.finish(this.route.error(this.core.timedOut(), false), false);
  }

  private finish(reply: Reply, unread: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.timed) this.core.deadlines.delete(this);
    writeReply(
      this.res,
      reply,
      idHeader(this.req, reply, this.requestId),
      this.core.draining || (unread && !this.req.complete),
    );
    if (this.admitted) this.core.release(this.token);
    this.core.record(this.req.method, this.route.route, reply.status, this.t0, this.requestId, reply);
  }

  private leave(status: number): void {
    if (this.done) return;
    this.done = true;
    if (this.timed) this.core.deadlines.delete(this);
    if (this.admitted) this.core.release(this.token);
    this.core.record(this.req.method, this.route.route, status, this.t0, this.requestId);
  }
}

/**
 * The `x-request-id` answered: on errors (to find the request in the log) and whenever the client
 * sent one; a plain success without one skips the header (it costs a header on the hot path).
 */
function idHeader(req: IncomingMessage, reply: Reply, requestId: string): string | undefined {
  return reply.status >= 400 || req.headers['x-request-id'] !== undefined ? requestId : undefined;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function isServedModel(value: ServedModel | Reply): value is ServedModel {
  return (value as ServedModel).name !== undefined && (value as Reply).status === undefined;
}

function unauthorizedError(): BerthError {
  return new BerthError('UNAUTHORIZED', 'Missing or wrong key: send "Authorization: Bearer <key>".', {
    hint: 'Get the keys with: berth service keys NAME',
  });
}

/** The error code of an error reply, for `berth_errors_total` (V2 bodies carry none). */
function errorCodeOf(reply: Reply, status: number): string {
  if (typeof reply.body === 'string' && reply.body.startsWith('{"error":{"code":"')) {
    const end = reply.body.indexOf('"', 18);
    if (end > 18) return reply.body.slice(18, end);
  }
  return String(status);
}
