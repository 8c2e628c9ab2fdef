// Loopback capture for tests: a TCP relay between a real client and a real server that records
// the bytes each side sends, so parsers are tested on what independent implementations emit.
import net from "node:net";

export interface Capture {
  port: number;
  client(): Buffer;
  server(): Buffer;
  close(): Promise<void>;
}

/** Relay localhost:<port> to localhost:<targetPort>, recording both directions. */
export async function relay(targetPort: number): Promise<Capture> {
  const fromClient: Buffer[] = [];
  const fromServer: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((c) => {
    const up = net.connect(targetPort, "127.0.0.1");
    sockets.add(c);
    sockets.add(up);
    c.on("data", (d) => {
      fromClient.push(Buffer.from(d));
      up.write(d);
    });
    up.on("data", (d) => {
      fromServer.push(Buffer.from(d));
      c.write(d);
    });
    c.on("end", () => up.end());
    up.on("end", () => c.end());
    c.on("error", () => up.destroy());
    up.on("error", () => c.destroy());
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    client: () => Buffer.concat(fromClient),
    server: () => Buffer.concat(fromServer),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

export function listen(server: net.Server): Promise<number> {
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r((server.address() as net.AddressInfo).port)));
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((r) => server.close(() => r()));
}

/** Send raw bytes to a server and collect what it answers until it closes or goes quiet. */
export function rawExchange(port: number, bytes: Uint8Array, quietMs = 150): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, "127.0.0.1", () => s.write(bytes));
    let timer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks));
    };
    s.on("data", (d) => {
      chunks.push(Buffer.from(d));
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    s.on("end", done);
    s.on("error", reject);
  });
}
