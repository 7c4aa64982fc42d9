// Evidence uploads straight to object storage, from the file chooser or files dropped on the
// upload area: presigned multipart parts sent four at a time, failed parts retried (and a Retry
// button when they fail for good), uploads resumed after a reload from the parts the store
// already holds, per-file and overall progress. Also polls a zip export's progress. No inline
// script (CSP).

const PARALLEL = 4;
const RETRIES = 5;

// -- SHA-256, incremental (Web Crypto cannot hash a file in pieces) ---------------------------
const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

class Sha256 {
  constructor() {
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.w = new Uint32Array(64);
    this.buffer = new Uint8Array(64);
    this.buffered = 0;
    this.length = 0;
  }

  block(bytes, offset) {
    const w = this.w;
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15], b = w[i - 2];
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, h] = this.h;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    const H = this.h;
    H[0] += a; H[1] += b; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
  }

  update(bytes) {
    let i = 0;
    this.length += bytes.length;
    if (this.buffered) {
      while (this.buffered < 64 && i < bytes.length) this.buffer[this.buffered++] = bytes[i++];
      if (this.buffered < 64) return;
      this.block(this.buffer, 0);
      this.buffered = 0;
    }
    for (; i + 64 <= bytes.length; i += 64) this.block(bytes, i);
    while (i < bytes.length) this.buffer[this.buffered++] = bytes[i++];
  }

  hex() {
    const bits = this.length * 8;
    const pad = new Uint8Array(((this.buffered < 56 ? 56 : 120) - this.buffered) + 8);
    pad[0] = 0x80;
    const view = new DataView(pad.buffer);
    view.setUint32(pad.length - 8, Math.floor(bits / 2 ** 32));
    view.setUint32(pad.length - 4, bits >>> 0);
    this.update(pad);
    return Array.from(this.h, (x) => (x >>> 0).toString(16).padStart(8, "0")).join("");
  }
}

