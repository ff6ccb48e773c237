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
// never offer at once.
//
// The page sends two sections, its microphone and its camera (sendonly),
// whose tracks are replaced as devices go on and off (no renegotiation).
// A received track's stream ID is its publisher's user ID: tracks are
// grouped into one MediaStream per user. The server forwards the audio of
// the loudest few only, and says who speaks (activeSpeakers): speakers.
//
// This file has no imports.

/** SfuConnection is a page's media connection to the call's media server. */
export class SfuConnection {
  // events: onStream(userID) when a user's stream gains or loses a track,
  // onState(state) when the connection's state changes, onError(message).
  constructor({ zim, roomID, local, iceServers = [], events }) {
    this.zim = zim;
    this.roomID = roomID;
    this.local = local;
    this.events = events;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.state = 'new';
    this.closed = false;
    this.streams = new Map();   // userID -> MediaStream of that user's tracks here
    this.trackUsers = new Map(); // trackID -> userID, as the server listed them
    this.want = { audio: 0, video: 0 }; // receiving sections the server asked for
    this.offering = false;      // an offer is in flight
    this.again = false;         // a renegotiation was asked for meanwhile
    this.answered = false;      // the first offer was answered: candidates go now
    this.candidates = [];       // candidates gathered before that
    this.send = {
      audio: this.pc.addTransceiver(local.audio ?? 'audio', { direction: 'sendonly', streams: [local.stream] }),
      video: this.pc.addTransceiver(local.video ?? 'video', { direction: 'sendonly', streams: [local.stream] }),
    };
    this.pc.addEventListener('icecandidate', ({ candidate }) => {
      if (!candidate || !candidate.candidate) return;
      if (this.answered) this.sendCandidate(candidate.toJSON());
      else this.candidates.push(candidate.toJSON());
    });
    this.pc.addEventListener('connectionstatechange', () => {
      this.state = this.pc.connectionState;
      this.events.onState?.(this.state);
    });
    this.pc.addEventListener('track', ({ track, streams }) => this.addTrack(track, streams[0]?.id ?? ''));
    this.onRenegotiate = (_zim, ev) => {
      if (ev.roomID !== this.roomID || this.closed) return;
      this.trackUsers = new Map(ev.tracks.map((t) => [t.trackID, t.userID]));
      this.want = { audio: 0, video: 0 };
      for (const t of ev.tracks) this.want[t.kind]++;
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
  }

  // start sends the first offer.
  start() {
    return this.negotiate();
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
        this.ensureReceivers();
        await this.pc.setLocalDescription(await this.pc.createOffer());
        const sources = {};
        if (this.send.audio.mid) sources[this.send.audio.mid] = 'microphone';
        if (this.send.video.mid) sources[this.send.video.mid] = 'camera';
        const { sdp } = await this.zim.mediaOffer(this.roomID, this.pc.localDescription.sdp, sources);
        if (this.closed) return;
        await this.pc.setRemoteDescription({ type: 'answer', sdp });
        if (!this.answered) {
          this.answered = true;
          for (const c of this.candidates.splice(0)) this.sendCandidate(c);
        }
      } while (this.again && !this.closed);
    } catch (err) {
      if (!this.closed) this.events.onError?.(`The call's media could not be set up (${err?.code ?? err?.name ?? 'error'}): ${err?.message ?? err}`);
    } finally {
      this.offering = false;
    }
  }

  // ensureReceivers adds receiving sections until there are as many of
  // each kind as the server asked for (unused ones stay for later).
  ensureReceivers() {
    for (const kind of ['audio', 'video']) {
      const have = this.pc.getTransceivers().filter((t) => t.receiver.track.kind === kind && t !== this.send[kind] && t.direction !== 'stopped').length;
      for (let i = have; i < this.want[kind]; i++) this.pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  sendCandidate(candidate) {
    this.zim.mediaCandidate(this.roomID, candidate).catch(() => {
      // A candidate the server cannot use: the others may still connect.
    });
  }

  // addTrack puts a received track in its user's stream; it leaves the
  // stream when it ends or its section goes.
  addTrack(track, streamID) {
    const userID = this.trackUsers.get(track.id) ?? streamID;
    if (!userID) return;
    let stream = this.streams.get(userID);
    if (!stream) {
      stream = new MediaStream();
      this.streams.set(userID, stream);
    }
    for (const old of stream.getTracks()) if (old.kind === track.kind && old !== track && old.readyState === 'ended') stream.removeTrack(old);
    stream.addTrack(track);
    const gone = () => {
      if (!stream.getTracks().includes(track)) return;
      stream.removeTrack(track);
      this.events.onStream?.(userID);
    };
    track.addEventListener('ended', gone);
    track.addEventListener('mute', () => this.events.onStream?.(userID));
    track.addEventListener('unmute', () => this.events.onStream?.(userID));
    this.events.onStream?.(userID);
  }

  // streamOf is the stream of userID's tracks here, or null.
  streamOf(userID) {
    const s = this.streams.get(userID);
    return s && s.getTracks().some((t) => t.readyState === 'live') ? s : null;
  }

  // replaceTrack sends track (null: nothing) as this page's kind.
  async replaceTrack(kind, track) {
    await this.send[kind]?.sender.replaceTrack(track);
  }

  // stats is what this page receives, per user: bytes of audio and video,
  // frames decoded and the widest frame.
  async stats() {
    const report = await this.pc.getStats().catch(() => new Map());
    const byUser = new Map();
    for (const r of report.values()) {
      if (r.type !== 'inbound-rtp') continue;
      const userID = this.trackUsers.get(r.trackIdentifier) ?? this.userOfMid(r.mid);
      if (!userID) continue;
      let out = byUser.get(userID);
      if (!out) {
        out = { userID, state: this.state, audioBytesReceived: 0, videoBytesReceived: 0, framesDecoded: 0, frameWidth: 0 };
        byUser.set(userID, out);
      }
      if (r.kind === 'audio') out.audioBytesReceived += r.bytesReceived ?? 0;
      if (r.kind === 'video') {
        out.videoBytesReceived += r.bytesReceived ?? 0;
        out.framesDecoded += r.framesDecoded ?? 0;
        out.frameWidth = Math.max(out.frameWidth, r.frameWidth ?? 0);
      }
    }
    return [...byUser.values()].filter((s) => this.streams.has(s.userID) && this.streamOf(s.userID));
  }

  // userOfMid is the user whose track the section mid receives.
  userOfMid(mid) {
    const t = this.pc.getTransceivers().find((x) => x.mid === mid);
    const id = t?.receiver.track.id;
    if (!id) return '';
    for (const [userID, s] of this.streams) if (s.getTracks().some((x) => x.id === id)) return userID;
    return '';
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    this.zim.off('mediaRenegotiate', this.onRenegotiate);
    this.zim.off('activeSpeakers', this.onSpeakers);
    this.pc.close();
    this.streams.clear();
  }
}
