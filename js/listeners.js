// Listeners is the on/off registry of the room client and the session
// client: handlers by event name, each called in the order added, one
// throwing never keeping the others from their call.
export class Listeners {
  /**
   * @param {Set<string>} events the event names a handler may be added for
   * @param {(message: string) => Error} invalid makes the error thrown for a
   *   bad event name or handler
   */
  constructor(events, invalid) {
    this._events = events;
    this._invalid = invalid;
    this._byEvent = new Map();
  }

  /** Adds handler for event; throws a clear Error for an unknown event. */
  add(event, handler) {
    if (!this._events.has(event)) throw this._invalid(`unknown event "${event}"; use one of ${[...this._events].join(', ')}`);
    if (typeof handler !== 'function') throw this._invalid('the handler must be a function');
    if (!this._byEvent.has(event)) this._byEvent.set(event, new Set());
    this._byEvent.get(event).add(handler);
  }

  /** Removes handler, or every handler of event when none is given. */
  remove(event, handler) {
    const set = this._byEvent.get(event);
    if (!set) return;
    if (handler) set.delete(handler); else set.clear();
  }

  /** Removes every handler. */
  clear() { this._byEvent.clear(); }

  /** Calls each handler of event with args; one that throws is logged. */
  emit(event, ...args) {
    for (const handler of [...(this._byEvent.get(event) ?? [])]) {
      try {
        handler(...args);
      } catch (err) {
        console.error(`roomkit: a ${event} handler threw`, err);
      }
    }
  }
}
