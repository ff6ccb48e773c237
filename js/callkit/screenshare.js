// Screen sharing in the call kit: this page's own share (getDisplayMedia,
// sent on the media connection's screen section, with the member state
// `share` the room sees) and the tile of each member's shared screen.
//
// The room's rules decide who may share: setMemberState({ share: true })
// is refused while the host has locked sharing (6100013) or while as many
// share as may at once (6100022), and the media server forwards a screen
// only while its member's share is on. So a share starts by asking the
// room, and the screen goes out once it says yes; it stops when the user
// stops it, when the browser's own "Stop sharing" ends the track, or when
// the room turns the share off (the host locked sharing).
//
// A shared screen is a tile of its own in the gallery, under the key
// SCREEN + userID (a space is never in a user ID), drawn here; while one
// is shown it is the large tile, the cameras in the strip beside it
// (gallery.js). It needs the media server: in a browser-to-browser mesh
// the share button is not shown.
//
// ScreenShare reads the kit's _zim, _roomID, _joined, _kit, _config and
// _store.members and the media's sfu, gallery and tiles; it imports
// dom.js, notices.js and sfu.js (captureScreen).

import { el } from './dom.js';
import { noticeShare } from './notices.js';
import { captureScreen } from '../sfu.js';

/** The gallery key of userID's shared screen is SCREEN + userID. */
export const SCREEN = 'screen ';

export class ScreenShare {
  constructor(media) {
    this.media = media;
    this.kit = media.kit;
    this.stream = null;   // this page's shared screen, while it shares
    this.starting = false; // a share is being asked for
    this.sharing = new Set(); // the members whose share was on when last drawn (for the notice)
  }

  // available reports whether this page can share: in the call, on the
  // media server, in a browser that captures screens.
  available() {
    return !!(this.kit._joined && this.media.sfu && navigator.mediaDevices?.getDisplayMedia);
  }

  // start asks the room to share and the browser for a screen, together
  // (the browser's picker must open inside the click), and sends the
  // screen once both say yes; a refusal from either is said in a note
  // and nothing is sent.
  async start() {
    const { kit } = this;
    if (this.stream || this.starting || !this.available()) return;
    this.starting = true;
    kit._view.renderControls?.();
    const { stream, refused, failed } = await captureScreen({
      allow: () => kit._zim.setMemberState({ share: true }, kit._roomID),
      undo: () => kit._zim.setMemberState({ share: false }, kit._roomID),
      still: () => !!(kit._joined && this.media.sfu),
    });
    this.starting = false;
    if (!stream) {
      if (refused) this.media.note(`You cannot share your screen now (${refused.code}): ${refused.message}`);
      else if (failed && failed.name !== 'NotAllowedError') this.media.note(`Your screen could not be captured: ${failed.message ?? failed}`);
      kit._view.renderControls?.();
      return;
    }
    const [track] = stream.getVideoTracks();
    // The browser's own "Stop sharing" ends the track.
    track.addEventListener('ended', () => { if (this.stream === stream) this.stop(); });
    this.stream = stream;
    await this.media.sfu.sendScreen(stream);
    kit._view.renderControls?.();
    this.media.renderTiles();
  }

  // stop ends this page's share: the screen is no longer sent, and the
  // room is told (unless tell is false: the room turned it off itself).
  async stop(tell = true) {
    const { kit } = this;
    const stream = this.stream;
    if (!stream) return;
    this.stream = null;
    stream.getTracks().forEach((t) => t.stop());
    await this.media.sfu?.sendScreen(null).catch(() => {});
    kit._view.renderControls?.();
    this.media.renderTiles();
    if (tell && kit._joined) {
      await kit._zim.setMemberState({ share: false }, kit._roomID).catch((err) => this.media.note(`Could not tell the others you stopped sharing (${err.code}): ${err.message}`));
    }
  }

  // selfUpdated follows this page's member state: a share the room turned
  // off (the host locked sharing) stops here too.
  selfUpdated(m) {
    if (this.stream && !m.share && !this.starting) {
      this.stop(false);
      this.media.note('Your screen share was stopped: the host locked screen sharing.', 'info');
    }
  }

  // keys are the gallery keys of the screens shared now (this page's
  // own among them), and the notice of a new one is given.
  keys() {
    const { kit } = this;
    const me = kit._kit.userID;
    const now = new Set();
    for (const [userID, m] of kit._store.members) {
      if (userID === me ? this.stream : m.share) now.add(userID);
    }
    for (const userID of now) {
      if (!this.sharing.has(userID) && userID !== me) noticeShare(kit, kit._store.members.get(userID));
    }
    this.sharing = now;
    return [...now].map((u) => SCREEN + u);
  }

  // renderTile draws the tile of userID's shared screen (key is
  // SCREEN + userID): the screen as this page receives it, or a note
  // while it is on its way.
  renderTile(key) {
    const { kit, media } = this;
    const userID = key.slice(SCREEN.length);
    const m = kit._store.members.get(userID);
    let t = media.tiles.get(key);
    if (!m || !media.gallery?.shown(key)) {
      if (t) {
        t.video.srcObject = null;
        t.tile.remove();
        media.tiles.delete(key);
      }
      return;
    }
    const me = userID === kit._kit.userID;
    if (!t) {
      const video = el('video', { autoplay: true, playsInline: true, muted: true, testid: `screen-video-${userID}` });
      const name = el('span', { class: 'rk-name' });
      const waiting = el('span', { class: 'rk-avatar', 'aria-hidden': 'true' }, '…');
      t = { tile: el('div', { class: 'rk-tile rk-screen', testid: `screen-${userID}`, role: 'region' }, video, waiting, name), video, name };
      media.tiles.set(key, t);
    }
    const stream = me ? this.stream : media.sfu?.screenOf(userID) ?? null;
    if (t.video.srcObject !== stream) {
      t.video.srcObject = stream;
      if (stream) t.video.play().catch(() => {});
    }
    t.stream = null; // no sound to meter: the speaking highlight is the cameras'
    t.tile.dataset.camera = stream ? 'on' : 'off';
    const who = m.userName || userID;
    t.name.textContent = me ? 'Your screen' : `${who}'s screen`;
    t.tile.setAttribute('aria-label', t.name.textContent);
    if (!media.gallery.element.contains(t.tile)) media.gallery.place(media.tiles);
  }

  // button is the control bar's share button (showScreenSharingButton).
  button() {
    const b = el('button', { testid: 'share-button', onclick: () => (this.stream ? this.stop() : this.start()).catch(() => {}) });
    b.render = () => {
      b.hidden = !this.available() && !this.stream;
      b.disabled = this.starting;
      b.setAttribute('aria-pressed', String(!!this.stream));
      b.textContent = this.stream ? 'Stop sharing' : 'Share screen';
    };
    b.render();
    return b;
  }

  // close forgets this page's share (the call ended).
  close() {
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.starting = false;
    this.sharing = new Set();
  }
}
