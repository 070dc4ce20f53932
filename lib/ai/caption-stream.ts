/**
 * Reads the model's structured output as it streams (`{"variants": [{"hook", "caption", …}], …}`)
 * and reports the text of each variant's `caption` as it grows, so the UI can show words as the
 * model writes them. A small incremental JSON scanner: it tracks only nesting, keys and strings,
 * never builds values, and works on any split of the input (mid-escape, mid-key, mid-character).
 */
import type { CaptionDelta } from "./types";

type Frame = { kind: "object"; key: string | null } | { kind: "array"; index: number };

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

export interface CaptionStreamer {
  /** Feeds the next piece of the model's output; calls `onDelta` once per variant whose caption grew. */
  push(chunk: string): void;
}

export function captionStreamer(onDelta: (delta: CaptionDelta) => void): CaptionStreamer {
  const stack: Frame[] = [];
  let inString = false;
  let isKey = false;
  let escape = false;
  let unicode: string | null = null;
  let key = "";
  /** The variant whose caption string is being read, or -1. */
  let captionOf = -1;

  /** Inside `variants[i].caption` of the top-level object. */
  const captionIndex = (): number => {
    const [root, list, item] = stack;
    if (stack.length !== 3 || root?.kind !== "object" || root.key !== "variants") return -1;
    if (list?.kind !== "array" || item?.kind !== "object" || item.key !== "caption") return -1;
    return list.index;
  };

  return {
    push(chunk: string) {
      const out = new Map<number, string>();
      const emit = (text: string) => {
        if (captionOf >= 0) out.set(captionOf, (out.get(captionOf) ?? "") + text);
      };
      const append = (text: string) => {
        if (isKey) key += text;
        else emit(text);
      };
      for (const ch of chunk) {
        if (inString) {
          if (unicode !== null) {
            unicode += ch;
            if (unicode.length === 4) {
              append(String.fromCharCode(Number.parseInt(unicode, 16) || 0xfffd));
              unicode = null;
            }
          } else if (escape) {
            escape = false;
            if (ch === "u") unicode = "";
            else append(ESCAPES[ch] ?? ch);
          } else if (ch === "\\") {
            escape = true;
          } else if (ch === '"') {
            inString = false;
            const top = stack.at(-1);
            if (isKey && top?.kind === "object") top.key = key;
            isKey = false;
            captionOf = -1;
          } else {
            append(ch);
          }
          continue;
        }
        const top = stack.at(-1);
        switch (ch) {
          case "{":
            stack.push({ kind: "object", key: null });
            break;
          case "[":
            stack.push({ kind: "array", index: 0 });
            break;
          case "}":
          case "]":
            stack.pop();
            break;
          case ",":
            if (top?.kind === "array") top.index += 1;
            else if (top?.kind === "object") top.key = null;
            break;
          case '"':
            inString = true;
            isKey = top?.kind === "object" && top.key === null;
            key = "";
            captionOf = isKey ? -1 : captionIndex();
            break;
          default:
            break;
        }
      }
      for (const [variant, text] of out) if (text !== "") onDelta({ variant, text });
    },
  };
}
