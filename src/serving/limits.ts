/** A request waiting for a slot: `start` when one frees up, `overloaded` when its wait ran out. */
export interface QueuedRequest {
  start(): void;
  overloaded(): void;
}

interface Waiter {
  request: QueuedRequest;
  timer: NodeJS.Timeout;
}

/**
 * Concurrency limit of one replica: at most `maxRunning` requests run at once; the next ones wait
 * in a bounded FIFO queue (at most `maxQueued`, default = `maxRunning`) for at most `maxWaitMs`,
 * then are told the service is overloaded (503). A queued request's body is not read yet, so the
 * queue holds no request bytes: memory stays bounded however many clients pile up.
 */
export class AdmissionQueue {
  private active = 0;
  private readonly waiting = new Set<Waiter>();
  private readonly maxQueued: number;

  constructor(
    private readonly maxRunning: number,
    private readonly maxWaitMs: number,
    maxQueued?: number,
  ) {
    this.maxQueued = maxWaitMs <= 0 ? 0 : (maxQueued ?? maxRunning);
  }

  /** Requests running now. */
  get running(): number {
    return this.active;
  }

  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.size;
  }

  /**
   * Takes a slot now (true), or queues the request (false: `start` or `overloaded` is called
   * later), or, when the queue is full, calls `overloaded` at once (false).
   */
  enter(request: QueuedRequest): boolean {
    if (this.active < this.maxRunning) {
      this.active++;
      return true;
    }
    if (this.waiting.size >= this.maxQueued) {
      request.overloaded();
      return false;
    }
    const waiter: Waiter = { request, timer: setTimeout(() => this.expire(waiter), this.maxWaitMs) };
    this.waiting.add(waiter);
    return false;
  }

  /** Frees a slot taken by `enter` (or by a started queued request) and starts the next waiter. */
  leave(): void {
    this.active--;
    if (this.waiting.size === 0) return;
    const next = this.waiting.values().next();
    if (!next.done) {
      const waiter = next.value;
      this.waiting.delete(waiter);
      clearTimeout(waiter.timer);
      this.active++;
      waiter.request.start();
    }
  }

  /** Drops a queued request (its client disconnected); no-op when it already started. */
  cancel(request: QueuedRequest): void {
    for (const waiter of this.waiting) {
      if (waiter.request === request) {
        this.waiting.delete(waiter);
        clearTimeout(waiter.timer);
        return;
      }
    }
  }

  private expire(waiter: Waiter): void {
    if (this.waiting.delete(waiter)) waiter.request.overloaded();
  }
}

/** Something with a deadline (performance.now() ms) that the sweeper expires; the links are the sweeper's. */
export interface Deadline {
  readonly deadline: number;
  expire(): void;
  /** Intrusive list links, owned by DeadlineSweeper (null when not listed). */
  deadlinePrev: Deadline | null;
  deadlineNext: Deadline | null;
}

/**
 * Enforces per-request deadlines with one interval timer instead of a timer per request: live
 * requests sit in an intrusive doubly linked list (O(1) add and delete, no allocation, no
 * hashing), and a sweep every `periodMs` expires those past their deadline, so an expiry fires
 * at most `periodMs` late. The timer runs only while requests are live.
 */
export class DeadlineSweeper {
  private head: Deadline | null = null;
  private size = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  add(item: Deadline): void {
    item.deadlinePrev = null;
    item.deadlineNext = this.head;
    if (this.head !== null) this.head.deadlinePrev = item;
    this.head = item;
    this.size++;
    if (this.timer === undefined) this.timer = setInterval(() => this.sweep(), this.periodMs);
  }

  delete(item: Deadline): void {
    const { deadlinePrev: prev, deadlineNext: next } = item;
    if (prev === null && this.head !== item) return;
    if (prev !== null) prev.deadlineNext = next;
    else this.head = next;
    if (next !== null) next.deadlinePrev = prev;
    item.deadlinePrev = null;
    item.deadlineNext = null;
    this.size--;
  }

  private sweep(): void {
    if (this.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = performance.now();
    let item = this.head;
    while (item !== null) {
      const next = item.deadlineNext;
      if (item.deadline <= now) {
        this.delete(item);
        item.expire();
      }
      item = next;
    }
  }
}
