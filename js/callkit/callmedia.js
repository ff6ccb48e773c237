// The call's media, as one part of the kit: this page's camera and
// microphone (LocalMedia), the transport that carries them, the state
// published to the room, the video tiles with the speaking highlight, the
// media notes, and the audio and video settings dialog.
//
// The transport is the server's media server when it runs one (the login
// says so: sfu.js's SfuConnection, one connection to the server, for a
// call of any size), and otherwise a browser-to-browser mesh (media.js's
// Mesh) among the members holding one of the call's maxMediaUsers places
// (MediaSlots, given out by the server). Both are used from this file
// alone.
//
// CallMedia reads the kit's _zim, _roomID, _joined, _config, _kit and
// _store.members, and calls its _saveCall and _view.renderControls. Which
// tiles are shown is the gallery's (gallery.js); with the media server the
// page receives the video of those only. Screen sharing is
// screenshare.js's (this.share). It imports media.js, sfu.js, config.js,
// dom.js, gallery.js and screenshare.js.

import { LevelMeter, LocalMedia, MediaSlots, Mesh, mediaErrorMessage } from '../media.js';
import { SfuConnection } from '../sfu.js';
import { audioConstraints, log, simulcastCamera, videoConstraints } from './config.js';
import { el, overlay } from './dom.js';
import { Gallery } from './gallery.js';
import { SCREEN, ScreenShare } from './screenshare.js';

export class CallMedia {
  constructor(kit, invalid) {
    this.kit = kit;
    this.invalid = invalid;
    this.want = null;          // { audio, video } to turn on when the devices start
    this.local = null;         // LocalMedia: this page's camera and microphone
    this.localReady = null;    // the devices' start, once asked for
    this.mesh = null;          // Mesh: a peer connection per other page in the call
    this.sfu = null;           // SfuConnection: the one connection to the media server
    this.slots = null;         // MediaSlots: the call's places for audio and video
    this.meshUsers = new Set(); // the place holders the mesh was told of
    this.claiming = false;     // a claim of a freed place is under way
    this.waiting = false;      // told it has chat only: waiting for a place
    this.meter = null;         // LevelMeter for the speaking highlight
    this.speaking = undefined; // the speaking highlight's interval
    this.tiles = new Map();    // userID -> { tile, video, ... } of the video grid
    this.gallery = null;       // the video grid and its pages (Gallery), once the call view is drawn
    this.resizes = null;       // ResizeObserver of the grid: its tiles' sizes go to the media server
    this.resized = 0;          // the timer that sends them once resizing settles
    this.notes = null;         // where media notes go (the pre-join or call view's)
    this.settings = null;      // the audio and video settings dialog, while open
    this.published = null;     // { audio, video } last published to the room
    this.publishing = 0;       // setMemberState requests under way
    this.share = new ScreenShare(this); // this page's screen share, and the shared screens' tiles
  }

  // newNotes makes the place for media notes of a new view.
  newNotes() {
    this.notes = el('div', { testid: 'media-notes' });
    return this.notes;
  }

  // newGrid makes the video grid of a new call view, with no tiles, and
  // its pager.
  newGrid() {
    const cfg = this.kit._config;
    this.gallery = new Gallery({ pageSize: cfg.galleryPageSize, layout: cfg.layout, onChange: () => this.renderTiles() });
    this.tiles.clear();
    // A tile that grows or shrinks (a pin, a layout, the window) may want
    // another simulcast layer: told once the resizing settles.
    this.resizes?.disconnect();
    this.resizes = new ResizeObserver(() => {
      clearTimeout(this.resized);
      this.resized = setTimeout(() => this.chooseVideo(), 150);
    });
    this.resizes.observe(this.gallery.element);
    return this.gallery.element;
  }

