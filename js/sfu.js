// Media for the call kit through roomkit's media server (an SFU): one
// RTCPeerConnection from this page to the node that owns the call's room,
// which forwards each member's tracks to the others.
//
// The page always offers (zim.mediaOffer) and the server answers, with
// its candidates in the answer; the page trickles its own candidates
// (zim.mediaCandidate) once its offer is answered. When the server has
// more (or less) for the page to receive it sends mediaRenegotiate with
// every track the page now gets: the page makes sure it has that many
// receiving sections of each kind and offers again. A renegotiation asked
// for while an offer is in flight waits for its answer, so the two sides
// never offer at once. When the room moves to another node (mediaRestart)
// the page makes a new connection and offers on it.
//
// The page sends four sections, its microphone, its camera, its screen
// and the screen's audio (sendonly), whose tracks are replaced as devices
// and shares go on and off (no renegotiation). The server forwards the
// screen and its audio only while the member's share state is on; a
// screen's audio plays with its user's microphone here.
// The page chooses whose video it receives (setVideo: the tiles it
// shows; zim.mediaSubscribe), and the server reuses a section freed by a
// changed choice for the next track, so which user a receiving section
// carries is read from each answer: the msid (the publisher's user ID and
// the track's ID, whose source the last mediaRenegotiate named) and SSRC
// of each section the server sends on. Each user's camera and microphone
// here are one MediaStream, and a shared screen another, kept for as long
// as the connection. The server
// forwards the audio of the loudest few only, and says who speaks
// (activeSpeakers): speakers.
// With simulcast on (a 720p camera), the camera sends SIMULCAST's three
// layers; the page gives the size of each tile with its choice of video
// (setVideo), the server forwards each user the layer that fills it, and
// pauses the layers nobody watches (mediaLayers: setLayers).
//
// This file has no imports.

/**
 * SIMULCAST is what a simulcast camera sends: three layers, a quarter, a
 * half and the whole of the camera's size, with their bitrate caps. The
 * media server forwards each subscriber the one that fills its tile.
 * (Chromium sends fewer layers of a camera under 960×540.)
 */
export const SIMULCAST = Object.freeze([
  Object.freeze({ rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 160_000 }),
  Object.freeze({ rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 450_000 }),
  Object.freeze({ rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_700_000 }),
]);

/**
 * SCREEN_CAPTURE is what a page asks getDisplayMedia for: a screen at up
 * to 15 frames a second (text stays sharp; motion is not its point) and
 * its audio, where the browser offers it (a tab's, or the system's).
 */
export const SCREEN_CAPTURE = { video: { frameRate: 15 }, audio: true };

/**
 * captureScreen asks the browser for a screen (SCREEN_CAPTURE) and the
 * room for the share (allow(): setMemberState({ share: true })) together,
 * as a share must inside the click that opens the browser's picker. Once
 * both said yes and still() (the page is in the call yet) holds, it
 * resolves with { stream }, its video hinted as detail. Otherwise it stops
 * what was captured, takes back a share the room allowed (undo(), while
 * still()), and resolves with { refused } (the room's error), { failed }
 * (the browser's) or, when the page left meanwhile, {}.
 */
export async function captureScreen({ allow, undo, still }) {
  const [captured, allowed] = await Promise.allSettled([navigator.mediaDevices.getDisplayMedia(SCREEN_CAPTURE), allow()]);
  const stream = captured.status === 'fulfilled' ? captured.value : null;
  if (allowed.status === 'fulfilled' && stream && still()) {
    for (const t of stream.getVideoTracks()) t.contentHint = 'detail';
    return { stream };
  }
  stream?.getTracks().forEach((t) => t.stop());
  if (allowed.status === 'fulfilled' && still()) await undo().catch(() => {});
  if (allowed.status === 'rejected') return { refused: allowed.reason };
  return captured.status === 'rejected' ? { failed: captured.reason } : {};
}

// serverCodec reports whether the media server takes codec (an
// RTCRtpCodec): Opus, VP8, and H.264 constrained baseline or baseline
// with packetization mode 1. The others (RTX, RED, FEC, VP9, AV1, H.265,
// the telephony codecs) it never answers with.
function serverCodec({ mimeType, sdpFmtpLine = '' }) {
  switch (mimeType.toLowerCase()) {
    case 'audio/opus':
    case 'video/vp8':
      return true;
    case 'video/h264':
      return /packetization-mode=1/.test(sdpFmtpLine) && /profile-level-id=42(e0|00)1f/i.test(sdpFmtpLine);
    default:
      return false;
  }
}

