// Lookups into the HPACK static table shared by the encoder (search) and decoder (index).
import { HPACK_STATIC_TABLE } from "./hpack-huffman-table";

export const STATIC_COUNT = HPACK_STATIC_TABLE.length; // 61

export const STATIC_BY_PAIR = new Map<string, number>();
export const STATIC_BY_NAME = new Map<string, number>();
HPACK_STATIC_TABLE.forEach(([name, value], i) => {
  const key = `${name}\u0000${value}`;
  if (!STATIC_BY_PAIR.has(key)) STATIC_BY_PAIR.set(key, i + 1);
  if (!STATIC_BY_NAME.has(name)) STATIC_BY_NAME.set(name, i + 1);
});

export function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}
