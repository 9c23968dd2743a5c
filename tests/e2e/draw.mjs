// Draws digits on the `digits serve` page in headless Chromium and checks what it shows.
// The server must run the built-in (trained) model: the drawn 1, 7 and 0 must be read as such.
//
// Env: DIGITS_URL (the running server, e.g. http://127.0.0.1:8080), DIGITS_OUT (folder for
// screenshots), CHROMIUM (default /usr/bin/chromium). Exits non-zero on the first failure.
// With DIGITS_SITE=DIR (a site from `digits export --web`), the page is that static site, served
// here by a plain file server, and the server at DIGITS_URL is only asked, for comparison, what
// its API gives for the pixels the page's own model read ({"framed": true}).
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";

const api = process.env.DIGITS_URL;
const site = process.env.DIGITS_SITE;
const out = process.env.DIGITS_OUT || ".";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
assert.ok(api, "set DIGITS_URL to the server's address");
mkdirSync(out, { recursive: true });

// A static file server for the exported site: files only, no API.
async function serveStatic(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
    ".wasm": "application/wasm", ".onnx": "application/octet-stream" };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = join(dir, path === "/" ? "index.html" : path);
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "Content-Type": types[extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  await new Promise(ok => server.listen(0, "127.0.0.1", ok));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}
const files = site ? await serveStatic(site) : null;
const url = files ? files.url : api;

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 760, height: 560 } });
  const logs = [];
  page.on("console", m => logs.push(`console ${m.type()}: ${m.text()}`));
  page.on("pageerror", e => logs.push(`page error: ${e.message}`));
  const asked = [];
  page.on("request", r => asked.push(new URL(r.url()).pathname));
  // The level answers are marked under: the test server runs with --min-confidence 0.999; the
  // static page takes one in its address (higher: its digits are read surer).
  const level = site ? 0.99999 : 0.999;
  await page.goto(site ? `${url}?min_confidence=${level}` : url);
  await page.waitForFunction(() => document.querySelectorAll("#bars .bar").length === 10);
  assert.equal(await page.getAttribute("#digit", "data-state"), "empty");
  // The footer names the level.
  await page.waitForFunction(() => document.querySelector("#model").textContent.length > 0);
  const footer = await page.textContent("#model");
  assert.ok(footer.includes(`Answers under ${level} are marked`), footer);
  const box = await page.locator("#canvas").boundingBox();

  // Strokes in 0..1 canvas coordinates (of `area`, the canvas' box), drawn with the mouse,
  // `steps` pointer moves per segment.
  async function draw(strokes, area = box, steps = 12) {
    for (const stroke of strokes) {
      const at = ([x, y]) => [area.x + x * area.width, area.y + y * area.height];
      await page.mouse.move(...at(stroke[0]));
      await page.mouse.down();
      for (let i = 1; i < stroke.length; i++) {
        await page.mouse.move(...at(stroke[i]), { steps });
      }
      await page.mouse.up();
    }
    await settle();
  }
  async function settle() {
    await page.waitForFunction(() => window.digitsIdle() && window.digitsLastResult !== null,
      null, { timeout: 15000 });
  }
  async function shown() {
    return page.evaluate(() => ({
      digit: document.querySelector("#digit").textContent,
      state: document.querySelector("#digit").dataset.state,
      message: document.querySelector("#message").textContent,
      bars: [...document.querySelectorAll("#bars .bar")].map(b => ({
        digit: Number(b.dataset.digit), prob: Number(b.dataset.prob), width: b.style.width,
      })),
      pixels: window.digitsLastPixels,
    }));
  }
  // What the server's API gives for the page's pixels: reframed as the server page's requests
  // are, or read as given (the exported model's input).
  async function predict(pixels) {
    const r = await fetch(new URL("/api/predict", api), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(site ? { pixels, framed: true } : { pixels }),
    });
    assert.equal(r.status, 200);
    return r.json();
  }
  // The page shows a digit, ten bars summing to 1 led by that digit, and what the API says
  // for the same pixels.
  // `expected`: the digit drawn; the server's built-in trained model must read it.
  async function checkShown(name, expected) {
    const s = await shown();
    assert.equal(s.state, "ok", `${name}: ${s.message}`);
    assert.match(s.digit, /^[0-9]$/, name);
    assert.equal(s.digit, String(expected), `${name}: the page shows ${s.digit}`);
    assert.equal(s.bars.length, 10);
    assert.deepEqual(s.bars.map(b => b.digit), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const sum = s.bars.reduce((a, b) => a + b.prob, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `${name}: bars sum to ${sum}`);
    const top = s.bars.reduce((a, b) => (b.prob > a.prob ? b : a));
    assert.equal(String(top.digit), s.digit, name);
    assert.ok(parseFloat(top.width) > 0, `${name}: the top bar has no width`);
    const api = await predict(s.pixels);
    assert.equal(String(api.digit), s.digit, `${name}: page and API disagree`);
    // The level: an answer under it is marked to check by hand (the server's answer says so;
    // the static page decides alike from its own probability).
    const under = site ? top.prob < level : !api.accepted;
    if (!site) assert.equal(typeof api.accepted, "boolean", `${name}: the API says nothing of its level`);
    assert.equal(s.message.includes("check by hand"), under, `${name}: ${s.message}`);
    api.probabilities.forEach((p, d) =>
      assert.ok(Math.abs(p - s.bars[d].prob) < 1e-5, `${name}: bar ${d}`));
    await page.screenshot({ path: join(out, `${name}.png`) });
    const mark = under ? ", marked to check by hand" : "";
    console.log(`${name}: shows ${s.digit} (${(100 * top.prob).toFixed(1)}%), API agrees${mark}`);
    return s;
  }
  // Bounding box and centre of mass of 28x28 pixels.
  function frame(px) {
    let x0 = 28, y0 = 28, x1 = -1, y1 = -1, m = 0, cx = 0, cy = 0;
    px.forEach((v, i) => {
      const x = i % 28, y = Math.floor(i / 28);
      if (v > 0.1) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
      m += v; cx += v * x; cy += v * y;
    });
    return { w: x1 - x0 + 1, h: y1 - y0 + 1, cx: cx / m, cy: cy / m };
  }

  // A "1": the page sends a tall thin stroke, 20 pixels high, centred like MNIST.
  await draw([[[0.5, 0.15], [0.5, 0.85]]]);
  const one = await checkShown("one", 1);
  const f = frame(one.pixels);
  assert.equal(one.pixels.length, 784);
  assert.ok(f.h >= 19 && f.h <= 21 && f.w <= 8, `"1" framed as ${JSON.stringify(f)}`);
  assert.ok(Math.abs(f.cx - 13.5) <= 1 && Math.abs(f.cy - 13.5) <= 1, `"1" centred at ${f.cx}, ${f.cy}`);

  // Clear resets the canvas, the digit and the bars.
  await page.click("#clear");
  const cleared = await shown();
  assert.equal(cleared.state, "empty");
  assert.doesNotMatch(cleared.digit, /[0-9]/);
  assert.ok(cleared.bars.every(b => b.prob === 0 && parseFloat(b.width) === 0));
  const ink = await page.evaluate(() => {
    const c = document.querySelector("#canvas");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let s = 0;
    for (let i = 0; i < d.length; i += 4) s += d[i];
    return s;
  });
  assert.equal(ink, 0, "the canvas still has ink after Clear");

  // Asking for a prediction of the blank canvas shows the server's "blank" message, no digit.
  await page.evaluate(() => window.digitsPredictNow());
  await settle();
  const blank = await shown();
  assert.equal(blank.state, "empty");
  assert.doesNotMatch(blank.digit, /[0-9]/);
  assert.match(blank.message, /blank/);
  assert.ok(blank.bars.every(b => b.prob === 0));
  await page.screenshot({ path: join(out, "blank.png") });
  console.log(`blank: "${blank.message}"`);

  // A "7" and a "0" (a circle), each after Clear.
  await page.click("#clear");
  await draw([[[0.25, 0.2], [0.75, 0.2], [0.45, 0.85]]]);
  await checkShown("seven", 7);
  await page.click("#clear");
  const circle = [];
  for (let k = 0; k <= 24; k++) {
    const t = (2 * Math.PI * k) / 24;
    circle.push([0.5 + 0.22 * Math.sin(t), 0.5 - 0.32 * Math.cos(t)]);
  }
  await draw([circle]);
  await checkShown("zero", 0);

  // Predictions arrive while drawing, not only at the end of a stroke.
  await page.click("#clear");
  await page.mouse.move(box.x + 0.5 * box.width, box.y + 0.2 * box.height);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) {
    await page.mouse.move(box.x + 0.5 * box.width, box.y + (0.2 + 0.07 * i) * box.height, { steps: 4 });
    await page.waitForTimeout(60);
  }
  await page.waitForFunction(() => document.querySelector("#digit").dataset.state === "ok",
    null, { timeout: 15000 });
  await page.mouse.up();
  await settle();
  console.log("predictions update while the mouse is down");

  // Number mode (served page only: it needs /api/read): a wider canvas; 1, 7, 0 and 4 written
  // side by side with uneven gaps are read as "1704", each digit boxed over the drawing.
  if (site) {
    assert.equal(await page.isVisible("#mode-number"), false, "the static page offers number mode");
  } else {
    const started = Date.now();
    await page.check("#mode-number");
    const wide = await page.locator("#canvas").boundingBox();
    assert.ok(wide.width > 2 * box.width, `the canvas is ${wide.width} px wide in number mode`);
    const oval = (cx, rx) => Array.from({ length: 25 }, (_, k) => {
      const t = (2 * Math.PI * k) / 24;
      return [cx + rx * Math.sin(t), 0.5 - 0.3 * Math.cos(t)];
    });
    await draw([
      [[0.12, 0.2], [0.12, 0.8]],                                  // 1
      [[0.19, 0.22], [0.31, 0.22], [0.24, 0.8]],                   // 7, close to the 1
      oval(0.5, 0.06),                                             // 0, further off
      [[0.70, 0.2], [0.63, 0.6], [0.77, 0.6]], [[0.73, 0.38], [0.73, 0.82]], // 4, two strokes
    ], wide, 3);
    const read = await page.evaluate(() => ({
      number: document.querySelector("#number").textContent,
      listed: [...document.querySelectorAll("#number-digits li")].map(li => li.textContent),
      result: window.digitsLastResult,
      boxed: (() => {
        const c = document.querySelector("#boxes");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) n += d[i] > 0 ? 1 : 0;
        return n;
      })(),
    }));
    await page.screenshot({ path: join(out, "number.png") });
    assert.equal(read.result.status, 200, JSON.stringify(read.result));
    assert.equal(read.number, "1704", `number mode shows ${read.number}: ${JSON.stringify(read.result)}`);
    assert.equal(read.result.text, "1704");
    const message = await page.textContent("#message");
    const sure = `${(100 * read.result.confidence).toFixed(1)}% sure of the number`;
    assert.ok(message.includes(sure), `the page says "${message}", not "${sure}"`);
    const marked = message.includes("check by hand");
    assert.equal(marked, read.result.accepted === false, `accepted: ${read.result.accepted}`);
    assert.equal(read.listed.length, 4, read.listed.join(" | "));
    const xs = read.result.digits.map(d => d.box[0]);
    assert.deepEqual(xs, [...xs].sort((a, b) => a - b), `boxes not left to right: ${xs}`);
    read.result.digits.forEach((d, k) => {
      assert.ok(d.probability > 0 && d.probability <= 1);
      assert.ok(read.listed[k].startsWith(String(d.digit)), read.listed[k]);
    });
    assert.ok(read.boxed > 100, "no box drawn over the canvas");
    console.log(`number: shows ${read.number} (${read.listed.join(", ")})${marked ? ", marked to check by hand" : ""}`);

    // The number of digits the form knows: typing it reads the number again with ?digits=N.
    async function readWithCount(count) {
      const path = count ? `/api/read?digits=${encodeURIComponent(count)}` : "/api/read";
      const sent = page.waitForRequest(r => r.url().endsWith(path), { timeout: 15000 });
      await page.fill("#digit-count", count);
      await sent;
      await settle();
      return page.evaluate(() => ({
        number: document.querySelector("#number").textContent,
        message: document.querySelector("#message").textContent,
        result: window.digitsLastResult,
      }));
    }
    assert.ok(await page.isVisible("#digit-count"), "no field for the number of digits");
    const four = await readWithCount("4");
    assert.equal(four.result.status, 200, JSON.stringify(four.result));
    assert.equal(four.number, "1704", `told 4 digits, the page shows ${four.number}`);
    assert.doesNotMatch(four.message, /digits asked for/, four.message);
    // Told 3, the reading has 3 digits or is marked as not fitting (confidence 0).
    const three = await readWithCount("3");
    assert.equal(three.result.status, 200, JSON.stringify(three.result));
    if (three.result.text.length !== 3) {
      assert.equal(three.result.confidence, 0, JSON.stringify(three.result));
      assert.ok(three.message.includes("not the 3 digits asked for: check by hand"), three.message);
    }
    console.log(`told 4 digits: ${four.number}; told 3: ${three.number} ("${three.message}")`);
    // A count that is not one: the server's 400 names the field, and the page says so.
    const bad = await readWithCount("x");
    assert.equal(bad.result.status, 400, JSON.stringify(bad.result));
    assert.match(bad.message, /digits/, bad.message);
    assert.equal(await page.getAttribute("#number", "data-state"), "error");
    const untold = await readWithCount("");
    assert.equal(untold.number, "1704", `untold again, the page shows ${untold.number}`);

    // A date with its slash, 12/05: the digits are read as 1205, the slash shown as written.
    await page.click("#clear");
    const arc = (cx, cy, rx, ry, from, to, n = 12) => Array.from({ length: n + 1 }, (_, k) => {
      const t = from + ((to - from) * k) / n;
      return [cx + rx * Math.sin(t), cy - ry * Math.cos(t)];
    });
    await draw([
      [[0.12, 0.2], [0.12, 0.8]],                                            // 1
      [...arc(0.23, 0.35, 0.045, 0.15, -1.4, 2.2), [0.19, 0.8], [0.29, 0.8]], // 2
      [[0.34, 0.82], [0.42, 0.18]],                                          // /
      oval(0.51, 0.05),                                                      // 0
      [[0.68, 0.2], [0.61, 0.2], [0.6, 0.47]],                               // 5: bar and stem
      arc(0.635, 0.62, 0.05, 0.16, -1.2, 3.9),                              //    its bowl
    ], wide, 3);
    const date = await page.evaluate(() => ({
      number: document.querySelector("#number").textContent,
      written: document.querySelector("#number-written").textContent,
      result: window.digitsLastResult,
    }));
    await page.screenshot({ path: join(out, "date.png") });
    assert.equal(date.result.status, 200, JSON.stringify(date.result));
    assert.equal(date.result.text, "1205", `12/05 read as ${JSON.stringify(date.result)}`);
    assert.equal(date.number, "1205");
    if (date.result.formatted !== "1205") {
      assert.equal(date.written, `as written: ${date.result.formatted}`);
    }
    console.log(`date: shows ${date.number} (${date.written || "no separator read"})`);

    // Two lines of writing, one above the other: each line's number shown, every digit boxed.
    await page.click("#clear");
    await draw([
      [[0.15, 0.08], [0.15, 0.38]], [[0.25, 0.08], [0.25, 0.38]],                          // above
      [[0.15, 0.55], [0.15, 0.92]], [[0.25, 0.55], [0.25, 0.92]], [[0.35, 0.55], [0.35, 0.92]], // below
    ], wide, 3);
    const two = await page.evaluate(() => ({
      number: document.querySelector("#number").textContent,
      message: document.querySelector("#message").textContent,
      result: window.digitsLastResult,
    }));
    await page.screenshot({ path: join(out, "two-lines.png") });
    assert.equal(two.result.status, 200, JSON.stringify(two.result));
    const numbers = two.result.numbers || [];
    assert.equal(numbers.length, 2, `two lines read as ${JSON.stringify(two.result)}`);
    assert.equal(two.number, numbers.map(n => n.text || "\u2013").join(" \u00b7 "));
    assert.ok(two.message.startsWith("2 numbers"), two.message);
    console.log(`two lines: shows ${two.number}`);
    await page.click("#clear");
    assert.equal(await page.textContent("#number"), "\u2013");
    await page.uncheck("#mode-number");
    assert.equal(await page.evaluate(() => document.querySelector("#canvas").width), 280);
    console.log(`number mode checked in ${Date.now() - started} ms`);
  }

  // The layout on a phone-sized screen, for a look.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.screenshot({ path: join(out, "phone.png") });

  if (site) {
    const apiCalls = asked.filter(p => p.startsWith("/api"));
    assert.deepEqual(apiCalls, [], "the static page asked for an API");
    assert.ok(asked.includes("/model.onnx"), `the page did not load model.onnx: ${asked}`);
    console.log(`static site: the page fetched only ${[...new Set(asked)].join(", ")}`);
  }
  if (logs.some(l => l.startsWith("page error"))) throw new Error(logs.join("\n"));
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  if (files) files.server.close();
}
console.log(failed ? "e2e: FAILED" : "e2e: all checks passed");
process.exit(failed ? 1 : 0);
