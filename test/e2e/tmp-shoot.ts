import { chromium } from "playwright-core";
const url = process.argv[2] ?? "http://127.0.0.1:4299/";
const steps = process.argv[3] ?? "";
const w = Number(process.argv[4] ?? 1440), h = Number(process.argv[5] ?? 900);
const b = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync"] });
const p = await (await b.newContext({ viewport: { width: w, height: h } })).newPage();
p.on("console", (m) => console.log("console:", m.type(), m.text()));
p.on("pageerror", (e) => console.log("pageerror:", e.message));
p.on("response", (r) => { if (r.status() >= 400) console.log("http", r.status(), r.url()); });
await p.goto(url);
await p.waitForTimeout(4000);
let i = 0;
for (const s of steps.split(";").filter(Boolean)) {
  const op = s.slice(0, s.indexOf("=")), arg = s.slice(s.indexOf("=") + 1);
  if (op === "click") await p.locator(arg!).first().click();
  if (op === "wait") await p.waitForTimeout(Number(arg));
  if (op === "shot") await p.screenshot({ path: `/tmp/shots/${arg}.png` });
  if (op === "eval") console.log(await p.evaluate(arg!));
  i++;
}
await p.screenshot({ path: `/tmp/shots/final.png` });
await b.close();