  // chooseVideo has the media server send this page the video of the
  // shown tiles only, each camera at the size its tile shows it.
  chooseVideo() {
    if (this.sfu && this.gallery) {
      const users = this.gallery.visible().map((u) => (u.startsWith(SCREEN) ? u.slice(SCREEN.length) : u))
        .filter((u) => u !== this.kit._kit.userID);
      const scale = globalThis.devicePixelRatio || 1;
      const sizes = {};
      for (const u of users) {
        const box = this.tiles.get(u)?.video.getBoundingClientRect();
        if (box?.width) sizes[u] = { width: box.width * scale, height: box.height * scale };
      }
      this.sfu.setVideo(users, sizes);
    }
  }

  // startLocal turns on the camera and microphone the config (or, after
  // a reload, the page before it) asked for. A device that cannot start
  // stays off, with a message and onMediaError; joining goes on.
  startLocal() {
    if (!this.localReady) {
      const local = new LocalMedia({ video: videoConstraints(this.kit._config), audio: audioConstraints(this.kit._config) });
      this.local = local;
      const want = this.want ?? { audio: false, video: false };
      this.localReady = Promise.all(['audio', 'video'].map((kind) => want[kind] && local.set(kind, true).catch((err) => this.error(kind, err))));
    }
    return this.localReady;
  }

  // start joins the mesh: the devices on, the state published, and a
  // hello to every other member, whose pages answer and connect.
  async start() {
    const { kit } = this;
    const cfg = kit._config;
    await this.startLocal();
    if (!kit._joined) return;
    kit._saveCall();
    kit._view.renderControls?.();
    this.meter = new LevelMeter();
    this.speaking = setInterval(() => this.renderSpeaking(), 250);
    this.renderTile(kit._kit.userID);
    await this.publish();
    if (!kit._joined) return;
    if (kit._zim.media) {
      this.openSfu();
      return;
    }
    // No media server: a mesh. A place for audio and video, given by the server (MediaSlots): of
    // pages joining at once, no more than maxMediaUsers get one.
    const slots = new MediaSlots({ zim: kit._zim, roomID: kit._roomID, userID: kit._kit.userID, size: cfg.maxMediaUsers,
      onChange: () => this.placesChanged() });
    this.slots = slots;
    let placed = false;
    try {
      await slots.load();
      placed = await slots.claim();
    } catch (err) {
      this.note(`Could not get a place for audio and video (${err.code}): ${err.message}`);
    }
    if (this.slots !== slots || !kit._joined || this.mesh) return;
    if (!placed) {
      // Waiting for a place: placesChanged claims one when one frees.
      this.waiting = true;
      const message = `The ${cfg.maxMediaUsers} places for audio and video in this call are taken (a browser-to-browser call carries up to ${cfg.maxMediaUsers}), so you are in it with chat only until one frees.`;
      this.note(message);
      cfg.onMediaError({ kind: 'limit', message });
      return;
    }
    this.openMesh();
  }

  // openSfu connects this page to the call's media server: it sends its
  // camera and microphone once, and receives every other member's.
  openSfu() {
    const { kit } = this;
    const cfg = kit._config;
    if (this.sfu) return; // one connection per page
    this.sfu = new SfuConnection({
      zim: kit._zim, roomID: kit._roomID, local: this.local, iceServers: cfg.iceServers, simulcast: simulcastCamera(cfg),
      events: {
        onStream: (userID) => {
          this.renderTile(userID);
          this.renderTile(SCREEN + userID);
        },
        onState: (state) => {
          this.renderTiles();
          if (state === 'failed') {
            const message = 'The connection to the media server failed: no network path to it works (its UDP port, or its TCP port, must be open to you).';
            this.note(message);
            cfg.onMediaError({ kind: 'server', message });
          }
        },
        onError: (message) => {
          this.note(message);
          cfg.onMediaError({ kind: 'server', message });
        },
        // The speakers come onto the first page of the gallery.
        onSpeakers: (speakers) => {
          const members = kit._store.members;
          if (this.gallery?.promote(speakers.map((s) => s.userID).filter((u) => members.get(u)?.audio))) this.renderTiles();
        },
      },
    });
    this.chooseVideo(); // before the first offer, so the first answer has it
    this.sfu.start();
    kit._view.renderControls?.(); // the share button, now that there is a media server
  }