// -- talking to the app -----------------------------------------------------------------------
function appRequest(csrf, method, url, body) {
  return fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).then(async (response) => {
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.error || `The server answered ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return data;
  });
}

function putPart(url, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader("ETag"));
      else reject(new Error(`part refused (${xhr.status})`));
    };
    xhr.onerror = () => reject(new Error("the connection dropped"));
    xhr.send(blob);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// -- one file ---------------------------------------------------------------------------------
class FileUpload {
  constructor(uploader, file) {
    this.uploader = uploader;
    this.file = file;
    this.sent = new Map();
    this.row = document.createElement("li");
    this.row.className = "govuk-!-margin-bottom-4";
    const id = `upload-${uploader.count++}`;
    this.label = document.createElement("label");
    this.label.className = "govuk-label";
    this.label.htmlFor = id;
    this.label.textContent = file.name;
    this.bar = document.createElement("progress");
    this.bar.id = id;
    this.bar.max = 100;
    this.bar.value = 0;
    this.text = document.createElement("p");
    this.text.className = "govuk-body-s govuk-!-margin-0";
    this.retry = document.createElement("button");
    this.retry.type = "button";
    this.retry.className = "govuk-button govuk-button--secondary govuk-!-margin-bottom-0";
    this.retry.textContent = `Retry ${file.name}`;
    this.showRetry(false);
    this.retry.addEventListener("click", () => this.run());
    this.row.append(this.label, this.bar, this.text, this.retry);
    uploader.list.append(this.row);
  }

  get storeKey() {
    return `evidence-upload:${this.uploader.startUrl}:${this.file.name}:${this.file.size}:${this.file.lastModified}`;
  }

  // govuk-button's display rule beats the hidden attribute, so a utility class hides it too.
  showRetry(shown) {
    this.retry.hidden = !shown;
    this.retry.classList.toggle("govuk-!-display-none", !shown);
  }

  say(message) {
    this.text.textContent = message;
  }

  progress() {
    let done = 0;
    for (const bytes of this.sent.values()) done += bytes;
    this.done = Math.min(done, this.file.size);
    this.bar.value = this.file.size ? Math.round((100 * this.done) / this.file.size) : 100;
    this.bar.textContent = `${this.bar.value}%`;
    this.uploader.progress();
  }

  async begin() {
    const saved = localStorage.getItem(this.storeKey);
    if (saved) {
      try {
        const status = await appRequest(this.uploader.csrf, "GET", saved);
        if (status.file.state === "uploading") {
          this.statusUrl = saved;
          this.partSize = status.file.part_size;
          this.partCount = Math.max(1, Math.ceil(this.file.size / this.partSize));
          for (const part of status.parts) this.sent.set(part.part_number, part.size);
          this.resumed = status.parts.length;
          return;
        }
      } catch (error) { /* start again below */ }
      localStorage.removeItem(this.storeKey);
    }
    const started = await appRequest(this.uploader.csrf, "POST", this.uploader.startUrl, {
      filename: this.file.name,
      size: this.file.size,
      content_type: this.file.type || "",
    });
    this.statusUrl = started.status_url;
    this.partSize = started.part_size;
    this.partCount = started.part_count;
    localStorage.setItem(this.storeKey, this.statusUrl);
  }

  endpoint(step) {
    return this.statusUrl.replace(/\/status$/, `/${step}`);
  }

  async sendPart(number) {
    const start = (number - 1) * this.partSize;
    const blob = this.file.slice(start, Math.min(start + this.partSize, this.file.size));
    for (let attempt = 1; ; attempt++) {
      try {
        const { urls } = await appRequest(this.uploader.csrf, "POST", this.endpoint("parts"), {
          part_numbers: [number],
        });
        await putPart(urls[String(number)], blob, (loaded) => {
          this.sent.set(number, loaded);
          this.progress();
        });
        this.sent.set(number, blob.size);
        this.progress();
        return;
      } catch (error) {
        this.sent.set(number, 0);
        if (attempt >= RETRIES || error.status) throw error;
        this.say(`Part ${number}: ${error.message}; trying again (${attempt} of ${RETRIES - 1})`);
        await sleep(500 * 2 ** attempt);
      }
    }
  }

  async hash() {
    const digest = new Sha256();
    const step = 4 * 1024 * 1024;
    for (let start = 0; start < this.file.size; start += step) {
      const chunk = await this.file.slice(start, start + step).arrayBuffer();
      digest.update(new Uint8Array(chunk));
    }
    return digest.hex();
  }

  // The parts still missing, in order: those not sent, or sent only in part.
  missing() {
    const waiting = [];
    for (let n = 1; n <= this.partCount; n++) {
      const expected = Math.min(this.partSize, this.file.size - (n - 1) * this.partSize);
      if (this.sent.get(n) !== expected) waiting.push(n);
    }
    return waiting;
  }

  // PARALLEL workers share the list. Once a part has failed for good the others take no new
  // parts, and every part in flight settles before the failure is reported, so a retry never
  // runs beside the attempt it replaces.
  async sendAll(waiting) {
    let failure = null;
    const worker = async () => {
      while (waiting.length && !failure) {
        try {
          await this.sendPart(waiting.shift());
        } catch (error) {
          failure = failure || error;
        }
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    if (failure) throw failure;
  }

  async run() {
    if (this.running) return;
    this.running = true;
    this.showRetry(false);
    try {
      if (!this.statusUrl) await this.begin();
      const waiting = this.missing();
      this.progress();
      if (this.resumed !== undefined) {
        this.say(`Resuming ${this.file.name}: ${this.resumed} of ${this.partCount} parts were already sent`);
        this.resumed = undefined;
      } else {
        this.say(`Sending ${this.file.name}`);
      }
      // Hashed once, while the parts are sent; a retry reuses the result.
      if (!this.hashing) {
        this.hashing = this.hash();
        this.hashing.catch(() => { this.hashing = null; });
      }
      await this.sendAll(waiting);
      this.say("Checking the file");
      const sha256 = await this.hashing;
      const result = await appRequest(this.uploader.csrf, "POST", this.endpoint("complete"), { sha256 });
      localStorage.removeItem(this.storeKey);
      const warnings = (result.warnings || []).join(" ");
      this.say(`Uploaded. Waiting for the virus and type check. ${warnings}`.trim());
      this.finished = true;
      this.uploader.progress();
      this.watch();
    } catch (error) {
      this.say(`${this.file.name} was not uploaded: ${error.message}`);
      if (!error.status || error.status >= 500) {
        this.showRetry(true);
      } else {
        // Refused for a reason a retry cannot change: choosing the file again starts afresh.
        localStorage.removeItem(this.storeKey);
      }
    } finally {
      this.running = false;
    }
  }

  async watch() {
    for (let round = 0; round < 120; round++) {
      const status = await appRequest(this.uploader.csrf, "GET", this.statusUrl).catch(() => null);
      const state = status && status.file.state;
      if (state === "clean") {
        this.say(`${this.file.name} is scanned and ready`);
        this.uploader.scanned();
        return;
      }
      if (state === "rejected") {
        this.say(`${this.file.name} was rejected: ${status.file.reason}`);
        return;
      }
      await sleep(Math.min(1000 * (round + 1), 5000));
    }
  }
}

// -- the uploader -----------------------------------------------------------------------------
class Uploader {
  constructor(root) {
    this.root = root;
    this.startUrl = root.dataset.startUrl;
    this.csrf = root.dataset.csrf;
    this.list = root.querySelector("#upload-list");
    this.overall = root.querySelector("#upload-overall");
    this.overallBar = root.querySelector("#upload-overall-bar");
    this.overallText = root.querySelector("#upload-overall-text");
    this.input = root.querySelector("#evidence-files-input");
    this.uploads = [];
    this.count = 0;
    this.input.addEventListener("change", () => {
      this.add(this.input.files);
      this.input.value = "";
    });
    // Files dragged onto the area are uploaded like chosen ones; anything else dragged over
    // it (text, links) is left to the browser.
    const carriesFiles = (event) => Array.from(event.dataTransfer?.types || []).includes("Files");
    root.addEventListener("dragover", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      root.classList.add("govuk-inset-text");
    });
    root.addEventListener("dragleave", (event) => {
      if (!root.contains(event.relatedTarget)) root.classList.remove("govuk-inset-text");
    });
    root.addEventListener("drop", (event) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      root.classList.remove("govuk-inset-text");
      this.add(event.dataTransfer.files);
    });
  }

  add(files) {
    if (!files.length) return;
    this.overall.hidden = false;
    for (const file of files) {
      const upload = new FileUpload(this, file);
      this.uploads.push(upload);
      upload.run();
    }
  }

  progress() {
    const total = this.uploads.reduce((sum, u) => sum + u.file.size, 0);
    const done = this.uploads.reduce((sum, u) => sum + (u.done || 0), 0);
    const percent = total ? Math.round((100 * done) / total) : 0;
    this.overallBar.value = percent;
    this.overallBar.textContent = `${percent}%`;
    const finished = this.uploads.filter((u) => u.finished).length;
    this.overallText.textContent = `${finished} of ${this.uploads.length} files uploaded (${percent}%)`;
  }

  scanned() {
    if (this.uploads.every((u) => u.finished)) {
      this.overallText.textContent += ". Reload the page to see the files in the list.";
    }
  }
}

// -- export progress --------------------------------------------------------------------------
async function followExport(root) {
  const bar = document.getElementById("export-bar");
  const text = document.getElementById("export-status");
  for (;;) {
    const response = await fetch(root.dataset.progressUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const data = await response.json();
    bar.value = data.percent;
    bar.textContent = `${data.percent}%`;
    if (data.state === "ready") {
      text.textContent = `Ready: ${data.total_files} files.`;
      document.getElementById("export-download").hidden = false;
      return;
    }
    if (data.state === "failed") {
      text.textContent = `The export failed: ${data.error}`;
      return;
    }
    text.textContent = `${data.done_files} of ${data.total_files} files so far.`;
    await sleep(1500);
  }
}

const uploaderRoot = document.getElementById("evidence-uploader");
if (uploaderRoot) new Uploader(uploaderRoot);
const exportRoot = document.getElementById("export-progress");
if (exportRoot) followExport(exportRoot);

export { Sha256 };
