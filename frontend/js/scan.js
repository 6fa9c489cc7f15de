// QR codes at the gate: the resident's pickup QR (baogong:pickup:<round_id>:<code>) and the bag
// label's QR (baogong:order:<order_id>).
//
// Decoding uses the browser's own BarcodeDetector where it has one (Android Chrome, macOS), else
// jsQR (frontend/vendor/jsQR.js, pinned; see frontend/vendor/README.md), loaded only then, once,
// through a classic <script> (it is a UMD bundle, not an ES module) that sets self.jsQR.
//
// Two ways in: the live camera (startCamera: getUserMedia, needs https or localhost) and a photo
// (decodeImage on a File from <input type="file" accept="image/*" capture>), which also works where
// the camera stream is not allowed (some in-app browsers) and is what the browser tests feed.

const JSQR_URL = new URL('../vendor/jsQR.js', import.meta.url).href;
const MAX_SIDE = 1024; // a photo is scaled down to this before jsQR reads it (speed; QR stays readable)
const LIVE_SIDE = 640; // a camera frame, likewise

let jsqrPromise = null;
let detectorPromise = null;

/** Load jsQR once; resolves to the jsQR function. */
export function loadJsQR() {
  if (self.jsQR) return Promise.resolve(self.jsQR);
  if (!jsqrPromise) {
    jsqrPromise = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = JSQR_URL;
      s.async = true;
      s.onload = () => (self.jsQR ? resolve(self.jsQR) : reject(new Error('jsQR did not load')));
      s.onerror = () => reject(new Error('jsQR did not load'));
      document.head.appendChild(s);
    }).catch((e) => { jsqrPromise = null; throw e; });
  }
  return jsqrPromise;
}

/** The browser's BarcodeDetector for QR codes, or null where there is none (or no QR support). */
function nativeDetector() {
  if (!detectorPromise) {
    detectorPromise = (async () => {
      try {
        if (typeof self.BarcodeDetector !== 'function') return null;
        const formats = typeof self.BarcodeDetector.getSupportedFormats === 'function'
          ? await self.BarcodeDetector.getSupportedFormats() : ['qr_code'];
        if (!formats.includes('qr_code')) return null;
        return new self.BarcodeDetector({ formats: ['qr_code'] });
      } catch (e) {
        return null;
      }
    })();
  }
  return detectorPromise;
}

/** 'barcode-detector' or 'jsqr': which decoder this browser will use. */
export async function engine() {
  return (await nativeDetector()) ? 'barcode-detector' : 'jsqr';
}

/**
 * What a scanned text means:
 *   {kind: 'pickup', round_id, code}  the resident's QR
 *   {kind: 'order', order_id}         a bag label
 *   {kind: 'code', code}              6 digits alone (a code read off a screen by another app)
 *   null                              anything else
 */
export function parsePayload(text) {
  const s = String(text ?? '').trim();
  let m = /^baogong:pickup:([A-Za-z0-9-]{1,64}):(\d{6})$/i.exec(s);
  if (m) return { kind: 'pickup', round_id: m[1], code: m[2] };
  m = /^baogong:order:([A-Za-z0-9-]{1,64})$/i.exec(s);
  if (m) return { kind: 'order', order_id: m[1] };
  if (/^\d{6}$/.test(s)) return { kind: 'code', code: s };
  return null;
}

function scaledSize(w, h, max) {
  const k = Math.min(1, max / Math.max(w, h, 1));
  return { w: Math.max(1, Math.round(w * k)), h: Math.max(1, Math.round(h * k)) };
}

function pixels(source, w, h, max) {
  const size = scaledSize(w, h, max);
  const canvas = document.createElement('canvas');
  canvas.width = size.w;
  canvas.height = size.h;
  const g = canvas.getContext('2d', { willReadFrequently: true });
  g.imageSmoothingEnabled = true;
  g.fillStyle = '#fff'; // transparent PNGs: jsQR reads alpha 0 as black
  g.fillRect(0, 0, size.w, size.h);
  g.drawImage(source, 0, 0, size.w, size.h);
  return g.getImageData(0, 0, size.w, size.h);
}