// serverExtensions are the RTP header extensions the media server takes:
// audio levels, the section's mid, transport-wide congestion control, and
// simulcast's stream IDs.
const serverExtensions = new Set([
  'urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
  'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id',
]);

// tileSizes is sizes ({userID: {width, height}}, in device pixels) as
// the server takes them: sorted by user, each rounded up to 16 pixels
// (a tile resized by a pixel is no new choice) and at most 16384.
function tileSizes(sizes) {
  const out = {};
  for (const u of Object.keys(sizes).sort()) {
    const { width, height } = sizes[u];
    if (!(width > 0 && height > 0)) continue;
    const round = (n) => Math.min(16384, Math.ceil(n / 16) * 16);
    out[u] = { width: round(width), height: round(height) };
  }
  return out;
}

// offerWhatServerTakes has transceiver t offer only the codecs and header
// extensions the server takes. A browser offers some twenty video codecs
// and a dozen extensions per section, whose lines make a call that
// receives two dozen videos offer more than a request may carry (64 KiB);
// trimmed, a section is some 700 bytes. Where the browser cannot trim,
// it offers them all and the server answers with what it takes.
function offerWhatServerTakes(t) {
  const kind = t.receiver.track.kind;
  const codecs = (globalThis.RTCRtpReceiver?.getCapabilities?.(kind)?.codecs ?? []).filter(serverCodec);
  try {
    if (codecs.length > 0 && t.setCodecPreferences) t.setCodecPreferences(codecs);
    if (t.setHeaderExtensionsToNegotiate) {
      t.setHeaderExtensionsToNegotiate(t.getHeaderExtensionsToNegotiate().map((e) => ({
        ...e, direction: e.direction === 'stopped' || serverExtensions.has(e.uri) ? e.direction : 'stopped',
      })));
    }
  } catch {
    // Refused (a mandatory extension, an older browser): it offers its own.
  }
}

/** SfuConnection is a page's media connection to the call's media server. */
export class SfuConnection {
  // events: onStream(userID) when a user's stream gains or loses a track,
  // onState(state) when the connection's state changes, onError(message).
  // simulcast: the camera sends SIMULCAST's layers.
  constructor({ zim, roomID, local, iceServers = [], simulcast = false, events }) {
    this.zim = zim;
    this.simulcast = simulcast;
    this.roomID = roomID;
    this.local = local;
    this.events = events;
    this.iceServers = iceServers;
    this.closed = false;
    this.offering = false;      // an offer is in flight
    this.again = false;         // a renegotiation was asked for meanwhile
    this.shared = { screen: null, screenAudio: null }; // the screen this page shares and its audio, sent on every connection it makes
    this.makeConnection();
    // The room moved to another node: a new connection, to it.
    this.onRestart = (_zim, ev) => {
      if (ev.roomID !== this.roomID || this.closed) return;
      const old = this.pc;
      const users = [...this.streams.keys()];
      this.makeConnection();
      old.close();
      for (const userID of users) this.events.onStream?.(userID);
      this.start(); // the new owner has no choice of video yet: sent first
    };
    zim.on('mediaRestart', this.onRestart);
    this.onRenegotiate = (_zim, ev) => {
      if (ev.roomID !== this.roomID || this.closed) return;
      this.want = { audio: 0, video: 0 };
      for (const t of ev.tracks) {
        this.want[t.kind]++;
        this.sources.set(t.trackID, t.source);
      }
      this.negotiate();
    };
    zim.on('mediaRenegotiate', this.onRenegotiate);
    this.speakers = [];         // [{ userID, level }], loudest first, as the server last said
    this.onSpeakers = (_zim, ev) => {
      if (ev.roomID !== this.roomID || this.closed) return;
      this.speakers = ev.speakers;
      this.events.onSpeakers?.(ev.speakers);
    };
    zim.on('activeSpeakers', this.onSpeakers);
    // Dynacast: the server says which camera layers someone watches.
    this.onLayers = (_zim, ev) => {
      if (ev.roomID !== this.roomID || this.closed) return;
      this.setLayers(ev.mid, ev.active);
    };
    zim.on('mediaLayers', this.onLayers);
  }

