// The chat view: the panel of the call view (its list, and the form that
// sends with the kit's sendInRoomMessage), the messages the store keeps
// shown in it, and notes (failures the user should see) at its end.
//
// It reads and writes the kit's _view.chatList and _store.messages; it
// imports dom.js.

import { el } from './dom.js';

// chatPanel makes the chat section of the call view, with the call's
// messages so far.
export function chatPanel(kit) {
  const view = kit._view;
  view.chatList = el('ol', { class: 'rk-chat-list', testid: 'chat-list', 'aria-live': 'polite' });
  for (const m of kit._store.messages) appendChat(kit, m);
  const input = el('input', { testid: 'chat-input', placeholder: 'Message', 'aria-label': 'Message' });
  return el('section', { 'aria-label': 'Chat', testid: 'chat-panel' },
    el('h3', {}, 'Chat'), view.chatList,
    el('form', { onsubmit: async (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      await kit.sendInRoomMessage(text).catch((err) => addNote(kit, `Not sent (${err.code}): ${err.message}`));
    } }, input, el('button', { testid: 'chat-send', type: 'submit' }, 'Send')));
}

// addChat keeps m and shows it once the call view is up: messages can
// arrive (a resumed session's missed ones) before it is drawn.
export function addChat(kit, m) {
  kit._store.messages.push(m);
  if (kit._view.chatList) appendChat(kit, m);
}

function appendChat(kit, m) {
  const list = kit._view.chatList;
  list.append(el('li', { testid: 'chat-message' }, el('strong', {}, `${m.senderUserName || m.senderUserID}: `), String(m.message)));
  list.lastChild.scrollIntoView?.({ block: 'nearest' });
}

// addNote shows text, a failure, at the end of the chat (if it is drawn).
export function addNote(kit, text) {
  kit._view.chatList?.append(el('li', { class: 'rk-error', role: 'alert' }, text));
}