  // openMesh connects to every page of the members holding a place.
  openMesh() {
    const { kit } = this;
    const cfg = kit._config;
    if (this.mesh) return; // one mesh per page
    this.waiting = false;
    this.meshUsers = this.slots.holderIDs();
    this.mesh = new Mesh({
      zim: kit._zim, roomID: kit._roomID, userID: kit._kit.userID, local: this.local, iceServers: cfg.iceServers,
      admits: (userID) => this.slots?.holds(userID) ?? false,
      events: {
        onStream: (peer) => this.renderTile(peer.userID),
        onPeerState: (peer) => {
          this.renderTile(peer.userID);
          if (peer.state === 'unreachable') {
            const message = `${kit._store.members.get(peer.userID)?.userName || peer.userID} cannot be reached: no network path between you works (a TURN server in iceServers would relay it).`;
            this.note(message);
            cfg.onMediaError({ kind: 'peer', userID: peer.userID, message });
          }
        },
        onPeerGone: (peer) => this.renderTile(peer.userID),
        onError: (message, peer) => {
          this.note(message);
          cfg.onMediaError({ kind: 'peer', userID: peer?.userID, message });
        },
      },
    });
    this.mesh.hello([...this.meshUsers]);
  }

  // placesChanged follows the places: a member who got one is greeted
  // (its own hello may have come before the news and been ignored), one
  // who lost it is dropped, and a page with chat only claims a freed one.
  async placesChanged() {
    const { kit } = this;
    const slots = this.slots;
    if (!slots || !kit._joined) return;
    if (this.mesh) {
      const now = slots.holderIDs();
      for (const u of now) if (!this.meshUsers.has(u)) this.mesh.hello([u]);
      for (const u of this.meshUsers) if (!now.has(u)) this.mesh.drop(u);
      this.meshUsers = now;
      return;
    }
    // Only a page told it has chat only claims here: the first claim is
    // start's, whose own set's news comes while it is under way.
    if (!this.waiting || this.claiming || slots.holderIDs().size >= slots.size) return;
    this.claiming = true;
    try {
      if (await slots.claim() && this.slots === slots && kit._joined && !this.mesh) {
        this.note('A place for audio and video freed up: you are in the call with audio and video now.', 'info');
        this.openMesh();
      }
    } catch {
      // Tried again at the next change of the places.
    } finally {
      this.claiming = false;
    }
  }

  // drop ends the connections with userID's pages (it left the call).
  drop(userID) {
    this.mesh?.drop(userID);
  }

  stop() {
    this.closeSettings(); // its devices are the call's: it goes with them
    this.share.close();
    this.mesh?.close();
    this.mesh = null;
    this.sfu?.close();
    this.sfu = null;
    this.slots?.close();
    this.slots = null;
    this.waiting = false;
    this.local?.stop();
    this.local = null;
    this.localReady = null;
    this.meter?.close();
    this.meter = null;
    clearInterval(this.speaking);
    this.resizes?.disconnect();
    this.resizes = null;
    clearTimeout(this.resized);
    this.tiles.clear();
    this.published = null;
  }

  // setDevice turns kind on or off here, on every connection, and in
  // the state the room sees.
  async setDevice(kind, on) {
    const { kit } = this;
    if (!kit._joined || !this.local) throw this.invalid('not in a call; joinRoom first');
    try {
      const track = await this.local.set(kind, on);
      await this.mesh?.replaceTrack(kind, track);
      await this.sfu?.replaceTrack(kind, track);
    } catch (err) {
      this.error(kind, err);
    }
    kit._saveCall();
    kit._view.renderControls?.();
    this.renderTile(kit._kit.userID);
    await this.publish();
    return !!this.local?.[kind];
  }

