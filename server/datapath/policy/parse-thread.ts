// Policy YAML of more than a few kilobytes is parsed on a thread of its own: the YAML parser takes about
// a second per 500 KB, and on the main thread that second would stall the simulator and every stream.
// What comes back is the same plain data parsePolicyText returns here (records, warnings, CIDR groups).
import { RequestThread } from "../../threads/request-thread";
import { parsePolicyText, type PolicyText } from "./documents";

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
