/**
 * The local deny list: a cheap first content-safety check before (optional) OpenAI moderation.
 * It catches a short list of clearly disallowed phrases plus operator-configured terms; it is not
 * a classifier, and moderation is what catches everything else.
 *
 * Text and terms go through the same normalization, so these variants are caught:
 *   - case and Unicode compatibility forms (NFKC: full-width "ＫＩＬＬ", ligatures, …),
 *   - accents and other combining marks ("kïll"), invisible format characters (zero-width
 *     spaces/joiners, soft hyphens) inside words,
 *   - common leetspeak digits and symbols: 0→o 1→i 3→e 4→a 5→s 7→t @→a $→s ("k1ll y0urself"),
 *   - any run of spaces, punctuation or symbols between words ("kill---yourself", "kill_yourself").
 * Matching is on whole words: "kill yourself" does not match "skill yourselfie". Chinese and
 * Japanese terms (no spaces in those scripts) match as substrings, ignoring spacing.
 * Not caught: letters spaced out ("k i l l yourself"), words run together ("killyourself"),
 * repeated letters ("killl"), look-alike letters from other scripts (Cyrillic "к"), misspellings.
 */

const DEFAULT_TERMS = [
  "child porn",
  "child pornography",
  "child sexual abuse material",
  "csam",
  "kill yourself",
  "kys",
  "儿童色情",
] as const;

const LEET: Record<string, string> = { "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", $: "s" };

/** Scripts written without spaces between words: their terms match as substrings. */
const UNSPACED_SCRIPT = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** Lower-case words of letters and digits separated by single spaces, with the folds described above. */
function normalize(text: string): string {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .normalize("NFD")
    .replace(/[\p{M}\p{Cf}]/gu, "")
    .normalize("NFC")
    .replace(/[013457@$]/g, (c) => LEET[c] ?? c)
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();
}

export interface DenyList {
  /** `term` is the configured term that matched, for logs and security events (never shown to users). */
  check(text: string): { blocked: boolean; term?: string };
}

export function createDenyList(extraTerms: string[] = []): DenyList {
  const terms = [...DEFAULT_TERMS, ...extraTerms].flatMap((term) => {
    const normalized = normalize(term);
    if (normalized === "") return [];
    const unspaced = UNSPACED_SCRIPT.test(normalized);
    return [{ term, needle: unspaced ? normalized.replaceAll(" ", "") : ` ${normalized} `, unspaced }];
  });

  return {
    check(text) {
      const normalized = normalize(text);
      // Padding with spaces turns "whole word" into a plain substring test on the normalized text.
      const spaced = ` ${normalized} `;
      const unspaced = normalized.replaceAll(" ", "");
      const hit = terms.find((t) => (t.unspaced ? unspaced : spaced).includes(t.needle));
      return hit ? { blocked: true, term: hit.term } : { blocked: false };
    },
  };
}
