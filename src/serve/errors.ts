// Error bodies exactly as vLLM's OpenAI-compatible server writes them, and the server's configuration error. Pure.
//
// Checked in vllm-project/vllm:
//  - vllm/entrypoints/openai/engine/protocol.py: ErrorResponse = {"error": ErrorInfo}, ErrorInfo = {message, type,
//    param (null unless known), code (the HTTP status as an int)}.
//  - vllm/entrypoints/openai/engine/serving.py: create_error_response() (type "BadRequestError" and code 400 by
//    default, "InternalServerError" for 500) and _check_model() (404, type "NotFoundError", param "model",
//    message "The model `X` does not exist.").
//  - vllm/entrypoints/serve/utils/server_utils.py: validation_exception_handler() answers request-schema errors
//    (pydantic) with 400, type "Bad Request" (the HTTP phrase), param the field's dotted location such as
//    "body.messages", message "N validation error(s):\n  {...}".
//  - Routes that do not exist are answered by FastAPI/Starlette itself, before any vLLM handler: 404 with
//    {"detail": "Not Found"} (and 405 {"detail": "Method Not Allowed"} for a known path with the wrong method):
//    vLLM registers its ErrorResponse handler for fastapi.HTTPException, which the router's own
//    starlette HTTPException does not match (see vllm-project/vllm issue #5082 for the body users see).

export interface ErrorInfo {
  readonly message: string;
  readonly type: string;
  readonly param: string | null;
  readonly code: number;
}

export interface ErrorBody {
  readonly error: ErrorInfo;
}

/** An error that becomes an HTTP answer in vLLM's shape. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }

  body(): ErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

/** A request vLLM would reject while rendering or validating it (ValueError and friends). */
export const badRequest = (message: string, param: string | null = null): ApiError => new ApiError(400, message, 'BadRequestError', param);

/** A request whose JSON does not fit the request schema (what pydantic rejects in vLLM). */
export function schemaError(loc: readonly string[], kind: string, msg: string, input: unknown): ApiError {
  const shown = input === undefined ? '' : `, 'input': ${pyRepr(input)}`;
  return new ApiError(400, `1 validation error:\n  {'type': '${kind}', 'loc': (${loc.map((l) => `'${l}'`).join(', ')}), 'msg': '${msg}'${shown}}`, 'Bad Request', loc.join('.'));
}

export const modelNotFound = (model: string): ApiError => new ApiError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');

export const internalError = (message: string): ApiError => new ApiError(500, message, 'InternalServerError');

export const unavailable = (message: string): ApiError => new ApiError(503, message, 'Service Unavailable');

export const tooLarge = (message: string): ApiError => new ApiError(413, message, 'Request Entity Too Large');

/** A bad server setting (host, port, replicas, context length): the command exits 2, like other configuration errors. */
export class ServeConfigError extends Error {
  override name = 'ServeConfigError';
  readonly stage = 'configuration';
}

/** FastAPI's own answers for routes that do not exist. */
export const ROUTE_NOT_FOUND = { status: 404, body: { detail: 'Not Found' } } as const;
export const METHOD_NOT_ALLOWED = { status: 405, body: { detail: 'Method Not Allowed' } } as const;

/** A short Python-like rendering of a JSON value for schema messages (long values are cut). */
function pyRepr(v: unknown): string {
  let s: string;
  if (v === null) s = 'None';
  else if (typeof v === 'boolean') s = v ? 'True' : 'False';
  else if (typeof v === 'string') s = `'${v}'`;
  else s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
