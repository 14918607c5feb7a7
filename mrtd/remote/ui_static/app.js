/* mrtd control surface: built at run time from the daemon's OSCQuery tree.
 *
 * Plain ES2020, no build step, no network beyond the daemon that served it.
 * Talks to the daemon over the OSCQuery websocket only: binary OSC both ways,
 * LISTEN for feedback. Every element that sends or follows an address carries
 * data-osc="<address>"; every writable address of the tree gets at least one.
 *
 * Voices (mrtd serve --voices N): the tree then also holds /mrtd/voice/<n>/...;
 * the page is built from the plain addresses, and a voice selector in the header
 * switches the whole surface to one voice: what it sends, LISTENs to and shows
 * goes through that voice's paths (/mrtd/... stays voice 1). ?voice=N opens on a
 * voice. With one voice there is no selector and nothing changes.
 */
(function () {
  'use strict';

  // ------------------------------------------------------------------ OSC 1.0 codec
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: false });

  function pad4(n) { return (n + 3) & ~3; }

  function oscString(s) {
    const b = enc.encode(String(s));
    const out = new Uint8Array(pad4(b.length + 1));
    out.set(b);
    return out;
  }

  /** Encode one message. args: array of [tag, value]; tags i f s b T F. */
  function encodeMessage(address, args) {
    const parts = [oscString(address), oscString(',' + args.map(a => a[0]).join(''))];
    for (const [tag, v] of args) {
      if (tag === 'i') {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setInt32(0, Math.round(Number(v)) | 0, false);
        parts.push(b);
      } else if (tag === 'f') {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setFloat32(0, Number(v), false);
        parts.push(b);
      } else if (tag === 's') {
        parts.push(oscString(v));
      } else if (tag === 'b') {
        const data = v instanceof Uint8Array ? v : new Uint8Array(v);
        const b = new Uint8Array(4 + pad4(data.length));
        new DataView(b.buffer).setInt32(0, data.length, false);
        b.set(data, 4);
        parts.push(b);
      } else if (tag === 'T' || tag === 'F' || tag === 'N' || tag === 'I') {
        // no data
      } else {
        throw new Error('unsupported OSC type ' + tag);
      }
    }
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out.buffer;
  }

  function readString(view, bytes, o) {
    let end = o;
    while (end < bytes.length && bytes[end] !== 0) end++;
    if (end >= bytes.length) throw new Error('unterminated OSC string');
    return [dec.decode(bytes.subarray(o, end)), pad4(end + 1)];
  }

  /** Decode a packet (message or bundle) into a list of {address, args, types}. */
  function decodePacket(buf, out) {
    out = out || [];
    const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let [address, o] = readString(view, bytes, 0);
    if (address === '#bundle') {
      o += 8; // time tag
      while (o + 4 <= bytes.length) {
        const size = view.getInt32(o, false);
        o += 4;
        if (size < 0 || o + size > bytes.length) throw new Error('bad bundle element size');
        decodePacket(bytes.subarray(o, o + size), out);
        o += size;
      }
      return out;
    }
    let types = ',';
    if (o < bytes.length) [types, o] = readString(view, bytes, o);
    const args = [];
    for (const t of types.slice(1)) {
      switch (t) {
        case 'i': args.push(view.getInt32(o, false)); o += 4; break;
        case 'f': args.push(view.getFloat32(o, false)); o += 4; break;
        case 'd': args.push(view.getFloat64(o, false)); o += 8; break;
        case 'h': args.push(Number(view.getBigInt64(o, false))); o += 8; break;
        case 't': args.push(Number(view.getBigUint64(o, false))); o += 8; break;
        case 's': case 'S': { let s; [s, o] = readString(view, bytes, o); args.push(s); break; }
        case 'c': args.push(String.fromCharCode(view.getInt32(o, false))); o += 4; break;
        case 'r': case 'm': args.push(view.getUint32(o, false)); o += 4; break;
        case 'b': {
          const n = view.getInt32(o, false);
          o += 4;
          args.push(bytes.slice(o, o + n));
          o += pad4(n);
          break;
        }
        case 'T': args.push(true); break;
        case 'F': args.push(false); break;
        case 'N': args.push(null); break;
        case 'I': args.push(Infinity); break;
        default: throw new Error('unknown OSC type tag ' + t);
      }
    }
    out.push({ address, args, types: types.slice(1) });
    return out;
  }

  // ------------------------------------------------------------------ helpers
  const $ = (sel, root) => (root || document).querySelector(sel);
  const params = new URLSearchParams(location.search);
  const TOKEN = params.get('token') || '';

  function withToken(url) {
    if (!TOKEN) return url;
    return url + (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(TOKEN);
  }

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function idFor(address, suffix) {
    return 'ctl' + address.replace(/[^A-Za-z0-9]+/g, '-') + (suffix ? '-' + suffix : '');
  }

  function humanise(word) {
    const s = word.replace(/_(ms|hz|db|s)$/i, '').replace(/_/g, ' ');
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function fmt(v, digits) {
    if (typeof v !== 'number' || !isFinite(v)) return String(v);
    if (Number.isInteger(v)) return String(v);
    const a = Math.abs(v);
    const d = digits !== undefined ? digits : (a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
    return v.toFixed(d);
  }

  // message area ---------------------------------------------------------------
  function message(text, kind) {
    const box = $('#messages');
    if (!box) return;
    const item = h('div', { class: 'msg ' + (kind || 'error') }, text);
    box.prepend(item);
    while (box.children.length > 6) box.lastElementChild.remove();
    setTimeout(() => { item.classList.add('old'); }, 20000);
  }

  // ------------------------------------------------------------------ tree
  /** node: {path, types, access, range[], unit[], desc, tags[], value} */
  const nodes = new Map();

  function flatten(node, into, all) {
    into = into || nodes;
    if (!node || typeof node !== 'object') return;
    if (!all && node.FULL_PATH === VOICE_ROOT) return; // the voices' copies: see voiceCountOf
    if (node.FULL_PATH && (node.ACCESS || node.TYPE)) {
      const types = typeof node.TYPE === 'string' ? node.TYPE : '';
      into.set(node.FULL_PATH, {
        path: node.FULL_PATH,
        types,
        access: node.ACCESS | 0,
        range: Array.isArray(node.RANGE) ? node.RANGE : [],
        unit: Array.isArray(node.UNIT) ? node.UNIT : (node.UNIT ? [node.UNIT] : []),
        desc: node.DESCRIPTION || '',
        tags: Array.isArray(node.TAGS) ? node.TAGS : [],
        value: Array.isArray(node.VALUE) ? node.VALUE : null,
      });
    }
    if (node.CONTENTS) for (const k of Object.keys(node.CONTENTS)) flatten(node.CONTENTS[k], into, all);
  }

  // ------------------------------------------------------------------ voices
  const VOICE_ROOT = '/mrtd/voice';
  let voiceCount = 1; // voices the daemon runs (from the tree)
  let voice = 1; // the voice this surface shows and steers

  function voiceCountOf(tree) {
    const m = tree && tree.CONTENTS && tree.CONTENTS.mrtd;
    const v = m && m.CONTENTS && m.CONTENTS.voice;
    if (!v || !v.CONTENTS) return 1;
    const ns = Object.keys(v.CONTENTS).map(Number).filter(n => Number.isInteger(n) && n >= 1);
    return ns.length ? Math.max(...ns) : 1;
  }

  /** The address on the wire for the voice shown: voice 1 keeps the plain form. */
  function wire(address) {
    return voice > 1 && address.startsWith('/mrtd/') ? VOICE_ROOT + '/' + voice + address.slice(5) : address;
  }

  /** The plain address of a message from the daemon, or null when it belongs to
   * another voice than the one shown (a LISTEN being replaced). */
  function unwire(address) {
    if (address.startsWith(VOICE_ROOT + '/')) {
      const m = /^\/mrtd\/voice\/(\d+)(\/.*)$/.exec(address);
      return m && Number(m[1]) === voice ? '/mrtd' + m[2] : null;
    }
    return voice === 1 || address === '/mrtd/error' ? address : null;
  }

  const readable = n => n && (n.access === 1 || n.access === 3);
  const writable = n => n && (n.access === 2 || n.access === 3);

  /** What kind of widget one argument wants. */
  function argSpec(n, i) {
    const t = n.types[i] || '';
    const r = n.range[i] || {};
    const unit = n.unit[i] || '';
    if (Array.isArray(r.VALS)) return { kind: 'enum', vals: r.VALS, tag: 's', unit };
    if (t === 'i' && r.MIN === 0 && r.MAX === 1) return { kind: 'bool', tag: 'i', unit };
    if (t === 'i' || t === 'f') {
      const min = typeof r.MIN === 'number' ? r.MIN : null;
      const max = typeof r.MAX === 'number' ? r.MAX : null;
      let step;
      if (t === 'i') step = 1;
      else if (min !== null && max !== null) step = Math.pow(10, Math.floor(Math.log10((max - min) / 200)));
      else step = 'any';
      const wide = min === null || max === null || (t === 'i' && max - min > 100000);
      return { kind: wide ? 'number' : 'range', tag: t, min, max, step, unit };
    }
    if (t === 's') return { kind: 'text', tag: 's', unit };
    if (t === 'b') return { kind: 'blob', tag: 'b', unit };
    return { kind: 'text', tag: 's', unit };
  }

  // ------------------------------------------------------------------ bindings (feedback)
  /** address -> [fn(args)] */
  const followers = new Map();
  const shown = new Set(); // readable addresses with an element: LISTENed

  function follow(address, fn) {
    if (!followers.has(address)) followers.set(address, []);
    followers.get(address).push(fn);
    shown.add(address);
  }

  /** Guard: a control the user is moving is not moved by feedback; the last value
   * that arrived meanwhile is applied when the user lets go. */
  function guarded(el, apply) {
    return (args) => {
      if (el._dragging || Date.now() < (el._userUntil || 0) || (document.activeElement === el && el.type === 'text')) {
        el._pending = args;
        clearTimeout(el._pendingTimer);
        el._pendingTimer = setTimeout(() => {
          const p = el._pending;
          el._pending = null;
          if (p) guarded(el, apply)(p);
        }, 300);
        return;
      }
      apply(args);
    };
  }

  function markUser(el) { el._userUntil = Date.now() + 250; }

  function deliver(msg) {
    const list = followers.get(msg.address);
    if (list) for (const fn of list) {
      try { fn(msg.args); } catch (e) { /* a bad value must not stop the feed */ }
    }
    const n = nodes.get(msg.address);
    if (n && readable(n)) n.value = msg.args;
  }

  // ------------------------------------------------------------------ websocket
  let ws = null;
  let wsOpen = false;
  let retry = 500;

  function wsURL() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return withToken(proto + '//' + location.host + '/');
  }

  function send(address, args) {
    if (!ws || ws.readyState !== 1) {
      message('not connected: ' + address + ' not sent', 'warn');
      return false;
    }
    try {
      ws.send(encodeMessage(wire(address), args || []));
      return true;
    } catch (e) {
      message('could not send ' + address + ': ' + e.message);
      return false;
    }
  }

  function listenAll(command) {
    const extra = ['/mrtd/meters', '/mrtd/frame', '/mrtd/spectrum'];
    for (const a of new Set([...shown, ...extra])) {
      if (a === '/mrtd/spectrum' || nodes.has(a)) {
        ws.send(JSON.stringify({ COMMAND: command || 'LISTEN', DATA: wire(a) }));
      }
    }
  }

  function connect() {
    let sock;
    try {
      sock = new WebSocket(wsURL());
    } catch (e) {
      setConn(false, 'cannot open websocket');
      return;
    }
    ws = sock;
    sock.binaryType = 'arraybuffer';
    sock.onopen = () => {
      wsOpen = true;
      retry = 500;
      setConn(true);
      try { listenAll(); } catch (e) { /* closed meanwhile */ }
      refreshValues();
      pollStatus();
    };
    sock.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        let text = ev.data;
        try {
          const j = JSON.parse(ev.data);
          text = j.DATA || j.ERROR || j.error || ev.data;
          if (j.COMMAND && j.COMMAND !== 'ERROR') return; // e.g. PATH_CHANGED: nothing to do
        } catch (e) { /* plain text */ }
        if (String(text).includes('/mrtd/spectrum')) return; // a daemon without a spectrum
        message(String(text), 'warn');
        return;
      }
      let msgs;
      try { msgs = decodePacket(ev.data); } catch (e) { message('bad OSC from the daemon: ' + e.message); return; }
      for (const m of msgs) {
        const a = unwire(m.address);
        if (a === null) continue;
        m.address = a;
        handle(m);
      }
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      const was = wsOpen;
      wsOpen = false;
      setConn(false, was ? 'connection lost; retrying' : 'no connection; retrying');
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 8000);
    };
    sock.onerror = () => { /* onclose follows */ };
  }

  function setConn(ok, why) {
    document.body.dataset.connected = ok ? '1' : '0';
    const el = $('#conn');
    if (el) {
      el.textContent = ok ? 'connected' : (why || 'disconnected');
      el.className = ok ? 'conn ok' : 'conn bad';
    }
  }

  function handle(m) {
    if (m.address === '/mrtd/error') {
      message((m.args[0] ? m.args[0] + ': ' : '') + (m.args[1] !== undefined ? m.args[1] : ''));
      return;
    }
    if (m.address === '/mrtd/status') { showStatus(m.args); return; }
    if (m.address === '/mrtd/meters') { showMeters(m.args); }
    else if (m.address === '/mrtd/spectrum') { drawSpectrum(m.args[0]); return; }
    else if (m.address === '/mrtd/frame') { setText('status-frame', m.args[0]); }
    deliver(m);
  }

  async function refreshValues() {
    // after a reconnect the daemon may have moved on: take the tree's VALUEs again
    if (!refreshValues.first) { refreshValues.first = true; return; }
    try {
      applyValues(await fetchTree());
    } catch (e) { /* next reconnect tries again */ }
  }

  /** Take the shown voice's VALUEs from a tree into the page. */
  function applyValues(tree) {
    const fresh = new Map();
    flatten(tree, fresh, true);
    for (const [a, mine] of nodes) {
      const n = fresh.get(wire(a));
      if (!n) continue;
      mine.value = n.value;
      if (n.value && n.value.length && followers.has(a)) deliver({ address: a, args: n.value });
    }
  }

  /** Show and steer voice ``n``: notes held on the old voice are released there, its
   * LISTENs replaced by the new voice's, and the controls take the new voice's values. */
  async function selectVoice(n) {
    n = Number(n);
    if (!Number.isInteger(n) || n < 1 || n > voiceCount || n === voice) return;
    for (const [src, p] of [...held]) noteOff(p, src);
    const open = ws && ws.readyState === 1;
    if (open) { try { listenAll('IGNORE'); } catch (e) { /* closing */ } }
    voice = n;
    showVoice();
    if (open) { try { listenAll(); } catch (e) { /* closing */ } }
    peakHold[0] = peakHold[1] = 0;
    for (const id of ['status-fps', 'status-rtf', 'status-queue', 'status-underruns', 'status-xruns',
      'status-latency', 'status-frame']) setText(id, '–');
    pollStatus();
    try {
      applyValues(await fetchTree(voice > 1 ? VOICE_ROOT + '/' + voice : '/'));
    } catch (e) { message('could not read voice ' + n + '\'s values: ' + e.message, 'warn'); }
  }

  function showVoice() {
    document.body.dataset.voice = String(voice);
    for (const b of document.querySelectorAll('#voices button')) {
      b.setAttribute('aria-pressed', Number(b.dataset.voice) === voice ? 'true' : 'false');
    }
    const q = new URLSearchParams(location.search);
    if (voice > 1) q.set('voice', String(voice)); else q.delete('voice');
    const qs = q.toString();
    try { history.replaceState(null, '', location.pathname + (qs ? '?' + qs : '')); } catch (e) { /* cosmetic */ }
  }

  function buildVoices() {
    if (voiceCount < 2) return null;
    const bar = h('nav', { id: 'voices', class: 'voices', 'aria-label': 'Voice' }, h('span', { class: 'k' }, 'Voice'));
    for (let n = 1; n <= voiceCount; n++) {
      bar.append(h('button', {
        type: 'button', id: 'voice-' + n, 'data-voice': n, 'aria-pressed': n === voice ? 'true' : 'false',
        title: 'Show and steer voice ' + n + (n > 1 ? ' (' + VOICE_ROOT + '/' + n + '/...)' : ' (/mrtd/...)'),
        onclick: () => { selectVoice(n); },
      }, String(n)));
    }
    return bar;
  }

  // ------------------------------------------------------------------ status, meters, spectrum
  function setText(id, v) { const el = document.getElementById(id); if (el) el.textContent = v; }

  function pollStatus() {
    if (ws && ws.readyState === 1 && nodes.has('/mrtd/status')) {
      try { ws.send(encodeMessage(wire('/mrtd/status'), [])); } catch (e) { /* closing */ }
    }
  }

  function showStatus(a) {
    // model device fps queued_ms underruns xruns latency_ms frame
    if (a.length < 7) return;
    setText('status-model', a[0]);
    setText('status-device', a[1]);
    showRate(a[2]);
    setText('status-queue', fmt(a[3], 0));
    setText('status-underruns', a[4]);
    setText('status-xruns', a[5]);
    setText('status-latency', fmt(a[6], 0));
    if (a.length > 7) setText('status-frame', a[7]);
  }

  function showRate(fps) {
    setText('status-fps', fmt(fps, 1));
    const rtf = fps / 25;
    setText('status-rtf', fmt(rtf, 2) + '×');
    const el = document.getElementById('status-rtf');
    if (el) el.classList.toggle('bad', rtf < 1);
  }

  const meterEls = {};
  const peakHold = [0, 0];

  function dbPct(lin) {
    const db = lin > 0 ? 20 * Math.log10(lin) : -120;
    return Math.max(0, Math.min(100, (db + 60) / 66 * 100)); // -60..+6 dB
  }

  function showMeters(a) {
    if (a.length < 4) return;
    const box = document.getElementById('meters');
    if (!box) return;
    for (let ch = 0; ch < 2; ch++) {
      const m = meterEls[ch];
      if (!m) continue;
      const peak = a[ch], rms = a[ch + 2];
      m.rms.style.clipPath = 'inset(0 ' + (100 - dbPct(rms)).toFixed(1) + '% 0 0)';
      peakHold[ch] = Math.max(peak, peakHold[ch] * 0.85);
      m.peak.style.left = dbPct(peakHold[ch]).toFixed(1) + '%';
      m.bar.classList.toggle('clip', peak >= 1);
      m.label.textContent = (peak > 0 ? fmt(20 * Math.log10(peak), 1) : '-∞') + ' dB';
    }
    box.dataset.peakL = fmt(a[0], 4);
    box.dataset.peakR = fmt(a[1], 4);
    box.dataset.rmsL = fmt(a[2], 4);
    box.dataset.rmsR = fmt(a[3], 4);
    if (a.length >= 6) {
      showRate(a[4]);
      setText('status-queue', fmt(a[5], 0));
    }
  }

  // spectrogram: one column per frame, newest at the right, scrolling left
  const LUT = (() => {
    // dark blue -> purple -> orange -> pale yellow
    const stops = [[0, 8, 8, 20], [0.25, 40, 20, 90], [0.5, 150, 40, 120], [0.75, 240, 120, 40], [1, 255, 245, 180]];
    const lut = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const x = i / 255;
      let k = 0;
      while (k < stops.length - 2 && x > stops[k + 1][0]) k++;
      const [x0, r0, g0, b0] = stops[k], [x1, r1, g1, b1] = stops[k + 1];
      const t = (x - x0) / (x1 - x0);
      lut[i * 3] = r0 + (r1 - r0) * t;
      lut[i * 3 + 1] = g0 + (g1 - g0) * t;
      lut[i * 3 + 2] = b0 + (b1 - b0) * t;
    }
    return lut;
  })();
  const COL_W = 3;
  let specCtx = null;
  let specCol = null;
  let specFrames = 0;

  function setupSpectrogram() {
    const canvas = document.getElementById('spectrogram');
    if (!canvas) return;
    const size = () => {
      const w = Math.max(64, Math.round(canvas.clientWidth * (window.devicePixelRatio || 1)));
      const hgt = Math.max(64, Math.round(canvas.clientHeight * (window.devicePixelRatio || 1)));
      if (canvas.width === w && canvas.height === hgt) return;
      let old = null;
      if (canvas.width > 0 && canvas.height > 0 && specCtx) {
        try { old = specCtx.getImageData(0, 0, canvas.width, canvas.height); } catch (e) { old = null; }
      }
      canvas.width = w;
      canvas.height = hgt;
      specCtx = canvas.getContext('2d');
      specCtx.fillStyle = 'rgb(8,8,20)';
      specCtx.fillRect(0, 0, w, hgt);
      if (old) specCtx.putImageData(old, w - old.width, 0);
    };
    specCtx = canvas.getContext('2d');
    size();
    if (typeof ResizeObserver === 'function') new ResizeObserver(size).observe(canvas);
    else window.addEventListener('resize', size);
  }

  function drawSpectrum(blob) {
    if (!specCtx || !blob || !blob.length) return;
    const canvas = specCtx.canvas;
    const w = canvas.width, hgt = canvas.height;
    if (!specCol || specCol.height !== hgt) specCol = specCtx.createImageData(COL_W, hgt);
    const bands = blob.length;
    const d = specCol.data;
    for (let y = 0; y < hgt; y++) {
      const band = Math.min(bands - 1, Math.floor((hgt - 1 - y) / hgt * bands)); // low at the bottom
      const v = blob[band] * 3;
      for (let x = 0; x < COL_W; x++) {
        const o = (y * COL_W + x) * 4;
        d[o] = LUT[v]; d[o + 1] = LUT[v + 1]; d[o + 2] = LUT[v + 2]; d[o + 3] = 255;
      }
    }
    specCtx.drawImage(canvas, COL_W, 0, w - COL_W, hgt, 0, 0, w - COL_W, hgt);
    specCtx.putImageData(specCol, w - COL_W, 0);
    specFrames++;
    canvas.dataset.frames = String(specFrames);
  }

  // ------------------------------------------------------------------ widgets
  function tooltip(n) { return n.desc || n.path; }

  function unitText(u) { return u ? ' (' + u + ')' : ''; }

  /** A labelled single-argument control that sends on change and follows feedback.
   * label: text; returns the row element. */
  function control(n, label, opts) {
    opts = opts || {};
    const spec = argSpec(n, 0);
    const id = idFor(n.path, opts.idSuffix);
    const title = tooltip(n);
    const labelText = label + unitText(spec.unit);
    let input, out = null;
    const row = h('div', { class: 'row ' + spec.kind, title });

    if (spec.kind === 'bool') {
      input = h('input', { type: 'checkbox', id, 'data-osc': n.path, 'aria-label': labelText });
      input.addEventListener('change', () => send(n.path, [['i', input.checked ? 1 : 0]]));
      row.classList.add('toggle');
      row.append(input, h('label', { for: id }, labelText));
      if (readable(n)) follow(n.path, guarded(input, a => { input.checked = !!Number(a[0]); }));
      if (n.value) input.checked = !!Number(n.value[0]);
      return row;
    }

    if (spec.kind === 'enum') {
      input = h('select', { id, 'data-osc': n.path });
      for (const v of spec.vals) input.append(h('option', { value: v }, v));
      input.addEventListener('change', () => send(n.path, [['s', input.value]]));
      if (readable(n)) follow(n.path, a => setSelect(input, a[0]));
      if (n.value) setSelect(input, n.value[0]);
    } else if (spec.kind === 'range' || spec.kind === 'number') {
      const tag = spec.tag;
      input = h('input', {
        type: spec.kind, id, 'data-osc': n.path,
        min: spec.min, max: spec.max, step: spec.step,
      });
      out = h('output', { for: id, class: 'val' });
      const show = () => { out.textContent = fmt(Number(input.value)) + (spec.unit ? ' ' + spec.unit : ''); };
      const valid = () => {
        const v = Number(input.value);
        if (input.value === '' || !isFinite(v)) return false;
        if (spec.min !== null && v < spec.min) return false;
        if (spec.max !== null && v > spec.max) return false;
        return !(tag === 'i' && !Number.isInteger(v));
      };
      const fire = () => {
        show();
        markUser(input);
        if (valid()) send(n.path, [[tag, Number(input.value)]]);
      };
      input.addEventListener('input', fire);
      if (spec.kind === 'number') {
        input.addEventListener('change', () => { if (!valid()) message(label + ': out of range', 'warn'); });
      }
      input.addEventListener('pointerdown', () => { input._dragging = true; });
      const up = () => { input._dragging = false; };
      input.addEventListener('pointerup', up);
      input.addEventListener('pointercancel', up);
      input.addEventListener('blur', up);
      if (readable(n)) follow(n.path, guarded(input, a => { input.value = a[0]; show(); }));
      if (n.value) input.value = n.value[0];
      else if (spec.kind === 'number' && spec.min !== null) input.value = spec.min;
      show();
    } else if (spec.kind === 'blob') {
      return argGroup(n, label, opts);
    } else {
      input = h('input', { type: 'text', id, 'data-osc': n.path, placeholder: opts.placeholder || '', autocomplete: 'off', spellcheck: 'false' });
      input.addEventListener('change', () => send(n.path, [['s', input.value]]));
      if (readable(n)) follow(n.path, guarded(input, a => { input.value = a[0]; }));
      if (n.value) input.value = n.value[0];
    }
    row.append(h('label', { for: id }, labelText), input);
    if (out) row.append(out);
    return row;
  }

  function setSelect(sel, v) {
    v = String(v);
    if (![...sel.options].some(o => o.value === v)) sel.append(h('option', { value: v }, v));
    sel.value = v;
  }

  /** A button for an address without arguments. */
  function button(n, label, cls) {
    return h('button', {
      type: 'button', 'data-osc': n.path, title: tooltip(n), class: cls || '',
      onclick: () => send(n.path, []),
    }, label);
  }

  /** Inputs per argument plus a Send button (events with arguments, multi-arg addresses). */
  function argGroup(n, label, opts) {
    opts = opts || {};
    const types = n.types;
    const box = h('div', { class: 'row group', title: tooltip(n), 'data-osc-group': n.path });
    const name = h('span', { class: 'lbl' }, label);
    box.append(name);
    const inputs = [];
    const same = types.length > 1 && [...types].every(t => t === types[0]);
    if (same && types.length > 16) {
      // a long list (128 note states): one text field of space-separated values
      const id = idFor(n.path, 'list');
      const spec = argSpec(n, 0);
      const inp = h('input', { type: 'text', id, 'data-osc-arg': '*', 'aria-label': label + ': ' + types.length + ' values, space-separated', placeholder: types.length + ' values', autocomplete: 'off' });
      inputs.push({ el: inp, spec, list: true });
      box.append(inp);
    } else {
      for (let i = 0; i < types.length; i++) {
        const spec = argSpec(n, i);
        const id = idFor(n.path, (opts.idSuffix ? opts.idSuffix + '-' : '') + 'arg' + i);
        const al = label + ' argument ' + (i + 1) + unitText(spec.unit);
        let el;
        if (spec.kind === 'bool') el = h('input', { type: 'checkbox', id, 'aria-label': al });
        else if (spec.kind === 'enum') {
          el = h('select', { id, 'aria-label': al });
          for (const v of spec.vals) el.append(h('option', { value: v }, v));
        } else if (spec.kind === 'range' || spec.kind === 'number') {
          el = h('input', { type: 'number', id, 'aria-label': al, min: spec.min, max: spec.max, step: spec.step === 'any' ? 'any' : spec.step, class: 'num' });
          el.value = spec.min !== null ? Math.max(spec.min, Math.min(spec.max !== null ? spec.max : Infinity, spec.tag === 'i' ? 0 : 0)) : 0;
          if (opts.defaults && opts.defaults[i] !== undefined) el.value = opts.defaults[i];
        } else if (spec.kind === 'blob') el = h('input', { type: 'file', id, 'aria-label': al });
        else el = h('input', { type: 'text', id, 'aria-label': al, autocomplete: 'off' });
        el.setAttribute('data-osc-arg', String(i));
        inputs.push({ el, spec });
        box.append(el);
      }
    }
    const btn = h('button', { type: 'button', 'data-osc': n.path, title: tooltip(n) }, opts.sendLabel || 'Send');
    btn.addEventListener('click', async () => {
      const args = [];
      try {
        for (const { el, spec, list } of inputs) {
          if (list) {
            const vals = el.value.trim().split(/[\s,]+/).filter(Boolean).map(Number);
            if (vals.some(v => !isFinite(v))) throw new Error('not a number');
            for (const v of vals) args.push([spec.tag, v]);
          } else if (spec.kind === 'bool') args.push(['i', el.checked ? 1 : 0]);
          else if (spec.kind === 'enum') args.push(['s', el.value]);
          else if (spec.kind === 'range' || spec.kind === 'number') {
            if (el.value === '' || !isFinite(Number(el.value))) throw new Error('a number is missing');
            args.push([spec.tag, Number(el.value)]);
          } else if (spec.kind === 'blob') {
            const f = el.files && el.files[0];
            if (!f) throw new Error('choose a file first');
            args.push(['b', new Uint8Array(await f.arrayBuffer())]);
          } else args.push(['s', el.value]);
        }
      } catch (e) {
        message(n.path + ': ' + e.message, 'warn');
        return;
      }
      send(n.path, args);
    });
    box.append(btn);
    if (readable(n)) {
      const apply = (a) => {
        if (inputs.length === 1 && inputs[0].list) { inputs[0].el.value = a.join(' '); return; }
        inputs.forEach(({ el, spec }, i) => {
          if (a[i] === undefined) return;
          if (spec.kind === 'bool') el.checked = !!Number(a[i]);
          else if (spec.kind === 'enum') setSelect(el, a[i]);
          else if (spec.kind !== 'blob') el.value = a[i];
        });
      };
      follow(n.path, apply);
      if (n.value && n.value.length) apply(n.value);
    }
    return box;
  }

  /** The right widget for any address: used by the special sections and "All controls". */
  function auto(n, label, opts) {
    if (!n.types) return h('div', { class: 'row' }, button(n, label));
    if (n.types.length === 1 && n.access === 3) return control(n, label, opts);
    if (n.access === 1) return readout(n, label);
    return argGroup(n, label, opts);
  }

  function readout(n, label) {
    const id = idFor(n.path);
    const out = h('output', { id, 'data-osc': n.path, class: 'readout', 'aria-label': label });
    follow(n.path, a => { out.textContent = a.map(v => fmt(v)).join(' '); });
    if (n.value && n.value.length) out.textContent = n.value.map(v => fmt(v)).join(' ');
    return h('div', { class: 'row', title: tooltip(n) }, h('span', { class: 'lbl' }, label), out);
  }

  function labelFor(path, strip) {
    let rest = path.replace(/^\/mrtd\//, '');
    if (strip && rest.startsWith(strip)) rest = rest.slice(strip.length);
    const parts = rest.split('/').filter(Boolean);
    return parts.map(humanise).join(' ');
  }

  function card(title, id, ...children) {
    return h('section', { class: 'card', id, 'aria-labelledby': id + '-h' }, h('h2', { id: id + '-h' }, title), ...children);
  }

  /** Build the widget for address if the tree has it; labels default from the path. */
  function w(address, label, opts) {
    const n = nodes.get(address);
    if (!n) return null;
    return auto(n, label || labelFor(address), opts);
  }

  // ------------------------------------------------------------------ HTTP API (prompts, recordings)
  let promptFiles = [];
  const audioSelects = [];

  async function api(path, init) {
    init = init || {};
    init.headers = Object.assign({}, init.headers || {});
    if (TOKEN) init.headers['X-Mrtd-Token'] = TOKEN;
    const r = await fetch(withToken(path), init);
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (!r.ok) throw new Error((body && (body.error || body.message)) || ('HTTP ' + r.status));
    return body || {};
  }

  async function refreshPrompts(select) {
    try {
      const j = await api('/ui/api/prompts');
      promptFiles = Array.isArray(j.files) ? j.files.map(f => (typeof f === 'string' ? f : f.name)).filter(Boolean) : [];
    } catch (e) {
      message('prompt files: ' + e.message, 'warn');
      return;
    }
    for (const sel of audioSelects) fillAudio(sel);
    if (select) {
      setSelect(select.el, select.name);
      select.el.dispatchEvent(new Event('change'));
    }
  }

  function fillAudio(sel) {
    const cur = sel.value;
    sel.textContent = '';
    sel.append(h('option', { value: '' }, '— none —'));
    for (const f of promptFiles) sel.append(h('option', { value: f }, f));
    if (cur) setSelect(sel, cur);
    else sel.value = '';
  }

  async function upload(file, sel) {
    if (!file) return;
    message('uploading ' + file.name + '…', 'info');
    try {
      const j = await api('/ui/api/upload?name=' + encodeURIComponent(file.name), {
        method: 'POST', body: file, headers: { 'Content-Type': 'application/octet-stream' },
      });
      const name = j.name || file.name;
      message('uploaded ' + name, 'info');
      await refreshPrompts(sel ? { el: sel, name } : null);
    } catch (e) {
      message('upload refused: ' + e.message);
    }
  }

  async function refreshRecordings() {
    const list = document.getElementById('recordings');
    if (!list) return;
    let files;
    try {
      const j = await api('/ui/api/recordings');
      files = Array.isArray(j.files) ? j.files : [];
    } catch (e) {
      message('recordings: ' + e.message, 'warn');
      return;
    }
    list.textContent = '';
    if (!files.length) list.append(h('li', { class: 'empty' }, 'no takes yet'));
    for (const f of files) {
      const name = typeof f === 'string' ? f : f.name;
      const bytes = typeof f === 'object' && f.bytes !== undefined ? f.bytes : null;
      const href = withToken('/ui/recordings/' + name.split('/').map(encodeURIComponent).join('/'));
      list.append(h('li', null,
        h('a', { href, download: name.split('/').pop() }, name),
        bytes !== null ? h('span', { class: 'size' }, ' ' + fmtBytes(bytes)) : null));
    }
  }

  function fmtBytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1024 / 1024).toFixed(1) + ' MiB';
  }

  // ------------------------------------------------------------------ sections
  function buildPrompts() {
    const slots = [];
    for (let s = 1; s <= 8; s++) {
      const base = '/mrtd/prompt/' + s + '/';
      if (!nodes.has(base + 'weight') && !nodes.has(base + 'text')) continue;
      let tools = null;
      const slot = h('fieldset', { class: 'slot', id: 'prompt-' + s }, h('legend', null, 'Slot ' + s));
      const st = nodes.get(base + 'status');
      if (st) {
        const badge = h('span', { class: 'status-badge', id: 'prompt-' + s + '-status', 'data-osc': st.path, title: tooltip(st), role: 'status' }, (st.value && st.value[0]) || '');
        const setSt = a => { badge.textContent = String(a[0]); badge.dataset.state = String(a[0]); };
        follow(st.path, setSt);
        if (st.value) setSt(st.value);
        slot.querySelector('legend').append(' ', badge);
      }
      const text = nodes.get(base + 'text');
      if (text) slot.append(control(text, 'Text', { placeholder: 'disco funk' }));
      const audio = nodes.get(base + 'audio');
      if (audio) {
        const id = idFor(audio.path);
        const sel = h('select', { id, 'data-osc': audio.path, title: tooltip(audio) });
        audioSelects.push(sel);
        fillAudio(sel);
        sel.addEventListener('change', () => send(audio.path, [['s', sel.value]]));
        follow(audio.path, a => setSelect(sel, a[0]));
        if (audio.value && audio.value[0]) setSelect(sel, audio.value[0]);
        const upId = 'prompt-' + s + '-upload';
        const up = h('input', { type: 'file', id: upId, accept: 'audio/*,.wav,.flac,.ogg,.mp3,.aiff,.aif', class: 'file' });
        up.addEventListener('change', () => { const f = up.files && up.files[0]; up.value = ''; upload(f, sel); });
        slot.append(h('div', { class: 'row', title: tooltip(audio) }, h('label', { for: id }, 'Audio'), sel));
        tools = h('div', { class: 'row buttons' }, h('label', { for: upId, class: 'btnlike' }, 'Upload audio…'), up);
      }
      const weight = nodes.get(base + 'weight');
      if (weight) slot.append(control(weight, 'Weight'));
      const clear = nodes.get(base + 'clear');
      if (!tools) tools = h('div', { class: 'row buttons' });
      if (clear) tools.append(button(clear, 'Clear', 'small'));
      slot.append(tools);
      slots.push(slot);
    }
    const refresh = h('button', { type: 'button', class: 'small', onclick: () => refreshPrompts() }, 'Refresh file list');
    return card('Prompts', 'prompts', h('div', { class: 'slots' }, ...slots), h('div', { class: 'row buttons' }, refresh));
  }

  function buildStyle() {
    const tokens = nodes.get('/mrtd/style/tokens');
    return card('Style', 'style',
      w('/mrtd/style/levels', 'Levels'),
      w('/mrtd/style/mapper', 'Map text to audio space'),
      tokens ? readout(tokens, 'Tokens now') : null);
  }

  function buildSampling() {
    return card('Sampling', 'sampling',
      w('/mrtd/guidance/style', 'Guidance: style'),
      w('/mrtd/guidance/notes', 'Guidance: notes'),
      w('/mrtd/guidance/drums', 'Guidance: drums'),
      w('/mrtd/temperature', 'Temperature'),
      w('/mrtd/topk', 'Top-k'),
      w('/mrtd/seed', 'Seed'),
      w('/mrtd/seed/rotation', 'Seed rotation'),
      w('/mrtd/drums', 'Drums'),
      nodes.has('/mrtd/drums/hit') ? h('div', { class: 'row buttons' }, button(nodes.get('/mrtd/drums/hit'), 'Drum hit')) : null);
  }

  function buildTransport() {
    const btns = h('div', { class: 'row buttons' });
    if (nodes.has('/mrtd/reset')) btns.append(button(nodes.get('/mrtd/reset'), 'Reset', 'big'));
    return card('Transport', 'transport',
      btns,
      w('/mrtd/pause', 'Pause'),
      w('/mrtd/mute', 'Mute'),
      w('/mrtd/bypass', 'Bypass (silence)'),
      w('/mrtd/volume', 'Volume'),
      w('/mrtd/latency_ms', 'Latency budget'),
      w('/mrtd/responsive', 'Responsive'),
      w('/mrtd/reset/fade_ms', 'Reset fade'));
  }

  function buildBanks() {
    const save = nodes.get('/mrtd/bank/save'), load = nodes.get('/mrtd/bank/load');
    if (!save && !load) return null;
    const r = (save || load).range[0] || { MIN: 1, MAX: 128 };
    const num = h('input', { type: 'number', id: 'bank-number', min: r.MIN, max: r.MAX, step: 1, value: 1, class: 'num' });
    const go = (n) => () => {
      const v = Number(num.value);
      if (!Number.isInteger(v) || v < r.MIN || v > r.MAX) { message('bank: a number ' + r.MIN + '..' + r.MAX, 'warn'); return; }
      send(n.path, [['i', v]]);
    };
    const row = h('div', { class: 'row buttons' }, h('label', { for: 'bank-number' }, 'Bank'), num);
    if (save) row.append(h('button', { type: 'button', 'data-osc': save.path, title: tooltip(save), onclick: go(save) }, 'Save'));
    if (load) row.append(h('button', { type: 'button', 'data-osc': load.path, title: tooltip(load), onclick: go(load) }, 'Load'));
    return card('Banks', 'banks', row);
  }

  function buildRecording() {
    const start = nodes.get('/mrtd/record/start'), stop = nodes.get('/mrtd/record/stop');
    const name = h('input', { type: 'text', id: 'record-name', placeholder: 'take.wav (optional)', autocomplete: 'off' });
    const row = h('div', { class: 'row buttons' });
    const recState = h('span', { id: 'record-state', class: 'rec-state', role: 'status' }, '');
    if (start) {
      row.append(h('button', {
        type: 'button', 'data-osc': start.path, class: 'rec', title: tooltip(start),
        onclick: () => {
          const nm = name.value.trim();
          if (send(start.path, nm ? [['s', nm]] : [])) { recState.textContent = 'recording'; recState.classList.add('on'); }
        },
      }, '● Record'));
    }
    if (stop) {
      row.append(h('button', {
        type: 'button', 'data-osc': stop.path, title: tooltip(stop),
        onclick: () => {
          if (send(stop.path, [])) { recState.textContent = ''; recState.classList.remove('on'); }
          setTimeout(refreshRecordings, 400);
          setTimeout(refreshRecordings, 1500);
        },
      }, '■ Stop'));
    }
    row.append(recState);
    const ev = h('div', { class: 'row buttons' });
    const es = nodes.get('/mrtd/record/events/start'), et = nodes.get('/mrtd/record/events/stop');
    if (es) ev.append(button(es, 'Event log start', 'small'));
    if (et) ev.append(h('button', {
      type: 'button', 'data-osc': et.path, class: 'small', title: tooltip(et),
      onclick: () => { send(et.path, []); setTimeout(refreshRecordings, 400); },
    }, 'Event log stop'));
    return card('Recording', 'recording',
      h('div', { class: 'row' }, h('label', { for: 'record-name' }, 'Name'), name),
      row, ev,
      h('h3', null, 'Takes ', h('button', { type: 'button', class: 'small', onclick: refreshRecordings }, 'Refresh')),
      h('ul', { id: 'recordings', class: 'takes' }));
  }

  function buildEffects() {
    const fx = [...nodes.values()].filter(n => n.path.startsWith('/mrtd/fx/') && writable(n));
    if (!fx.length) return null;
    const top = [], groups = new Map();
    for (const n of fx) {
      const parts = n.path.split('/'); // '', mrtd, fx, name, param
      if (parts.length <= 4) top.push(n);
      else {
        if (!groups.has(parts[3])) groups.set(parts[3], []);
        groups.get(parts[3]).push(n);
      }
    }
    const body = h('div', { class: 'fxgrid' });
    for (const [name, list] of groups) {
      list.sort((a, b) => (b.path.endsWith('/on') ? 1 : 0) - (a.path.endsWith('/on') ? 1 : 0));
      const box = h('fieldset', { class: 'fx', id: 'fx-' + name }, h('legend', null, humanise(name)));
      for (const n of list) {
        const leaf = n.path.split('/').pop();
        box.append(auto(n, leaf === 'on' ? 'On' : humanise(leaf)));
      }
      body.append(box);
    }
    return card('Effects', 'effects', ...top.map(n => auto(n, n.path === '/mrtd/fx/bypass' ? 'Bypass all effects' : labelFor(n.path, 'fx/'))), body);
  }

  // piano -------------------------------------------------------------------
  const LOW = 48, HIGH = 72;
  const keyEls = new Map();
  const held = new Map(); // source -> pitch
  const sounding = new Map(); // pitch -> count

  function noteOn(pitch, vel, source) {
    if (source !== undefined) {
      if (held.get(source) === pitch) return;
      if (held.has(source)) noteOff(held.get(source), source);
      held.set(source, pitch);
    }
    send('/mrtd/note/on', [['i', pitch], ['i', vel === undefined ? 100 : vel]]);
    sounding.set(pitch, (sounding.get(pitch) || 0) + 1);
    const k = keyEls.get(pitch);
    if (k) k.classList.add('down');
  }

  function noteOff(pitch, source) {
    if (source !== undefined) {
      if (held.get(source) !== pitch) return;
      held.delete(source);
    }
    send('/mrtd/note/off', [['i', pitch]]);
    const c = (sounding.get(pitch) || 1) - 1;
    if (c <= 0) sounding.delete(pitch); else sounding.set(pitch, c);
    const k = keyEls.get(pitch);
    if (k && !sounding.has(pitch)) k.classList.remove('down');
  }

  function buildKeyboard() {
    const on = nodes.get('/mrtd/note/on');
    const kb = h('div', { class: 'piano', id: 'piano', role: 'group', 'aria-label': 'Piano keyboard, C3 to C5' });
    const names = ['C', 'C♯', 'D', 'D♯', 'E', 'F', 'F♯', 'G', 'G♯', 'A', 'A♯', 'B'];
    const black = [1, 3, 6, 8, 10];
    let white = 0;
    const whites = [];
    for (let p = LOW; p <= HIGH; p++) {
      const isBlack = black.includes(p % 12);
      const name = names[p % 12] + (Math.floor(p / 12) - 1);
      const key = h('button', {
        type: 'button', class: 'key ' + (isBlack ? 'black' : 'white'),
        'data-osc': '/mrtd/note/on', 'data-pitch': p, 'aria-label': 'note ' + name,
        title: on ? tooltip(on) : '',
      }, isBlack ? '' : (p % 12 === 0 ? name : ''));
      if (isBlack) key.style.setProperty('--x', String(white));
      else { key.style.setProperty('--x', String(white)); white++; whites.push(key); }
      keyEls.set(p, key);
      kb.append(key);
    }
    kb.style.setProperty('--whites', String(white));

    const pitchAt = (x, y) => {
      const el = document.elementFromPoint(x, y);
      const k = el && el.closest ? el.closest('.key') : null;
      return k && kb.contains(k) ? Number(k.dataset.pitch) : null;
    };
    kb.addEventListener('pointerdown', (e) => {
      const k = e.target.closest('.key');
      if (!k) return;
      e.preventDefault();
      k._pointerAt = Date.now();
      noteOn(Number(k.dataset.pitch), 100, 'p' + e.pointerId);
    });
    kb.addEventListener('pointermove', (e) => {
      const src = 'p' + e.pointerId;
      if (!held.has(src)) return;
      const p = pitchAt(e.clientX, e.clientY);
      if (p === null) { noteOff(held.get(src), src); return; }
      if (p !== held.get(src)) { const k = keyEls.get(p); if (k) k._pointerAt = Date.now(); noteOn(p, 100, src); }
    });
    const release = (e) => {
      const src = 'p' + e.pointerId;
      if (held.has(src)) noteOff(held.get(src), src);
    };
    kb.addEventListener('pointerup', release);
    kb.addEventListener('pointercancel', release);
    kb.addEventListener('pointerleave', release);
    window.addEventListener('pointerup', release);
    // keyboard activation (Enter/Space) or a scripted .click(): a short note
    kb.addEventListener('click', (e) => {
      const k = e.target.closest('.key');
      if (!k || Date.now() - (k._pointerAt || 0) < 1500) return;
      const p = Number(k.dataset.pitch);
      noteOn(p, 100);
      setTimeout(() => noteOff(p), 250);
    });
    kb.addEventListener('contextmenu', e => e.preventDefault());

    // computer keyboard: one octave from C4
    const map = 'awsedftgyhujk';
    let octave = 60;
    const oct = h('output', { id: 'kbd-octave', class: 'val' }, 'C4');
    const showOct = () => { oct.textContent = 'C' + (octave / 12 - 1); };
    window.addEventListener('keydown', (e) => {
      if (e.ctrlKey || e.metaKey || e.altKey || e.repeat) return;
      const t = e.target;
      if (t && (t.isContentEditable || /^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName))) return;
      const key = e.key.toLowerCase();
      if (key === 'z') { octave = Math.max(12, octave - 12); showOct(); return; }
      if (key === 'x') { octave = Math.min(108, octave + 12); showOct(); return; }
      const i = map.indexOf(key);
      if (i < 0) return;
      e.preventDefault();
      noteOn(octave + i, 100, 'k' + key);
    });
    window.addEventListener('keyup', (e) => {
      const key = e.key.toLowerCase();
      if (held.has('k' + key)) noteOff(held.get('k' + key), 'k' + key);
    });
    window.addEventListener('blur', () => {
      for (const [src, p] of [...held]) if (String(src).startsWith('k')) noteOff(p, src);
    });

    const midiBtn = h('button', { type: 'button', id: 'midi-enable', class: 'small', hidden: true }, 'Enable MIDI input');
    const midiState = h('span', { id: 'midi-state', class: 'hint', role: 'status' }, '');
    setupMidi(midiBtn, midiState);

    const allOff = nodes.get('/mrtd/notes/all_off');
    const clearN = nodes.get('/mrtd/notes/clear');
    return card('Notes', 'notes',
      kb,
      h('p', { class: 'hint' }, 'Computer keys A W S E D F T G Y H U J K play one octave from ', oct, '; Z / X shift it.'),
      h('div', { class: 'row buttons' },
        allOff ? button(allOff, 'All notes off', 'small') : null,
        clearN ? button(clearN, 'Clear note states', 'small') : null,
        midiBtn, midiState),
      w('/mrtd/notes/sustain', 'Sustain'),
      w('/mrtd/notes/onset_mode', 'Onset mode'),
      w('/mrtd/notes/unmask_width', 'Unmask width'),
      w('/mrtd/midi/channel', 'MIDI channel (daemon)'));
  }

  // Web MIDI ----------------------------------------------------------------
  function setupMidi(btn, state) {
    if (typeof navigator.requestMIDIAccess !== 'function') {
      state.textContent = 'Web MIDI not available in this browser';
      return;
    }
    const start = async () => {
      try {
        const access = await navigator.requestMIDIAccess({ sysex: false });
        btn.hidden = true;
        const attach = () => {
          let n = 0;
          access.inputs.forEach((input) => { input.onmidimessage = onMidi; n++; });
          state.textContent = n ? 'MIDI: ' + n + ' input' + (n > 1 ? 's' : '') : 'MIDI: no inputs';
        };
        attach();
        access.onstatechange = attach;
      } catch (e) {
        btn.hidden = false;
        state.textContent = 'MIDI refused' + (e && e.message ? ': ' + e.message : '');
      }
    };
    btn.addEventListener('click', () => { start(); });
    // ask on load only if already granted: no prompt, no console noise
    const q = navigator.permissions && navigator.permissions.query ? navigator.permissions.query({ name: 'midi' }) : null;
    if (q && typeof q.then === 'function') {
      q.then(p => { if (p.state === 'granted') start(); else btn.hidden = false; })
        .catch(() => { btn.hidden = false; });
    } else btn.hidden = false;
  }

  function onMidi(ev) {
    const d = ev.data;
    if (!d || d.length < 2) return;
    const st = d[0] & 0xf0;
    const src = 'm' + (d[0] & 0x0f) + ':' + d[1];
    if (st === 0x90 && d.length >= 3 && d[2] > 0) {
      send('/mrtd/note/on', [['i', d[1]], ['i', d[2]]]);
      const k = keyEls.get(d[1]); if (k) k.classList.add('down');
      held.set(src, d[1]);
    } else if (st === 0x80 || (st === 0x90 && d.length >= 3 && d[2] === 0)) {
      send('/mrtd/note/off', [['i', d[1]]]);
      held.delete(src);
      const k = keyEls.get(d[1]); if (k && !sounding.has(d[1])) k.classList.remove('down');
    } else if (st === 0xb0 && d.length >= 3 && d[1] === 64) {
      send('/mrtd/notes/sustain', [['i', d[2] >= 64 ? 1 : 0]]);
    }
  }

  // header: status, meters, spectrogram ---------------------------------------
  function buildMonitor() {
    const stat = (id, label) => h('div', { class: 'stat' }, h('span', { class: 'k' }, label), h('span', { class: 'v', id }, '–'));
    const status = h('div', { class: 'stats', id: 'status', 'data-osc': '/mrtd/status', 'aria-label': 'Daemon status' },
      stat('status-model', 'model'), stat('status-device', 'device'),
      stat('status-fps', 'frames/s'), stat('status-rtf', 'real time'),
      stat('status-queue', 'queue ms'), stat('status-underruns', 'underruns'),
      stat('status-xruns', 'xruns'), stat('status-latency', 'latency ms'),
      stat('status-frame', 'frame'));
    const meters = h('div', { id: 'meters', class: 'meters', 'data-osc': '/mrtd/meters', role: 'img', 'aria-label': 'Output level meters' });
    ['L', 'R'].forEach((name, ch) => {
      const rms = h('div', { class: 'rms' }), peak = h('div', { class: 'peak' });
      const bar = h('div', { class: 'bar' }, rms, peak);
      const label = h('span', { class: 'db' }, '-∞ dB');
      meters.append(h('div', { class: 'meter' }, h('span', { class: 'ch' }, name), bar, label));
      meterEls[ch] = { rms, peak, bar, label };
    });
    const canvas = h('canvas', { id: 'spectrogram', 'data-osc': '/mrtd/spectrum', role: 'img', 'aria-label': 'Spectrogram of the output, 40 Hz to 20 kHz, newest at the right', width: 600, height: 128 });
    return card('Output', 'monitor', status, meters, h('div', { class: 'spec-wrap' }, canvas, h('span', { class: 'axis hi' }, '20k'), h('span', { class: 'axis lo' }, '40')));
  }

  function buildAll(covered) {
    const rest = [...nodes.values()].filter(n => writable(n) && !covered.has(n.path));
    const byTag = new Map();
    for (const n of rest) {
      const t = n.tags[0] || 'other';
      if (!byTag.has(t)) byTag.set(t, []);
      byTag.get(t).push(n);
    }
    const body = h('div', { class: 'all' });
    for (const [tag, list] of byTag) {
      const fs = h('fieldset', { class: 'allgroup' }, h('legend', null, humanise(tag)));
      for (const n of list) fs.append(auto(n, n.path.replace(/^\/mrtd\//, '')));
      body.append(fs);
    }
    const det = h('details', { id: 'all-controls', class: 'card wide' },
      h('summary', null, h('h2', { class: 'inline' }, 'All controls'), h('span', { class: 'hint' }, ' ' + rest.length + ' more addresses')), body);
    return det;
  }

  // ------------------------------------------------------------------ boot
  async function fetchTree(path) {
    const r = await fetch(path || '/', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) throw new Error('OSCQuery tree: HTTP ' + r.status);
    return r.json();
  }

  async function boot() {
    const main = $('#main');
    setConn(false, 'loading…');
    let tree;
    try {
      tree = await fetchTree();
    } catch (e) {
      main.append(h('p', { class: 'fatal' }, 'Could not read the daemon\'s OSCQuery tree: ' + e.message));
      setConn(false, 'no daemon');
      return;
    }
    flatten(tree);
    voiceCount = voiceCountOf(tree);
    const asked = Number(params.get('voice') || 1);
    if (Number.isInteger(asked) && asked >= 1 && asked <= voiceCount) voice = asked;
    const bar = buildVoices();
    if (bar) {
      const conn = $('#conn');
      conn.parentNode.insertBefore(bar, conn);
      showVoice();
    }
    try {
      const hi = await (await fetch('/?HOST_INFO', { cache: 'no-store' })).json();
      if (hi && hi.NAME) { setText('host-name', hi.NAME); document.title = 'mrtd · ' + hi.NAME; }
    } catch (e) { /* cosmetic */ }

    const parts = [buildMonitor(), buildPrompts(), buildKeyboard(), buildSampling(), buildTransport(), buildStyle(), buildBanks(), buildRecording(), buildEffects()];
    for (const p of parts) if (p) main.append(p);
    const covered = new Set([...main.querySelectorAll('[data-osc]')].map(e => e.getAttribute('data-osc')));
    main.append(buildAll(covered));
    setupSpectrogram();
    if (voice > 1) applyValues(tree);

    window.mrtd = {
      nodes, send, encodeMessage, decodePacket, followers, shown, selectVoice,
      get connected() { return wsOpen; }, get voice() { return voice; }, get voices() { return voiceCount; },
    };
    document.body.dataset.ready = '1';
    connect();
    setInterval(pollStatus, 1000);
    refreshPrompts();
    refreshRecordings();
  }

  window.addEventListener('unhandledrejection', (e) => {
    e.preventDefault();
    message(String(e.reason && e.reason.message ? e.reason.message : e.reason));
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => { boot(); });
  else boot();
})();
