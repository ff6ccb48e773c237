// DOM helpers of the call kit's views: el (an element from tag, props and
// children), the style sheet every view's classes come from, and the
// overlay that dialogs are shown in. This file has no imports; nothing
// here touches the page until called (the module imports under Node).

const STYLE_ID = 'rk-call-style';

const STYLE = `
.rk-call { font: 15px/1.4 system-ui, sans-serif; color: #14171a; background: #f4f5f7; border-radius: 10px;
  padding: 12px; box-sizing: border-box; max-width: 100%; min-height: 320px; display: flex; flex-direction: column; gap: 10px; }
.rk-call * { box-sizing: border-box; }
.rk-call button { font: inherit; min-height: 40px; padding: 6px 14px; border-radius: 8px; border: 1px solid #0a58ca;
  background: #0a58ca; color: #fff; cursor: pointer; }
.rk-call button.rk-secondary { background: #fff; color: #0a58ca; }
.rk-call button.rk-danger { background: #b42318; border-color: #b42318; }
.rk-call button:focus-visible, .rk-call input:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.rk-call input { font: inherit; min-height: 40px; padding: 6px 10px; border: 1px solid #6b7280; border-radius: 8px; width: 100%; }
.rk-call input[type=checkbox] { width: 20px; min-width: 0; height: 20px; min-height: 0; padding: 0; margin: 0 8px 0 0; flex: none; }
.rk-call li:has(> input[type=checkbox]) { display: flex; align-items: center; }
.rk-call header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.rk-call header h2 { font-size: 1.05rem; margin: 0; flex: 1; min-width: 8em; overflow-wrap: anywhere; }
.rk-call .rk-body { display: grid; grid-template-columns: minmax(180px, 1fr) 2fr; gap: 10px; flex: 1; }
@media (max-width: 560px) { .rk-call .rk-body { grid-template-columns: 1fr; } }
.rk-call section { background: #fff; border: 1px solid #d0d5dd; border-radius: 8px; padding: 10px; min-width: 0; }
.rk-call h3 { font-size: .95rem; margin: 0 0 6px; }
.rk-call ul, .rk-call ol { list-style: none; margin: 0; padding: 0; }
.rk-call li { padding: 4px 0; overflow-wrap: anywhere; }
.rk-call .rk-chat-list { max-height: 240px; overflow: auto; margin-bottom: 8px; }
.rk-call form { display: flex; gap: 6px; }
.rk-call .rk-menu-wrap { position: relative; }
.rk-call [role=menu] { position: absolute; right: 0; top: 44px; z-index: 10; background: #fff; border: 1px solid #d0d5dd;
  border-radius: 8px; padding: 4px; min-width: 180px; box-shadow: 0 4px 16px rgba(0,0,0,.15); }
.rk-call [role=menuitem] { display: block; width: 100%; text-align: left; background: #fff; color: #14171a; border: 0; }
.rk-call [role=menuitem]:hover, .rk-call [role=menuitem]:focus { background: #e8efff; }
.rk-call .rk-center { margin: auto; text-align: center; display: flex; flex-direction: column; gap: 10px; max-width: 360px; width: 100%; }
.rk-call .rk-error { color: #b42318; }
.rk-call .rk-you, .rk-call .rk-role, .rk-call .rk-state { color: #4b5563; font-size: .85em; }
.rk-call .rk-small { margin-left: .4em; padding: .1em .5em; font-size: .8em; }
.rk-call.rk-overlay { position: fixed; z-index: 1000; left: 50%; top: 20%; transform: translateX(-50%); min-height: 0;
  width: min(360px, calc(100vw - 24px)); box-shadow: 0 8px 32px rgba(0,0,0,.25); background: #fff; border: 1px solid #d0d5dd; }
.rk-call .rk-actions { display: flex; gap: 8px; justify-content: flex-end; }
.rk-call .rk-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px; }
@media (max-width: 560px) { .rk-call .rk-grid { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); } }
.rk-call .rk-tile { position: relative; background: #1f2937; border-radius: 8px; aspect-ratio: 16 / 9; overflow: hidden; color: #fff; }
.rk-call .rk-tile video { width: 100%; height: 100%; object-fit: cover; display: block; background: #111827; }
.rk-call .rk-tile[data-camera=off] video { visibility: hidden; }
.rk-call .rk-tile .rk-avatar { position: absolute; inset: 0; display: none; align-items: center; justify-content: center; font-size: 2rem; }
.rk-call .rk-tile[data-camera=off] .rk-avatar { display: flex; }
.rk-call .rk-tile .rk-avatar img { width: 38%; aspect-ratio: 1; border-radius: 50%; object-fit: cover; }
.rk-call .rk-row-avatar { width: 20px; height: 20px; border-radius: 50%; object-fit: cover; vertical-align: middle; margin-right: 6px; }
.rk-call { position: relative; }
.rk-call .rk-notices { position: absolute; left: 12px; bottom: 12px; z-index: 5; display: flex; flex-direction: column; gap: 4px;
  max-width: min(320px, calc(100% - 24px)); pointer-events: none; }
.rk-call .rk-notice { background: rgba(17,24,39,.85); color: #fff; border-radius: 8px; padding: 4px 10px; font-size: .9em; overflow-wrap: anywhere; }
.rk-call .rk-controls { transition: opacity .3s; }
.rk-call .rk-controls[data-hidden=true] { opacity: 0; pointer-events: none; }
.rk-call .rk-tile .rk-name { position: absolute; left: 6px; bottom: 6px; background: rgba(0,0,0,.6); padding: 2px 8px; border-radius: 6px;
  font-size: .85em; max-width: calc(100% - 12px); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.rk-call .rk-tile .rk-net { position: absolute; right: 6px; top: 6px; background: rgba(180,35,24,.9); padding: 2px 8px; border-radius: 6px; font-size: .8em; }
.rk-call .rk-links { list-style: none; padding: 0; margin: 0; text-align: left; display: flex; flex-direction: column; gap: 4px; overflow-wrap: anywhere; }
.rk-call .rk-link-name { font-weight: 600; }
.rk-call .rk-timer { font-variant-numeric: tabular-nums; opacity: .8; }
.rk-call .rk-logo { display: block; max-height: 28px; width: auto; }
.rk-call .rk-pager:not([hidden]) { display: flex; gap: 8px; align-items: center; justify-content: center; margin-top: 6px; }
.rk-call .rk-layout-grid .rk-tile[data-main=true] { grid-column: span 2; grid-row: span 2; }
.rk-call .rk-layout-sidebar { grid-template-columns: minmax(0, 3fr) minmax(120px, 1fr); align-items: start; }
.rk-call .rk-strip { display: flex; flex-direction: column; gap: 8px; max-height: 70vh; overflow-y: auto; }
.rk-call .rk-layout-pip { display: block; position: relative; }
.rk-call .rk-layout-pip .rk-tile[data-main=false] { position: absolute; right: 10px; bottom: 10px; width: 28%; z-index: 1;
  box-shadow: 0 2px 10px rgba(0,0,0,.4); }
.rk-call .rk-layout-pip .rk-tile[data-main=false] .rk-pin { display: none; }
.rk-call .rk-tile .rk-pin { position: absolute; left: 6px; top: 6px; min-height: 28px; padding: 2px 8px; opacity: .85; }
.rk-call .rk-tile .rk-pin[aria-pressed=false] { background: #fff; color: #0a58ca; border-color: #0a58ca; }
.rk-call .rk-tile .rk-pin[aria-pressed=true] { background: #0a58ca; color: #fff; }
.rk-call [role=menuitemradio] { display: block; width: 100%; text-align: left; background: #fff; color: #14171a; border: 0; }
.rk-call [role=menuitemradio][aria-checked=true]::before { content: '✓ '; }
.rk-call .rk-tile.rk-speaking { outline: 3px solid #16a34a; outline-offset: -3px; }
.rk-call .rk-controls { display: flex; gap: 8px; flex-wrap: wrap; justify-content: center; }
.rk-call button[aria-pressed=false] { background: #fff; color: #b42318; border-color: #b42318; }
.rk-call .rk-preview { width: 100%; aspect-ratio: 16 / 9; background: #111827; border-radius: 8px; object-fit: cover; }
.rk-call select { font: inherit; min-height: 40px; width: 100%; border-radius: 8px; border: 1px solid #6b7280; padding: 4px 8px; }
`;

// el makes a tag element: props testid, class, on<event> (a listener),
// aria-*, data-* and role are set as such, any other as a property; null
// children are left out.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'testid') node.dataset.testid = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k.startsWith('aria-') || k.startsWith('data-') || k === 'role') node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

// addStyle puts the call kit's style sheet in the page, once.
export function addStyle() {
  if (!document.getElementById(STYLE_ID)) document.head.append(el('style', { id: STYLE_ID, textContent: STYLE }));
}

// overlay shows node (a dialog, with class rk-call) above the page.
export function overlay(node) {
  addStyle();
  node.classList.add('rk-overlay');
  document.body.append(node);
}
