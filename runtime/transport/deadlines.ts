/**
 * Calls' deadlines on one timer: a binary min-heap by deadline, and one
 * `setTimeout` for the earliest.
 *
 * Why not a timer per call: Deno 2.8.3's `setTimeout` keeps every active
 * timer in a Map by id, so a timer set and cleared per call churns that Map,
 * and V8 then keeps dropped hash tables, and the finished calls they still
 * reference, alive through every scavenge (see native/open_streams.ts). Measured
 * with 32 timers alive at a time: peak heap 94 MiB and 21 ms scavenges. Calls
 * with deadlines are the common case (grpc-go clients with a context
 * timeout, grpcurl's -max-time).
 *
 * The heap lives in one array that is reused; an item knows its slot, so a
 * call that ends is taken out at once (O(log n)) and nothing keeps it. The
 * timer is re-armed only for a deadline earlier than the one it is set for,
 * and when it fires; a call that ends first leaves it set, and the firing
 * finds nothing due and arms for the next.
 * @module
 */

/** Something with a deadline; `slot` belongs to the queue (-1 when not queued). */
export interface Expiring {
  /** Epoch ms. */
  readonly deadline: number;
  deadlineSlot: number;
  /** Called once, when the deadline has passed and the item is still queued. */
  deadlineExpired(): void;
}

/** setTimeout's largest delay. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Deadlines of many items on one timer. */
export class Deadlines {
  readonly #heap: Expiring[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the timer is set for; Infinity when none is set. */
  #armedFor = Infinity;

  get size(): number {
    return this.#heap.length;
  }

  add(item: Expiring): void {
    const heap = this.#heap;
    heap.push(item);
    item.deadlineSlot = heap.length - 1;
    this.#up(heap.length - 1);
    if (item.deadline < this.#armedFor) this.#arm(item.deadline);
  }

  /** Takes `item` out; nothing happens when it is not queued. */
  remove(item: Expiring): void {
    const slot = item.deadlineSlot;
    if (slot < 0) return;
    const heap = this.#heap;
    item.deadlineSlot = -1;
    const last = heap.pop()!;
    if (last !== item) {
      heap[slot] = last;
      last.deadlineSlot = slot;
      this.#down(slot);
      this.#up(slot);
    }
    if (heap.length === 0) this.#disarm();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const heap = this.#heap;
    const now = Date.now();
    while (heap.length > 0 && heap[0].deadline <= now) {
      const due = heap[0];
      this.remove(due);
      due.deadlineExpired();
    }
    if (heap.length > 0 && heap[0].deadline < this.#armedFor) this.#arm(heap[0].deadline);
  }

  #arm(deadline: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = deadline;
    const delay = Math.min(Math.max(0, deadline - Date.now()), MAX_DELAY_MS);
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #up(slot: number): void {
    const heap = this.#heap;
    const item = heap[slot];
    while (slot > 0) {
      const parent = (slot - 1) >> 1;
      if (heap[parent].deadline <= item.deadline) break;
      heap[slot] = heap[parent];
      heap[slot].deadlineSlot = slot;
      slot = parent;
    }
    heap[slot] = item;
    item.deadlineSlot = slot;
  }

  #down(slot: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const item = heap[slot];
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1].deadline < heap[child].deadline) child++;
      if (heap[child].deadline >= item.deadline) break;
      heap[slot] = heap[child];
      heap[slot].deadlineSlot = slot;
      slot = child;
    }
    heap[slot] = item;
    item.deadlineSlot = slot;
  }
}

/** The process's deadlines for calls (native and web transports): one timer for all of them. */
export const callDeadlines: Deadlines = new Deadlines();