  // setLayers keeps the camera's simulcast encodings listed in active
  // (rids) sending and pauses the others, when mid is its section: one
  // change at a time (a browser refuses a second while one is pending),
  // the newest last.
  setLayers(mid, active) {
    this.layers = { mid, active };
    this.layering = (this.layering ?? Promise.resolve()).then(() => this.applyLayers());
    return this.layering;
  }

  async applyLayers() {
    const sender = this.send.video;
    const { mid, active } = this.layers;
    if (!this.simulcast || this.closed || sender.mid !== mid) return;
    const params = sender.sender.getParameters();
    let changed = false;
    for (const e of params.encodings ?? []) {
      const on = active.includes(e.rid);
      if (e.active !== on) {
        e.active = on;
        changed = true;
      }
    }
    if (!changed) return;
    try {
      await sender.sender.setParameters(params);
    } catch (err) {
      if (!this.closed) this.events.onError?.(`The camera's layers could not be changed (${err?.name ?? 'error'}): ${err?.message ?? err}`);
    }
  }

  // makeConnection makes this page's connection to the media server,
  // sending what the devices give now; what the connection before it had
  // received is forgotten.
  makeConnection() {
    const { local } = this;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    this.state = 'new';
    this.streams = new Map();    // userID -> MediaStream of that user's camera and microphone here
    this.screens = new Map();    // userID -> MediaStream of the screen that user shares
    this.sources = new Map();    // trackID -> its source ('camera', 'screen', …), as mediaRenegotiate said
    this.midUsers = new Map();   // mid -> userID whose track the section carries, as the last answer said
    this.ssrcUsers = new Map();  // SSRC -> userID, as the last answer said
    this.watched = new Set();    // received tracks whose mute and unmute redraw their user's tile
    this.want = { audio: 0, video: 0 }; // receiving sections the server asked for
    this.answered = false;       // the first offer was answered: candidates go now
    this.candidates = [];        // candidates gathered before that
    const screen = new MediaStream();
    this.send = {
      audio: pc.addTransceiver(local.audio ?? 'audio', { direction: 'sendonly', streams: [local.stream] }),
      video: pc.addTransceiver(local.video ?? 'video', {
        direction: 'sendonly', streams: [local.stream],
        ...(this.simulcast ? { sendEncodings: SIMULCAST.map((e) => ({ ...e })) } : {}),
      }),
      screen: pc.addTransceiver(this.shared.screen ?? 'video', { direction: 'sendonly', streams: [screen] }),
      screenAudio: pc.addTransceiver(this.shared.screenAudio ?? 'audio', { direction: 'sendonly', streams: [screen] }),
    };
    for (const t of Object.values(this.send)) offerWhatServerTakes(t);
    pc.addEventListener('icecandidate', ({ candidate }) => {
      if (pc !== this.pc || !candidate || !candidate.candidate) return;
      if (this.answered) this.sendCandidate(candidate.toJSON());
      else this.candidates.push(candidate.toJSON());
    });
    pc.addEventListener('connectionstatechange', () => {
      if (pc !== this.pc) return;
      this.state = pc.connectionState;
      this.events.onState?.(this.state);
    });
  }

  // start sends the page's choice of video, if it made one, and the first
  // offer.
  async start() {
    this.started = true;
    if (this.video) await this.sendVideo();
    return this.negotiate();
  }

  // setVideo chooses whose video this page receives: the users listed
  // (the tiles it shows), including what they publish later; sizes, by
  // user, is how large (device pixels) each is shown, so that of a
  // simulcast camera the server sends the layer that fills its tile.
  setVideo(userIDs, sizes) {
    const next = [...new Set(userIDs)].sort();
    const nextSizes = sizes ? tileSizes(sizes) : this.sizes;
    if (this.video && next.join('\n') === this.video.join('\n') && JSON.stringify(nextSizes) === JSON.stringify(this.sizes)) return;
    this.video = next;
    this.sizes = nextSizes;
    if (this.started) this.sendVideo(); // else start sends it
  }

