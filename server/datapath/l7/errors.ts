// One error type for everything the proxy cannot parse, so the datapath can turn any malformed
// input into a flow with a reason instead of an exception escaping the proxy.
export type WireProtocol = "http" | "http2" | "hpack" | "grpc" | "kafka" | "dns";

export class L7ParseError extends Error {
  readonly protocol: WireProtocol;
  readonly offset: number;
  readonly problem: string;
  constructor(protocol: WireProtocol, offset: number, problem: string) {
    super(`${protocol}: ${problem} (at byte offset ${offset})`);
    this.name = "L7ParseError";
    this.protocol = protocol;
    this.offset = offset;
    this.problem = problem;
  }
}

export function fail(protocol: WireProtocol, offset: number, problem: string): never {
  throw new L7ParseError(protocol, offset, problem);
}

/** Rules or request specs the proxy cannot act on (not wire errors). */
export class L7ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "L7ConfigError";
  }
}
