import postgres from "postgres";
import { databaseUrl } from "./slots";

/** Direct queries against this worker's app database in the browser suite (PostgreSQL runs only). */
export function e2eDatabaseUrl(): string | undefined {
  return databaseUrl();
}

export async function queryE2e<T extends object>(sql: string, params: (string | number | null)[] = []): Promise<T[]> {
  const url = e2eDatabaseUrl();
  if (!url) throw new Error("no E2E database");
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return (await client.unsafe(sql, params)) as unknown as T[];
  } finally {
    await client.end();
  }
}
