// Media for the call kit: a peer-to-peer mesh of RTCPeerConnections, one
// for each pair of pages in a call, signalled through the room client's
// member-to-member messages (sendPeerMessage / peerMessageReceived).
//
// Each page has a random page ID. A page entering the call says hello to
// every member; each page that hears it answers with a hello of its own,
// so both learn of each other whichever came first. Of each pair, the page
// whose (userID, pageID) is greater offers: it adds the audio and video
// transceivers and sends the first offer; the other answers. Later
// renegotiation (an ICE restart) follows the "perfect negotiation"
// pattern: the page that does not offer first is polite and rolls its own
// offer back when two cross. A page that comes back after a reload has a
// new page ID: the others drop the old connection and make a new one.
//
// Camera and microphone are turned on and off by replacing the track each
// transceiver sends (no renegotiation); the on/off state travels as the
// member's published state (setMemberState), so every page shows it.
//
// This file has no imports.

const SIGNAL = 'rk-media/1';
const RESTART_AFTER_MS = 4000; // a connection disconnected this long gets an ICE restart
const RESTARTS = 2;            // ICE restarts before a member is shown as unreachable

function randomID() {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Explains a getUserMedia failure to a person. */
export function mediaErrorMessage(kind, err) {
  const device = kind === 'video' ? 'camera' : 'microphone';
  switch (err?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return `The browser blocked the ${device}: allow it in the site settings (the icon in the address bar), then turn it on again.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found: connect one, then turn it on again.`;
    case 'NotReadableError':
    case 'AbortError':
      return `The ${device} is in use by another program or could not start.`;
    default:
      return `The ${device} could not start: ${err?.message || err}`;
  }
}

/**
 * The local camera and microphone: one track of each kind at most, either
 * of which may be off (null).
 */
export class LocalMedia {
  /** video and audio: the MediaTrackConstraints the camera and microphone are asked for. */
  constructor({ video = {}, audio = {} } = {}) {
    this.videoConstraints = video;
    this.audioConstraints = audio;
    this.audio = null; // MediaStreamTrack or null
    this.video = null;
    this.audioDeviceId = '';
    this.videoDeviceId = '';
    this.stream = new MediaStream();
    this.stopped = false; // stop was called: a device that starts after is stopped at once
  }

  /**
   * Turns kind ('audio' or 'video') on or off. Turning on asks the browser
   * for the device; it rejects with the browser's error (see
   * mediaErrorMessage) and leaves the kind off.
   */
  async set(kind, on) {
    if (!on) {
      const t = this[kind];
      this[kind] = null;
      if (t) {
        t.stop();
        this.stream.removeTrack(t);
      }
      return null;
    }
    if (this[kind]) return this[kind];
    const id = kind === 'audio' ? this.audioDeviceId : this.videoDeviceId;
    const base = kind === 'video' ? this.videoConstraints : this.audioConstraints;
    const constraints = { [kind]: id ? { ...base, deviceId: { exact: id } } : { ...base } };
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    const track = stream.getTracks().find((t) => t.kind === kind);
    if (this.stopped) { // stopped while the browser was asked: nothing stays on
      for (const t of stream.getTracks()) t.stop();
      return null;
    }
    if (this[kind]) { // turned on twice at once: keep the first
      track.stop();
      return this[kind];
    }
    this[kind] = track;
    this.stream.addTrack(track);
    return track;
  }

  /** Switches kind to device id; the new track replaces the old one if on. */
  async useDevice(kind, id) {
    if (kind === 'audio') this.audioDeviceId = id; else this.videoDeviceId = id;
    if (!this[kind]) return null;
    await this.set(kind, false);
    return this.set(kind, true);
  }

  /** Stops every track. */
  stop() {
    this.stopped = true;
    this.set('audio', false);
    this.set('video', false);
  }
}

/**
 * Mesh keeps one RTCPeerConnection per other page in the call.
 *
 * events: onStream(peer) when a peer's remote stream is first known,
 * onPeerState(peer) when its connection state changes (peer.state is
 * 'connecting', 'connected', 'reconnecting' or 'unreachable'),
 * onPeerGone(peer) when it is closed, onError(message, peer).
 */
export class Mesh {
  /** admits(userID): whether that user's pages may connect (holds a place). */
  constructor({ zim, roomID, userID, local, iceServers = [], admits = () => true, events }) {
    this.zim = zim;
    this.admits = admits;
    this.roomID = roomID;
    this.userID = userID;
    this.pageID = randomID();
    this.local = local;
    this.iceServers = iceServers;
    this.events = events;
    this.peers = new Map(); // `${userID}/${connectionID}` -> peer
    this.closed = false;
    this._onMessage = (z, ev) => this._receive(ev);
    zim.on('peerMessageReceived', this._onMessage);
  }

  /** Says hello to each of userIDs (every page they have in the call). */
  hello(userIDs) {
    for (const u of userIDs) if (u !== this.userID) this._send(u, '', { t: 'hello' });
  }

  /** Closes the connections with every page of userID (it left). */
  drop(userID) {
    for (const p of [...this.peers.values()]) if (p.userID === userID) this._close(p);
  }

  /** The track of kind to send changed (turned on, off, or another device). */
  async replaceTrack(kind, track) {
    await Promise.all([...this.peers.values()].map((p) => {
      const tr = p.transceivers[kind];
      return tr ? tr.sender.replaceTrack(track).catch(() => {}) : null;
    }));
  }

  /** Leaves the mesh: says bye to everyone and closes every connection. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.zim.off('peerMessageReceived', this._onMessage);
    for (const p of [...this.peers.values()]) {
      this._send(p.userID, p.connectionID, { t: 'bye' });
      this._close(p);
    }
  }

  _send(toUserID, toConnectionID, msg) {
    if (this.closed && msg.t !== 'bye') return;
    this.zim.sendPeerMessage({ kind: SIGNAL, page: this.pageID, ...msg }, toUserID, this.roomID, { toConnectionID })
      .catch((err) => {
        // A member who left meanwhile: nothing to do (roomMemberLeft
        // closes the connection). Anything else is worth saying.
        if (err.code !== 6100016 && !this.closed) this.events.onError(`Signalling to ${toUserID} failed (${err.code}): ${err.message}`);
      });
  }

  _receive({ roomID, fromUserID, fromConnectionID, data }) {
    if (this.closed || roomID !== this.roomID || data?.kind !== SIGNAL || typeof data.page !== 'string') return;
    const key = `${fromUserID}/${fromConnectionID}`;
    let peer = this.peers.get(key);
    if (data.t === 'bye') {
      if (peer && peer.pageID === data.page) this._close(peer);
      return;
    }
    // A page without a place is not connected to. (A hello that came
    // before the news of its sender's place is answered by this page's
    // own hello when that news comes: see MediaSlots.)
    if (!this.admits(fromUserID)) return;
    if (peer && peer.pageID !== data.page) {
      // The same place in the room with a new page: it was reloaded.
      this._close(peer);
      peer = null;
    }
    if (!peer) {
      peer = this._open(fromUserID, fromConnectionID, data.page);
      if (data.t === 'hello') this._send(fromUserID, fromConnectionID, { t: 'hello' });
    }
    if (data.t === 'description') this._onDescription(peer, data.description);
    else if (data.t === 'candidate') this._onCandidate(peer, data.candidate);
  }

  _open(userID, connectionID, pageID) {
    const offerer = userID === this.userID ? this.pageID > pageID : this.userID > userID;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const peer = {
      userID, connectionID, pageID, pc, offerer,
      polite: !offerer, makingOffer: false, ignoreOffer: false,
      transceivers: {}, stream: new MediaStream(), state: 'connecting', restarts: 0, restartTimer: 0,
    };
    this.peers.set(`${userID}/${connectionID}`, peer);
    pc.onicecandidate = ({ candidate }) => {
      if (candidate) this._send(userID, connectionID, { t: 'candidate', candidate: candidate.toJSON() });
    };
    pc.ontrack = ({ track }) => {
      if (!peer.stream.getTracks().includes(track)) peer.stream.addTrack(track);
      this.events.onStream(peer);
    };
    pc.onnegotiationneeded = async () => {
      try {
        peer.makingOffer = true;
        await pc.setLocalDescription();
        this._send(userID, connectionID, { t: 'description', description: pc.localDescription.toJSON() });
      } catch (err) {
        this.events.onError(`Could not start media with ${userID}: ${err.message}`, peer);
      } finally {
        peer.makingOffer = false;
      }
    };
    pc.onconnectionstatechange = () => this._onConnectionState(peer);
    if (offerer) {
      for (const kind of ['audio', 'video']) {
        peer.transceivers[kind] = pc.addTransceiver(this.local[kind] ?? kind, { direction: 'sendrecv', streams: [this.local.stream] });
      }
    }
    return peer;
  }

  async _onDescription(peer, description) {
    const { pc } = peer;
    try {
      const collision = description.type === 'offer' && (peer.makingOffer || pc.signalingState !== 'stable');
      peer.ignoreOffer = !peer.polite && collision;
      if (peer.ignoreOffer) return;
      await pc.setRemoteDescription(description);
      if (description.type === 'offer') {
        // The answerer sends on the transceivers the offer made.
        for (const tr of pc.getTransceivers()) {
          const kind = tr.receiver.track.kind;
          if (peer.transceivers[kind] || tr.stopped) continue;
          peer.transceivers[kind] = tr;
          tr.direction = 'sendrecv';
          await tr.sender.replaceTrack(this.local[kind]);
          tr.sender.setStreams?.(this.local.stream);
        }
        await pc.setLocalDescription();
        this._send(peer.userID, peer.connectionID, { t: 'description', description: pc.localDescription.toJSON() });
      }
    } catch (err) {
      if (this.peers.get(`${peer.userID}/${peer.connectionID}`) === peer) {
        this.events.onError(`Media negotiation with ${peer.userID} failed: ${err.message}`, peer);
      }
    }
  }

  async _onCandidate(peer, candidate) {
    try {
      await peer.pc.addIceCandidate(candidate);
    } catch (err) {
      if (!peer.ignoreOffer && peer.pc.remoteDescription) this.events.onError(`A network path to ${peer.userID} was refused: ${err.message}`, peer);
    }
  }

  _onConnectionState(peer) {
    const s = peer.pc.connectionState;
    clearTimeout(peer.restartTimer);
    if (s === 'connected') {
      peer.restarts = 0;
      this._setState(peer, 'connected');
    } else if (s === 'disconnected') {
      this._setState(peer, 'reconnecting');
      peer.restartTimer = setTimeout(() => this._restart(peer), RESTART_AFTER_MS);
    } else if (s === 'failed') {
      this._restart(peer);
    }
  }

  // _restart asks for an ICE restart, up to RESTARTS times; then the peer
  // is unreachable until it comes back with a new page or a new hello.
  _restart(peer) {
    if (this.peers.get(`${peer.userID}/${peer.connectionID}`) !== peer) return;
    if (peer.restarts >= RESTARTS) {
      this._setState(peer, 'unreachable');
      return;
    }
    peer.restarts++;
    this._setState(peer, 'reconnecting');
    peer.pc.restartIce();
  }

  _setState(peer, state) {
    if (peer.state === state) return;
    peer.state = state;
    this.events.onPeerState(peer);
  }

  _close(peer) {
    const key = `${peer.userID}/${peer.connectionID}`;
    if (this.peers.get(key) !== peer) return;
    this.peers.delete(key);
    clearTimeout(peer.restartTimer);
    peer.pc.close();
    peer.state = 'closed';
    this.events.onPeerGone(peer);
  }
}

/** The room attributes that are the call's media places: rk.media.1, .2, … */
const PLACE_PREFIX = 'rk.media.';

/**
 * MediaSlots are a call's places for audio and video. A mesh carries at
 * most `size` members, and which ones the server decides: each place is a
 * room attribute (PLACE_PREFIX + 1 … size, its value the user ID) set
 * without force and deleted when its owner leaves the room. Of two pages
 * that claim the last place at once, the server gives it to one; the
 * other's set fails on the key (errorKeys), so it stays chat-only. Pages
 * connect only to members holding a place, and a place freed by a member
 * who left can be claimed by a page waiting for one.
 *
 * onChange() is called whenever the holders change.
 */
export class MediaSlots {
  constructor({ zim, roomID, userID, size, onChange = () => {} }) {
    this.zim = zim;
    this.roomID = roomID;
    this.userID = userID;
    this.size = size;
    this.onChange = onChange;
    this.holders = new Map(); // attribute key -> user ID
    this._onUpdate = (z, { roomID: id, infos }) => {
      if (id !== this.roomID) return;
      let changed = false;
      for (const { action, roomAttributes } of infos) {
        for (const [key, value] of Object.entries(roomAttributes)) {
          if (!key.startsWith(PLACE_PREFIX)) continue;
          if (action === 0) this.holders.set(key, value);
          else this.holders.delete(key);
          changed = true;
        }
      }
      if (changed) this.onChange();
    };
    zim.on('roomAttributesUpdated', this._onUpdate);
    zim.on('roomAttributesBatchUpdated', this._onUpdate);
  }

  /** Reads the places held now (the reply is newer than any event before it). */
  async load() {
    const { roomAttributes } = await this.zim.queryRoomAllAttributes(this.roomID);
    this.holders.clear();
    for (const [key, value] of Object.entries(roomAttributes)) {
      if (key.startsWith(PLACE_PREFIX)) this.holders.set(key, value);
    }
  }

  /** Whether userID holds a place. */
  holds(userID) {
    for (const u of this.holders.values()) if (u === userID) return true;
    return false;
  }

  /** The users holding a place. */
  holderIDs() { return new Set(this.holders.values()); }

  /**
   * Claims a free place for this user (kept if one of its pages holds one
   * already); resolves true when it holds one, false when all are taken.
   */
  async claim() {
    if (this.holds(this.userID)) return true;
    for (let i = 1; i <= this.size; i++) {
      const key = PLACE_PREFIX + i;
      if (this.holders.has(key)) continue;
      const { errorKeys } = await this.zim.setRoomAttributes({ [key]: this.userID }, this.roomID, { isDeleteAfterOwnerLeft: true });
      if (!errorKeys.includes(key)) {
        this.holders.set(key, this.userID);
        return true;
      }
      // Taken meanwhile by another page: its event says by whom.
      if (this.holds(this.userID)) return true;
    }
    return false;
  }

  close() {
    this.zim.off('roomAttributesUpdated', this._onUpdate);
    this.zim.off('roomAttributesBatchUpdated', this._onUpdate);
  }
}

/**
 * Watches audio levels: level(stream) is the loudness of its audio track,
 * 0 to 1, read on demand. One AudioContext for all.
 */
export class LevelMeter {
  constructor() {
    this.ctx = null;
    this.meters = new Map(); // stream -> { analyser, buf, source }
  }

  level(stream) {
    const track = stream?.getAudioTracks().find((t) => t.readyState === 'live' && t.enabled);
    if (!track) return 0;
    let m = this.meters.get(stream);
    if (!m || m.track !== track) {
      try {
        this.ctx ??= new AudioContext();
        if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
        const source = this.ctx.createMediaStreamSource(new MediaStream([track]));
        const analyser = this.ctx.createAnalyser();
        analyser.fftSize = 512;
        source.connect(analyser);
        m = { analyser, source, track, buf: new Float32Array(analyser.fftSize) };
        this.meters.set(stream, m);
      } catch {
        return 0;
      }
    }
    m.analyser.getFloatTimeDomainData(m.buf);
    let sum = 0;
    for (const x of m.buf) sum += x * x;
    return Math.sqrt(sum / m.buf.length);
  }

  forget(stream) {
    const m = this.meters.get(stream);
    if (m) m.source.disconnect();
    this.meters.delete(stream);
  }

  close() {
    for (const s of [...this.meters.keys()]) this.forget(s);
    this.ctx?.close().catch(() => {});
    this.ctx = null;
  }
}