  // selfUpdated follows this page's member state m as the room sent it.
  // Muted by the host or a manager: the microphone goes off here too;
  // the camera turned off by them: the camera. (An echo of this page's
  // own change is not that: those arrive while its request is under way.)
  selfUpdated(m) {
    this.share.selfUpdated(m);
    for (const [kind, what, done] of [['audio', 'microphone', 'muted'], ['video', 'camera', 'turned off']]) {
      if (m[kind] || !this.local?.[kind] || this.publishing !== 0 || !this.published?.[kind]) continue;
      this.setDevice(kind, false).then(() => this.note(`Your ${what} was ${done} by the host.`, 'info'), (err) => {
        this.note(`Your ${what} was ${done} by the host, but turning it off here failed: ${err?.message || err}`);
        this.kit._view.renderControls?.();
        this.renderTile(this.kit._kit.userID);
      });
    }
  }

  // publish tells the room whether the camera and microphone are on, so
  // every page shows it, also before its media connects.
  async publish() {
    const { kit } = this;
    if (!this.local || !kit._joined) return;
    const state = { audio: !!this.local.audio, video: !!this.local.video };
    if (this.published && this.published.audio === state.audio && this.published.video === state.video) return;
    this.published = state;
    this.publishing++;
    try {
      await kit._zim.setMemberState(state, kit._roomID);
    } catch (err) {
      this.note(`Could not tell the others your camera and microphone state (${err.code}): ${err.message}`);
    } finally {
      this.publishing--;
    }
  }

