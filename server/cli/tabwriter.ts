// A port of Go's text/tabwriter (the subset cilium-dbg uses: padchar ' ', flags 0), so tables come out
// byte for byte as `tabwriter.NewWriter(os.Stdout, minwidth, tabwidth, padding, ' ', 0)` prints them.
//
// Go's rules, kept here: text is split into cells at '\t'; a cell is part of a column only when a tab
// ends it, so the last cell of a line (usually empty, after a trailing '\t') is never padded; a column
// is aligned over a block of consecutive lines that all have a cell in it, and a line with fewer cells
// ends the block; a terminated cell is padded to max(minwidth, widest cell + padding), the last column
// included (which is why cilium-dbg's lines end in spaces); a line without any tab flushes everything
// before it, so blocks never reach across it.

export interface TabwriterOptions {
  minwidth: number;
  /** only matters when padding with tabs, which cilium-dbg never does; kept for the signature */
  tabwidth?: number;
  padding: number;
  /** the padding character; cilium-dbg always pads with ' ' (tabs are not supported here) */
  padchar?: string;
}

interface Cell {
  text: string;
  width: number;
}

function width(text: string): number {
  // Go counts runes (utf8.RuneCount)
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** `text` as it reads after fmt.Fprintf(w, …) calls with the same text and w.Flush() */
export function tabwrite(text: string, opts: TabwriterOptions): string {
  const out: string[] = [];
  let block: Cell[][] = [];
  const raw = text.split("\n");
  for (let i = 0; i < raw.length; i++) {
    const cells = raw[i]!.split("\t").map((t) => ({ text: t, width: width(t) }));
    const terminated = i < raw.length - 1; // a '\n' ended this line
    // at the end of the text Go keeps the cell after the last tab only if it has text
    if (!terminated && cells[cells.length - 1]!.text === "") cells.pop();
    block.push(cells);
    if (terminated && cells.length === 1) {
      // Go flushes on a newline ending a one-cell line (it cannot affect later columns): the lines so
      // far, plus the empty line the newline opened, which is written without a newline of its own
      block.push([]);
      format(block, opts, out);
      block = [];
    }
  }
  if (block.length) format(block, opts, out);
  return out.join("");
}

/** formats `lines`; every line but the last gets a newline, as Go's writeLines does */
function format(lines: Cell[][], opts: TabwriterOptions, out: string[]): void {
  const ls = lines;
  const pad = opts.padchar ?? " ";
  const widths: number[] = [];
  const total = ls.length;

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const line = ls[i]!;
      line.forEach((c, j) => {
        out.push(c.text);
        if (j < widths.length) out.push(pad.repeat(Math.max(0, widths[j]! - c.width)));
      });
      if (i + 1 < total) out.push("\n");
    }
  };

  const fmt = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let cur = line0; cur < line1; cur++) {
      if (column >= ls[cur]!.length - 1) continue;
      // a cell in this column: print the lines before the block, then size the block
      writeLines(line0, cur);
      line0 = cur;
      let w = opts.minwidth;
      for (; cur < line1; cur++) {
        const line = ls[cur]!;
        if (column >= line.length - 1) break;
        w = Math.max(w, line[column]!.width + opts.padding);
      }
      widths.push(w);
      fmt(line0, cur);
      widths.pop();
      line0 = cur;
    }
    writeLines(line0, line1);
  };

  fmt(0, total);
}
