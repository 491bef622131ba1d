import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Inject } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { LockBusyError, LockWaitTimeoutError } from '../errors';

/** The HTTP answer to each expected lock outcome: neither is a server fault, so neither is a 500. */
const STATUS: [error: typeof LockBusyError | typeof LockWaitTimeoutError, status: HttpStatus, error: string][] = [
  // Someone else is doing this now and the method chose not to wait (onBusy: 'throw'): the request conflicts with that.
  [LockBusyError, HttpStatus.CONFLICT, 'Conflict'],
  // The lock stayed busy for the whole waitTime: try again shortly.
  [LockWaitTimeoutError, HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable'],
];

/**
 * Opt-in exception filter for HTTP apps: `LockBusyError` → 409 Conflict, `LockWaitTimeoutError` → 503 Service
 * Unavailable with `Retry-After: 1`; the body is `{ statusCode, error, code, message }`. Works on any HTTP
 * platform (it answers through Nest's `HttpAdapterHost`). Register it with `{ provide: APP_FILTER, useClass:
 * LockerExceptionFilter }` or `app.useGlobalFilters(new LockerExceptionFilter(app.get(HttpAdapterHost)))`.
 * Other contexts (microservices, websockets) get the error rethrown, as if no filter were there.
 */
@Catch(LockBusyError, LockWaitTimeoutError)
export class LockerExceptionFilter implements ExceptionFilter<LockBusyError | LockWaitTimeoutError> {
  constructor(@Inject(HttpAdapterHost) private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: LockBusyError | LockWaitTimeoutError, host: ArgumentsHost): void {
    const row = STATUS.find(([type]) => exception instanceof type);
    if (host.getType() !== 'http' || !row) throw exception;
    const [, statusCode, error] = row;
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    if (statusCode === HttpStatus.SERVICE_UNAVAILABLE) httpAdapter.setHeader(response, 'Retry-After', '1');
    httpAdapter.reply(response, { statusCode, error, code: exception.code, message: exception.message }, statusCode);
  }
}
