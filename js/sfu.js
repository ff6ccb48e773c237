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
    this.iceServers = iceServers;
    this.closed = false;
    this.offering = false;      // an offer is in flight
    this.again = false;         // a renegotiation was asked for meanwhile
    this.makeConnection();
    // The room moved to another node: a new connection, to it.
    this.onRestart = (_zim, ev) => {
      if (ev.roomID !== this.roomID || this.closed) return;
      const old = this.pc;
      const users = [...this.streams.keys()];
      this.makeConnection();
      old.close();
      for (const userID of users) this.events.onStream?.(userID);
      this.negotiate();
    };
    zim.on('mediaRestart', this.onRestart);
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

  // makeConnection makes this page's connection to the media server,
  // sending what the devices give now; what the connection before it had
  // received is forgotten.
  makeConnection() {
    const { local } = this;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    this.state = 'new';
    this.streams = new Map();    // userID -> MediaStream of that user's tracks here
    this.trackUsers = new Map(); // trackID -> userID, as the server listed them
    this.want = { audio: 0, video: 0 }; // receiving sections the server asked for
    this.answered = false;       // the first offer was answered: candidates go now
    this.candidates = [];        // candidates gathered before that
    this.send = {
      audio: pc.addTransceiver(local.audio ?? 'audio', { direction: 'sendonly', streams: [local.stream] }),
      video: pc.addTransceiver(local.video ?? 'video', { direction: 'sendonly', streams: [local.stream] }),
    };
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
    pc.addEventListener('track', ({ track, streams }) => {
      if (pc === this.pc) this.addTrack(track, streams[0]?.id ?? '');
    });
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
        const { pc, send } = this;
        this.ensureReceivers();
        await pc.setLocalDescription(await pc.createOffer());
        const sources = {};
        if (send.audio.mid) sources[send.audio.mid] = 'microphone';
        if (send.video.mid) sources[send.video.mid] = 'camera';
        const { sdp } = await this.zim.mediaOffer(this.roomID, pc.localDescription.sdp, sources);
        if (this.closed) return;
        if (pc !== this.pc) { // restarted meanwhile: offer on the new one
          this.again = true;
          continue;
        }
        await pc.setRemoteDescription({ type: 'answer', sdp });
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
        out = { userID, state: this.state, audioBytesReceived: 0, audioEnergy: 0, videoBytesReceived: 0, framesDecoded: 0, frameWidth: 0 };
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
    this.zim.off('mediaRestart', this.onRestart);
    this.pc.close();
    this.streams.clear();
  }
}
