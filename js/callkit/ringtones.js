// The ringtones of the invitation config's ringtoneConfig: incomingCallUrl
// plays, looped, while an invitation rings this page (the built-in
// dialog or the page's own), outgoingCallUrl while this page's call rings
// its callees; each stops at any answer, a cancel, a timeout, or the
// kit's destroy. Without a URL there is no tone. A browser plays sound
// only as its autoplay policy allows (on most, once the user has
// interacted with the page); a tone it refuses is left silent.
//
// This file imports dom.js.

import { el } from './dom.js';

export class Ringtones {
  constructor() {
    this.playing = { incoming: null, outgoing: null }; // kind -> the <audio> element playing
  }

  // start plays kind's tone ('incoming' or 'outgoing') from url, if any,
  // in place of one already playing.
  start(kind, url) {
    this.stop(kind);
    if (typeof url !== 'string' || url === '') return;
    const audio = el('audio', { src: url, loop: true, hidden: true, testid: `ringtone-${kind}` });
    document.body.append(audio);
    this.playing[kind] = audio;
    audio.play().catch(() => {}); // refused by the autoplay policy: silent
  }

  // stop stops kind's tone and takes its element away.
  stop(kind) {
    const audio = this.playing[kind];
    if (!audio) return;
    this.playing[kind] = null;
    audio.pause();
    audio.remove();
  }

  stopAll() {
    this.stop('incoming');
    this.stop('outgoing');
  }
}
