// The policy parse thread (see parse-thread.ts).
import { serveRequests } from "../../threads/serve-requests";
import { parsePolicyText, type PolicyText } from "./documents";

serveRequests(({ text, source }: { text: string; source: string }): PolicyText => parsePolicyText(text, source));
