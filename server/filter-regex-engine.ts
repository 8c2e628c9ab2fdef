// Filter regexes (http_path, http_url, dns_query) come from any client of the API, the stream and the
// CLI: on the server they run in RE2, which matches in linear time, so one request cannot stall the
// event loop that every other client, the simulator and the store share.
import RE2 from "re2";
import { useRegexEngine } from "../lib/filter/regex";

useRegexEngine((source, flags) => new RE2(source, flags.replace(/[^ims]/g, "")));