  // sendVideo sends the newest choice of video: one request at a time,
  // the last choice last. (choosing is cleared in the same step as the
  // last look at chooseAgain, so a choice made after it starts anew.)
  sendVideo() {
    if (this.choosing) {
      this.chooseAgain = true;
      return this.choosing;
    }
    this.choosing = (async () => {
      try {
        do {
          this.chooseAgain = false;
          try {
            await this.zim.mediaSubscribe(this.roomID, this.video, this.sizes);
          } catch (err) {
            if (!this.closed) this.events.onError?.(`The videos to show could not be chosen (${err?.code ?? 'error'}): ${err?.message ?? err}`);
          }
        } while (this.chooseAgain && !this.closed);
      } finally {
        this.choosing = null;
      }
    })();
    return this.choosing;
  }

  // negotiate offers (again): after the one in flight, if there is one.
  async negotiate() {
    if (this.offering) {
      this.again = true;
      return;
    }
    this.offering = true;
    try {
      do {
        this.again = false;
        const { pc, send } = this;
        this.ensureReceivers();
        await pc.setLocalDescription(await pc.createOffer());
        const sources = {};
        if (send.audio.mid) sources[send.audio.mid] = 'microphone';
        if (send.video.mid) sources[send.video.mid] = 'camera';
        if (send.screen.mid) sources[send.screen.mid] = 'screen';
        if (send.screenAudio.mid) sources[send.screenAudio.mid] = 'screenAudio';
        const { sdp } = await this.zim.mediaOffer(this.roomID, pc.localDescription.sdp, sources);
        if (this.closed) return;
        if (pc !== this.pc) { // restarted meanwhile: offer on the new one
          this.again = true;
          continue;
        }
        await pc.setRemoteDescription({ type: 'answer', sdp });
        // What the answer starts is held until the server hears this
        // (awaited: before the next offer's answer).
        await this.zim.mediaAnswered(this.roomID).catch(() => {});
        if (this.closed) return;
        this.mapSections(sdp);
        if (!this.answered) {
          this.answered = true;
          for (const c of this.candidates.splice(0)) this.sendCandidate(c);
        }
      } while (this.again && !this.closed);
    } catch (err) {
      if (!this.closed) this.events.onError?.(`The call's media could not be set up (${err?.code ?? err?.name ?? 'error'}): ${err?.message ?? err}`);
    } finally {
      this.offering = false;
      // Asked for while an offer that failed was in flight (a restart
      // while the old node hung): offer again now.
      if (this.again && !this.closed) this.negotiate();
    }
  }

  // ensureReceivers adds receiving sections until there are as many of
  // each kind as the server asked for (unused ones stay for later).
  ensureReceivers() {
    for (const kind of ['audio', 'video']) {
      const have = this.pc.getTransceivers().filter((t) => t.receiver.track.kind === kind && !this.sends(t) && t.direction !== 'stopped').length;
      for (let i = have; i < this.want[kind]; i++) offerWhatServerTakes(this.pc.addTransceiver(kind, { direction: 'recvonly' }));
    }
  }

  // sends reports whether transceiver t is one this page sends on.
  sends(t) {
    return Object.values(this.send).includes(t);
  }

  sendCandidate(candidate) {
    this.zim.mediaCandidate(this.roomID, candidate).catch(() => {
      // A candidate the server cannot use: the others may still connect.
    });
  }

