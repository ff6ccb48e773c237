// The call view's gallery: which members' tiles are shown, in what order,
// one page at a time, and how (the layout). A page holds up to pageSize
// tiles (the config's galleryPageSize, 25 by default); a pinned member
// comes first, then this page's own tile, then the others in the order
// they joined, and the pager under the grid moves through the pages. The
// active speaker is brought onto the first page (in the place of its last
// tile that is neither pinned, this page's own nor speaking). Only the
// shown page has tiles, and the call's media receives video for them only
// (callmedia.js tells the media server from visible()).
//
// The layouts (the config's layout, by the vendor's names):
//   Grid     every tile the same size; a pinned member's tile is the
//            first, twice as wide and high.
//   Sidebar  one large tile (the pinned member, else the active speaker,
//            else the first other member) and the others in a strip
//            beside it.
//   Auto     (the default) with two in the call, the other member fills
//            the view and this page's own tile sits small in its corner;
//            with a member pinned, Sidebar; otherwise Grid.
// A shared screen (a key of screenshare.js's, set as screen) comes first
// and is the large tile whatever the layout, as Sidebar draws it.
//
// This file imports dom.js and config.js.

import { LAYOUTS } from './config.js';
import { el } from './dom.js';

/** The most tiles one gallery page shows, and the default. */
export const MAX_PAGE_SIZE = 25;

export class Gallery {
  // onChange() runs when the page shown changes (a page turned).
  // layout is one of LAYOUTS.
  constructor({ pageSize, onChange, layout = 'Auto' }) {
    this.pageSize = Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(pageSize) || MAX_PAGE_SIZE));
    this.onChange = onChange;
    this.order = [];  // userIDs, in the order the tiles are shown
    this.at = new Map(); // userID -> its place in order
    this.page = 0;    // the page shown, from 0
    this.self = '';   // this page's user, first but for a pinned member
    this.pinned = ''; // the pinned member, first on every layout, or ''
    this.speaker = ''; // the active speaker (Sidebar's large tile when none is pinned)
    this.screen = '';  // the key of the shared screen shown large, or ''
    this.layout = LAYOUTS.includes(layout) ? layout : 'Auto';
    this.grid = el('div', { class: 'rk-grid', testid: 'video-grid', 'aria-label': 'Video' });
    this.strip = el('div', { class: 'rk-strip', testid: 'video-strip' });
    this.label = el('span', { testid: 'gallery-page', 'aria-live': 'polite' });
    this.prev = el('button', { class: 'rk-secondary', testid: 'gallery-prev', 'aria-label': 'Previous page of videos', onclick: () => this.turn(-1) }, '‹');
    this.next = el('button', { class: 'rk-secondary', testid: 'gallery-next', 'aria-label': 'Next page of videos', onclick: () => this.turn(1) }, '›');
    this.pager = el('nav', { class: 'rk-pager', testid: 'gallery-pager', 'aria-label': 'Pages of videos', hidden: true }, this.prev, this.label, this.next);
    this.element = el('div', { class: 'rk-gallery' }, this.grid, this.pager);
  }

  // setUsers makes the members listed (self among them) the gallery's:
  // those already in keep their places, new ones go last, gone ones
  // leave. It reports whether the shown page's users changed.
  setUsers(userIDs, self, screen = this.screen) {
    const before = this.visible().join('\n');
    const now = new Set(userIDs);
    this.self = self;
    this.screen = now.has(screen) ? screen : '';
    if (!now.has(this.pinned)) this.pinned = '';
    const first = [this.screen, this.pinned, self].filter((u, i, a) => u && now.has(u) && a.indexOf(u) === i);
    const order = this.order.filter((u) => now.has(u) && !first.includes(u));
    const have = new Set(order);
    for (const u of userIDs) if (!first.includes(u) && !have.has(u)) order.push(u);
    this.order = [...first, ...order];
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
        const v = this.order[i];
        if (v !== this.self && v !== this.pinned && v !== this.screen && !speaking.has(v)) { swap = i; break; }
      }
      if (swap < 0) break;
      [this.order[swap], this.order[at]] = [this.order[at], this.order[swap]];
      this.at.set(this.order[swap], swap);
      this.at.set(this.order[at], at);
    }
    return this.visible().join('\n') !== before;
  }

  // pin makes userID the pinned member ('' unpins): its tile goes first,
  // and is the large one. It reports whether anything changed.
  pin(userID) {
    if (userID === this.pinned || (userID && !this.at.has(userID))) return false;
    this.pinned = userID;
    this.setUsers([...this.order], this.self);
    this.page = 0;
    this.renderPager();
    return true;
  }

  // setLayout shows the tiles in layout (one of LAYOUTS).
  setLayout(layout) {
    if (!LAYOUTS.includes(layout) || layout === this.layout) return false;
    this.layout = layout;
    return true;
  }

  // shape is how the shown page is drawn: 'grid', 'sidebar' or 'pip'
  // (Auto with two in the call), and its large tile's user ('' for none).
  shape() {
    const shown = this.visible();
    if (this.screen && shown.includes(this.screen)) return { kind: 'sidebar', main: this.screen };
    if (this.layout === 'Auto' && !this.pinned && this.order.length === 2 && shown.length === 2) {
      return { kind: 'pip', main: shown.find((u) => u !== this.self) };
    }
    if (this.layout === 'Sidebar' || (this.layout === 'Auto' && this.pinned)) {
      const others = shown.filter((u) => u !== this.self);
      const main = [this.pinned, this.speaker].find((u) => u && shown.includes(u)) ?? others[0] ?? shown[0] ?? '';
      return { kind: 'sidebar', main };
    }
    return { kind: 'grid', main: this.pinned && shown.includes(this.pinned) ? this.pinned : '' };
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

  // place puts the shown page's tiles in the grid, in order (the large
  // tile first; in Sidebar the others go in the strip beside it), and
  // takes the others out. The grid's data-layout ('grid', 'sidebar' or
  // 'pip') and each tile's data-main and data-pinned say how they are
  // drawn.
  place(tiles) {
    const { kind, main } = this.shape();
    this.grid.dataset.layout = kind;
    this.grid.className = `rk-grid rk-layout-${kind}`;
    const users = this.visible();
    if (main) users.sort((a, b) => (b === main) - (a === main));
    for (const [u, t] of tiles) {
      t.tile.dataset.main = String(u === main);
      t.tile.dataset.pinned = String(u === this.pinned);
    }
    const shown = users.map((u) => tiles.get(u)?.tile).filter(Boolean);
    if (kind === 'sidebar') {
      const large = tiles.get(main)?.tile;
      fill(this.strip, shown.filter((t) => t !== large));
      fill(this.grid, [large, this.strip.children.length > 0 ? this.strip : null].filter(Boolean));
    } else {
      fill(this.grid, shown);
    }
  }
}

// fill makes nodes parent's children, in order, moving as few as it can
// (a moved video element keeps playing).
function fill(parent, nodes) {
  const keep = new Set(nodes);
  for (const child of [...parent.children]) if (!keep.has(child)) child.remove();
  nodes.forEach((node, i) => {
    if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
  });
}