async function toBitmap(blob) {
  if (typeof createImageBitmap === 'function') {
    try { return await createImageBitmap(blob); } catch (e) { /* fall back to <img> */ }
  }
  const url = URL.createObjectURL(blob);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

async function jsqrRead(imageData, attempts = 'attemptBoth') {
  const jsQR = await loadJsQR();
  const hit = jsQR(imageData.data, imageData.width, imageData.height, { inversionAttempts: attempts });
  return hit && typeof hit.data === 'string' && hit.data ? hit.data : null;
}

/**
 * Decode one picture: a Blob/File, an ImageData, an ImageBitmap, an <img>, a <canvas> or a <video>.
 * Resolves to the QR's text, or null when there is no readable QR in it. Throws only when the picture
 * itself cannot be read (not an image). opts.engine forces 'jsqr' or 'barcode-detector'.
 */
export async function decodeImage(source, opts = {}) {
  const which = opts.engine || await engine();
  let img = source;
  if (typeof Blob !== 'undefined' && source instanceof Blob) img = await toBitmap(source);
  const isData = typeof ImageData !== 'undefined' && img instanceof ImageData;
  if (which === 'barcode-detector') {
    const det = await nativeDetector();
    if (!det) throw new Error('BarcodeDetector is not available');
    const found = await det.detect(img);
    const hit = found.find((b) => b && b.rawValue);
    return hit ? hit.rawValue : null;
  }
  if (isData) return jsqrRead(img, opts.inversionAttempts);
  const w = img.videoWidth || img.naturalWidth || img.width;
  const h = img.videoHeight || img.naturalHeight || img.height;
  if (!w || !h) return null;
  return jsqrRead(pixels(img, w, h, opts.maxSide || MAX_SIDE), opts.inversionAttempts);
}

/** Why the camera did not start: 'insecure' | 'denied' | 'no_camera' | 'busy' | 'failed'. */
function cameraProblem(err) {
  const n = err && err.name;
  if (n === 'NotAllowedError' || n === 'SecurityError') return 'denied';
  if (n === 'NotFoundError' || n === 'OverconstrainedError' || n === 'DevicesNotFoundError') return 'no_camera';
  if (n === 'NotReadableError' || n === 'TrackStartError' || n === 'AbortError') return 'busy';
  return 'failed';
}

/**
 * Start the back camera in `video` and read frames until a QR turns up, then stop and call onText(text).
 * onText may return true to keep scanning (the text was not one of ours). Returns {stop()}.
 * Throws {problem} (see cameraProblem) when the camera cannot start; the caller offers the photo instead.
 */
export async function startCamera(video, onText) {
  if (!self.isSecureContext || !navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
    throw Object.assign(new Error('no camera API'), { problem: self.isSecureContext ? 'no_camera' : 'insecure' });
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false, video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
  } catch (err) {
    throw Object.assign(new Error('camera failed'), { problem: cameraProblem(err) });
  }
  const which = await engine();
  if (which === 'jsqr') loadJsQR().catch(() => {}); // start fetching while the camera warms up

  let stopped = false;
  let timer = null;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    stream.getTracks().forEach((tr) => tr.stop());
    video.srcObject = null;
  };
  video.setAttribute('playsinline', ''); // iOS: inline, not full screen
  video.muted = true;
  video.srcObject = stream;
  try { await video.play(); } catch (e) { /* autoplay refused: frames still arrive once shown */ }

  const tick = async () => {
    if (stopped) return;
    if (!video.isConnected) { stop(); return; } // the page moved on
    let text = null;
    try {
      if (video.readyState >= 2 && video.videoWidth) {
        text = which === 'jsqr'
          ? await jsqrRead(pixels(video, video.videoWidth, video.videoHeight, LIVE_SIDE), 'dontInvert')
          : await decodeImage(video, { engine: which });
      }
    } catch (e) { text = null; }
    if (stopped) return;
    if (text) {
      let again = false;
      try { again = await onText(text); } catch (e) { again = false; }
      if (!again) { stop(); return; }
      timer = setTimeout(tick, 1200); // the same QR is still in view: give the volunteer time to move
      return;
    }
    timer = setTimeout(tick, 150);
  };
  timer = setTimeout(tick, 200);
  return { stop };
}
