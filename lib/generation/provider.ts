import "server-only";
import { createDenyList, type DenyList } from "@/lib/ai/deny-list";
import { createOfflineProvider } from "@/lib/ai/offline-provider";
import { createOpenAIProvider } from "@/lib/ai/openai-provider";
import type { CaptionProvider } from "@/lib/ai/types";
import { getEnv } from "@/lib/env";

const globalForAi = globalThis as unknown as { __litstatusProvider?: CaptionProvider; __litstatusDenyList?: DenyList };

/** OpenAI when a key is configured, else the offline demo provider (labelled `provider: "offline"`). */
export function getProvider(): CaptionProvider {
  if (globalForAi.__litstatusProvider) return globalForAi.__litstatusProvider;
  const env = getEnv();
  globalForAi.__litstatusProvider = env.OPENAI_API_KEY
    ? createOpenAIProvider({
        apiKey: env.OPENAI_API_KEY,
        baseURL: env.OPENAI_BASE_URL,
        textModel: env.OPENAI_TEXT_MODEL,
        visionModel: env.OPENAI_VISION_MODEL,
      })
    : createOfflineProvider();
  return globalForAi.__litstatusProvider;
}

/** The built-in deny list plus CONTENT_DENYLIST (comma-separated terms). */
export function getDenyList(): DenyList {
  globalForAi.__litstatusDenyList ??= createDenyList(
    (getEnv().CONTENT_DENYLIST ?? "")
      .split(",")
      .map((term) => term.trim())
      .filter((term) => term !== ""),
  );
  return globalForAi.__litstatusDenyList;
}
