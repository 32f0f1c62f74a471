// Errors by who is at fault. Each carries a stable string code that the HTTP
// layer and the CLI turn into a status and an exit code in one place.

export type ErrorDetails = Record<string, unknown>;

abstract class WardenError extends Error {
  abstract readonly kind: 'user' | 'operational' | 'unexpected';
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** Bad input: the caller can fix it. HTTP 4xx; logged at info. */
export class UserError extends WardenError {
  readonly kind = 'user' as const;
  /** HTTP status for this error. @default 400 */
  readonly status: number;

  constructor(
    code: string,
    message: string,
    options?: { status?: number; cause?: unknown; details?: ErrorDetails },
  ) {
    super(code, message, options);
    this.status = options?.status ?? 400;
  }
}

/** A dependency failed (database, Redis, Ollama). HTTP 503; logged as a warning. */
export class OperationalError extends WardenError {
  readonly kind = 'operational' as const;
}

/** A bug. HTTP 500; logged as an error with its stack. */
export class UnexpectedError extends WardenError {
  readonly kind = 'unexpected' as const;
}

export const isUserError = (err: unknown): err is UserError => err instanceof UserError;
export const isOperationalError = (err: unknown): err is OperationalError =>
  err instanceof OperationalError;

export function notFound(what: string, id: string | number): UserError {
  return new UserError('not_found', `${what} ${JSON.stringify(String(id))} was not found`, {
    status: 404,
  });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
