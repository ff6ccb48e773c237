// The call view's gallery: which members' tiles are shown, in what order,
// one page at a time. A page holds up to pageSize tiles (the config's
// galleryPageSize, 25 by default); this page's own tile comes first, the
// others in the order they joined, and the pager under the grid moves
// through the pages. The active speaker is brought onto the first page
// (in the place of its last tile that is not speaking). Only the shown
// page has tiles, and the call's media receives video for them only
// (callmedia.js tells the media server from visible()).
//
// This file imports dom.js.

import { el } from './dom.js';

/** The most tiles one gallery page shows, and the default. */
export const MAX_PAGE_SIZE = 25;

export class Gallery {
  // onChange() runs when the page shown changes (a page turned).
  constructor({ pageSize, onChange }) {
    this.pageSize = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(pageSize) || MAX_PAGE_SIZE));
    this.onChange = onChange;
    this.order = [];  // userIDs, in the order the tiles are shown
    this.at = new Map(); // userID -> its place in order
    this.page = 0;    // the page shown, from 0
    this.self = '';   // this page's user, always first
    this.grid = el('div', { class: 'rk-grid', testid: 'video-grid', 'aria-label': 'Video' });
    this.label = el('span', { testid: 'gallery-page', 'aria-live': 'polite' });
    this.prev = el('button', { class: 'rk-secondary', testid: 'gallery-prev', 'aria-label': 'Previous page of videos', onclick: () => this.turn(-1) }, '‹');
    this.next = el('button', { class: 'rk-secondary', testid: 'gallery-next', 'aria-label': 'Next page of videos', onclick: () => this.turn(1) }, '›');
    this.pager = el('nav', { class: 'rk-pager', testid: 'gallery-pager', 'aria-label': 'Pages of videos', hidden: true }, this.prev, this.label, this.next);
    this.element = el('div', { class: 'rk-gallery' }, this.grid, this.pager);
  }

  // setUsers makes the members listed (self among them) the gallery's:
  // those already in keep their places, new ones go last, gone ones
  // leave. It reports whether the shown page's users changed.
  setUsers(userIDs, self) {
    const before = this.visible().join('\n');
    const now = new Set(userIDs);
    this.self = self;
    const order = this.order.filter((u) => now.has(u) && u !== self);
    const have = new Set(order);
    for (const u of userIDs) if (u !== self && !have.has(u)) order.push(u);
    this.order = now.has(self) ? [self, ...order] : order;
    this.index();
    this.page = Math.min(this.page, this.pages() - 1);
    this.renderPager();
    return this.visible().join('\n') !== before;
  }

  // promote brings the speakers listed (loudest first) onto the first
  // page, each in the place of the first page's last tile that is
  // neither this page's own nor speaking. It reports whether the shown
  // page's users changed.
  promote(speakers) {
    const before = this.visible().join('\n');
    const speaking = new Set(speakers);
    for (const u of speakers) {
      const at = this.at.get(u) ?? -1;
      if (at < this.pageSize) continue; // on the first page already, or not in the gallery
      let swap = -1;
      for (let i = Math.min(this.pageSize, this.order.length) - 1; i >= 0; i--) {
        if (this.order[i] !== this.self && !speaking.has(this.order[i])) { swap = i; break; }
      }
      if (swap < 0) break;
      [this.order[swap], this.order[at]] = [this.order[at], this.order[swap]];
      this.at.set(this.order[swap], swap);
      this.at.set(this.order[at], at);
    }
    return this.visible().join('\n') !== before;
  }

  index() {
    this.at = new Map(this.order.map((u, i) => [u, i]));
  }

  // has reports whether userID is in the gallery.
  has(userID) {
    return this.at.has(userID);
  }

  // shown reports whether userID's tile is on the page shown.
  shown(userID) {
    const i = this.at.get(userID);
    return i !== undefined && i >= this.page * this.pageSize && i < (this.page + 1) * this.pageSize;
  }

  pages() {
    return Math.max(1, Math.ceil(this.order.length / this.pageSize));
  }

  // visible is the shown page's users, in order.
  visible() {
    return this.order.slice(this.page * this.pageSize, (this.page + 1) * this.pageSize);
  }

  // turn shows the page by pages away, within the pages there are.
  turn(by) {
    const page = Math.max(0, Math.min(this.pages() - 1, this.page + by));
    if (page === this.page) return;
    this.page = page;
    this.renderPager();
    this.onChange();
  }

  renderPager() {
    const n = this.pages();
    this.pager.hidden = n <= 1;
    this.label.textContent = `Page ${this.page + 1} of ${n}`;
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= n - 1;
  }

  // place puts the shown page's tiles in the grid, in order, and takes
  // the others out.
  place(tiles) {
    const shown = this.visible().map((u) => tiles.get(u)?.tile).filter(Boolean);
    const keep = new Set(shown);
    for (const child of [...this.grid.children]) if (!keep.has(child)) child.remove();
    shown.forEach((tile, i) => {
      if (this.grid.children[i] !== tile) this.grid.insertBefore(tile, this.grid.children[i] ?? null);
    });
  }
}
