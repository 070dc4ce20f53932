import { describe, expect, it } from "vitest";
import { withTimeout } from "./with-timeout";

describe("withTimeout", () => {
  it("passes the result through when the work is in time", async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, "quick")).resolves.toBe(7);
  });

  it("rejects with the name of the work when it is late", async () => {
    const never = new Promise<never>(() => {});
    await expect(withTimeout(never, 10, "database ping")).rejects.toThrow("database ping timed out after 10 ms");
  });
});
