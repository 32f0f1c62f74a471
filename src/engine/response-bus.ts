// Carries a respond node's answer from the worker that ran it to the process
// holding the webhook request. Local: a map of waiters. Redis (in
// redis-response-bus.ts, loaded only in queue mode): one pub/sub channel
// that every main process listens to. A waiter is registered before the job
// is enqueued, so an answer cannot arrive before its listener.
import type { WebhookResponse } from './node-types.ts';

export type ResponseWaiter = { promise: Promise<WebhookResponse | undefined>; cancel(): void };

export interface ResponseBus {
  publish(executionId: string, response: WebhookResponse): void;
  /** Resolves with the answer, or undefined after timeoutMs. */
  waitFor(executionId: string, timeoutMs: number): ResponseWaiter;
  close(): Promise<void>;
}

export class LocalResponseBus implements ResponseBus {
  private readonly waiters = new Map<string, (r: WebhookResponse | undefined) => void>();

  publish(executionId: string, response: WebhookResponse): void {
    this.deliver(executionId, response);
  }

  /** Hands an answer to a local waiter; false when nobody here waits for it. */
  deliver(executionId: string, response: WebhookResponse): boolean {
    const w = this.waiters.get(executionId);
    if (!w) return false;
    this.waiters.delete(executionId);
    w(response);
    return true;
  }

  waitFor(executionId: string, timeoutMs: number): ResponseWaiter {
    let timer: NodeJS.Timeout | undefined;
    const promise = new Promise<WebhookResponse | undefined>((resolve) => {
      this.waiters.set(executionId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      timer = setTimeout(() => {
        this.waiters.delete(executionId);
        resolve(undefined);
      }, timeoutMs);
    });
    return {
      promise,
      cancel: () => {
        clearTimeout(timer);
        this.waiters.delete(executionId);
      },
    };
  }

  async close(): Promise<void> {
    for (const w of this.waiters.values()) w(undefined);
    this.waiters.clear();
  }
}
