// Policy YAML of more than a few kilobytes is parsed on a thread of its own: the YAML parser takes about
// a second per 500 KB, and on the main thread that second would stall the simulator and every stream.
// What comes back is the same plain data parsePolicyText returns here (records, warnings, CIDR groups).
import { RequestThread } from "../../threads/request-thread";
import { combinePolicyFiles, parsePolicyText, readPolicyFileTexts, type PolicyText } from "./documents";

/** below this many characters the parse takes a few milliseconds: not worth a thread hop */
export const INLINE_PARSE_CHARS = 16 * 1024;

let thread: RequestThread<{ text: string; source: string }, PolicyText> | undefined;

export function parsePolicyTextOffThread(text: string, source: string): Promise<PolicyText> {
  if (text.length <= INLINE_PARSE_CHARS) {
    try {
      return Promise.resolve(parsePolicyText(text, source));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  thread ??= new RequestThread(new URL("./parse-worker.ts", import.meta.url), "policy parse");
  return thread.request({ text, source });
}

/**
 * Policy files as parsePolicyText reads them, remembering each file's last parse: a reload parses only
 * the files whose text changed (large ones on the parse thread), so editing one file of many, or a
 * small file beside a large one, costs only that file.
 */
export class PolicyFileCache {
  private readonly parsed = new Map<string, { text: string; result: PolicyText }>();

  /** `parse`: how read() parses a file's text (the parse thread, or inline for small texts) */
  constructor(private readonly parse: (text: string, source: string) => Promise<PolicyText> = parsePolicyTextOffThread) {}

  async read(paths: string[]): Promise<PolicyText> {
    const { texts, warnings } = readPolicyFileTexts(paths);
    const parsed = await Promise.all(texts.map(async ({ file, text }) => ({ file, text: this.remember(file, text, this.cached(file, text) ?? (await this.parse(text, file))) })));
    return this.combine(texts, parsed, warnings);
  }

  /** read(), parsing here (at start, before anything else runs) */
  readSync(paths: string[]): PolicyText {
    const { texts, warnings } = readPolicyFileTexts(paths);
    const parsed = texts.map(({ file, text }) => ({ file, text: this.remember(file, text, this.cached(file, text) ?? parsePolicyText(text, file)) }));
    return this.combine(texts, parsed, warnings);
  }

  private cached(file: string, text: string): PolicyText | undefined {
    const hit = this.parsed.get(file);
    return hit && hit.text === text ? hit.result : undefined;
  }

  /** a copy of the result: applying a record stamps its revision, and the cached one is handed out again */
  private remember(file: string, text: string, result: PolicyText): PolicyText {
    this.parsed.set(file, { text, result });
    return structuredClone(result);
  }

  private combine(texts: { file: string }[], parsed: { file: string; text: PolicyText }[], warnings: PolicyText["warnings"]): PolicyText {
    const present = new Set(texts.map((t) => t.file));
    for (const f of [...this.parsed.keys()]) if (!present.has(f)) this.parsed.delete(f);
    return combinePolicyFiles(parsed, warnings);
  }
}
