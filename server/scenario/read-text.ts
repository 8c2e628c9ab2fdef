// Reads a scenario, policy or requests file as text, refusing what cannot be one: a device, pipe or
// folder (reading /dev/zero never ends) and anything past a size no hand-written YAML reaches. The
// read itself is bounded, since files under /proc report a size of 0.
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";

/** 8 MiB: far above any real manifest (the API server caps one object near 1.5 MB) */
export const MAX_TEXT_FILE_BYTES = 8 * 1024 * 1024;

export function readTextFile(path: string, maxBytes = MAX_TEXT_FILE_BYTES): string {
  // Non-blocking: opening a pipe that has no writer would otherwise wait for one, and a watched
  // policy file replaced by a pipe would hold the server's event loop for good.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(`not a regular file (${st.isDirectory() ? "a folder" : st.isCharacterDevice() ? "a character device" : st.isFIFO() ? "a pipe" : "not a file"})`);
    if (st.size > maxBytes) throw new Error(`${st.size} bytes, more than the ${maxBytes} read`);
    const buf = Buffer.allocUnsafe(Math.min(maxBytes + 1, Math.max(st.size + 1, 64 * 1024)));
    let len = 0;
    for (;;) {
      if (len === buf.length) break;
      const n = readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (len > maxBytes) throw new Error(`more than the ${maxBytes} bytes read`);
    return buf.toString("utf8", 0, len);
  } finally {
    closeSync(fd);
  }
}