  // stats is getMediaStats: each connection's received audio and video.
  async stats() {
    if (this.sfu) return this.sfu.stats();
    const peers = [...(this.mesh?.peers.values() ?? [])];
    return Promise.all(peers.map(async (p) => {
      const out = { userID: p.userID, state: p.state, audioBytesReceived: 0, audioEnergy: 0, videoBytesReceived: 0, framesDecoded: 0, frameWidth: 0, freezeCount: 0 };
      const stats = await p.pc.getStats().catch(() => new Map());
      for (const r of stats.values()) {
        if (r.type !== 'inbound-rtp') continue;
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
      return out;
    }));
  }

  error(kind, err) {
    const message = mediaErrorMessage(kind, err);
    this.note(message);
    this.kit._config.onMediaError({ kind, name: err?.name ?? '', message });
  }

  // note shows text in the media notes, and writes it to the console at
  // level (an error, unless said).
  note(text, level = 'error') {
    log(level, text);
    this.notes?.append(el('p', { class: 'rk-error', role: 'alert', testid: 'media-error' }, text));
  }

  // inGallery reports whether member m (userID's) has a tile: this
  // page's own always; another with its camera off unless
  // showNonVideoUser is false, or, with its microphone on (audio only),
  // unless showOnlyAudioUser is false.
  inGallery(userID, m) {
    if (!m) return false;
    if (userID === this.kit._kit.userID || m.video) return true;
    const cfg = this.kit._config;
    return cfg.showNonVideoUser !== false && (!m.audio || cfg.showOnlyAudioUser !== false);
  }

  // pin makes userID the pinned member ('' unpins): the large tile.
  pin(userID) {
    if (this.gallery?.pin(userID)) this.renderTiles();
  }

  // setLayout shows the tiles in layout ('Auto', 'Grid' or 'Sidebar').
  setLayout(layout) {
    if (this.gallery?.setLayout(layout)) this.renderTiles();
  }

  // renderTile draws userID's video tile: the stream (this page's own,
  // or the newest connection's with that user), the camera and
  // microphone state the member published, and the connection's state.
  renderTile(userID) {
    const { kit } = this;
    if (!this.gallery) return;
    if (userID.startsWith(SCREEN)) {
      this.share.renderTile(userID);
      return;
    }
    const m = kit._store.members.get(userID);
    let t = this.tiles.get(userID);
    if (!m) {
      t?.tile.remove();
      this.tiles.delete(userID);
      return;
    }
    const wanted = this.inGallery(userID, m);
    if (wanted !== this.gallery.has(userID)) {
      this.renderTiles(); // a member the gallery has not placed yet, or should no longer show
      return;
    }
    if (!this.gallery.shown(userID)) {
      // Off the page shown: no tile (and the server sends no video for
      // it), so a call of thousands holds a page of tiles, not thousands.
      if (t) {
        t.video.srcObject = null;
        t.tile.remove();
        this.tiles.delete(userID);
      }
      return;
    }
    const me = userID === kit._kit.userID;
    if (!t) {
      const video = el('video', { autoplay: true, playsInline: true, muted: me, testid: `video-${userID}` });
      if (!me) video.dataset.remote = 'true';
      const name = el('span', { class: 'rk-name' });
      const net = el('span', { class: 'rk-net', testid: `net-${userID}`, hidden: true });
      const avatar = el('span', { class: 'rk-avatar', 'aria-hidden': 'true' });
      const pin = kit._config.showPinButton === false ? null
        : el('button', { class: 'rk-secondary rk-small rk-pin', testid: `pin-${userID}`, type: 'button',
          onclick: () => this.pin(this.gallery?.pinned === userID ? '' : userID) });
      t = { tile: el('div', { class: 'rk-tile', testid: `tile-${userID}` }, video, avatar, name, net, pin), video, name, net, avatar, pin };
      this.tiles.set(userID, t);
    }
    let stream = null;
    let state = '';
    if (me) stream = this.local?.stream ?? null;
    else if (this.sfu) {
      stream = this.sfu.streamOf(userID);
      const s = this.sfu.state;
      state = s === 'failed' ? 'unreachable' : s === 'disconnected' ? 'reconnecting' : stream ? 'connected' : '';
    } else {
      const peers = [...(this.mesh?.peers.values() ?? [])].filter((p) => p.userID === userID);
      const peer = peers.find((p) => p.state === 'connected') ?? peers.at(-1);
      stream = peer?.stream ?? null;
      state = peer?.state ?? '';
    }
    if (t.video.srcObject !== stream) {
      t.video.srcObject = stream;
      if (stream) t.video.play().catch(() => { t.video.muted = true; t.video.play().catch(() => {}); });
    }
    t.stream = stream;
    const video = me ? !!this.local?.video : m.video;
    const audio = me ? !!this.local?.audio : m.audio;
    t.tile.dataset.camera = video ? 'on' : 'off';
    t.tile.dataset.microphone = audio ? 'on' : 'off';
    t.tile.dataset.peer = state;
    // The avatar while the camera is off: the image the page set
    // (onUserAvatarSetter), else the name's first letter.
    const url = kit._store.avatars.get(userID) ?? '';
    if (t.avatar.dataset.url !== url || !url) {
      t.avatar.dataset.url = url;
      if (url) t.avatar.replaceChildren(el('img', { src: url, alt: '', testid: `avatar-${userID}` }));
      else t.avatar.textContent = (m.userName || userID).slice(0, 1).toUpperCase();
    }
    t.name.textContent = `${m.userName || userID}${me ? ' (you)' : ''}${audio ? '' : ' · muted'}`;
    t.net.hidden = !(state === 'reconnecting' || state === 'unreachable');
    t.net.textContent = state === 'unreachable' ? 'unreachable' : 'reconnecting…';
    if (t.pin) {
      const pinned = this.gallery.pinned === userID;
      const who = m.userName || userID;
      t.pin.textContent = pinned ? 'Unpin' : 'Pin';
      t.pin.setAttribute('aria-pressed', String(pinned));
      t.pin.setAttribute('aria-label', pinned ? `Unpin ${who}` : `Pin ${who} to the large tile`);
    }
    if (!this.gallery.element.contains(t.tile)) this.gallery.place(this.tiles);
  }

  // renderTiles draws the gallery's shown page (the tiles of the others
  // go), and has the media server send the video of those tiles.
  renderTiles() {
    if (!this.gallery) return;
    const members = this.kit._store.members;
    const screens = this.share.keys();
    const users = [...members].filter(([u, m]) => this.inGallery(u, m)).map(([u]) => u);
    this.gallery.setUsers([...screens, ...users], this.kit._kit.userID, screens[0] ?? '');
    for (const userID of [...this.tiles.keys()]) if (!this.gallery.shown(userID)) this.renderTile(userID);
    for (const userID of this.gallery.visible()) this.renderTile(userID);
    this.gallery.place(this.tiles);
    this.chooseVideo();
  }

  // renderSpeaking highlights the loudest speaker's tile: the first the
  // media server says speaks, or, in a mesh, the loudest stream here
  // above a threshold.
  renderSpeaking() {
    if (!this.meter) return;
    let loudest = null;
    if (this.sfu) {
      loudest = this.sfu.speakers.find((s) => this.tiles.get(s.userID)?.tile.dataset.microphone === 'on')?.userID ?? null;
    } else {
      let best = 0.02;
      for (const [userID, t] of this.tiles) {
        const level = t.tile.dataset.microphone === 'on' ? this.meter.level(t.stream) : 0;
        if (level > best) { best = level; loudest = userID; }
      }
    }
    for (const [userID, t] of this.tiles) {
      t.tile.classList.toggle('rk-speaking', userID === loudest);
      t.tile.dataset.speaking = String(userID === loudest);
    }
    // The Sidebar's large tile follows the speaker (kept while nobody
    // speaks), unless a member is pinned.
    const g = this.gallery;
    if (g && loudest && loudest !== g.speaker && loudest !== this.kit._kit.userID) {
      g.speaker = loudest;
      if (g.shape().kind === 'sidebar' && !g.pinned) g.place(this.tiles);
    }
  }

  // openSettings shows the audio and video settings dialog: a camera and
  // a microphone to pick from this page's devices. It closes when the
  // call ends (stop); a change that comes after does nothing.
  async openSettings() {
    const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
    if (!this.kit._joined || !this.local) return; // the call ended meanwhile
    this.closeSettings();
    const pick = (kind, label, testid) => {
      const current = kind === 'audioinput' ? this.local?.audio : this.local?.video;
      const currentID = current?.getSettings().deviceId ?? '';
      const select = el('select', { testid, id: `rk-${testid}` }, ...devices.filter((d) => d.kind === kind)
        .map((d, i) => el('option', { value: d.deviceId, selected: d.deviceId === currentID }, d.label || `${label} ${i + 1}`)));
      select.addEventListener('change', async () => {
        const k = kind === 'audioinput' ? 'audio' : 'video';
        const local = this.local;
        if (!local || !this.kit._joined) return;
        try {
          const track = await local.useDevice(k, select.value);
          if (local !== this.local) return; // the call ended meanwhile
          await this.mesh?.replaceTrack(k, track);
          await this.sfu?.replaceTrack(k, track);
          this.renderTile(this.kit._kit.userID);
        } catch (err) {
          if (local === this.local) this.error(k, err);
        }
      });
      return [el('label', { htmlFor: `rk-${testid}` }, label), select];
    };
    const close = () => this.closeSettings();
    const dialog = el('div', { class: 'rk-call rk-dialog', role: 'dialog', 'aria-label': 'Audio and video settings', testid: 'av-settings-dialog' },
      el('h3', {}, 'Audio and video'),
      ...pick('videoinput', 'Camera', 'select-camera'),
      ...pick('audioinput', 'Microphone', 'select-microphone'),
      el('div', { class: 'rk-actions' }, el('button', { testid: 'av-settings-close', onclick: close }, 'Done')));
    overlay(dialog);
    this.settings = dialog;
    dialog.querySelector('select, button').focus();
  }

  closeSettings() {
    this.settings?.remove();
    this.settings = null;
  }
}
