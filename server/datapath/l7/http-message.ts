// What the HTTP parsers (HTTP/1.1 and HTTP/2) extract from the bytes, in the shape the HTTP rule
// matcher and the Hubble record builder need. Header names keep their wire spelling in `headers`;
// `lower` indexes them lower-cased because HTTP header names are case-insensitive.
export interface HttpRequestView {
  method: string;
  /** request target as sent (:path), including any query string */
  path: string;
  /** Host header or :authority */
  authority: string;
  scheme: string;
  protocol: "HTTP/1.1" | "HTTP/1.0" | "HTTP/2";
  headers: [string, string][];
  lower: Map<string, string[]>;
}

export function indexHeaders(headers: [string, string][]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of headers) {
    const key = k.toLowerCase();
    const list = m.get(key);
    if (list) list.push(v);
    else m.set(key, [v]);
  }
  return m;
}
