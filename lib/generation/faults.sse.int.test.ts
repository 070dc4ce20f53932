/** The faults suite again over the streamed path (PRODUCT §3a: the same rules as the JSON path). */
process.env.TEST_GENERATE_PATH = "sse";
await import("./faults.int.test");
export {};
