import { test as base } from "@playwright/test";
import { appUrl } from "./slots";

/**
 * Playwright's `test`, with `baseURL` set to this worker's own app server (e2e/support/slots.ts).
 * Every spec that uses the suite's servers imports `test` and `expect` from here.
 */
export const test = base.extend({
  baseURL: async ({}, provide, testInfo) => {
    await provide(appUrl(testInfo.parallelIndex));
  },
});

export { expect } from "@playwright/test";
