import { describe, expect, it } from "vitest";

import { StreamSlots } from "./stream-slots";

function settled<T>(promise: Promise<T>): Promise<T | "pending"> {
  return Promise.race([promise, new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), 0))]);
}

describe("StreamSlots", () => {
  it("grants up to the limit at once and queues the rest in order", async () => {
    const slots = new StreamSlots(2);
    const signal = new AbortController().signal;
    expect(await slots.acquire(signal)).toBe(true);
    expect(await slots.acquire(signal)).toBe(true);
    const third = slots.acquire(signal);
    const fourth = slots.acquire(signal);
    expect(await settled(third)).toBe("pending");
    slots.release();
    expect(await third).toBe(true);
    expect(await settled(fourth)).toBe("pending");
    expect(slots.stats).toEqual({ open: 2, waiting: 1 });
  });

  it("hands a released slot to a live waiter, not to one that gave up", async () => {
    const slots = new StreamSlots(1);
    expect(await slots.acquire(new AbortController().signal)).toBe(true);
    const gaveUp = new AbortController();
    const dead = slots.acquire(gaveUp.signal);
    const live = slots.acquire(new AbortController().signal);
    gaveUp.abort();
    expect(await dead).toBe(false);
    expect(slots.stats.waiting).toBe(1);
    slots.release();
    expect(await live).toBe(true);
    expect(slots.stats).toEqual({ open: 1, waiting: 0 });
  });

  it("never lets more than the limit run, whatever aborts when", async () => {
    const slots = new StreamSlots(3);
    const controllers = Array.from({ length: 12 }, () => new AbortController());
    const grants = controllers.map((c) => slots.acquire(c.signal));
    // Waiters 3, 5, 7, 9 and 11 give up; 4, 6, 8 and 10 keep waiting.
    controllers.forEach((c, i) => i >= 3 && i % 2 === 1 && c.abort());
    for (let i = 0; i < 7; i += 1) {
      expect(slots.stats.open).toBeLessThanOrEqual(3);
      slots.release();
    }
    const results = await Promise.all(grants);
    expect(results.map((granted, i) => (granted ? i : -1)).filter((i) => i >= 0)).toEqual([0, 1, 2, 4, 6, 8, 10]);
    expect(slots.stats).toEqual({ open: 0, waiting: 0 });
  });

  it("refuses at once when the signal is already aborted", async () => {
    const slots = new StreamSlots(1);
    const aborted = new AbortController();
    aborted.abort();
    expect(await slots.acquire(aborted.signal)).toBe(false);
    expect(slots.stats).toEqual({ open: 0, waiting: 0 });
  });

  it("a slot released with nobody waiting returns to the pool", async () => {
    const slots = new StreamSlots(1);
    const signal = new AbortController().signal;
    expect(await slots.acquire(signal)).toBe(true);
    slots.release();
    expect(slots.stats.open).toBe(0);
    expect(await slots.acquire(signal)).toBe(true);
  });
});
