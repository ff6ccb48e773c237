// Persistence: the call this tab is in, kept in sessionStorage so that a
// reload rejoins it (see the facade's joinRoom and _saveCall). The value is
// { roomID, userID, callID, media?: { audio, video } }. This file has no
// imports.

/** The sessionStorage key where a joined call is kept for a reload. */
export const CALL_STORAGE_KEY = 'roomkit:call';

// readCall returns the kept call, or null (none, or not JSON).
export function readCall() {
  try {
    return JSON.parse(sessionStorage.getItem(CALL_STORAGE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

// writeCall keeps value, or deletes the kept call when value is empty.
export function writeCall(value) {
  if (value) sessionStorage.setItem(CALL_STORAGE_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(CALL_STORAGE_KEY);
}