  // mapSections reads from the answer which user each receiving section
  // carries now (its msid's stream ID, where the server sends on it) and
  // the SSRCs it sends under, and moves each receiving track into its
  // user's stream; the users whose streams changed are redrawn.
  mapSections(sdp) {
    this.midUsers = new Map();
    this.ssrcUsers = new Map();
    const midScreens = new Set(); // the sections carrying a shared screen
    for (const section of sdp.split(/\r?\n(?=m=)/).slice(1)) {
      const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
      const [, user, trackID] = /^a=msid:(\S+)(?: (\S+))?/m.exec(section) ?? [];
      if (!mid || !user || user === '-' || !/^a=(sendonly|sendrecv)/m.test(section)) continue;
      this.midUsers.set(mid, user);
      if (this.sources.get(trackID) === 'screen') midScreens.add(mid);
      for (const [, ssrc] of section.matchAll(/^a=ssrc:(\d+) /gm)) this.ssrcUsers.set(Number(ssrc), user);
    }
    const changed = new Set();
    for (const t of this.pc.getTransceivers()) {
      if (this.sends(t) || !t.mid) continue;
      const track = t.receiver.track;
      const userID = this.midUsers.get(t.mid);
      const streams = midScreens.has(t.mid) ? this.screens : this.streams;
      for (const map of [this.streams, this.screens]) {
        for (const [id, stream] of map) {
          if ((id !== userID || map !== streams) && stream.getTracks().includes(track)) {
            stream.removeTrack(track);
            changed.add(id);
          }
        }
      }
      if (!userID) continue;
      let stream = streams.get(userID);
      if (!stream) {
        stream = new MediaStream();
        streams.set(userID, stream);
      }
      if (!stream.getTracks().includes(track)) {
        stream.addTrack(track);
        changed.add(userID);
      }
      if (!this.watched.has(track)) {
        this.watched.add(track);
        const redraw = () => {
          for (const map of [this.streams, this.screens]) for (const [id, s] of map) if (s.getTracks().includes(track)) this.events.onStream?.(id);
        };
        track.addEventListener('mute', redraw);
        track.addEventListener('unmute', redraw);
        track.addEventListener('ended', redraw);
      }
    }
    for (const userID of changed) this.events.onStream?.(userID);
  }

  // streamOf is the stream of userID's tracks here, or null.
  streamOf(userID) {
    const s = this.streams.get(userID);
    return s && s.getTracks().some((t) => t.readyState === 'live') ? s : null;
  }

  // screenOf is the stream of the screen userID shares here, or null.
  screenOf(userID) {
    const s = this.screens.get(userID);
    return s && s.getTracks().some((t) => t.readyState === 'live' && !t.muted) ? s : null;
  }

  // sendScreen sends stream's video as this page's screen and its audio,
  // when the browser gave one, as the screen's audio (null: neither).
  async sendScreen(stream) {
    await Promise.all([
      this.replaceTrack('screen', stream?.getVideoTracks()[0] ?? null),
      this.replaceTrack('screenAudio', stream?.getAudioTracks()[0] ?? null),
    ]);
  }

  // replaceTrack sends track (null: nothing) as this page's kind
  // ('audio', 'video', 'screen' or 'screenAudio').
  async replaceTrack(kind, track) {
    if (kind in this.shared) this.shared[kind] = track;
    await this.send[kind]?.sender.replaceTrack(track);
  }

  // stats is what this page receives, per user: bytes of audio and video,
  // frames decoded and the widest frame.
  async stats() {
    const report = await this.pc.getStats().catch(() => new Map());
    const byUser = new Map();
    for (const r of report.values()) {
      if (r.type !== 'inbound-rtp') continue;
      // By SSRC: a reused section's earlier stream (another user's) may
      // still be listed under the same mid.
      const userID = this.ssrcUsers.size > 0 ? this.ssrcUsers.get(r.ssrc) : this.midUsers.get(r.mid);
      if (!userID) continue;
      let out = byUser.get(userID);
      if (!out) {
        out = { userID, state: this.state, audioBytesReceived: 0, audioEnergy: 0, videoBytesReceived: 0, framesDecoded: 0, frameWidth: 0, freezeCount: 0 };
        byUser.set(userID, out);
      }
      if (r.kind === 'audio') {
        out.audioBytesReceived += r.bytesReceived ?? 0;
        out.audioEnergy += r.totalAudioEnergy ?? 0;
      }
      if (r.kind === 'video') {
        out.videoBytesReceived += r.bytesReceived ?? 0;
        out.framesDecoded += r.framesDecoded ?? 0;
        out.frameWidth = Math.max(out.frameWidth, r.frameWidth ?? 0);
        out.freezeCount += r.freezeCount ?? 0;
      }
    }
    return [...byUser.values()].filter((s) => this.streams.has(s.userID) && this.streamOf(s.userID));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.zim.off('mediaRenegotiate', this.onRenegotiate);
    this.zim.off('mediaLayers', this.onLayers);
    this.zim.off('activeSpeakers', this.onSpeakers);
    this.zim.off('mediaRestart', this.onRestart);
    this.pc.close();
    this.streams.clear();
  }
}
