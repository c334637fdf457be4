import { createRequire } from 'node:module';
import type { Ajv as AjvClass, ValidateFunction } from 'ajv';
import { BerthError } from '../../core/errors.js';
import type { DataCollector } from '../data-collector.js';
import type { Runtime } from '../runtime.js';
import { type DirectRuntime, isDirectRuntime, isThenable } from '../runtimes/direct-runtime.js';
import { isJsonSchema, toJsonSchema } from '../schema-from-sample.js';
import { errorReply, JSON_TYPE, type Reply } from './http-reply.js';
import type { PostRequestInfo, PostRoute } from './post-route.js';

const OCTET_STREAM = 'application/octet-stream';

/** ajv is loaded on first use only (services without a schema never pay its import). */
function loadAjv(): typeof AjvClass {
  return (createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass }).Ajv;
}

/**
 * `POST /score`: JSON bodies are parsed (400 when malformed) and checked against the input schema
 * when the runtime has one (400 naming the failing path; the onnx runtime checks tensors itself);
 * `application/octet-stream` bodies reach the runtime as a Buffer. A Buffer result is sent as
 * octet-stream, anything else as JSON.
 */
export class ScoreRoute implements PostRoute {
  readonly route = '/score';
  private validator: ValidateFunction | null | undefined;
  private readonly direct: boolean;

  constructor(
    private readonly runtime: Runtime,
    private readonly collector: DataCollector | undefined,
  ) {
    this.direct = isDirectRuntime(runtime);
  }

  handle(raw: Buffer, info: PostRequestInfo): unknown {
    const contentType = info.contentType;
    let body: unknown;
    if (contentType?.startsWith(OCTET_STREAM)) {
      body = raw;
    } else {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        throw new BerthError(
          'BAD_REQUEST',
          `The request body is not valid JSON: ${(err as Error).message}.`,
          {
            hint: 'Send JSON with Content-Type: application/json, or raw bytes with application/octet-stream.',
          },
        );
      }
      const validate = this.validator === undefined ? this.compileValidator() : this.validator;
      if (validate !== null && !validate(body)) throw schemaError(validate);
    }
    const request = { body, raw, contentType: contentType ?? JSON_TYPE };
    const result = this.direct
      ? (this.runtime as DirectRuntime).scoreDirect(request)
      : this.runtime.score(request);
    const collector = this.collector;
    if (collector === undefined) return result;
    if (!isThenable(result)) {
      collector.collect(info.requestId, body, result);
      return result;
    }
    return Promise.resolve(result).then((output) => {
      collector.collect(info.requestId, body, output);
      return output;
    });
  }

  reply(value: unknown): Reply {
    if (Buffer.isBuffer(value)) return { status: 200, body: value, contentType: OCTET_STREAM };
    if (value instanceof Uint8Array) {
      return {
        status: 200,
        body: Buffer.from(value.buffer, value.byteOffset, value.byteLength),
        contentType: OCTET_STREAM,
      };
    }
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw new BerthError(
        'SCORING_FAILED',
        `run() returned a value that is not JSON-serialisable: ${(err as Error).message}`,
      );
    }
    return { status: 200, body: text ?? 'null', contentType: JSON_TYPE };
  }

  error(err: BerthError, debug: boolean, headers?: Record<string, string>): Reply {
    return errorReply(err.status, err.code, err.message, {
      headers,
      details: err.details,
      stack: debug ? stackOf(err) : undefined,
    });
  }

  private compileValidator(): ValidateFunction | null {
    const input = this.runtime.name === 'onnx' ? undefined : this.runtime.schema()?.input;
    if (input === undefined || input === null) {
      this.validator = null;
      return null;
    }
    const schema = toJsonSchema(input, { lenientNumbers: true });
    const Ajv = loadAjv();
    const ajv = new Ajv({ allErrors: false, strict: false, validateFormats: false });
    try {
      this.validator = ajv.compile(schema);
    } catch (cause) {
      throw new BerthError(
        'INVALID_CONFIG',
        `The input schema ${isJsonSchema(input) ? '' : '(from the sample) '}cannot be compiled: ${(cause as Error).message}`,
        { cause },
      );
    }
    return this.validator;
  }
}

function schemaError(validate: ValidateFunction): BerthError {
  const first = validate.errors?.[0];
  const path = first?.instancePath || '/';
  let what = first?.message ?? 'is invalid';
  if (first?.keyword === 'required')
    what = `must have property "${(first.params as { missingProperty: string }).missingProperty}"`;
  return new BerthError(
    'BAD_REQUEST',
    `The request body does not match the input schema: "${path}" ${what}.`,
    {
      hint: 'See GET /swagger.json for the expected input.',
      details: {
        path,
        errors: validate.errors?.map((e) => ({ path: e.instancePath || '/', message: e.message })),
      },
    },
  );
}

/** The stack of the original failure (the cause when the error wraps one). */
export function stackOf(err: BerthError): string | undefined {
  const cause = err.cause as { stack?: unknown } | undefined;
  return typeof cause?.stack === 'string' ? cause.stack : err.stack;
}
